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
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// reservedParameters are the request's own; extraParameters may not set them.
var reservedParameters = []string{"grant_type", "client_id", "client_secret", GrantKeyRefreshToken, GrantKeyCode, GrantKeyRedirectURI, "scope", paramAudience}

// generic is any RFC 6749 authorization server: client credentials, or a refresh token,
// with the client authentication and body encoding the spec states (never detected), the
// extra parameters it lists, and the token endpoint given or discovered.
type generic struct{}

// Traits: client credentials without a grant Secret, a refresh token with one.
func (generic) Traits() Traits { return Traits{ClientCredentials: true, RefreshToken: true} }

func (generic) Defaults(req *Request) {
	if req.ClientAuthentication == "" {
		req.ClientAuthentication = oauthv1alpha1.ClientAuthenticationBasic
	}
	if req.RequestEncoding == "" {
		req.RequestEncoding = oauthv1alpha1.RequestEncodingForm
	}
}

func (generic) Token(ctx context.Context, c *Client, req *Request) (*Token, error) {
	for name := range req.ExtraParameters {
		if slices.Contains(reservedParameters, name) {
			// The API server refuses these too: they would silently replace what the
			// request itself sends.
			return nil, &Error{Kind: BadRequest, Err: fmt.Errorf("spec.extraParameters must not set %s", name)}
		}
	}
	endpoint := req.TokenURL
	if endpoint == "" {
		var err error
		if endpoint, err = c.discoverTokenEndpoint(ctx, req.IssuerURL); err != nil {
			return nil, err
		}
	}
	basic := req.ClientAuthentication != oauthv1alpha1.ClientAuthenticationBody
	f := grantForm(req)
	f.set("scope", strings.Join(req.Scopes, " "))
	f.set(paramAudience, req.Audience)
	for k, v := range req.ExtraParameters {
		f.set(k, v)
	}
	authorization := ""
	if basic {
		authorization = basicAuth(req.ClientID, req.ClientSecret, true)
	} else {
		f.set("client_id", req.ClientID)
		f.set("client_secret", req.ClientSecret)
	}
	enc := encodeForm
	switch req.RequestEncoding {
	case oauthv1alpha1.RequestEncodingJSON:
		enc = encodeJSON
	case oauthv1alpha1.RequestEncodingMultipart:
		enc = encodeMultipart
	}
	return c.exchange(ctx, req, endpoint, f, enc, authorization)
}

// Authorization: RFC 6749 section 4.1.1's names, and PKCE S256 by default, as RFC 9700
// section 2.1.1 asks of clients.
func (generic) Authorization() Authorization {
	return Authorization{Names: rfc6749Names, PKCE: true, PKCEByDefault: true}
}

// authorizeEndpoint is the issuer's authorization_endpoint: nothing in RFC 6749 ties it to
// the token endpoint's path.
func (generic) authorizeEndpoint(ctx context.Context, c *Client, req *AuthorizationRequest) (string, error) {
	if req.IssuerURL == "" {
		return "", authorizationError("Generic needs spec.authorization.authorizeURL when there is no spec.issuerURL")
	}
	m, err := c.discover(ctx, req.IssuerURL)
	if err != nil {
		return "", err
	}
	if m.authorization == "" {
		return "", authorizationError("the issuer's discovery document names no authorization_endpoint: set spec.authorization.authorizeURL")
	}
	return m.authorization, nil
}

// checkCallback: RFC 6749 section 4.1.2's redirect carries code and state alone.
func (generic) checkCallback(url.Values) error { return nil }
