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

// Package providertest holds strict fake token endpoints for each provider, on httptest
// servers. They reproduce the providers' documents to the letter and reject (400 with an
// RFC 6749 error, and a recorded reason) any request that departs from them: wrong method
// or content type, a missing, unknown or repeated field, client credentials in the wrong
// place (or in both), HTTP Basic encoded the wrong way, a reused Aura refresh token
// (which, as RFC 9700 reuse detection does, revokes the whole grant), a reused code.
//
// They count requests by grant, fail the next requests on demand, delay responses, and
// issue short lifetimes on demand. The controller's tests and the local demo both use
// them, so the package does not depend on the testing package.
package providertest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// Options configure a fake provider.
type Options struct {
	// ClientID and ClientSecret are the registered client; defaults "test-client" and a
	// random secret.
	ClientID, ClientSecret string
	// Lifetime is the expires_in of issued access tokens; zero: one hour.
	Lifetime time.Duration
}

// Failure is a canned answer for FailNextWith.
type Failure struct {
	Status int
	Header http.Header
	Body   string
}

// TokenRequest is what a fake recorded of one token request.
type TokenRequest struct {
	// Grant is the grant_type (authorization_code for Aurinko's code exchange).
	Grant provider.GrantType
	// MediaType is the request's Content-Type without parameters ("" without a body).
	MediaType string
	// ClientAuth says where the client credentials came: "basic", "body", "both" or "none".
	ClientAuth string
	// Params are the body parameters, with client_secret, refresh_token and code replaced
	// by "[redacted]".
	Params map[string]string
	// Rejection is why the request was refused as non-conforming; empty if it was not.
	Rejection string
}

// defaultRedirectURI is the redirect URI registered for codes.
const defaultRedirectURI = "https://app.example.com/oauth/callback"

// codeLifetime bounds a code's use, as RFC 6749 section 4.1.2 recommends (10 minutes).
const codeLifetime = 10 * time.Minute

// maxLog bounds the recorded requests of a long-running demo.
const maxLog = 1000

// Server is one fake provider. Its methods are safe for concurrent use.
type Server struct {
	srv     *httptest.Server
	dialect *dialect

	mu               sync.Mutex
	clientID, secret string
	lifetime         time.Duration
	omitExpiresIn    bool
	omitRefreshToken bool
	oidcDiscovery    bool
	delay            time.Duration
	failures         []Failure
	codes            map[string]*credential
	refreshTokens    map[string]*credential
	revoked          map[int]bool
	nextFamily       int
	access           map[string]time.Time // access token → expiry (zero: none)
	requests         map[provider.GrantType]int
	total            int
	discoveries      int
	rejections       []string
	material         []string
	log              []TokenRequest
}

// credential is a code or refresh token: single-use where the provider says so, and part
// of a grant family that reuse revokes.
type credential struct {
	family  int
	used    bool
	expires time.Time // codes only
}

