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
	"strings"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// aurora is Aurora's API: OAuth 2.0 client credentials with an `audience`, form-encoded to
// the documented token endpoint of the environment, or to the one its OIDC discovery names.
type aurora struct{}

// Aurora's documented endpoints and audiences.
var auroraEnvironments = map[oauthv1alpha1.Environment]struct{ tokenURL, audience string }{
	oauthv1alpha1.EnvironmentLive: {"https://auth.aurora.co.uk/oauth/token", "https://api.client.integration.aurora.co.uk"},
	oauthv1alpha1.EnvironmentDev:  {"https://aurora-dev.uk.auth0.com/oauth/token", "https://dev.client.integration.aurora.co.uk"},
}

// Traits: client credentials only; the document describes no user grant.
func (aurora) Traits() Traits { return Traits{ClientCredentials: true} }

func (aurora) Defaults(req *Request) {
	if req.Environment == "" {
		req.Environment = oauthv1alpha1.EnvironmentLive
	}
}

func (aurora) Token(ctx context.Context, c *Client, req *Request) (*Token, error) {
	env, ok := auroraEnvironments[req.Environment]
	if !ok {
		return nil, &Error{Kind: BadRequest, Err: fmt.Errorf("environment %q is not an Aurora environment (Live or Dev)", req.Environment)}
	}
	endpoint := env.tokenURL
	switch {
	case req.TokenURL != "":
		endpoint = req.TokenURL
	case req.IssuerURL != "":
		var err error
		if endpoint, err = c.discoverTokenEndpoint(ctx, req.IssuerURL); err != nil {
			return nil, err
		}
	}
	audience := req.Audience
	if audience == "" {
		audience = env.audience
	}
	f := grantForm(req)
	// The client id and secret go in the body, as the document's "Manually" example sends
	// them (it allows the header too; the style is stated, never detected).
	f.set("client_id", req.ClientID)
	f.set("client_secret", req.ClientSecret)
	f.set(paramAudience, audience)
	f.set("scope", strings.Join(req.Scopes, " "))
	return c.exchange(ctx, req, endpoint, f, encodeForm, "")
}
