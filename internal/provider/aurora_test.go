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
	"net/http"
	"net/url"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

func TestTokenAuroraClientCredentials(t *testing.T) {
	fake := providertest.NewAurora(providertest.Options{ClientID: oddClientID, ClientSecret: oddClientSecret, Lifetime: 2 * time.Hour})
	defer fake.Close()
	for _, tt := range []struct {
		name string
		req  provider.Request
	}{
		{"gets a token from the configured token URL", provider.Request{TokenURL: fake.TokenURL()}},
		{"discovers the token endpoint from an issuer ending in a slash without asking for '//.well-known'", provider.Request{IssuerURL: fake.IssuerURL()}},
		{"sends an explicit audience", provider.Request{TokenURL: fake.TokenURL(), Audience: "https://api.client.integration.aurora.co.uk"}},
		{"accepts the explicit client_credentials grant type", provider.Request{TokenURL: fake.TokenURL(), Grant: provider.Grant{Type: provider.GrantClientCredentials}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Provider, req.ClientID, req.ClientSecret = oauthv1alpha1.ProviderAurora, fake.ClientID(), fake.ClientSecret()
			start := time.Now()
			tok := mustToken(t, &req)
			if !fake.ValidAccessToken(tok.AccessToken) {
				t.Errorf("access token %q was not issued by the fake", tok.AccessToken)
			}
			if tok.TokenType != "Bearer" || tok.RefreshToken != "" {
				t.Errorf("token = %+v, want a Bearer token without refresh token", tok)
			}
			if !within(tok.Expiry, start.Add(2*time.Hour)) {
				t.Errorf("expiry %s, want about two hours from now", tok.Expiry)
			}
			noRejections(t, fake)
		})
	}
	if got := fake.Requests(provider.GrantClientCredentials); got != 4 {
		t.Errorf("client_credentials requests = %d, want 4 (one per token)", got)
	}
	t.Run("sends the Dev audience for the Dev environment, which only Dev accepts", func(t *testing.T) {
		dev := providertest.NewAurora(providertest.Options{Environment: oauthv1alpha1.EnvironmentDev})
		defer dev.Close()
		req := &provider.Request{Provider: oauthv1alpha1.ProviderAurora, Environment: oauthv1alpha1.EnvironmentDev, TokenURL: dev.TokenURL(), ClientID: dev.ClientID(), ClientSecret: dev.ClientSecret()}
		if tok := mustToken(t, req); !dev.ValidAccessToken(tok.AccessToken) {
			t.Errorf("token %+v not issued by the Dev fake", tok)
		}
		req.Environment = oauthv1alpha1.EnvironmentLive
		_ = mustFail(t, quickClient(), req, provider.Transient) // Auth0's 403 access_denied
		noRejections(t, dev)
	})
}

func TestDocumentedEndpoints(t *testing.T) {
	const live, dev = "https://api.client.integration.aurora.co.uk", "https://dev.client.integration.aurora.co.uk"
	tests := []struct {
		name     string
		req      provider.Request
		endpoint string
		check    func(t *testing.T, s sent)
	}{
		{"Aurora uses the Live token endpoint and audience by default, without discovery",
			provider.Request{Provider: oauthv1alpha1.ProviderAurora}, "https://auth.aurora.co.uk/oauth/token",
			func(t *testing.T, s sent) { wantForm(t, s, "audience", live) }},
		{"Aurora uses the Dev token endpoint and audience for Dev",
			provider.Request{Provider: oauthv1alpha1.ProviderAurora, Environment: oauthv1alpha1.EnvironmentDev}, "https://aurora-dev.uk.auth0.com/oauth/token",
			func(t *testing.T, s sent) { wantForm(t, s, "audience", dev) }},
		{"Aurora sends spec.audience over the environment's",
			provider.Request{Provider: oauthv1alpha1.ProviderAurora, Audience: dev}, "https://auth.aurora.co.uk/oauth/token",
			func(t *testing.T, s sent) { wantForm(t, s, "audience", dev) }},
		{"Aurora sends the client credentials in the body, and scope only when set",
			provider.Request{Provider: oauthv1alpha1.ProviderAurora}, "https://auth.aurora.co.uk/oauth/token",
			func(t *testing.T, s sent) {
				v, _ := url.ParseQuery(s.body)
				if s.header.Get("Authorization") != "" || v.Get("client_id") != "id" || v.Get("client_secret") != "secret" || v.Has("scope") ||
					v.Get("grant_type") != "client_credentials" || s.header.Get("Content-Type") != "application/x-www-form-urlencoded" {
					t.Errorf("sent %v %v", s.header, v)
				}
			}},
		{"Aston Club uses Production by default",
			provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "a324cc21"}},
			"https://auth.astonclub.com.au/v1/token", func(t *testing.T, s sent) {
				var body map[string]string
				if err := json.Unmarshal([]byte(s.body), &body); err != nil || s.header.Get("Content-Type") != "application/json" ||
					body["grant_type"] != "refresh_token" || body["refresh_token"] != "a324cc21" || body["client_id"] != "id" || body["client_secret"] != "secret" || len(body) != 4 {
					t.Errorf("sent %s %v (%v)", s.header.Get("Content-Type"), body, err)
				}
			}},
		{"Aston Club uses the Sandbox host for Sandbox",
			provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, Environment: oauthv1alpha1.EnvironmentSandbox,
				Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt"}}, "https://auth-sandbox.astonclub.com.au/v1/token", nil},
		{"Aurinko appends the code to the documented endpoint",
			provider.Request{Provider: oauthv1alpha1.ProviderAurinko, Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "xyz"}},
			"https://api.aurinko.io/v1/auth/token/xyz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, log := offlineClient(`{"access_token":"a","accessToken":"a","token_type":"bearer","expires_in":60}`)
			req := tt.req
			req.ClientID, req.ClientSecret = "id", "secret"
			if _, err := c.Token(context.Background(), &req); err != nil {
				t.Fatal(err)
			}
			got := log()
			if len(got) != 1 || got[0].method != http.MethodPost || got[0].url != tt.endpoint {
				t.Fatalf("sent %+v, want one POST to %s", got, tt.endpoint)
			}
			if tt.check != nil {
				tt.check(t, got[0])
			}
		})
	}
	for _, req := range []provider.Request{
		{Provider: oauthv1alpha1.ProviderAurora, Environment: oauthv1alpha1.EnvironmentSandbox},
		{Provider: oauthv1alpha1.ProviderAstonClub, Environment: oauthv1alpha1.EnvironmentDev, Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt"}},
	} {
		c, log := offlineClient(`{}`)
		if _, err := c.Token(context.Background(), &req); provider.KindOf(err) != provider.BadRequest || len(log()) != 0 {
			t.Errorf("%s in environment %s: %v, want BadRequest and no request", req.Provider, req.Environment, err)
		}
	}
}