func newServer(d *dialect, o Options) *Server {
	s := &Server{
		dialect:       d,
		clientID:      o.ClientID,
		secret:        o.ClientSecret,
		lifetime:      o.Lifetime,
		oidcDiscovery: true,
		codes:         map[string]*credential{},
		refreshTokens: map[string]*credential{},
		revoked:       map[int]bool{},
		access:        map[string]time.Time{},
		requests:      map[provider.GrantType]int{},
	}
	if s.clientID == "" {
		s.clientID = "test-client"
	}
	if s.secret == "" {
		s.secret = randomString("client-secret-")
	}
	if s.lifetime <= 0 {
		s.lifetime = time.Hour
	}
	s.material = append(s.material, s.secret)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// NewAurora starts a fake Aurora (an Auth0 tenant): client credentials with one of the
// documented audiences (another, or none, gets 403 access_denied as Auth0 answers),
// form-encoded, client credentials in the body or in HTTP Basic (not both), and OpenID
// Connect discovery at /.well-known/openid-configuration.
func NewAurora(o Options) *Server { return newServer(auroraDialect(), o) }

// NewAura starts a fake Aura: multipart/form-data only, client credentials in the body, a
// code exchanged once (with redirect_uri), and rotating refresh tokens: every refresh
// returns a new one, and presenting a spent one revokes the whole grant. Access tokens are
// JWT-like, with an exp claim.
func NewAura(o Options) *Server { return newServer(auraDialect(), o) }

// NewAstonClub starts a fake Aston Auth: JSON bodies (form bodies too, as the document
// allows; TokenRequests records which), client credentials in the body, responses with
// lower-case "bearer", scope posapi and resource_owner_type. A refresh returns a new
// refresh token unless SetOmitRefreshToken; the presented one keeps working.
func NewAstonClub(o Options) *Server { return newServer(astonClubDialect(), o) }

// NewAurinko starts a fake Aurinko: POST {TokenURL}/{code}, no body, HTTP Basic exactly as
// curl -u sends it (not form-urlencoded), and Aurinko's own JSON answer without expiry.
func NewAurinko(o Options) *Server { return newServer(aurinkoDialect(), o) }

// NewGeneric starts an RFC 6749 server that takes exactly one client authentication (Basic,
// with id and secret form-urlencoded as section 2.3.1 says, or Body; empty: Basic) and one
// body encoding (empty: Form), client credentials and refresh tokens (not rotated), and
// serves OpenID Connect and RFC 8414 discovery.
func NewGeneric(o Options, auth oauthv1alpha1.ClientAuthentication, enc oauthv1alpha1.RequestEncoding) *Server {
	return newServer(genericDialect(auth, enc), o)
}

// Close stops the server, cutting delayed requests short.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// URL is the server's base URL, e.g. http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.srv.URL }

// TokenURL is what spec.tokenURL names for this provider (Aurinko: the base the code is
// appended to).
func (s *Server) TokenURL() string { return s.srv.URL + s.dialect.tokenPath }

// IssuerURL is the issuer to discover the token endpoint from (Aurora, Generic); like
// Aurora's documented issuers it ends in "/".
func (s *Server) IssuerURL() string { return s.srv.URL + "/" }

// ClientID is the registered client id.
func (s *Server) ClientID() string { return s.clientID }

// ClientSecret is the registered client secret.
func (s *Server) ClientSecret() string { return s.secret }

// RedirectURI is the redirect URI that must accompany a code where the provider requires
// one (Aura, Aston Club).
func (s *Server) RedirectURI() string { return defaultRedirectURI }

// IssueRefreshToken mints a refresh token of a new grant, as a user's authorisation would
// (Aura, Aston Club, Generic).
func (s *Server) IssueRefreshToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mintRefreshToken(s.newFamily())
}

// IssueCode mints a one-time authorization code of a new grant, valid for ten minutes
// (Aura, Aston Club, Aurinko).
func (s *Server) IssueCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := randomString("code-")
	s.codes[code] = &credential{family: s.newFamily(), expires: time.Now().Add(codeLifetime)}
	s.material = append(s.material, code)
	return code
}

// SetLifetime sets the expires_in of tokens issued from now on; zero or less: one hour.
func (s *Server) SetLifetime(d time.Duration) {
	if d <= 0 {
		d = time.Hour
	}
	s.mu.Lock()
	s.lifetime = d
	s.mu.Unlock()
}

// SetOmitExpiresIn makes responses carry no expires_in. Opaque access tokens then never
// expire; Aura's JWT-like ones still carry their exp claim.
func (s *Server) SetOmitExpiresIn(v bool) { s.mu.Lock(); s.omitExpiresIn = v; s.mu.Unlock() }

// SetOmitRefreshToken makes refresh responses carry no refresh_token (Aston Club's quirk);
// the presented refresh token then stays valid.
func (s *Server) SetOmitRefreshToken(v bool) { s.mu.Lock(); s.omitRefreshToken = v; s.mu.Unlock() }

