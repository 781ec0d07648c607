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

package providertest

// Each provider's document, as rules the shared handler enforces. Everything a fake
// accepts is listed here; the rest is refused.

import (
	"net/http"
	"slices"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// Media types of token requests.
const (
	mediaForm      = "application/x-www-form-urlencoded"
	mediaMultipart = "multipart/form-data"
	mediaJSON      = "application/json"
)

// Well-known discovery paths.
const (
	oidcDiscoveryPath    = "/.well-known/openid-configuration"
	rfc8414DiscoveryPath = "/.well-known/oauth-authorization-server"
)

// clientAuth is where a dialect wants the client credentials.
type clientAuth int

const (
	// authBody: client_id and client_secret in the body, no Authorization header.
	authBody clientAuth = iota
	// authBasicOrBody: either HTTP Basic or the body, never both (Aurora).
	authBasicOrBody
	// authBasicForm: HTTP Basic with id and secret form-urlencoded first (RFC 6749 2.3.1),
	// no client_secret in the body.
	authBasicForm
	// authBasicRaw: HTTP Basic with id and secret as they are, as curl -u sends them.
	authBasicRaw
)

// dialect is one provider's document.
type dialect struct {
	name      string
	tokenPath string
	// mediaTypes are the accepted request bodies; empty: the request has no body.
	mediaTypes []string
	// codeInPath: the code is the last path segment of POST {tokenPath}/{code}.
	codeInPath bool
	auth       clientAuth
	// grants lists the accepted grant types and the fields each requires.
	grants map[provider.GrantType][]string
	// optional are further fields accepted; anyField accepts any (extraParameters).
	optional []string
	anyField bool
	// discovery are the well-known documents served.
	discovery []string
	// rotate: a refresh spends the presented refresh token, and presenting it again
	// revokes the grant (RFC 9700 section 4.14.2).
	rotate bool
	// refreshReturnsRefreshToken: a refresh response carries a (new) refresh token.
	refreshReturnsRefreshToken bool
	// jwtAccessTokens: access tokens are JWT-like, with an exp claim.
	jwtAccessTokens bool
	// check refuses what the document's server refuses beyond the wire format.
	check func(in *incoming) *refusal
	// body builds the success response; called with the server's lock held.
	body func(s *Server, in *incoming, accessToken, refreshToken string) map[string]any
}

// Aurora's documented audiences.
var auroraAudiences = []string{"https://api.client.integration.aurora.co.uk", "https://dev.client.integration.aurora.co.uk"}

func auroraDialect() *dialect {
	return &dialect{
		name:       "Aurora",
		tokenPath:  "/oauth/token",
		mediaTypes: []string{mediaForm},
		auth:       authBasicOrBody,
		grants:     map[provider.GrantType][]string{provider.GrantClientCredentials: {"audience"}},
		optional:   []string{"scope"},
		discovery:  []string{oidcDiscoveryPath},
		check: func(in *incoming) *refusal {
			if !slices.Contains(auroraAudiences, in.fields["audience"]) {
				// Auth0's answer to an API it does not know.
				return &refusal{status: http.StatusForbidden, code: "access_denied", desc: "Service not enabled within domain"}
			}
			return nil
		},
		body: standardBody,
	}
}

func auraDialect() *dialect {
	return &dialect{
		name:       "Aura",
		tokenPath:  "/oauth/token",
		mediaTypes: []string{mediaMultipart},
		auth:       authBody,
		grants: map[provider.GrantType][]string{
			provider.GrantAuthorizationCode: {"code", "redirect_uri"},
			provider.GrantRefreshToken:      {"refresh_token"},
		},
		rotate:                     true,
		refreshReturnsRefreshToken: true,
		jwtAccessTokens:            true,
		body:                       standardBody,
	}
}

func astonClubDialect() *dialect {
	return &dialect{
		name:       "AstonClub",
		tokenPath:  "/v1/token",
		mediaTypes: []string{mediaJSON, mediaForm},
		auth:       authBody,
		grants: map[provider.GrantType][]string{
			provider.GrantAuthorizationCode: {"code", "redirect_uri"},
			provider.GrantRefreshToken:      {"refresh_token"},
		},
		refreshReturnsRefreshToken: true,
		body: func(s *Server, in *incoming, at, rt string) map[string]any {
			b := standardBody(s, in, at, rt)
			b["token_type"] = "bearer"
			b["scope"] = "posapi"
			b["resource_owner_type"] = "merchant"
			return b
		},
	}
}

func aurinkoDialect() *dialect {
	return &dialect{
		name:       "Aurinko",
		tokenPath:  "/v1/auth/token",
		codeInPath: true,
		auth:       authBasicRaw,
		grants:     map[provider.GrantType][]string{provider.GrantAuthorizationCode: nil},
		body: func(s *Server, _ *incoming, at, _ string) map[string]any {
			session := randomString("session-")
			s.material = append(s.material, session)
			// The document's example, with fresh secrets.
			return map[string]any{"accountId": 123, "accessToken": at, "userId": "user-id-xyz", "userSession": session}
		},
	}
}

func genericDialect(auth oauthv1alpha1.ClientAuthentication, enc oauthv1alpha1.RequestEncoding) *dialect {
	d := &dialect{
		name:      "Generic",
		tokenPath: "/token",
		auth:      authBasicForm,
		grants: map[provider.GrantType][]string{
			provider.GrantClientCredentials: nil,
			provider.GrantRefreshToken:      {"refresh_token"},
		},
		anyField:  true,
		discovery: []string{oidcDiscoveryPath, rfc8414DiscoveryPath},
		body:      standardBody,
	}
	if auth == oauthv1alpha1.ClientAuthenticationBody {
		d.auth = authBody
	}
	switch enc {
	case oauthv1alpha1.RequestEncodingJSON:
		d.mediaTypes = []string{mediaJSON}
	case oauthv1alpha1.RequestEncodingMultipart:
		d.mediaTypes = []string{mediaMultipart}
	default:
		d.mediaTypes = []string{mediaForm}
	}
	return d
}

// standardBody is an RFC 6749 section 5.1 response; the requested scope is granted.
func standardBody(s *Server, in *incoming, at, rt string) map[string]any {
	b := map[string]any{"access_token": at, "token_type": "Bearer"}
	if !s.omitExpiresIn {
		b["expires_in"] = s.expiresIn()
	}
	if rt != "" {
		b["refresh_token"] = rt
	}
	if scope := in.fields["scope"]; scope != "" {
		b["scope"] = scope
	}
	return b
}
