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

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// leaked reports which of secrets, raw, query- or path-escaped, err's text or chain holds.
func leaked(err error, secrets ...string) []string {
	var out []string
	texts := []string{err.Error()}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		texts = append(texts, ue.Error())
	}
	for _, s := range secrets {
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			for _, text := range texts {
				if strings.Contains(text, form) {
					out = append(out, form)
				}
			}
		}
	}
	return out
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
