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

import "context"

// aura is Aura's customer OAuth: a multipart/form-data POST to the client's own
// https://{domain}/oauth/token (spec.tokenURL), client id and secret in the body,
// exchanging a code once and then refresh tokens. Every refresh returns a new refresh
// token, returned in Token.RefreshToken for the caller to persist.
//
// The field names are those of the document's examples and RFC 6749 (refresh_token,
// redirect_uri), not of its field lists, which say redirect_url, and code for a refresh.
type aura struct{}

func (aura) Token(ctx context.Context, c *Client, req *Request) (*Token, error) {
	if req.TokenURL == "" {
		return nil, badRequest("spec.tokenURL is required for Aura (its token endpoint is per client: https://{domain}/oauth/token)")
	}
	endpoint, err := c.tokenEndpoint(ctx, req, "", nil)
	if err != nil {
		return nil, err
	}
	p, err := userGrant(req.Grant, true)
	if err != nil {
		return nil, err
	}
	p.add("client_id", req.ClientID)
	p.add("client_secret", req.ClientSecret)
	body, contentType := p.multipart()
	return c.send(ctx, tokenRequest{endpoint: endpoint, contentType: contentType, body: body}, newRedactor(req))
}
