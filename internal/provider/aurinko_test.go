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
	"maps"
	"net/http"
	"strings"
	"testing"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

func TestTokenAurinkoCodeExchange(t *testing.T) {
	for _, tt := range []struct {
		name     string
		clientID string
		secret   string
		tokenURL func(*providertest.Server) string
	}{
		{"exchanges the code at {tokenURL}/{code}", "aurinko-client", "aurinko-secret", (*providertest.Server).TokenURL},
		{"drops a trailing slash of the token URL", "aurinko-client", "aurinko-secret", func(s *providertest.Server) string { return s.TokenURL() + "/" }},
		{"sends a secret with ':', '%', ' ' and '+' as curl -u does", "aurinko-client", oddClientSecret, (*providertest.Server).TokenURL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := providertest.NewAurinko(providertest.Options{ClientID: tt.clientID, ClientSecret: tt.secret})
			defer fake.Close()
			tok := mustToken(t, &provider.Request{
				Provider: oauthv1alpha1.ProviderAurinko, TokenURL: tt.tokenURL(fake),
				ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(),
				Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: fake.IssueCode()},
			})
			if tok.TokenType != "Bearer" || !tok.Expiry.IsZero() || tok.RefreshToken != "" || !fake.ValidAccessToken(tok.AccessToken) {
				t.Errorf("token = %+v, want a valid Bearer token with no expiry and no refresh token", tok)
			}
			if tok.Extra[oauthv1alpha1.KeyUserSession] == "" || tok.Extra[oauthv1alpha1.KeyAccountID] != "123" || tok.Extra[oauthv1alpha1.KeyUserID] != "user-id-xyz" {
				t.Errorf("Extra = %v, want user_session, account_id 123, user_id user-id-xyz", tok.Extra)
			}
			if got := fake.Requests(provider.GrantAuthorizationCode); got != 1 {
				t.Errorf("authorization_code requests = %d, want 1", got)
			}
			noRejections(t, fake)
		})
	}
	t.Run("a reused code is invalid_grant, and the error does not carry it", func(t *testing.T) {
		fake := providertest.NewAurinko(providertest.Options{})
		defer fake.Close()
		req := &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: fake.TokenURL(), ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(),
			Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: fake.IssueCode(), CodeVerifier: "ignored-verifier"}}
		mustToken(t, req)
		e := mustFail(t, quickClient(), req, provider.InvalidGrant)
		if strings.Contains(e.Error(), req.Grant.Code) {
			t.Errorf("error %q carries the code", e)
		}
		noRejections(t, fake) // the verifier went nowhere: Aurinko's exchange has no body
	})
}

func TestAurinkoPathAndAnswer(t *testing.T) {
	tests := []struct {
		name, tokenURL, code, path, answer string
		extra                              map[string]string
	}{
		{"path-escapes a code with '/', '?', '#' and ' '", "/v1/auth/token", "a/b?c#d e", "/v1/auth/token/a%2Fb%3Fc%23d%20e",
			`{"accountId":123,"accessToken":"at","userId":"u","userSession":"s"}`,
			map[string]string{oauthv1alpha1.KeyAccountID: "123", oauthv1alpha1.KeyUserID: "u", oauthv1alpha1.KeyUserSession: "s"}},
		{"renders an account id in exponent form in decimal", "/v1/auth/token/", "c1", "/v1/auth/token/c1",
			`{"accountId":1.23e2,"accessToken":"at","userSession":"s"}`,
			map[string]string{oauthv1alpha1.KeyAccountID: "123", oauthv1alpha1.KeyUserSession: "s"}},
		{"keeps every digit of a large account id, and leaves out what did not come", "/v1/auth/token", "c2", "/v1/auth/token/c2",
			`{"accountId":12345678901234567890,"accessToken":"at"}`,
			map[string]string{oauthv1alpha1.KeyAccountID: "12345678901234567890"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, log := captureServer(t, func(*http.Request) (int, string) { return http.StatusOK, tt.answer })
			tok := mustToken(t, &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: srv.URL + tt.tokenURL,
				ClientID: "ClientId", ClientSecret: "Se:cr%et", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: tt.code}})
			s := log()[0]
			user, pass, _ := (&http.Request{Header: s.header}).BasicAuth()
			if s.method != http.MethodPost || s.path != tt.path || s.body != "" || user != "ClientId" || pass != "Se:cr%et" {
				t.Errorf("sent %s %s body %q basic %q:%q, want POST %s with curl -u's raw credentials", s.method, s.path, s.body, user, pass, tt.path)
			}
			if !maps.Equal(tok.Extra, tt.extra) || tok.TokenType != "Bearer" || !tok.Expiry.IsZero() {
				t.Errorf("token %+v, want extras %v", tok, tt.extra)
			}
		})
	}
	for _, req := range []provider.Request{
		{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: "https://api.aurinko.io/v1/auth/token", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: ".."}},
		{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: "https://api.aurinko.io/v1/auth/token?x=1", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "c"}},
		{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: "https://auth.example.com/token", ExtraParameters: map[string]string{"scope": "admin"}},
		{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: "https://auth.example.com/token", RequestEncoding: oauthv1alpha1.RequestEncodingJSON,
			ExtraParameters: map[string]string{"grant_type": "password"}},
	} {
		c, log := offlineClient(`{}`)
		if _, err := c.Token(context.Background(), &req); provider.KindOf(err) != provider.BadRequest || len(log()) != 0 {
			t.Errorf("%+v: %v, want BadRequest and no request", req, err)
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

func TestIdentifier(t *testing.T) {
	for raw, want := range map[string]string{
		`123`: "123", `12345678901234567890`: "12345678901234567890", `1.23e2`: "123", `-7`: "-7",
		`"acc-9"`: "acc-9", `null`: "", `1.5`: "1.5", `{}`: "", `true`: "",
	} {
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if got := provider.Identifier(v); got != want {
			t.Errorf("Identifier(%s) = %q; want %q", raw, got, want)
		}
	}
}
