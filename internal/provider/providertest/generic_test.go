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

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"

	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// TestGenericFakeFollowsItsDocument: requests that depart from RFC 6749, as a Generic spec states it, in the ways a sloppy
// client would, are refused and recorded without secrets; conforming ones are answered.
func TestGenericFakeFollowsItsDocument(t *testing.T) {
	checkFakeCases(t, []fakeCase{
		{"Generic (Basic) refuses client credentials in the body only", generic(oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm), func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "client_id", testID, "client_secret", testSecret)}
		}, 400, "invalid_request", "Basic"},
		{"Generic (Basic) refuses a client_secret in the body as well", generic(oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm), func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "client_secret", testSecret), basic: formBasic(testID, testSecret)}
		}, 400, "invalid_request", "client_secret"},
		{"Generic (Body) refuses HTTP Basic", generic(oauthv1alpha1.ClientAuthenticationBody, oauthv1alpha1.RequestEncodingForm), func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials"), basic: formBasic(testID, testSecret)}
		}, 400, "invalid_request", "Basic"},
		{"Generic (JSON) refuses a form body", generic(oauthv1alpha1.ClientAuthenticationBody, oauthv1alpha1.RequestEncodingJSON), func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "client_id", testID, "client_secret", testSecret)}
		}, 400, "invalid_request", "Content-Type"},
		{"Generic refuses a code its authorization endpoint did not issue", generic(oauthv1alpha1.ClientAuthenticationBody, oauthv1alpha1.RequestEncodingForm), func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "authorization_code", "code", "c", "redirect_uri", "https://app.example.com/cb", "client_id", testID, "client_secret", testSecret)}
		}, 400, "invalid_grant", ""},
		{"Generic refuses a code without redirect_uri", generic(oauthv1alpha1.ClientAuthenticationBody, oauthv1alpha1.RequestEncodingForm), func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "authorization_code", "code", "c", "client_id", testID, "client_secret", testSecret)}
		}, 400, "invalid_request", "redirect_uri"},
		{"Generic refuses a refresh without refresh_token", generic(oauthv1alpha1.ClientAuthenticationBody, oauthv1alpha1.RequestEncodingForm), func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token", "client_id", testID, "client_secret", testSecret)}
		}, 400, "invalid_request", "refresh_token"},
		{"Generic refuses a wrong secret with 401 invalid_client", generic(oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm), func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials"), basic: formBasic(testID, "wrong")}
		}, 401, "invalid_client", ""},
		{"Generic accepts form-urlencoded HTTP Basic", generic(oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm), func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials"), basic: formBasic(testID, testSecret)}
		}, 200, "", ""},
		{"Generic accepts a JSON body with the client in it", generic(oauthv1alpha1.ClientAuthenticationBody, oauthv1alpha1.RequestEncodingJSON), func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "client_credentials", "client_id", testID, "client_secret", testSecret)}
		}, 200, "", ""},
		{"Generic refuses an issuer path with '//'", generic(oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm), func(_ *testing.T, s *providertest.Server) call {
			return call{method: http.MethodGet, url: s.URL() + "//.well-known/openid-configuration"}
		}, 400, "invalid_request", "//"},
		{"Generic (Basic) refuses id and secret not form-urlencoded first", with(generic(oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm), providertest.Options{ClientID: awkwardID, ClientSecret: awkwardSecret}),
			func(_ *testing.T, s *providertest.Server) call {
				return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials"), basic: []string{s.ClientID(), s.ClientSecret()}}
			}, 400, "invalid_request", "not form-urlencoded"},
		{"Generic (Basic) accepts odd credentials form-urlencoded", with(generic(oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm), providertest.Options{ClientID: awkwardID, ClientSecret: awkwardSecret}),
			func(_ *testing.T, s *providertest.Server) call {
				return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials"), basic: formBasic(s.ClientID(), s.ClientSecret())}
			}, 200, "", ""},
		{"Generic takes any extra parameter", generic(oauthv1alpha1.ClientAuthenticationBody, oauthv1alpha1.RequestEncodingMultipart), func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "client_credentials", "resource", "https://api.example.com/", "client_id", testID, "client_secret", testSecret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 200, "", ""},
	})
}

// TestGenericFakeAnswers: RFC 6749 answers without rotation.
func TestGenericFakeAnswers(t *testing.T) {
	t.Run("Generic does not rotate refresh tokens", func(t *testing.T) {
		fake := providertest.NewGeneric(providertest.Options{}, oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm)
		defer fake.Close()
		rt := fake.IssueRefreshToken()
		for i := range 2 {
			got := do(t, call{url: fake.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token", "refresh_token", rt), basic: formBasic(fake.ClientID(), fake.ClientSecret())})
			if got.status != 200 || got.str("refresh_token") != "" {
				t.Errorf("refresh %d = %d %v, want 200 without a new refresh token", i, got.status, got.body)
			}
		}
	})
}

func TestGenericFakeDiscovery(t *testing.T) {
	s := providertest.NewGeneric(providertest.Options{}, "", "")
	defer s.Close()
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		if got := do(t, call{method: http.MethodGet, url: s.URL() + path}); got.status != 200 || got.str("token_endpoint") != s.TokenURL() || got.str("issuer") != s.IssuerURL() ||
			got.str("authorization_endpoint") != s.AuthorizeURL() || s.AuthorizeURL() != s.URL()+"/authorize" {
			t.Errorf("%s: %d %v", path, got.status, got.body)
		}
	}
	s.SetOIDCDiscovery(false)
	if got := do(t, call{method: http.MethodGet, url: s.URL() + "/.well-known/openid-configuration"}); got.status != 404 {
		t.Errorf("the hidden OIDC document: %d, want 404", got.status)
	}
	if n := s.DiscoveryRequests(); n != 3 || s.TotalRequests() != 0 || len(s.Rejections()) != 0 {
		t.Errorf("%d discovery requests, %d token requests, rejections %q", n, s.TotalRequests(), s.Rejections())
	}
}
