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

import (
	"net/http"
	"net/url"
	"time"

	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// astonClub is Aston Auth's document: POST /v1/token with a JSON body (or a form), the
// client in the body. Its answers are the document's examples: token_type "bearer", scope
// posapi, resource_owner_type merchant, a one-year expires_in; a code exchange returns a
// refresh token, a refresh returns none (the one presented keeps working).
type astonClub struct{}

// astonClubScope is the POS API's scope, which the document's answers grant.
const astonClubScope = "posapi"

// astonClubLifetime is the expires_in of the document's examples.
const astonClubLifetime = 31536000 * time.Second

// NewAstonClub starts a fake Aston Auth: JSON (or form) bodies, lower-case token_type, and
// refresh answers as the document's example: no refresh_token (SetOmitRefreshToken(false)
// for a new one each time) and a one-year expires_in unless o.Lifetime sets another.
func NewAstonClub(o Options) *Server {
	s := newServer(astonClub{}, o, astonClubLifetime)
	s.omitRefreshToken = true
	return s
}

func (astonClub) tokenPath() string { return "/v1/token" }

func (astonClub) servesDiscovery(string) bool { return false }

func (astonClub) read(_ *Server, r *http.Request, p *params, body []byte) (provider.GrantType, string) {
	if reason := readFields(r, p, body, contentJSON, contentForm); reason != "" {
		return "", reason
	}
	grant := provider.GrantType(p.fields["grant_type"])
	if reason := checkGrant(p.fields, grant, provider.GrantAuthorizationCode, provider.GrantRefreshToken); reason != "" {
		return grant, reason
	}
	if reason := checkKnownFields(p.fields, grant); reason != "" {
		return grant, reason
	}
	return grant, checkClientInBody(p)
}

// authorizeDocument: /authorize/merchant and /authorize/organization with client_id,
// response_type=code, redirect_uri, scope and state, the scopes each lists, and an S256
// challenge (the document is silent on PKCE). Its example and its redirect format carry a
// state, so one is required. After logging in the person picks the merchant (or
// organization) and approves; the redirect back carries grant_type=authorization_code.
func (astonClub) authorizeDocument() *authorizeDocument {
	const merchant, organization = "/authorize/merchant", "/authorize/organization"
	doc := rfc6749Document("Aston Club", merchant, organization)
	doc.stateRequired, doc.pkce, doc.consent = true, true, true
	doc.scopes = map[string][]string{
		merchant:     {astonClubScope},
		organization: {astonClubScope, "aston-api:transaction.read", "aston-api:transaction.submit"},
	}
	doc.choices = map[string]choice{
		merchant:     {field: "merchant", options: AstonClubMerchants},
		organization: {field: "organization", options: AstonClubOrganizations},
	}
	doc.success = url.Values{"grant_type": {string(provider.GrantAuthorizationCode)}}
	return doc
}

func (astonClub) authenticate(s *Server, p *params) (int, string, string) {
	return s.authenticateBody(p)
}

func (astonClub) answer(s *Server, w http.ResponseWriter, _ *http.Request, p *params, grant provider.GrantType) {
	family, ok := s.redeem(w, p, grant, false)
	if !ok {
		return
	}
	a := s.newTokenAnswer("bearer")
	a["scope"] = astonClubScope
	a["resource_owner_type"] = "merchant"
	if grant == provider.GrantAuthorizationCode || !s.omitRefreshToken {
		a["refresh_token"] = s.mintRefreshToken(family)
	}
	s.writeToken(w, a, p, grant)
}
