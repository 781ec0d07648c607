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
	"time"

	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// aura is Aura's document: multipart/form-data to the client's /oauth/token, the client in
// the body, a code once (with redirect_uri), then refresh tokens that rotate: each refresh
// returns a new one and the old one stops working. Tokens live two years.
type aura struct{}

// NewAura starts a fake Aura: multipart/form-data, a code once, rotating refresh tokens.
func NewAura(o Options) *Server { return newServer(aura{}, o, time.Hour) }

func (aura) tokenPath() string { return "/oauth/token" }

func (aura) servesDiscovery(string) bool { return false }

func (aura) read(_ *Server, r *http.Request, p *params, body []byte) (provider.GrantType, string) {
	if reason := readFields(r, p, body, contentMultipart); reason != "" {
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

// authorizeDocument: Step 1's /oauth/authorize with client_id, redirect_uri and
// response_type=code (RFC 6749's names), state and scope as RFC 6749 has them, and an S256
// challenge (the document is silent on PKCE; Aura's server takes it). Its link has no state,
// so none is required; logging in is the approval: "Once the user has authenticated they
// will be redirected ... along with an authorisation code".
func (aura) authorizeDocument() *authorizeDocument {
	doc := rfc6749Document("Aura", "/oauth/authorize")
	doc.pkce = true
	return doc
}

func (aura) authenticate(s *Server, p *params) (int, string, string) { return s.authenticateBody(p) }

func (aura) answer(s *Server, w http.ResponseWriter, _ *http.Request, p *params, grant provider.GrantType) {
	family, ok := s.redeem(w, p, grant, true)
	if !ok {
		return
	}
	a := s.newTokenAnswer("Bearer")
	a["refresh_token"] = s.mintRefreshToken(family)
	s.writeToken(w, a, p, grant)
}
