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

package providertest_test

import (
	"net/http"
	"testing"

	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// TestAuraFakeFollowsItsDocument: requests that depart from Aura's document, in the ways a sloppy
// client would, are refused and recorded without secrets; conforming ones are answered.
func TestAuraFakeFollowsItsDocument(t *testing.T) {
	checkFakeCases(t, []fakeCase{
		{"Aura refuses a form body", providertest.NewAura, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken(), "client_id", testID, "client_secret", testSecret)}
		}, 400, "invalid_request", "Content-Type"},
		{"Aura refuses client credentials in HTTP Basic", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken())
			return call{url: s.TokenURL(), ctype: ct, body: body, basic: []string{testID, testSecret}}
		}, 400, "invalid_request", "Basic"},
		{"Aura refuses authorization_code without redirect_uri", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "authorization_code", "code", s.IssueCode(), "client_id", testID, "client_secret", testSecret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_request", "redirect_uri"},
		{"Aura refuses redirect_url instead of redirect_uri", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "authorization_code", "code", s.IssueCode(), "redirect_url", s.RedirectURI(), "client_id", testID, "client_secret", testSecret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_request", "redirect_url"},
		{"Aura refuses the client_credentials grant", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "client_credentials", "client_id", testID, "client_secret", testSecret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_request", "grant_type"},
		{"Aura refuses a wrong secret with 401 invalid_client", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken(), "client_id", testID, "client_secret", "wrong")
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 401, "invalid_client", ""},
		{"Aura refuses an unknown refresh token with invalid_grant", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "refresh_token", "refresh_token", "rt-never-issued", "client_id", testID, "client_secret", testSecret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_grant", ""},
		{"Aura refuses a redirect_uri other than the registered one with invalid_grant", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "authorization_code", "code", s.IssueCode(), "redirect_uri", "https://evil.example/cb", "client_id", testID, "client_secret", testSecret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_grant", ""},
		{"Aura serves no discovery", providertest.NewAura, func(_ *testing.T, s *providertest.Server) call {
			return call{method: http.MethodGet, url: s.URL() + "/.well-known/openid-configuration"}
		}, 404, "", ""},
		{"Aura refuses a scope, which the document does not know", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "refresh_token", "client_id", testID, "client_secret", testSecret, "refresh_token", s.IssueRefreshToken(), "scope", "x")
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_request", "unexpected field scope"},
		{"Aura refuses a refresh sending the token as code, as the document's field list says", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "refresh_token", "client_id", testID, "client_secret", testSecret, "code", s.IssueRefreshToken())
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_request", "without refresh_token"},
		{"Aura accepts a code exchange with a PKCE verifier", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "authorization_code", "code", s.IssueCodeWithVerifier("the-verifier-0123456789"), "redirect_uri", s.RedirectURI(),
				"code_verifier", "the-verifier-0123456789", "client_id", testID, "client_secret", testSecret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 200, "", ""},
		{"Aura refuses a code issued with a PKCE challenge and exchanged without its verifier", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "authorization_code", "code", s.IssueCodeWithVerifier("the-verifier-0123456789"), "redirect_uri", s.RedirectURI(),
				"code_verifier", "another-verifier", "client_id", testID, "client_secret", testSecret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_grant", ""},
	})
}

// auraRefresh presents rt to an Aura fake and returns the answer.
func auraRefresh(t *testing.T, s *providertest.Server, rt string) answer {
	t.Helper()
	ct, body := multipartOf(t, "grant_type", "refresh_token", "refresh_token", rt, "client_id", s.ClientID(), "client_secret", s.ClientSecret())
	return do(t, call{url: s.TokenURL(), ctype: ct, body: body})
}

func TestAuraFakeRotatesAndDetectsReuse(t *testing.T) {
	fake := providertest.NewAura(providertest.Options{})
	defer fake.Close()
	rt0 := fake.IssueRefreshToken()
	first := auraRefresh(t, fake, rt0)
	rt1 := first.str("refresh_token")
	if first.status != 200 || rt1 == "" || rt1 == rt0 || first.str("token_type") != "Bearer" {
		t.Fatalf("first refresh = %d %v, want 200 with a new refresh token", first.status, first.body)
	}
	if reused := auraRefresh(t, fake, rt0); reused.status != 400 || reused.str("error") != "invalid_grant" {
		t.Errorf("reused refresh token = %d %v, want 400 invalid_grant", reused.status, reused.body)
	}
	if newest := auraRefresh(t, fake, rt1); newest.status != 400 || newest.str("error") != "invalid_grant" {
		t.Errorf("newest refresh token after a reuse = %d %v, want 400 invalid_grant (family revoked)", newest.status, newest.body)
	}
	if other := auraRefresh(t, fake, fake.IssueRefreshToken()); other.status != 200 {
		t.Errorf("another grant's refresh token = %d %v, want 200", other.status, other.body)
	}
	if got := fake.Requests(provider.GrantRefreshToken); got != 4 {
		t.Errorf("refresh_token requests = %d, want 4", got)
	}
	if r := fake.Rejections(); len(r) > 0 {
		t.Errorf("invalid_grant answers are not rejections: %q", r)
	}
}
