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
	"fmt"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

func TestTokenGenericAgainstTheFake(t *testing.T) {
	for _, auth := range []oauthv1alpha1.ClientAuthentication{oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.ClientAuthenticationBody} {
		for _, enc := range []oauthv1alpha1.RequestEncoding{oauthv1alpha1.RequestEncodingForm, oauthv1alpha1.RequestEncodingJSON, oauthv1alpha1.RequestEncodingMultipart} {
			for _, grant := range []provider.GrantType{provider.GrantClientCredentials, provider.GrantRefreshToken} {
				t.Run(fmt.Sprintf("%s with %s auth and a %s body", grant, auth, enc), func(t *testing.T) {
					fake := providertest.NewGeneric(providertest.Options{ClientID: oddClientID, ClientSecret: oddClientSecret, Lifetime: 10 * time.Minute}, auth, enc)
					defer fake.Close()
					req := &provider.Request{
						Provider: oauthv1alpha1.ProviderGeneric, TokenURL: fake.TokenURL(),
						ClientAuthentication: auth, RequestEncoding: enc,
						Scopes: []string{"read", "write"}, Audience: "https://api.example.com",
						ExtraParameters: map[string]string{"resource": "https://resource.example.com"},
						ClientID:        fake.ClientID(), ClientSecret: fake.ClientSecret(),
						Grant: provider.Grant{Type: grant},
					}
					if grant == provider.GrantRefreshToken {
						req.Grant.RefreshToken = fake.IssueRefreshToken()
					}
					start := time.Now()
					tok := mustToken(t, req)
					if !fake.ValidAccessToken(tok.AccessToken) || tok.TokenType != "Bearer" || tok.Scope != "read write" {
						t.Errorf("token = %+v, want a valid Bearer token with scope %q", tok, "read write")
					}
					if !within(tok.Expiry, start.Add(10*time.Minute)) {
						t.Errorf("Expiry = %s, want ten minutes from now", tok.Expiry)
					}
					if got := fake.Requests(grant); got != 1 {
						t.Errorf("%s requests = %d, want 1", grant, got)
					}
					noRejections(t, fake)
				})
			}
		}
	}
	t.Run("discovers the token endpoint from the issuer", func(t *testing.T) {
		fake := providertest.NewGeneric(providertest.Options{}, oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm)
		defer fake.Close()
		tok := mustToken(t, &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, IssuerURL: fake.IssuerURL(), ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret()})
		if !fake.ValidAccessToken(tok.AccessToken) {
			t.Errorf("token %+v not issued by the fake", tok)
		}
		noRejections(t, fake)
	})
}
