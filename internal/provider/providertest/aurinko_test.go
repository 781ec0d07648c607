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

	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// TestAurinkoFakeFollowsItsDocument: requests that depart from Aurinko's document, in the ways a sloppy
// client would, are refused and recorded without secrets; conforming ones are answered.
func TestAurinkoFakeFollowsItsDocument(t *testing.T) {
	checkFakeCases(t, []fakeCase{
		{"Aurinko refuses a code exchange without HTTP Basic", providertest.NewAurinko, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL() + "/" + s.IssueCode()}
		}, 400, "invalid_request", "Basic"},
		{"Aurinko refuses GET", providertest.NewAurinko, func(_ *testing.T, s *providertest.Server) call {
			return call{method: http.MethodGet, url: s.TokenURL() + "/" + s.IssueCode(), basic: []string{testID, testSecret}}
		}, 400, "invalid_request", "GET"},
		{"Aurinko refuses a wrong secret with 401 invalid_client", providertest.NewAurinko, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL() + "/" + s.IssueCode(), basic: []string{testID, "wrong"}}
		}, 401, "invalid_client", ""},
		{"Aurinko refuses an unknown code with invalid_grant", providertest.NewAurinko, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL() + "/code-never-issued", basic: []string{testID, testSecret}}
		}, 400, "invalid_grant", ""},
		{"Aurinko answers a code exchange", providertest.NewAurinko, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL() + "/" + s.IssueCode(), basic: []string{testID, testSecret}}
		}, 200, "", ""},
		{"Aurinko refuses HTTP Basic form-urlencoded, which curl -u does not do", with(providertest.NewAurinko, providertest.Options{ClientID: "aurinko-app", ClientSecret: awkwardSecret}),
			func(_ *testing.T, s *providertest.Server) call {
				return call{url: s.TokenURL() + "/" + s.IssueCode(), basic: formBasic(s.ClientID(), s.ClientSecret())}
			}, 400, "invalid_request", "form-urlencoded"},
		{"Aurinko accepts HTTP Basic as curl -u sends it", with(providertest.NewAurinko, providertest.Options{ClientID: "aurinko-app", ClientSecret: awkwardSecret}),
			func(_ *testing.T, s *providertest.Server) call {
				return call{url: s.TokenURL() + "/" + s.IssueCode(), basic: []string{s.ClientID(), s.ClientSecret()}}
			}, 200, "", ""},
		{"Aurinko refuses a request body", providertest.NewAurinko, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL() + "/" + s.IssueCode(), basic: []string{testID, testSecret}, ctype: ctForm, body: "code=x"}
		}, 400, "invalid_request", "request body"},
	})
}

// TestAurinkoFakeAnswers: Aurinko's own JSON.
func TestAurinkoFakeAnswers(t *testing.T) {
	t.Run("Aurinko answers its own JSON", func(t *testing.T) {
		fake := providertest.NewAurinko(providertest.Options{})
		defer fake.Close()
		got := do(t, call{url: fake.TokenURL() + "/" + fake.IssueCode(), basic: []string{fake.ClientID(), fake.ClientSecret()}})
		if got.body["accountId"] != float64(123) || got.str("accessToken") == "" || got.str("userSession") == "" || got.str("userId") == "" {
			t.Errorf("answer = %v", got.body)
		}
	})
}
