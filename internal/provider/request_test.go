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
	"encoding/base64"
	"fmt"
	"net/url"
	"testing"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

func TestTokenGenericWireFormat(t *testing.T) {
	wantBasic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(oddClientID)+":"+url.QueryEscape(oddClientSecret)))
	mediaTypes := map[oauthv1alpha1.RequestEncoding]string{
		oauthv1alpha1.RequestEncodingForm:      "application/x-www-form-urlencoded",
		oauthv1alpha1.RequestEncodingJSON:      "application/json",
		oauthv1alpha1.RequestEncodingMultipart: "multipart/form-data",
	}
	for _, auth := range []oauthv1alpha1.ClientAuthentication{oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.ClientAuthenticationBody} {
		for _, enc := range []oauthv1alpha1.RequestEncoding{oauthv1alpha1.RequestEncodingForm, oauthv1alpha1.RequestEncodingJSON, oauthv1alpha1.RequestEncodingMultipart} {
			for _, grant := range []provider.GrantType{provider.GrantClientCredentials, provider.GrantRefreshToken} {
				t.Run(fmt.Sprintf("%s with %s auth sends a %s body with scope, audience and extra parameters", grant, auth, enc), func(t *testing.T) {
					srv, last := recordingServer(t)
					req := &provider.Request{
						Provider: oauthv1alpha1.ProviderGeneric, TokenURL: srv.URL + "/token",
						ClientAuthentication: auth, RequestEncoding: enc,
						Scopes: []string{"read", "write"}, Audience: "https://api.example.com",
						ExtraParameters: map[string]string{"resource": "https://resource.example.com"},
						ClientID:        oddClientID, ClientSecret: oddClientSecret,
						Grant: provider.Grant{Type: grant},
					}
					if grant == provider.GrantRefreshToken {
						req.Grant.RefreshToken = "rt-with odd+chars%"
					}
					tok := mustToken(t, req)
					if tok.TokenType != "Bearer" {
						t.Errorf("TokenType = %q, want Bearer", tok.TokenType)
					}
					got := last()
					if got.contentType != mediaTypes[enc] {
						t.Errorf("Content-Type = %q, want %q", got.contentType, mediaTypes[enc])
					}
					want := map[string]string{
						"grant_type": string(grant), "scope": "read write",
						"audience": "https://api.example.com", "resource": "https://resource.example.com",
					}
					if grant == provider.GrantRefreshToken {
						want["refresh_token"] = req.Grant.RefreshToken
					}
					if auth == oauthv1alpha1.ClientAuthenticationBody {
						want["client_id"], want["client_secret"] = oddClientID, oddClientSecret
						if got.hasBasic {
							t.Errorf("HTTP Basic sent with Body client authentication: %q", got.rawBasic)
						}
					} else if got.rawBasic != wantBasic {
						t.Errorf("Authorization = %q, want %q (id and secret form-urlencoded, RFC 6749 section 2.3.1)", got.rawBasic, wantBasic)
					}
					for k, v := range want {
						if got.fields[k] != v {
							t.Errorf("field %s = %q, want %q", k, got.fields[k], v)
						}
					}
					if auth == oauthv1alpha1.ClientAuthenticationBasic {
						if _, ok := got.fields["client_secret"]; ok {
							t.Errorf("client_secret in the body with Basic client authentication")
						}
					}
				})
			}
		}
	}
}

func TestTokenAuraAndAstonClubWireFormat(t *testing.T) {
	for _, tt := range []struct {
		name      string
		provider  oauthv1alpha1.Provider
		mediaType string
	}{
		{"Aura sends multipart/form-data with the client in the body, and the PKCE verifier", oauthv1alpha1.ProviderAura, "multipart/form-data"},
		{"Aston Club sends JSON with the client in the body, and the PKCE verifier", oauthv1alpha1.ProviderAstonClub, "application/json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, last := recordingServer(t)
			mustToken(t, &provider.Request{
				Provider: tt.provider, TokenURL: srv.URL + "/token", ClientID: oddClientID, ClientSecret: oddClientSecret,
				Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "the-code", RedirectURI: "https://app.example.com/cb", CodeVerifier: "the-verifier"},
			})
			got := last()
			want := map[string]string{"grant_type": "authorization_code", "code": "the-code", "redirect_uri": "https://app.example.com/cb",
				"code_verifier": "the-verifier", "client_id": oddClientID, "client_secret": oddClientSecret}
			if got.contentType != tt.mediaType || got.hasBasic {
				t.Errorf("Content-Type %q, Basic %v; want %q without Basic", got.contentType, got.hasBasic, tt.mediaType)
			}
			for k, v := range want {
				if got.fields[k] != v {
					t.Errorf("field %s = %q, want %q", k, got.fields[k], v)
				}
			}
			if _, ok := got.fields["redirect_url"]; ok {
				t.Errorf("sent redirect_url; the field is redirect_uri")
			}
		})
	}
}
