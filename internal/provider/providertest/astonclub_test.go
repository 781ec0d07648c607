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
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// TestAstonClubFakeFollowsItsDocument: requests that depart from Aston Club's document, in the ways a sloppy
// client would, are refused and recorded without secrets; conforming ones are answered.
func TestAstonClubFakeFollowsItsDocument(t *testing.T) {
	checkFakeCases(t, []fakeCase{
		{"Aston Club refuses a multipart body", providertest.NewAstonClub, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken(), "client_id", testID, "client_secret", testSecret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_request", "Content-Type"},
		{"Aston Club refuses client credentials in HTTP Basic", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken()), basic: []string{testID, testSecret}}
		}, 400, "invalid_request", "Basic"},
		{"Aston Club refuses a JSON field that is not a string", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: `{"grant_type":"refresh_token","refresh_token":"` + s.IssueRefreshToken() + `","client_id":1,"client_secret":"` + testSecret + `"}`}
		}, 400, "invalid_request", "not a string"},
		{"Aston Club refuses a refresh without refresh_token", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "refresh_token", "client_id", testID, "client_secret", testSecret)}
		}, 400, "invalid_request", "refresh_token"},
		{"Aston Club accepts JSON", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken(), "client_id", testID, "client_secret", testSecret)}
		}, 200, "", ""},
		{"Aston Club accepts a form body", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken(), "client_id", testID, "client_secret", testSecret)}
		}, 200, "", ""},
		{"Aston Club refuses a repeated JSON key", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: `{"grant_type":"refresh_token","grant_type":"refresh_token","refresh_token":"` +
				s.IssueRefreshToken() + `","client_id":"` + testID + `","client_secret":"` + testSecret + `"}`}
		}, 400, "invalid_request", "more than once"},
		{"Aston Club refuses a code without redirect_uri", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "authorization_code", "code", s.IssueCode(), "client_id", testID, "client_secret", testSecret)}
		}, 400, "invalid_request", "redirect_uri"},
		{"Aston Club serves no other path", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.URL() + "/oauth/token"}
		}, 404, "invalid_request", "does not serve"},
	})
}

// TestAstonClubFakeAnswers: a refresh answered as the document's example (no refresh_token, a
// year's expires_in, lower-case bearer, posapi), and the switches that change it.
func TestAstonClubFakeAnswers(t *testing.T) {
	t.Run("Aston Club answers with its documented lower-case bearer and posapi scope", func(t *testing.T) {
		fake := providertest.NewAstonClub(providertest.Options{})
		defer fake.Close()
		got := do(t, call{url: fake.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "refresh_token", "refresh_token", fake.IssueRefreshToken(), "client_id", fake.ClientID(), "client_secret", fake.ClientSecret())})
		if got.str("token_type") != "bearer" || got.str("scope") != "posapi" || got.body["expires_in"] != float64(31536000) || got.body["refresh_token"] != nil {
			t.Errorf("answer = %v", got.body)
		}
	})
	t.Run("SetOmitExpiresIn and SetOmitRefreshToken drop those fields", func(t *testing.T) {
		fake := providertest.NewAstonClub(providertest.Options{})
		defer fake.Close()
		fake.SetOmitExpiresIn(true)
		fake.SetOmitRefreshToken(true)
		got := do(t, call{url: fake.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "refresh_token", "refresh_token", fake.IssueRefreshToken(), "client_id", fake.ClientID(), "client_secret", fake.ClientSecret())})
		if _, ok := got.body["expires_in"]; ok {
			t.Errorf("answer %v has expires_in", got.body)
		}
		if _, ok := got.body["refresh_token"]; ok {
			t.Errorf("answer %v has refresh_token", got.body)
		}
	})
	t.Run("a caller's lifetime applies, and SetOmitRefreshToken(false) rotates", func(t *testing.T) {
		fake := providertest.NewAstonClub(providertest.Options{Lifetime: 4 * time.Second})
		defer fake.Close()
		fake.SetOmitRefreshToken(false)
		got := do(t, call{url: fake.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "refresh_token", "refresh_token", fake.IssueRefreshToken(), "client_id", fake.ClientID(), "client_secret", fake.ClientSecret())})
		if got.body["expires_in"] != float64(4) || got.str("refresh_token") == "" {
			t.Errorf("answer = %v, want expires_in 4 and a refresh token", got.body)
		}
	})
	t.Run("a code exchange returns a refresh token, as the document's example", func(t *testing.T) {
		fake := providertest.NewAstonClub(providertest.Options{})
		defer fake.Close()
		got := do(t, call{url: fake.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "authorization_code", "code", fake.IssueCode(), "redirect_uri", fake.RedirectURI(), "client_id", fake.ClientID(), "client_secret", fake.ClientSecret())})
		if got.status != 200 || got.str("refresh_token") == "" {
			t.Errorf("answer = %d %v, want a refresh token", got.status, got.body)
		}
	})
}
