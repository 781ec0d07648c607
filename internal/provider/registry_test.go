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
	"reflect"
	"testing"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

func TestTraitsOf(t *testing.T) {
	redirect := []string{provider.GrantKeyRedirectURI}
	for _, tt := range []struct {
		name string
		p    oauthv1alpha1.Provider
		want provider.Traits
		keys string
	}{
		{"Aurora runs client credentials only", oauthv1alpha1.ProviderAurora,
			provider.Traits{ClientCredentials: true}, ""},
		{"Aura takes a refresh token or a code sent with redirect_uri, as its examples do", oauthv1alpha1.ProviderAura,
			provider.Traits{RefreshToken: true, Code: true, CodeRequires: redirect}, "refresh_token or code"},
		{"AstonClub takes a refresh token or a code, redirect_uri Required by its document", oauthv1alpha1.ProviderAstonClub,
			provider.Traits{RefreshToken: true, Code: true, CodeRequires: redirect}, "refresh_token or code"},
		{"Aurinko takes a code only, with nothing besides it", oauthv1alpha1.ProviderAurinko,
			provider.Traits{Code: true}, "code"},
		{"Generic runs client credentials, or a refresh token, and no code", oauthv1alpha1.ProviderGeneric,
			provider.Traits{ClientCredentials: true, RefreshToken: true}, "refresh_token"},
		{"an unknown provider declares nothing", "Nope", provider.Traits{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := provider.TraitsOf(tt.p)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("TraitsOf(%s) = %+v, want %+v", tt.p, got, tt.want)
			}
			if k := got.GrantKeys(); k != tt.keys {
				t.Errorf("GrantKeys() = %q, want %q", k, tt.keys)
			}
		})
	}
}

func TestAuthorizedTraitsOf(t *testing.T) {
	redirect := []string{provider.GrantKeyRedirectURI}
	for _, tt := range []struct {
		name string
		p    oauthv1alpha1.Provider
		want provider.Traits
	}{
		{"Aura's traits are its own", oauthv1alpha1.ProviderAura,
			provider.Traits{RefreshToken: true, Code: true, CodeRequires: redirect}},
		{"Aurinko's traits are its own", oauthv1alpha1.ProviderAurinko, provider.Traits{Code: true}},
		{"Generic also exchanges the code of its authorization request, with redirect_uri", oauthv1alpha1.ProviderGeneric,
			provider.Traits{ClientCredentials: true, RefreshToken: true, Code: true, CodeRequires: redirect}},
		{"Aurora has no authorization endpoint", oauthv1alpha1.ProviderAurora, provider.Traits{}},
		{"an unknown provider declares nothing", "Nope", provider.Traits{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := provider.AuthorizedTraitsOf(tt.p); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("AuthorizedTraitsOf(%s) = %+v, want %+v", tt.p, got, tt.want)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   provider.Request
		want provider.Request
	}{
		{"Aurora defaults to Live", provider.Request{Provider: oauthv1alpha1.ProviderAurora},
			provider.Request{Provider: oauthv1alpha1.ProviderAurora, Environment: oauthv1alpha1.EnvironmentLive}},
		{"Aurora keeps Dev", provider.Request{Provider: oauthv1alpha1.ProviderAurora, Environment: oauthv1alpha1.EnvironmentDev},
			provider.Request{Provider: oauthv1alpha1.ProviderAurora, Environment: oauthv1alpha1.EnvironmentDev}},
		{"AstonClub defaults to Production", provider.Request{Provider: oauthv1alpha1.ProviderAstonClub},
			provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, Environment: oauthv1alpha1.EnvironmentProduction}},
		{"Generic defaults to Basic and Form", provider.Request{Provider: oauthv1alpha1.ProviderGeneric},
			provider.Request{Provider: oauthv1alpha1.ProviderGeneric, ClientAuthentication: oauthv1alpha1.ClientAuthenticationBasic,
				RequestEncoding: oauthv1alpha1.RequestEncodingForm}},
		{"Generic keeps Body and JSON", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, ClientAuthentication: oauthv1alpha1.ClientAuthenticationBody,
			RequestEncoding: oauthv1alpha1.RequestEncodingJSON},
			provider.Request{Provider: oauthv1alpha1.ProviderGeneric, ClientAuthentication: oauthv1alpha1.ClientAuthenticationBody,
				RequestEncoding: oauthv1alpha1.RequestEncodingJSON}},
		{"Aura has no defaults", provider.Request{Provider: oauthv1alpha1.ProviderAura}, provider.Request{Provider: oauthv1alpha1.ProviderAura}},
		{"Aurinko has no defaults", provider.Request{Provider: oauthv1alpha1.ProviderAurinko}, provider.Request{Provider: oauthv1alpha1.ProviderAurinko}},
		{"an unknown provider is left alone", provider.Request{Provider: "Nope"}, provider.Request{Provider: "Nope"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if got := provider.WithDefaults(in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("WithDefaults() = %+v, want %+v", got, tt.want)
			}
			if !reflect.DeepEqual(in, tt.in) {
				t.Errorf("WithDefaults changed its argument: %+v", in)
			}
		})
	}
}

func TestTokenRefusesUnsupportedGrantsWithoutARequest(t *testing.T) {
	for _, tt := range []struct {
		name string
		req  provider.Request
	}{
		{"Aurora with a refresh token", provider.Request{Provider: oauthv1alpha1.ProviderAurora, Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt"}}},
		{"Aura with client credentials", provider.Request{Provider: oauthv1alpha1.ProviderAura}},
		{"Aura with an empty refresh token", provider.Request{Provider: oauthv1alpha1.ProviderAura, Grant: provider.Grant{Type: provider.GrantRefreshToken}}},
		{"Aston Club with an empty code", provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, Grant: provider.Grant{Type: provider.GrantAuthorizationCode}}},
		{"Aurinko without a code", provider.Request{Provider: oauthv1alpha1.ProviderAurinko, Grant: provider.Grant{Type: provider.GrantAuthorizationCode}}},
		{"Aurinko with a refresh token", provider.Request{Provider: oauthv1alpha1.ProviderAurinko, Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt"}}},
		// Its code comes from the operator's own authorization request, which has a redirect_uri.
		{"Generic with a code but no redirect_uri", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "c"}}},
		{"Aura with a code but no redirect_uri", provider.Request{Provider: oauthv1alpha1.ProviderAura, Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "c"}}},
		{"Aston Club with a code but no redirect_uri", provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "c"}}},
	} {
		t.Run(tt.name+" is a bad request", func(t *testing.T) {
			srv, hits := countingServer(t)
			req := tt.req
			req.TokenURL, req.ClientID, req.ClientSecret = srv.URL+"/token", "id", "secret"
			_ = mustFail(t, quickClient(), &req, provider.BadRequest)
			if n := hits.Load(); n != 0 {
				t.Errorf("%d requests were sent", n)
			}
		})
	}
	t.Run("a nil request is a bad request, not a panic", func(t *testing.T) {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("Token(nil) panicked: %v", r)
			}
		}()
		_ = mustFail(t, quickClient(), nil, provider.BadRequest)
	})
}
