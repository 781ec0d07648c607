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

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// aurora is Aurora's API: OAuth 2.0 client credentials with an `audience`, form-encoded to
// the documented token endpoint of the environment, or to spec.tokenURL, or to the one
// OpenID Connect discovery from spec.issuerURL names.
type aurora struct{}

// auroraEnvironment holds an environment's documented token endpoint and audience.
type auroraEnvironment struct{ tokenURL, audience string }

var auroraEnvironments = map[oauthv1alpha1.Environment]auroraEnvironment{
	"":                            {"https://auth.aurora.co.uk/oauth/token", "https://api.client.integration.aurora.co.uk"},
	oauthv1alpha1.EnvironmentLive: {"https://auth.aurora.co.uk/oauth/token", "https://api.client.integration.aurora.co.uk"},
	oauthv1alpha1.EnvironmentDev:  {"https://aurora-dev.uk.auth0.com/oauth/token", "https://dev.client.integration.aurora.co.uk"},
}

func (aurora) Token(ctx context.Context, c *Client, req *Request) (*Token, error) {
	if t := req.Grant.Type; t != "" && t != GrantClientCredentials {
		return nil, badRequest("grant type %q is not supported by Aurora (client_credentials only)", t)
	}
	env, ok := auroraEnvironments[req.Environment]
	if !ok {
		return nil, badRequest("environment %q is not an Aurora environment (Live or Dev)", req.Environment)
	}
	red := newRedactor(req)
	// Without tokenURL or issuerURL the documented endpoint is used as is: it is what the
	// documented issuer's discovery names, and this saves a discovery fetch.
	endpoint, err := c.tokenEndpoint(ctx, req, env.tokenURL, red)
	if err != nil {
		return nil, err
	}
	audience := req.Audience
	if audience == "" {
		audience = env.audience
	}
	return c.clientCredentials(ctx, &clientcredentials.Config{
		ClientID:       req.ClientID,
		ClientSecret:   req.ClientSecret,
		TokenURL:       endpoint,
		Scopes:         req.Scopes,
		EndpointParams: url.Values{"audience": {audience}},
		// The document allows the header or the body; its "Manually" example sends the
		// body, which is also what Auth0 documents. Stated, never auto-detected.
		AuthStyle: oauth2.AuthStyleInParams,
	}, red)
}
