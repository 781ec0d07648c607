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
	"net/url"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// TestAuroraFakeFollowsItsDocument: requests that depart from Aurora's document, in the ways a sloppy
// client would, are refused and recorded without secrets; conforming ones are answered.
func TestAuroraFakeFollowsItsDocument(t *testing.T) {
	checkFakeCases(t, []fakeCase{
		{"Aurora refuses GET", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{method: http.MethodGet, url: s.TokenURL()}
		}, 400, "invalid_request", "GET"},
		{"Aurora refuses a multipart body", providertest.NewAurora, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "client_credentials", "audience", auroraAudience, "client_id", testID, "client_secret", testSecret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_request", "Content-Type"},
		{"Aurora refuses JSON", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "client_credentials", "audience", auroraAudience, "client_id", testID, "client_secret", testSecret)}
		}, 400, "invalid_request", "Content-Type"},
		{"Aurora refuses a request without audience", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "client_id", testID, "client_secret", testSecret)}
		}, 400, "invalid_request", "audience"},
		{"Aurora refuses client credentials both in Basic and in the body", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: auroraOK(), basic: formBasic(testID, testSecret)}
		}, 400, "invalid_request", "both"},
		{"Aurora refuses the refresh_token grant", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token", "refresh_token", "rt", "audience", auroraAudience, "client_id", testID, "client_secret", testSecret)}
		}, 400, "invalid_request", "grant_type"},
		{"Aurora refuses a wrong secret with 401 invalid_client", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "audience", auroraAudience, "client_id", testID, "client_secret", "wrong")}
		}, 401, "invalid_client", ""},
		{"Aurora refuses an audience it does not serve", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "audience", "https://elsewhere.example", "client_id", testID, "client_secret", testSecret)}
		}, 403, "access_denied", ""},
		{"Aurora accepts the client in the body", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: auroraOK()}
		}, 200, "", ""},
		{"Aurora accepts the client in form-urlencoded HTTP Basic", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "audience", auroraAudience), basic: formBasic(testID, testSecret)}
		}, 200, "", ""},
		{"Aurora refuses an issuer path with '//'", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{method: http.MethodGet, url: s.IssuerURL() + "/.well-known/openid-configuration"}
		}, 400, "invalid_request", "//"},
		{"Aurora refuses a field the document does not name", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: auroraOK() + "&resource=https%3A%2F%2Fx"}
		}, 400, "invalid_request", "unexpected field resource"},
		{"Aurora refuses a repeated field", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: auroraOK() + "&audience=" + url.QueryEscape(auroraAudience)}
		}, 400, "invalid_request", "more than once"},
		{"Aurora refuses parameters in the URL query", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL() + "?audience=x", ctype: ctForm, body: auroraOK()}
		}, 400, "invalid_request", "URL query"},
		{"Aurora (Live) refuses the Dev audience", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "audience", auroraDevAudience, "client_id", testID, "client_secret", testSecret)}
		}, 403, "access_denied", ""},
		{"Aurora (Dev) accepts the Dev audience", with(providertest.NewAurora, providertest.Options{ClientID: testID, ClientSecret: testSecret, Environment: oauthv1alpha1.EnvironmentDev}),
			func(_ *testing.T, s *providertest.Server) call {
				return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "audience", auroraDevAudience, "client_id", testID, "client_secret", testSecret)}
			}, 200, "", ""},
		{"Aurora (Dev) refuses the Live audience", with(providertest.NewAurora, providertest.Options{ClientID: testID, ClientSecret: testSecret, Environment: oauthv1alpha1.EnvironmentDev}),
			func(_ *testing.T, s *providertest.Server) call {
				return call{url: s.TokenURL(), ctype: ctForm, body: auroraOK()}
			}, 403, "access_denied", ""},
	})
}

// TestAuroraFakeAnswers: the document's answer, with the lifetime set.
func TestAuroraFakeAnswers(t *testing.T) {
	t.Run("SetLifetime sets expires_in", func(t *testing.T) {
		fake := providertest.NewAurora(providertest.Options{})
		defer fake.Close()
		fake.SetLifetime(2 * time.Minute)
		got := do(t, call{url: fake.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "audience", auroraAudience, "client_id", fake.ClientID(), "client_secret", fake.ClientSecret())})
		if got.body["expires_in"] != float64(120) || got.str("token_type") != "Bearer" {
			t.Errorf("answer = %v, want expires_in 120", got.body)
		}
	})
}
