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
	"net/http"
	"testing"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

func TestTokenAuraCodeThenRotatingRefresh(t *testing.T) {
	fake := providertest.NewAura(providertest.Options{ClientID: oddClientID, ClientSecret: oddClientSecret})
	defer fake.Close()
	base := provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: fake.TokenURL(), ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret()}
	withGrant := func(g provider.Grant) *provider.Request { r := base; r.Grant = g; return &r }

	code := fake.IssueCode()
	codeGrant := provider.Grant{Type: provider.GrantAuthorizationCode, Code: code, RedirectURI: fake.RedirectURI()}
	first := mustToken(t, withGrant(codeGrant))
	if first.RefreshToken == "" || first.TokenType != "Bearer" || !fake.ValidAccessToken(first.AccessToken) {
		t.Fatalf("code exchange = %+v, want a Bearer token and a refresh token", first)
	}
	if got := fake.Requests(provider.GrantAuthorizationCode); got != 1 {
		t.Errorf("authorization_code requests = %d, want 1", got)
	}

	t.Run("a refresh returns a new refresh token", func(t *testing.T) {
		second := mustToken(t, withGrant(provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: first.RefreshToken}))
		if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
			t.Fatalf("refresh token after refresh = %q, want a new one (old %q)", second.RefreshToken, first.RefreshToken)
		}
		if second.AccessToken == first.AccessToken || !fake.ValidAccessToken(second.AccessToken) {
			t.Errorf("access token after refresh = %q, want a new valid one", second.AccessToken)
		}

		t.Run("the old refresh token is then refused as invalid_grant", func(t *testing.T) {
			e := mustFail(t, quickClient(), withGrant(provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: first.RefreshToken}), provider.InvalidGrant)
			if e.StatusCode != http.StatusBadRequest || e.Code != "invalid_grant" {
				t.Errorf("error = %+v, want HTTP 400 invalid_grant", e)
			}
		})
		t.Run("the reuse revoked the family, the newest refresh token too", func(t *testing.T) {
			_ = mustFail(t, quickClient(), withGrant(provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: second.RefreshToken}), provider.InvalidGrant)
		})
	})
	t.Run("every refresh of a chain rotates", func(t *testing.T) {
		rt := fake.IssueRefreshToken()
		for i := range 3 {
			next := mustToken(t, withGrant(provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: rt}))
			if next.RefreshToken == "" || next.RefreshToken == rt {
				t.Fatalf("refresh %d returned refresh token %q, want a new one", i, next.RefreshToken)
			}
			rt = next.RefreshToken
		}
	})
	t.Run("the code is single-use", func(t *testing.T) {
		_ = mustFail(t, quickClient(), withGrant(codeGrant), provider.InvalidGrant)
	})
	t.Run("another grant's refresh token still works", func(t *testing.T) {
		tok := mustToken(t, withGrant(provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: fake.IssueRefreshToken()}))
		if tok.RefreshToken == "" {
			t.Errorf("no rotated refresh token: %+v", tok)
		}
	})
	noRejections(t, fake)
}
