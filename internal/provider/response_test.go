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
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// answering serves every request with status, content type and body.
func answering(t *testing.T, status int, contentType, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// everyPath is one request per way the package sends a token request, against base.
var everyPath = map[string]func(base string) *provider.Request{
	"Aurora client credentials": func(u string) *provider.Request {
		return &provider.Request{Provider: oauthv1alpha1.ProviderAurora, TokenURL: u + "/oauth/token", ClientID: "id", ClientSecret: "s"}
	},
	"Generic client credentials, Basic, form": func(u string) *provider.Request {
		return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u + "/token", ClientID: "id", ClientSecret: "s"}
	},
	"Generic refresh, Body, JSON": func(u string) *provider.Request {
		return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u + "/token", ClientID: "id", ClientSecret: "s",
			ClientAuthentication: oauthv1alpha1.ClientAuthenticationBody, RequestEncoding: oauthv1alpha1.RequestEncodingJSON,
			Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-old"}}
	},
	"Aura refresh": func(u string) *provider.Request {
		return &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: u + "/oauth/token", ClientID: "id", ClientSecret: "s",
			Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-old"}}
	},
	"Aston Club code": func(u string) *provider.Request {
		return &provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, TokenURL: u + "/v1/token", ClientID: "id", ClientSecret: "s",
			Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "code-1", RedirectURI: "https://app.example.com/cb"}}
	},
}

// TestEveryPathReadsTokenAnswersLeniently: RFC 6749 section 5.1 requires access_token and
// token_type only. Whatever path sent the request, a 2xx with an access token is a token;
// an unreadable lifetime is unknown (a JWT's exp, else none), and never costs the rotated
// refresh token that came with it.
func TestEveryPathReadsTokenAnswersLeniently(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	jwt := "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":`+strconv.FormatInt(exp.Unix(), 10)+`}`)) + ".sig"
	for _, tt := range []struct {
		name, contentType, body string
		expiry                  time.Time
		scope, refreshToken     string
	}{
		{"a negative expires_in is an unknown lifetime", "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":-5}`, time.Time{}, "", ""},
		{"a float expires_in is an unknown lifetime", "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":3600.5}`, time.Time{}, "", ""},
		{"a padded string expires_in is an unknown lifetime", "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":" 3600 "}`, time.Time{}, "", ""},
		{"an absurdly long expires_in is an unknown lifetime", "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":99999999999}`, time.Time{}, "", ""},
		{"a garbage expires_in is an unknown lifetime", "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":"soon"}`, time.Time{}, "", ""},
		{"a garbage expires_in falls back to the JWT's exp", "application/json", `{"access_token":"` + jwt + `","token_type":"Bearer","expires_in":{"s":1}}`, exp, "", ""},
		{"a rotated refresh token with an unreadable expires_in is kept", "application/json",
			`{"access_token":"at","token_type":"Bearer","expires_in":"NaN","refresh_token":"rt-rotated"}`, time.Time{}, "", "rt-rotated"},
		{"a scope array is joined with spaces", "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":60,"scope":["read","write"]}`,
			now.Add(time.Minute), "read write", ""},
		{"a scope of another type is left out", "application/json", `{"access_token":"at","token_type":"Bearer","scope":7}`, time.Time{}, "", ""},
		{"JSON labelled text/plain is read as JSON", "text/plain; charset=utf-8", `{"access_token":"at","token_type":"bearer","expires_in":60}`, now.Add(time.Minute), "", ""},
		{"JSON without a content type is read as JSON", "", `{"access_token":"at","token_type":"bearer","expires_in":"60"}`, now.Add(time.Minute), "", ""},
		{"a form-encoded answer is read", "application/x-www-form-urlencoded", `access_token=at&token_type=bearer&expires_in=60&scope=a+b`, now.Add(time.Minute), "a b", ""},
	} {
		for name, req := range everyPath {
			t.Run(tt.name+" ("+name+")", func(t *testing.T) {
				srv := answering(t, http.StatusOK, tt.contentType, tt.body)
				c := &provider.Client{Timeout: 5 * time.Second, Now: func() time.Time { return now }}
				tok, err := c.Token(context.Background(), req(srv.URL))
				if err != nil {
					t.Fatalf("Token() error = %v, want a token", err)
				}
				if !tok.Expiry.Equal(tt.expiry) || tok.Scope != tt.scope || tok.RefreshToken != tt.refreshToken || tok.TokenType != "Bearer" {
					t.Errorf("token = %+v, want expiry %s, scope %q, refresh token %q", tok, tt.expiry, tt.scope, tt.refreshToken)
				}
			})
		}
	}
}

// TestEveryPathClassifiesAnswersWithoutAToken: a 2xx without an access token is transient,
// unless it carries an OAuth error, which is classified like the same error in a 400.
func TestEveryPathClassifiesAnswersWithoutAToken(t *testing.T) {
	for _, tt := range []struct {
		name, contentType, body string
		kind                    provider.Kind
	}{
		{"an invalid_grant body on a 200 is invalid_grant", "application/json", `{"error":"invalid_grant","error_description":"revoked"}`, provider.InvalidGrant},
		{"an invalid_client body on a 200 labelled text/plain is invalid_client", "text/plain", `{"error":"invalid_client"}`, provider.InvalidClient},
		{"a 200 without an access token is transient", "application/json", `{"token_type":"Bearer","expires_in":3600}`, provider.Transient},
		{"a 200 with an HTML page is transient", "text/html", `<html>Sign in</html>`, provider.Transient},
		{"a 200 with an access token that is not a string is transient", "application/json", `{"access_token":123,"token_type":"Bearer"}`, provider.Transient},
	} {
		for name, req := range everyPath {
			t.Run(tt.name+" ("+name+")", func(t *testing.T) {
				srv := answering(t, http.StatusOK, tt.contentType, tt.body)
				e := mustFail(t, quickClient(), req(srv.URL), tt.kind)
				if e.StatusCode != http.StatusOK {
					t.Errorf("StatusCode = %d, want 200", e.StatusCode)
				}
			})
		}
	}
}

// TestAurinkoAnswersAreReadLeniently: Aurinko's ids come as numbers or strings.
func TestAurinkoAnswersAreReadLeniently(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		extra      map[string]string
	}{
		{"reads an accountId string and a numeric userId", `{"accountId":"acc-9","accessToken":"at","userId":42,"userSession":"s"}`,
			map[string]string{oauthv1alpha1.KeyAccountID: "acc-9", oauthv1alpha1.KeyUserID: "42", oauthv1alpha1.KeyUserSession: "s"}},
		{"leaves out an id of another type", `{"accountId":{"x":1},"accessToken":"at","userId":"u"}`,
			map[string]string{oauthv1alpha1.KeyUserID: "u"}},
		{"reads JSON labelled text/plain", `{"accountId":7,"accessToken":"at"}`, map[string]string{oauthv1alpha1.KeyAccountID: "7"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := answering(t, http.StatusOK, "text/plain", tt.body)
			tok := mustToken(t, &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: srv.URL + "/v1/auth/token",
				ClientID: "id", ClientSecret: "s", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "c1"}})
			if len(tok.Extra) != len(tt.extra) {
				t.Errorf("Extra = %v, want %v", tok.Extra, tt.extra)
			}
			for k, v := range tt.extra {
				if tok.Extra[k] != v {
					t.Errorf("Extra[%s] = %q, want %q", k, tok.Extra[k], v)
				}
			}
		})
	}
}
