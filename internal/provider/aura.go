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
	"net/url"
)

// aura is Aura's customer OAuth: a multipart/form-data POST to the client's own
// https://{domain}/oauth/token, client id and secret in the body, exchanging a code once
// (with redirect_uri) and then refresh tokens. Every refresh returns a new refresh token.
// The field names are those of the document's examples and RFC 6749 (refresh_token,
// redirect_uri), not of its field lists (code, redirect_url).
type aura struct{}

// Traits: the document's code exchange sends redirect_uri; its refresh sends the refresh
// token.
func (aura) Traits() Traits {
	return Traits{RefreshToken: true, Code: true, CodeRequires: []string{GrantKeyRedirectURI}}
}

func (aura) Defaults(*Request) {}

func (aura) Token(ctx context.Context, c *Client, req *Request) (*Token, error) {
	f := grantForm(req)
	f.set("client_id", req.ClientID)
	f.set("client_secret", req.ClientSecret)
	return c.exchange(ctx, req, req.TokenURL, f, encodeMultipart, "")
}

// Authorization: Step 1's /oauth/authorize link sends client_id, redirect_uri and
// response_type=code, RFC 6749's names. The document describes no PKCE, so it is off unless
// the spec asks (Aura's exchange has a body to carry the verifier).
func (aura) Authorization() Authorization { return Authorization{Names: rfc6749Names, PKCE: true} }

// authorizeEndpoint is on the client's own host, like its token endpoint:
// https://{domain}/oauth/authorize.
func (aura) authorizeEndpoint(_ context.Context, _ *Client, req *AuthorizationRequest) (string, error) {
	if req.TokenURL == "" {
		return "", authorizationError("Aura's endpoints are per client: set spec.tokenURL (https://{domain}/oauth/token) or spec.authorization.authorizeURL")
	}
	return replacePath(req.TokenURL, "/oauth/token", "/oauth/authorize")
}

// checkCallback: the document's redirect back carries the code alone.
func (aura) checkCallback(url.Values) error { return nil }
