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

package provider

import (
	"strings"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// Traits is what a provider declares about itself: the controller asks, and never names a
// provider.
type Traits struct {
	// ClientCredentials: without a grant Secret the connection runs the client-credentials grant.
	ClientCredentials bool
	// RefreshToken: a refresh_token stored in the grant Secret may be presented.
	RefreshToken bool
	// Code: a one-time authorization code in the grant Secret may be exchanged.
	Code bool
	// CodeRequires lists the grant-Secret keys a code exchange needs besides "code".
	CodeRequires []string
}

var traits = map[oauthv1alpha1.Provider]Traits{
	oauthv1alpha1.ProviderAurora:    {ClientCredentials: true},
	oauthv1alpha1.ProviderAura:      {RefreshToken: true, Code: true, CodeRequires: []string{"redirect_uri"}},
	oauthv1alpha1.ProviderAstonClub: {RefreshToken: true, Code: true, CodeRequires: []string{"redirect_uri"}},
	oauthv1alpha1.ProviderAurinko:   {Code: true},
	oauthv1alpha1.ProviderGeneric:   {ClientCredentials: true, RefreshToken: true},
}

// TraitsOf returns what provider p declares.
func TraitsOf(p oauthv1alpha1.Provider) Traits { return traits[p] }

// GrantKeys names the grant-Secret keys the provider reads, for messages.
func (t Traits) GrantKeys() string {
	var keys []string
	if t.RefreshToken {
		keys = append(keys, "refresh_token")
	}
	if t.Code {
		keys = append(keys, "code")
	}
	return strings.Join(keys, " or ")
}

// WithDefaults returns req with the provider's defaults of api.md applied.
func WithDefaults(req Request) Request {
	switch req.Provider {
	case oauthv1alpha1.ProviderAurora:
		if req.Environment == "" {
			req.Environment = oauthv1alpha1.EnvironmentLive
		}
	case oauthv1alpha1.ProviderAstonClub:
		if req.Environment == "" {
			req.Environment = oauthv1alpha1.EnvironmentProduction
		}
	case oauthv1alpha1.ProviderGeneric:
		if req.ClientAuthentication == "" {
			req.ClientAuthentication = oauthv1alpha1.ClientAuthenticationBasic
		}
		if req.RequestEncoding == "" {
			req.RequestEncoding = oauthv1alpha1.RequestEncodingForm
		}
	}
	return req
}

// MaxRetryAfter caps a provider's Retry-After: an absurd value cannot park a connection.
const MaxRetryAfter = time.Hour
