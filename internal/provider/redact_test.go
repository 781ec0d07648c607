/*
Copyright 2026 The tokenwarden authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

func TestTokenErrorsNeverCarrySecrets(t *testing.T) {
	const (
		secret  = "sec:ret 50%+/x"
		refresh = "rt/with space+plus%"
		code    = "code/with space+%2F?"
	)
	secrets := []string{secret, refresh, code}
	leaks := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("no error")
		}
		msg := err.Error()
		for _, s := range secrets {
			for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
				if strings.Contains(msg, form) {
					t.Errorf("error text %q contains the secret %q", msg, form)
				}
			}
		}
	}
	for _, tt := range []struct {
		name string
		req  func(url string) *provider.Request
	}{
		{"Aura refresh", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: u + "/oauth/token", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: refresh}}
		}},
		{"Aura code", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: u + "/oauth/token", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: code, RedirectURI: "https://app.example.com/cb"}}
		}},
		{"Aston Club refresh", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, TokenURL: u + "/v1/token", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: refresh}}
		}},
		{"Aurinko code", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: u + "/v1/auth/token", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: code}}
		}},
		{"Generic client credentials, form Basic", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u + "/token"}
		}},
		{"Generic client credentials, form Body", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u + "/token", ClientAuthentication: oauthv1alpha1.ClientAuthenticationBody}
		}},
		{"Generic refresh, form Basic", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u + "/token", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: refresh}}
		}},
		{"Generic refresh, JSON Body", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u + "/token", ClientAuthentication: oauthv1alpha1.ClientAuthenticationBody,
				RequestEncoding: oauthv1alpha1.RequestEncodingJSON, Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: refresh}}
		}},
	} {
		for _, errorCode := range []string{"invalid_grant", "invalid_client", "invalid_request"} {
			t.Run(tt.name+": a provider echoing the request in a "+errorCode+" error_description", func(t *testing.T) {
				srv := echoServer(t, errorCode)
				req := tt.req(srv.URL)
				req.ClientID, req.ClientSecret = "client", secret
				_, err := quickClient().Token(context.Background(), req)
				leaks(t, err)
			})
		}
		t.Run(tt.name+": a connection refused, the URL in the error", func(t *testing.T) {
			req := tt.req(freeLoopbackURL(t))
			req.ClientID, req.ClientSecret = "client", secret
			_, err := quickClient().Token(context.Background(), req)
			if provider.KindOf(err) != provider.Transient {
				t.Errorf("kind = %s, want Transient", provider.KindOf(err))
			}
			leaks(t, err)
		})
	}
	t.Run("an Aurinko code with no characters to escape, connection refused", func(t *testing.T) {
		req := &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: freeLoopbackURL(t) + "/v1/auth/token", ClientID: "client", ClientSecret: secret,
			Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "plaincode0123456789"}}
		_, err := quickClient().Token(context.Background(), req)
		if err == nil || strings.Contains(err.Error(), "plaincode0123456789") {
			t.Errorf("error %v, want one without the code", err)
		}
	})
	t.Run("the error chain of an Aurinko network failure does not hold the code either", func(t *testing.T) {
		req := &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: freeLoopbackURL(t) + "/v1/auth/token", ClientID: "client", ClientSecret: secret,
			Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "plaincode0123456789"}}
		_, err := quickClient().Token(context.Background(), req)
		var ue *url.Error
		if errors.As(err, &ue) && strings.Contains(ue.Error(), "plaincode0123456789") {
			t.Fatalf("errors.As(err, *url.Error) yields %q, with the Aurinko code; *Error.Err must be redacted all the way down", ue.Error())
		}
	})
	t.Run("an Aurora discovery failure against an issuer with the secret nowhere near", func(t *testing.T) {
		srv := echoServer(t, "invalid_request")
		_, err := quickClient().Token(context.Background(), &provider.Request{Provider: oauthv1alpha1.ProviderAurora, IssuerURL: srv.URL + "/", ClientID: "client", ClientSecret: secret})
		leaks(t, err)
	})
	t.Run("a long error_description that cuts a refresh token at the truncation point", func(t *testing.T) {
		const rt = "rt-0123456789abcdefghijklmnopqrstuvwxyz"
		for pad := 180; pad < 200; pad += 3 {
			body, _ := json.Marshal(map[string]string{"error": "invalid_grant", "error_description": strings.Repeat("x", pad) + rt})
			srv := staticServer(t, http.StatusBadRequest, string(body))
			_, err := quickClient().Token(context.Background(), &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: srv.URL, ClientID: "client", ClientSecret: secret,
				Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: rt}})
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), rt[:12]) {
				t.Fatalf("a refresh token straddling the 200-byte truncation leaks its prefix: %q", err.Error())
			}
		}
	})
}

// TestShortSecretsAreRedactedToo: a secret of one to three characters is redacted like a
// long one, in a provider's echo of the request.
func TestShortSecretsAreRedactedToo(t *testing.T) {
	const secret, refresh, code, verifier = "Zq9", "W#", "X", "vQ~"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := readRequest(r)
		desc := "got"
		for _, k := range []string{"client_secret", "refresh_token", "code", "code_verifier"} {
			desc += " " + k + "=" + rec.fields[k]
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": desc})
	}))
	defer echo.Close()
	for name, grant := range map[string]provider.Grant{
		"a refresh":       {Type: provider.GrantRefreshToken, RefreshToken: refresh},
		"a code exchange": {Type: provider.GrantAuthorizationCode, Code: code, RedirectURI: "https://app.example.com/cb", CodeVerifier: verifier},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := quickClient().Token(context.Background(), &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: echo.URL + "/oauth/token",
				ClientID: "client", ClientSecret: secret, Grant: grant})
			if err == nil {
				t.Fatal("no error")
			}
			if l := leaked(err, secret, refresh, code, verifier); len(l) > 0 {
				t.Errorf("error %q holds %q", err, l)
			}
		})
	}
}

// TestURLErrorsAreRedacted: Aurinko's token URL carries the code in its path, so the errors
// that name the URL must not name the code, raw or path-escaped.
func TestURLErrorsAreRedacted(t *testing.T) {
	for _, code := range []string{"plaincode0123456789", "code/with space?#", "ab"} {
		for _, tokenURL := range []string{
			"http://api.aurinko.example/v1/auth/token", // cleartext to a remote host
			"v1/auth/token", // not absolute
			"https://user:pw@api.aurinko.io/v1/auth/token", // credentials in the URL
			"https://api.aurinko.io:99999/v1/auth/token",   // a port out of range
		} {
			t.Run(tokenURL+" with code "+code, func(t *testing.T) {
				_, err := quickClient().Token(context.Background(), &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: tokenURL,
					ClientID: "client", ClientSecret: "secret", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: code}})
				if err == nil {
					t.Fatal("no error")
				}
				if l := leaked(err, code); len(l) > 0 {
					t.Errorf("error %q holds the code as %q", err, l)
				}
			})
		}
	}
}

// TestTokensEchoedInAnswersAreRedacted: an answer that is not a token may still hold one (an
// error beside an access or refresh token); its error text holds neither.
func TestTokensEchoedInAnswersAreRedacted(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		secret string
	}{
		{"an access token beside a 400's error", 400, `{"error":"invalid_request","error_description":"already issued at-0123456789abcdef","access_token":"at-0123456789abcdef"}`, "at-0123456789abcdef"},
		{"a refresh token beside an error in a 200", 200, `{"error":"invalid_grant","error_description":"use rt-new-99 instead","refresh_token":"rt-new-99"}`, "rt-new-99"},
		{"an Aurinko-style accessToken beside an error", 400, `{"error":"invalid_request","error_description":"have ax-77","accessToken":"ax-77"}`, "ax-77"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := answering(t, tt.status, "application/json", tt.body)
			_, err := quickClient().Token(context.Background(), &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: srv.URL + "/token",
				ClientID: "client", ClientSecret: "secret"})
			if err == nil {
				t.Fatal("no error")
			}
			if l := leaked(err, tt.secret); len(l) > 0 {
				t.Errorf("error %q holds %q", err, l)
			}
		})
	}
}

func TestClassifyBoundsAndRedactsProviderText(t *testing.T) {
	const secret, refresh, code = "client-secret-value", "refresh-token-value", "code/value 1"
	red := provider.NewRedactor(&provider.Request{ClientSecret: secret, Grant: provider.Grant{RefreshToken: refresh, Code: code}})
	for _, tt := range []struct {
		name string
		body string
	}{
		{"redacts a client secret in error_description", `{"error":"invalid_client","error_description":"bad secret client-secret-value"}`},
		{"redacts a refresh token in error_description", `{"error":"invalid_grant","error_description":"refresh-token-value is revoked"}`},
		{"redacts a query-escaped code", `{"error":"invalid_grant","error_description":"code=code%2Fvalue+1 unknown"}`},
		{"redacts a path-escaped code", `{"error":"invalid_grant","error_description":"/token/code%2Fvalue%201 unknown"}`},
		{"redacts a secret in the error code", `{"error":"refresh-token-value"}`},
		{"bounds a long description", `{"error":"invalid_request","error_description":"` + strings.Repeat("long ", 500) + `"}`},
		{"bounds a long code", `{"error":"` + strings.Repeat("c", 500) + `"}`},
		{"keeps invalid UTF-8 out", "{\"error\":\"invalid_request\",\"error_description\":\"bad \xff\xfe bytes " + strings.Repeat("é", 300) + "\"}"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := provider.Classify(400, nil, []byte(tt.body), red)
			msg := e.Error()
			for _, s := range []string{secret, refresh, code, "code%2Fvalue"} {
				if strings.Contains(msg, s) {
					t.Errorf("error text %q contains %q", msg, s)
				}
			}
			if !utf8.ValidString(msg) || len(e.Description) > 4*provider.MaxDescription+4 || len(e.Code) > 4*64+4 {
				t.Errorf("unbounded or invalid error text (%d bytes): %q", len(msg), msg)
			}
			if utf8.RuneCountInString(e.Description) > provider.MaxDescription+1 {
				t.Errorf("description has %d runes, want at most %d and an ellipsis", utf8.RuneCountInString(e.Description), provider.MaxDescription)
			}
		})
	}
	t.Run("redacts a secret that straddles the truncation point", func(t *testing.T) {
		for pad := provider.MaxDescription - len(refresh) + 1; pad < provider.MaxDescription; pad++ {
			body := `{"error":"invalid_grant","error_description":"` + strings.Repeat("x", pad) + refresh + `"}`
			e := provider.Classify(400, nil, []byte(body), red)
			if strings.Contains(e.Description, refresh[:8]) {
				t.Fatalf("a secret cut by the %d-byte truncation leaks its prefix: %q", provider.MaxDescription, e.Description)
			}
		}
	})
	t.Run("redacts the escaped forms of secrets with odd characters, and keeps the text one line", func(t *testing.T) {
		req := &provider.Request{ClientSecret: "s3cr%t:x y", Grant: provider.Grant{RefreshToken: "rt/with+plus-0123456789", Code: "code?1234"}}
		red := provider.NewRedactor(req)
		for _, desc := range []string{
			"secret s3cr%t:x y form s3cr%25t%3Ax+y",
			"refresh rt%2Fwith%2Bplus-0123456789 and code%3F1234",
			strings.Repeat("x", 190) + "rt/with+plus-0123456789",
			"two\nlines\x00 code?1234",
		} {
			body, _ := json.Marshal(map[string]string{"error": "invalid_grant", "error_description": desc})
			msg := provider.Classify(400, http.Header{"Content-Type": {"application/json"}}, body, red).Error()
			for _, leak := range []string{"s3cr", "rt/with", "rt%2F", "code?", "code%3F", "\n", "\x00"} {
				if strings.Contains(msg, leak) {
					t.Errorf("%q leaks %q", msg, leak)
				}
			}
			if len([]rune(msg)) > 300 {
				t.Errorf("unbounded: %q", msg)
			}
		}
		err := red.Error(errors.Join(errors.New(`Post "http://h/v1/auth/token/code%3F1234": boom`), provider.ErrResponseTooLarge))
		if strings.Contains(err.Error(), "code%3F1234") || !errors.Is(err, provider.ErrResponseTooLarge) {
			t.Errorf("error() = %v", err)
		}
	})
}
