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
	"strings"
	"time"

	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// aurinko is Aurinko's user OAuth flow: POST {base}/{code} with HTTP Basic as curl -u
// sends it (id and secret as they are) and no body; the answer is Aurinko's own JSON with
// no expiry.
type aurinko struct{}

// NewAurinko starts a fake Aurinko: POST {base}/{code} with HTTP Basic as curl -u sends it.
func NewAurinko(o Options) *Server { return newServer(aurinko{}, o, time.Hour) }

func (aurinko) tokenPath() string { return "/v1/auth/token" }

func (aurinko) servesDiscovery(string) bool { return false }

func (d aurinko) read(s *Server, r *http.Request, p *params, body []byte) (provider.GrantType, string) {
	grant := provider.GrantAuthorizationCode
	switch code := strings.TrimPrefix(r.URL.EscapedPath(), d.tokenPath()+"/"); {
	case len(body) > 0:
		return grant, "a request body; the document sends none (curl -u ... -X POST)"
	case !p.hasBasic:
		return grant, "no HTTP Basic client authentication"
	case code == "" || code == r.URL.EscapedPath() || strings.Contains(code, "/"):
		return grant, "no code in the path"
	}
	// Tell credentials encoded the wrong way from wrong ones.
	id, err1 := url.QueryUnescape(p.basicID)
	secret, err2 := url.QueryUnescape(p.basicSecret)
	formOK := err1 == nil && err2 == nil && id == s.clientID && secret == s.secret
	if formOK && p.basicID+":"+p.basicSecret != s.clientID+":"+s.secret {
		return grant, "HTTP Basic credentials form-urlencoded; curl -u sends them as they are"
	}
	return grant, ""
}

// authorizeDocument: /v1/auth/authorizeUser with Aurinko's own names (clientId, returnUrl,
// responseType, scopes), state, serviceType and accountRole (primary or secondary), as its
// examples send them. responseType must be code: unset it means cookie mode, which issues
// no code. No PKCE: the code exchange has no body. Every example carries a state. After the
// sign-in the person authorizes the app; the redirect back says status=success.
func (aurinko) authorizeDocument() *authorizeDocument {
	return &authorizeDocument{
		name: "Aurinko", paths: []string{"/v1/auth/authorizeUser"},
		clientID: "clientId", redirectURI: "returnUrl", responseType: "responseType", scope: "scopes", state: paramState,
		stateRequired: true,
		others:        []string{"serviceType", "accountRole"},
		required:      []string{"serviceType"},
		allowed:       map[string][]string{"accountRole": {"primary", "secondary"}},
		consent:       true,
		success:       url.Values{"status": {"success"}},
	}
}

func (aurinko) authenticate(s *Server, p *params) (int, string, string) {
	return s.checkClient(p.basicID, p.basicSecret)
}

func (d aurinko) answer(s *Server, w http.ResponseWriter, r *http.Request, p *params, grant provider.GrantType) {
	code, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), d.tokenPath()+"/"))
	c, ok := s.codes[code]
	if err != nil || !ok || c.used || s.revoked[c.family] {
		if ok {
			s.revoked[c.family] = true
		}
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code is invalid or was already used")
		return
	}
	c.used = true
	session := randomString("session-")
	s.material = append(s.material, session)
	a := tokenAnswer{"accountId": 123, "accessToken": s.mintAccessToken(0), "userId": "user-id-xyz", "userSession": session}
	s.writeToken(w, a, p, grant)
}
