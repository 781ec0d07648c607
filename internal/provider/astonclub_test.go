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
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

func TestTokenAstonClub(t *testing.T) {
	for _, tt := range []struct {
		name             string
		omitExpiresIn    bool
		omitRefreshToken bool
		code             bool
		wantRefresh      bool
	}{
		{"exchanges a code, normalising token_type bearer to Bearer", false, false, true, true},
		{"refreshes and returns the next refresh token", false, false, false, true},
		{"a response without expires_in gives a token that does not expire", true, false, false, true},
		{"a refresh response without refresh_token gives an empty RefreshToken", false, true, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := providertest.NewAstonClub(providertest.Options{ClientID: oddClientID, ClientSecret: oddClientSecret, Lifetime: 365 * 24 * time.Hour})
			defer fake.Close()
			fake.SetOmitExpiresIn(tt.omitExpiresIn)
			fake.SetOmitRefreshToken(tt.omitRefreshToken)
			grant := provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: fake.IssueRefreshToken()}
			if tt.code {
				grant = provider.Grant{Type: provider.GrantAuthorizationCode, Code: fake.IssueCode(), RedirectURI: fake.RedirectURI()}
			}
			start := time.Now()
			tok := mustToken(t, &provider.Request{
				Provider: oauthv1alpha1.ProviderAstonClub, Environment: oauthv1alpha1.EnvironmentSandbox, TokenURL: fake.TokenURL(),
				ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(), Grant: grant,
			})
			if tok.TokenType != "Bearer" {
				t.Errorf("TokenType = %q, want Bearer", tok.TokenType)
			}
			if tok.Scope != "posapi" || !fake.ValidAccessToken(tok.AccessToken) {
				t.Errorf("token = %+v, want a valid posapi token", tok)
			}
			switch {
			case tt.omitExpiresIn && !tok.Expiry.IsZero():
				t.Errorf("Expiry = %s, want zero (does not expire)", tok.Expiry)
			case !tt.omitExpiresIn && !within(tok.Expiry, start.Add(365*24*time.Hour)):
				t.Errorf("Expiry = %s, want a year from now", tok.Expiry)
			}
			if (tok.RefreshToken != "") != tt.wantRefresh || tok.RefreshToken == grant.RefreshToken && tok.RefreshToken != "" {
				t.Errorf("RefreshToken = %q, want new: %v", tok.RefreshToken, tt.wantRefresh)
			}
			noRejections(t, fake)
		})
	}
}

// TestAstonClubAnswersAsItsDocument: the fake's refresh answer is the document's example:
// no refresh_token, so the one presented is kept, and a one-year lifetime.
func TestAstonClubAnswersAsItsDocument(t *testing.T) {
	fake := providertest.NewAstonClub(providertest.Options{})
	defer fake.Close()
	rt := fake.IssueRefreshToken()
	req := &provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, TokenURL: fake.TokenURL(), ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(),
		Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: rt}}
	for range 2 {
		start := time.Now()
		tok := mustToken(t, req)
		if tok.RefreshToken != "" || !within(tok.Expiry, start.Add(31536000*time.Second)) || tok.Scope != "posapi" {
			t.Errorf("token = %+v, want no refresh token, a year's lifetime, scope posapi", tok)
		}
	}
	noRejections(t, fake)
}