// SetOIDCDiscovery turns the OpenID Connect discovery document on (the default) or off,
// so a Generic client's fallback to RFC 8414 can be exercised.
func (s *Server) SetOIDCDiscovery(v bool) { s.mu.Lock(); s.oidcDiscovery = v; s.mu.Unlock() }

// SetDelay delays every token response by d (a request whose client gives up is dropped).
func (s *Server) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// FailNext makes the next n token requests fail with status: 5xx with server_error, 429
// with Retry-After: 1, 401 with invalid_client, 403 with access_denied, others with
// invalid_request. Failed requests are counted, and change no grant: a code or refresh
// token presented to a failing request stays usable.
func (s *Server) FailNext(n int, status int) {
	f := Failure{Status: status, Header: http.Header{"Content-Type": {"application/json"}}}
	switch {
	case status == http.StatusTooManyRequests:
		f.Header.Set("Retry-After", "1")
		f.Body = `{"error":"slow_down","error_description":"too many requests"}`
	case status >= 500:
		f.Body = `{"error":"server_error","error_description":"temporarily unavailable"}`
	case status == http.StatusUnauthorized:
		f.Body = `{"error":"invalid_client"}`
	case status == http.StatusForbidden:
		f.Body = `{"error":"access_denied"}`
	default:
		f.Body = `{"error":"invalid_request"}`
	}
	s.FailNextWith(n, f)
}

// FailNextWith makes the next n token requests get r, as FailNext does.
func (s *Server) FailNextWith(n int, r Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, r)
	}
}

// RevokeGrants makes every refresh token and code issued so far stop working
// (invalid_grant), as a user withdrawing consent would.
func (s *Server) RevokeGrants() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for f := range s.nextFamily {
		s.revoked[f] = true
	}
}

// Requests counts token requests by grant_type, accepted or not. Aurinko's code exchange
// counts as authorization_code.
func (s *Server) Requests(grant provider.GrantType) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[grant]
}

// TotalRequests counts every token request (discovery excluded).
func (s *Server) TotalRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// DiscoveryRequests counts requests for a discovery document.
func (s *Server) DiscoveryRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.discoveries
}

// TokenRequests returns what was recorded of the token requests so far (the latest 1000).
func (s *Server) TokenRequests() []TokenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// Rejections lists why requests were refused as not conforming to the document, never
// with a secret in them. A conforming client causes none: a wrong client secret, a revoked
// grant or an injected failure is not a rejection.
func (s *Server) Rejections() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rejections)
}

// ValidAccessToken reports whether tok was issued here and has not expired.
func (s *Server) ValidAccessToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.access[tok]
	return ok && (exp.IsZero() || time.Now().Before(exp))
}

// SecretMaterial lists every access token, refresh token, code and user session issued
// here, and the client secret: what must never show in logs, events or status.
func (s *Server) SecretMaterial() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.material)
}

// randomString is prefix and 32 random hex digits: unmistakable in a leak scan.
func randomString(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (s *Server) newFamily() int {
	s.nextFamily++
	return s.nextFamily - 1
}

// mintRefreshToken and the other mint methods are called with s.mu held.
func (s *Server) mintRefreshToken(family int) string {
	rt := randomString("rt-")
	s.refreshTokens[rt] = &credential{family: family}
	s.material = append(s.material, rt)
	return rt
}

func (s *Server) mintAccessToken() string {
	exp := time.Now().Add(s.lifetime)
	var at string
	if s.dialect.jwtAccessTokens {
		at = fakeJWT(s.clientID, exp)
	} else {
		at = randomString("at-")
		if s.omitExpiresIn {
			exp = time.Time{}
		}
	}
	s.access[at] = exp
	s.material = append(s.material, at)
	return at
}

// expiresIn is the lifetime in whole seconds, rounded up so a sub-second lifetime still
// says 1.
func (s *Server) expiresIn() int64 {
	return int64((s.lifetime + time.Second - 1) / time.Second)
}

// scrub removes every secret this server knows from text it records.
func (s *Server) scrub(text string) string {
	for _, m := range s.material {
		text = strings.ReplaceAll(text, m, "[redacted]")
	}
	return text
}
