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

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// astonClub is Aston Auth: POST {host}/v1/token with a JSON body (the document's example;
// it also takes a form), client id and secret in the body. token_type comes lower-case,
// a missing expires_in means the token does not expire, and a refresh may return no
// refresh token (the caller keeps the one it presented).
type astonClub struct{}

var astonClubHosts = map[oauthv1alpha1.Environment]string{
	oauthv1alpha1.EnvironmentProduction: "https://auth.astonclub.com.au",
	oauthv1alpha1.EnvironmentSandbox:    "https://auth-sandbox.astonclub.com.au",
}

// The documented paths on the Aston Auth host.
const (
	astonClubTokenPath    = "/v1/token"
	astonClubMerchantPath = "/authorize/merchant"
)

// Traits: the document's code exchange marks redirect_uri Required.
func (astonClub) Traits() Traits {
	return Traits{RefreshToken: true, Code: true, CodeRequires: []string{GrantKeyRedirectURI}}
}

func (astonClub) Defaults(req *Request) {
	if req.Environment == "" {
		req.Environment = oauthv1alpha1.EnvironmentProduction
	}
}

func (astonClub) Token(ctx context.Context, c *Client, req *Request) (*Token, error) {
	endpoint := req.TokenURL
	if endpoint == "" {
		host, ok := astonClubHosts[req.Environment]
		if !ok {
			return nil, &Error{Kind: BadRequest, Err: fmt.Errorf("environment %q is not an Aston Club environment (Production or Sandbox)", req.Environment)}
		}
		endpoint = host + astonClubTokenPath
	}
	f := grantForm(req)
	f.set("client_id", req.ClientID)
	f.set("client_secret", req.ClientSecret)
	return c.exchange(ctx, req, endpoint, f, encodeJSON, "")
}

// Authorization: /authorize/merchant and /authorize/organization take client_id,
// response_type=code, redirect_uri, scope and state, RFC 6749's names. The document
// describes no PKCE, so it is off unless the spec asks (the exchange has a body to carry
// the verifier).
func (astonClub) Authorization() Authorization {
	return Authorization{Names: rfc6749Names, PKCE: true}
}

// authorizeEndpoint is /authorize/merchant on the Aston Auth host: the environment's
// documented one, or spec.tokenURL's with /v1/token replaced. An organization's is
// /authorize/organization, which spec.authorization.authorizeURL names.
func (astonClub) authorizeEndpoint(_ context.Context, _ *Client, req *AuthorizationRequest) (string, error) {
	if req.TokenURL != "" {
		return replacePath(req.TokenURL, astonClubTokenPath, astonClubMerchantPath)
	}
	env := req.Environment
	if env == "" {
		env = oauthv1alpha1.EnvironmentProduction
	}
	host, ok := astonClubHosts[env]
	if !ok {
		return "", authorizationError("environment %q is not an Aston Club environment (Production or Sandbox)", env)
	}
	return host + astonClubMerchantPath, nil
}

// checkCallback: the document's redirect back carries grant_type=authorization_code beside
// the code and state; any other grant_type is not an answer to this request.
func (astonClub) checkCallback(query url.Values) error {
	if gt := query.Get("grant_type"); gt != "" && gt != string(GrantAuthorizationCode) {
		return malformed("grant_type is not authorization_code")
	}
	return nil
}
