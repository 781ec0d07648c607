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

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// generic is an RFC 6749 server that takes exactly one client authentication and one body
// encoding, any extra parameter, client credentials, a refresh token (not rotated) or a code
// its authorization endpoint issued, and serves OIDC and RFC 8414 discovery.
type generic struct {
	auth oauthv1alpha1.ClientAuthentication
	enc  oauthv1alpha1.RequestEncoding
}

// NewGeneric starts an RFC 6749 server that takes exactly one client authentication and
// one body encoding (defaults Basic and Form), and serves OIDC and RFC 8414 discovery.
func NewGeneric(o Options, auth oauthv1alpha1.ClientAuthentication, enc oauthv1alpha1.RequestEncoding) *Server {
	d := generic{auth: auth, enc: enc}
	if d.auth == "" {
		d.auth = oauthv1alpha1.ClientAuthenticationBasic
	}
	if d.enc == "" {
		d.enc = oauthv1alpha1.RequestEncodingForm
	}
	return newServer(d, o, time.Hour)
}

func (generic) tokenPath() string { return "/token" }

func (generic) servesDiscovery(path string) bool {
	return path == wellKnownOIDC || path == wellKnownRFC8414
}

func (d generic) contentType() string {
	switch d.enc {
	case oauthv1alpha1.RequestEncodingJSON:
		return contentJSON
	case oauthv1alpha1.RequestEncodingMultipart:
		return contentMultipart
	}
	return contentForm
}

func (d generic) read(s *Server, r *http.Request, p *params, body []byte) (provider.GrantType, string) {
	if reason := readFields(r, p, body, d.contentType()); reason != "" {
		return "", reason
	}
	grant := provider.GrantType(p.fields["grant_type"])
	if reason := checkGrant(p.fields, grant, provider.GrantClientCredentials, provider.GrantRefreshToken, provider.GrantAuthorizationCode); reason != "" {
		return grant, reason
	}
	f := p.fields
	if d.auth == oauthv1alpha1.ClientAuthenticationBasic {
		switch {
		case !p.hasBasic:
			return grant, "no HTTP Basic client authentication"
		case f["client_secret"] != "":
			return grant, "client_secret in the body as well as HTTP Basic"
		}
		// RFC 6749 section 2.3.1: tell credentials not form-urlencoded first from wrong ones.
		id, err1 := url.QueryUnescape(p.basicID)
		secret, err2 := url.QueryUnescape(p.basicSecret)
		formOK := err1 == nil && err2 == nil && id == s.clientID && secret == s.secret
		if !formOK && p.basicID+":"+p.basicSecret == s.clientID+":"+s.secret {
			return grant, "HTTP Basic credentials not form-urlencoded first (RFC 6749 section 2.3.1)"
		}
		return grant, ""
	}
	if p.hasBasic {
		return grant, "HTTP Basic client authentication; this server takes client credentials in the body"
	}
	if f["client_id"] == "" || f["client_secret"] == "" {
		return grant, "client_id or client_secret missing from the body"
	}
	return grant, ""
}

// authorizeDocument: RFC 6749 section 4.1.1 at /authorize, named by the discovery
// documents, with an S256 challenge (RFC 7636); parameters it does not know are ignored
// (section 3.1). A state is required, as RFC 9700 section 2.1.1 has clients send one (the
// operator always does). After logging in the person approves or denies.
func (generic) authorizeDocument() *authorizeDocument {
	doc := rfc6749Document("Generic", "/authorize")
	doc.stateRequired, doc.pkce, doc.open, doc.consent = true, true, true, true
	return doc
}

func (generic) authenticate(s *Server, p *params) (int, string, string) {
	return s.authenticateFormBasic(p)
}

func (generic) answer(s *Server, w http.ResponseWriter, _ *http.Request, p *params, grant provider.GrantType) {
	if _, ok := s.redeem(w, p, grant, false); !ok {
		return
	}
	a := s.newTokenAnswer("Bearer")
	if scope := p.fields["scope"]; scope != "" {
		a["scope"] = scope
	}
	// No refresh token: client credentials have none (RFC 6749 section 4.4.3), and this
	// server does not rotate.
	s.writeToken(w, a, p, grant)
}
