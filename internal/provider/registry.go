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
	"errors"
	"fmt"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// registry maps each provider of the API to its implementation, which declares its Traits
// and defaults: adding a provider is one new file and one line here.
var registry = map[oauthv1alpha1.Provider]Provider{
	oauthv1alpha1.ProviderAurora:    aurora{},
	oauthv1alpha1.ProviderAura:      aura{},
	oauthv1alpha1.ProviderAstonClub: astonClub{},
	oauthv1alpha1.ProviderAurinko:   aurinko{},
	oauthv1alpha1.ProviderGeneric:   generic{},
}

// Traits is what a provider declares about itself: the controller asks, and never names a
// provider.
type Traits struct {
	// ClientCredentials: without a grant Secret the connection runs the client-credentials
	// grant.
	ClientCredentials bool
	// RefreshToken: a refresh_token stored in the grant Secret may be presented.
	RefreshToken bool
	// Code: a one-time authorization code in the grant Secret may be exchanged.
	Code bool
	// CodeRequires lists grant-Secret keys that a code exchange needs besides "code" (e.g.
	// "redirect_uri"), from the provider's document.
	CodeRequires []string
}

// TraitsOf returns what provider p declares; zero for a provider this package does not
// know.
func TraitsOf(p oauthv1alpha1.Provider) Traits {
	if impl, ok := registry[p]; ok {
		return impl.Traits()
	}
	return Traits{}
}

// AuthorizedTraitsOf returns what provider p declares for a connection that runs the
// browser half of the authorization-code flow (spec.authorization): its traits, and for a
// provider whose grant Secret otherwise holds no code (Generic), the code of that flow,
// exchanged with its redirect_uri. Zero for a provider without an authorization endpoint.
func AuthorizedTraitsOf(p oauthv1alpha1.Provider) Traits {
	if impl, ok := registry[p].(authorizer); ok {
		return exchangeTraits(impl)
	}
	return Traits{}
}

// GrantKeys names the grant-Secret keys the provider reads, for messages: "refresh_token or
// code", "code", "refresh_token"; "" for a provider that reads no grant Secret.
func (t Traits) GrantKeys() string {
	switch {
	case t.RefreshToken && t.Code:
		return GrantKeyRefreshToken + " or " + GrantKeyCode
	case t.Code:
		return GrantKeyCode
	case t.RefreshToken:
		return GrantKeyRefreshToken
	}
	return ""
}

// WithDefaults returns req with the provider's defaults applied: Aurora environment Live,
// AstonClub environment Production, Generic clientAuthentication Basic and requestEncoding
// Form. Client.Token applies them too, so a request needs them only to be compared or
// shown.
func WithDefaults(req Request) Request {
	if impl, ok := registry[req.Provider]; ok {
		impl.Defaults(&req)
	}
	return req
}

// The keys of the grant Secret (api.md), as Traits.CodeRequires names them.
const (
	GrantKeyRefreshToken = "refresh_token"
	GrantKeyCode         = "code"
	GrantKeyRedirectURI  = "redirect_uri"
	GrantKeyCodeVerifier = "code_verifier"
)

// checkGrant refuses, before any request, a grant the provider does not take or one that
// lacks what the provider's document requires.
func (t Traits) checkGrant(p oauthv1alpha1.Provider, g Grant) error {
	switch g.Type {
	case "", GrantClientCredentials:
		if t.ClientCredentials {
			return nil
		}
	case GrantRefreshToken:
		if t.RefreshToken {
			if g.RefreshToken == "" {
				return &Error{Kind: BadRequest, Err: errors.New("no refresh token to present")}
			}
			return nil
		}
	case GrantAuthorizationCode:
		if t.Code {
			if g.Code == "" {
				return &Error{Kind: BadRequest, Err: errors.New("no code to present")}
			}
			for _, key := range t.CodeRequires {
				if g.value(key) == "" {
					return &Error{Kind: BadRequest, Err: fmt.Errorf("a %s code exchange needs %s in the grant Secret", p, key)}
				}
			}
			return nil
		}
	}
	return unsupported(p, g.Type)
}

// value returns the grant's value for a grant-Secret key.
func (g Grant) value(key string) string {
	switch key {
	case GrantKeyCode:
		return g.Code
	case GrantKeyRefreshToken:
		return g.RefreshToken
	case GrantKeyRedirectURI:
		return g.RedirectURI
	case GrantKeyCodeVerifier:
		return g.CodeVerifier
	}
	return ""
}

func unsupported(p oauthv1alpha1.Provider, g GrantType) error {
	if g == "" {
		g = GrantClientCredentials
	}
	return &Error{Kind: BadRequest, Err: fmt.Errorf("provider %s does not take the %s grant", p, g)}
}
