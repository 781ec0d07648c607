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
	"cmp"
	"context"
	"maps"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// generic is any RFC 6749 authorization server: client credentials, or a refresh token,
// with the client authentication and body encoding the spec states (never detected: a
// refused request re-sent another way could burn a single-use refresh token), the extra
// parameters it lists, and the token endpoint given or discovered.
type generic struct{}

// reservedParameters are set by the request itself; extraParameters may not override them.
var reservedParameters = []string{"grant_type", "client_id", "client_secret", "refresh_token", "code", "redirect_uri", "scope", "audience"}

func (generic) Token(ctx context.Context, c *Client, req *Request) (*Token, error) {
	auth := cmp.Or(req.ClientAuthentication, oauthv1alpha1.ClientAuthenticationBasic)
	if auth != oauthv1alpha1.ClientAuthenticationBasic && auth != oauthv1alpha1.ClientAuthenticationBody {
		return nil, badRequest("client authentication %q is not Basic or Body", auth)
	}
	enc := cmp.Or(req.RequestEncoding, oauthv1alpha1.RequestEncodingForm)
	if enc != oauthv1alpha1.RequestEncodingForm && enc != oauthv1alpha1.RequestEncodingJSON && enc != oauthv1alpha1.RequestEncodingMultipart {
		return nil, badRequest("request encoding %q is not Form, JSON or Multipart", enc)
	}
	var p params
	switch req.Grant.Type {
	case "", GrantClientCredentials:
		p.add("grant_type", string(GrantClientCredentials))
	case GrantRefreshToken:
		if req.Grant.RefreshToken == "" {
			return nil, badRequest("grant has no refresh_token")
		}
		p.add("grant_type", string(GrantRefreshToken))
		p.add("refresh_token", req.Grant.RefreshToken)
	default:
		return nil, badRequest("grant type %q is not supported by Generic (client_credentials or refresh_token)", req.Grant.Type)
	}
	names := slices.Sorted(maps.Keys(req.ExtraParameters))
	for _, name := range names {
		if slices.Contains(reservedParameters, name) {
			return nil, badRequest("spec.extraParameters must not set %s", name)
		}
	}
	red := newRedactor(req)
	endpoint, err := c.tokenEndpoint(ctx, req, "", red)
	if err != nil {
		return nil, err
	}

	if p.get("grant_type") == string(GrantClientCredentials) && enc == oauthv1alpha1.RequestEncodingForm {
		// The one Generic request x/oauth2 makes exactly as specified (see rfc6749.go).
		style := oauth2.AuthStyleInParams
		if auth == oauthv1alpha1.ClientAuthenticationBasic {
			// x/oauth2 form-urlencodes the id and secret first, as RFC 6749 2.3.1 says.
			style = oauth2.AuthStyleInHeader
		}
		extra := url.Values{}
		if req.Audience != "" {
			extra.Set("audience", req.Audience)
		}
		for _, name := range names {
			if v := req.ExtraParameters[name]; v != "" {
				extra.Set(name, v)
			}
		}
		return c.clientCredentials(ctx, &clientcredentials.Config{
			ClientID: req.ClientID, ClientSecret: req.ClientSecret, TokenURL: endpoint,
			Scopes: req.Scopes, EndpointParams: extra, AuthStyle: style,
		}, red)
	}

	p.add("scope", strings.Join(req.Scopes, " "))
	p.add("audience", req.Audience)
	for _, name := range names {
		p.add(name, req.ExtraParameters[name])
	}
	tr := tokenRequest{endpoint: endpoint}
	if auth == oauthv1alpha1.ClientAuthenticationBasic {
		// RFC 6749 section 2.3.1: the id and secret are form-urlencoded, then joined by
		// ":" and base64-encoded, so a ":" or "%" in either survives the trip.
		tr.basic = &[2]string{url.QueryEscape(req.ClientID), url.QueryEscape(req.ClientSecret)}
	} else {
		p.add("client_id", req.ClientID)
		p.add("client_secret", req.ClientSecret)
	}
	switch enc {
	case oauthv1alpha1.RequestEncodingJSON:
		tr.contentType, tr.body = "application/json", p.json()
	case oauthv1alpha1.RequestEncodingMultipart:
		tr.body, tr.contentType = p.multipart()
	default:
		tr.contentType, tr.body = "application/x-www-form-urlencoded", p.form()
	}
	return c.send(ctx, tr, red)
}
