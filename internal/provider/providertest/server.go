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
// servers, one file per provider's document, and their authorization endpoints with a login
// page (authorize.go). They reproduce the documents to the letter and reject (400 with an
// RFC 6749 error, and a recorded reason) any request that departs from them: wrong method
// or content type, a missing or unknown field, client credentials in the wrong place, a
// reused Aura refresh token (which, as RFC 9700 reuse detection does, revokes the whole
// grant), a reused code, a wrong PKCE verifier. They count requests by grant, fail the next
// N requests on demand, inject the faults that real servers and the boxes in front of them
// send (faults.go), and issue short lifetimes on demand. The controller's tests and the
// local demo both use them.
package providertest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	// Lifetime is the expires_in of issued access tokens; zero: the document's (Aston
	// Club's one year), else one hour. A caller's lifetime always applies: the
	// controller's tests set seconds to see refreshes.
	Lifetime time.Duration
	// RedirectURI is the redirect URI registered with codes; default
	// https://app.example.com/oauth/callback.
	RedirectURI string
	// Environment is Aurora's environment, whose audience alone it accepts; default Live.
	Environment oauthv1alpha1.Environment
}

// TokenRequest is what a fake recorded of one token request.
type TokenRequest struct {
	// Grant is the grant_type (authorization_code for Aurinko's code exchange).
	Grant provider.GrantType
	// MediaType is the request's Content-Type without parameters ("" without a body):
	// which of its two encodings an Aston Club client chose, say.
	MediaType string
	// ClientAuth says where the client credentials came: "basic", "body", "both" or "none".
	ClientAuth string
	// Params are the body parameters, client_secret, refresh_token, code and
	// code_verifier replaced by "[redacted]".
	Params map[string]string
	// Rejection is why the request was refused as not following the document, if it was.
	Rejection string
}

// maxLog bounds the requests a long-running demo records.
const maxLog = 1000

// Failure is a canned answer for FailNextWith.
type Failure struct {
	Status int
	Header http.Header
	Body   string
}

// Paths of the discovery documents: OpenID Connect's, and RFC 8414's.
const (
	wellKnownOIDC    = "/.well-known/openid-configuration"
	wellKnownRFC8414 = "/.well-known/oauth-authorization-server"
)

// headerContentType names the header.
const headerContentType = "Content-Type"

// Content types of token requests.
const (
	contentForm      = "application/x-www-form-urlencoded"
	contentMultipart = "multipart/form-data"
	contentJSON      = "application/json"
)

// dialect is one provider's document: where its token endpoint is, what a request must
// look like, and what it answers. One file each.
type dialect interface {
	// tokenPath is the token endpoint's path (Aurinko: the base the code is appended to).
	tokenPath() string
	// servesDiscovery says whether the provider serves a discovery document at path.
	servesDiscovery(path string) bool
	// read reads a token request (its body already read) as the document says it comes,
	// and says what departs from it.
	read(s *Server, r *http.Request, p *params, body []byte) (provider.GrantType, string)
	// authenticate checks the client credentials: a status and an OAuth error when they
	// are wrong.
	authenticate(s *Server, p *params) (int, string, string)
	// answer answers an accepted request; called with s.mu held.
	answer(s *Server, w http.ResponseWriter, r *http.Request, p *params, grant provider.GrantType)
}

// Server is one fake provider. Its methods are safe for concurrent use.
type Server struct {
	srv     *httptest.Server
	dialect dialect

	closed    chan struct{} // closed by Close: delayed answers give up
	closeOnce sync.Once

	mu               sync.Mutex
	oidcDiscovery    bool
	discoveries      int
	log              []TokenRequest
	clientID, secret string
	redirectURI      string
	lifetime         time.Duration
	omitExpiresIn    bool
	omitRefreshToken bool
	delay            time.Duration
	failures         []Failure
	faults           []Fault
	codes            map[string]*credential
	refreshTokens    map[string]*credential
	revoked          map[int]bool
	nextFamily       int
	access           map[string]time.Time
	requests         map[provider.GrantType]int
	total            int
	rejections       []string
	material         []string

	// The authorization endpoint's (authorize.go).
	pending                               map[string]*pendingAuthorization
	authorizeRequests, approvals, denials int
}

// credential is a code or refresh token: single-use where the provider says so, and part
// of a grant family that reuse revokes.
type credential struct {
	family int
	used   bool
	// challenge is the S256 PKCE challenge a code was issued with (RFC 7636), if any.
	challenge string
	// redirectURI is the redirect URI a code was issued for, when the authorization
	// endpoint issued it; "": the registered one.
	redirectURI string
}

// boundRedirectURI is the redirect_uri a code's exchange must present (RFC 6749 section
// 4.1.3).
func (c *credential) boundRedirectURI(registered string) string {
	if c.redirectURI != "" {
		return c.redirectURI
	}
	return registered
}

func newServer(d dialect, o Options, defaultLifetime time.Duration) *Server {
	s := &Server{
		dialect:       d,
		closed:        make(chan struct{}),
		oidcDiscovery: true,
		clientID:      o.ClientID,
		secret:        o.ClientSecret,
		redirectURI:   o.RedirectURI,
		lifetime:      o.Lifetime,
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
	if s.redirectURI == "" {
		s.redirectURI = "https://app.example.com/oauth/callback"
	}
	if s.lifetime == 0 {
		s.lifetime = defaultLifetime
	}
	s.material = append(s.material, s.secret)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server, cutting delayed answers short.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// SetOIDCDiscovery serves the OpenID Connect discovery document (the default) or not, so a
// client's fallback to RFC 8414 metadata (Generic) can be exercised.
func (s *Server) SetOIDCDiscovery(v bool) { s.mu.Lock(); s.oidcDiscovery = v; s.mu.Unlock() }

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

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// TokenURL is what spec.tokenURL names for this provider (Aurinko: the base the code is
// appended to).
func (s *Server) TokenURL() string { return s.srv.URL + s.dialect.tokenPath() }

// IssuerURL is the issuer to discover the token endpoint from; like Aurora's documented
// issuers it ends in "/".
func (s *Server) IssuerURL() string { return s.srv.URL + "/" }

// ClientID is the registered client id.
func (s *Server) ClientID() string { return s.clientID }

// ClientSecret is the registered client secret.
func (s *Server) ClientSecret() string { return s.secret }

// RedirectURI is the redirect URI registered with codes.
func (s *Server) RedirectURI() string { return s.redirectURI }

// IssueRefreshToken mints a refresh token of a new grant, as a user's authorisation would.
func (s *Server) IssueRefreshToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mintRefreshToken(s.newFamily())
}

// IssueCode mints a one-time authorization code of a new grant.
func (s *Server) IssueCode() string { return s.issueCode(randomString("code-"), "") }

// IssueCodeWithVerifier mints a one-time code issued with the S256 PKCE challenge of
// verifier (RFC 7636): its exchange must present that code_verifier.
func (s *Server) IssueCodeWithVerifier(verifier string) string {
	return s.issueCode(randomString("code-"), s256(verifier))
}

// AcceptCode makes code a valid one-time code of a new grant, as a document's example
// code (the golden tests send the documents' literal requests).
func (s *Server) AcceptCode(code string) { s.issueCode(code, "") }

// AcceptRefreshToken makes rt a valid refresh token of a new grant.
func (s *Server) AcceptRefreshToken(rt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshTokens[rt] = &credential{family: s.newFamily()}
	s.material = append(s.material, rt)
}

func (s *Server) issueCode(code, challenge string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = &credential{family: s.newFamily(), challenge: challenge}
	s.material = append(s.material, code)
	return code
}

// s256 is RFC 7636's S256 code challenge of verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// SetLifetime sets the expires_in of tokens issued from now on.
func (s *Server) SetLifetime(d time.Duration) { s.mu.Lock(); s.lifetime = d; s.mu.Unlock() }

// SetOmitExpiresIn makes responses carry no expires_in.
func (s *Server) SetOmitExpiresIn(v bool) { s.mu.Lock(); s.omitExpiresIn = v; s.mu.Unlock() }

// SetOmitRefreshToken makes refresh responses carry no refresh_token (Aston Club's
// document: its default there), or, set false, a new one.
func (s *Server) SetOmitRefreshToken(v bool) { s.mu.Lock(); s.omitRefreshToken = v; s.mu.Unlock() }

// SetDelay delays every token response.
func (s *Server) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// FailNext makes the next n token requests fail with status: 5xx with server_error, 429
// with Retry-After: 1, others with invalid_request.
func (s *Server) FailNext(n int, status int) {
	f := Failure{Status: status, Header: http.Header{}}
	switch {
	case status == http.StatusTooManyRequests:
		f.Header.Set("Retry-After", "1")
		f.Body = `{"error":"slow_down","error_description":"too many requests"}`
	case status >= 500:
		f.Body = `{"error":"server_error","error_description":"temporarily unavailable"}`
	default:
		f.Body = `{"error":"invalid_request"}`
	}
	s.FailNextWith(n, f)
}

// FailNextWith makes the next n token requests get r (with Content-Type application/json
// unless r's header sets another).
func (s *Server) FailNextWith(n int, r Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, r)
	}
}

// RevokeGrants makes every refresh token and code issued so far stop working.
func (s *Server) RevokeGrants() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for f := 0; f < s.nextFamily; f++ {
		s.revoked[f] = true
	}
}

// Requests counts token requests by grant type, accepted or not. Aurinko's code exchange
// counts as authorization_code.
func (s *Server) Requests(grant provider.GrantType) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[grant]
}

// TotalRequests counts every token request.
func (s *Server) TotalRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Rejections lists why requests were refused as not conforming to the document (never
// with a secret in them). A conforming client causes none.
func (s *Server) Rejections() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rejections...)
}

// ValidAccessToken reports whether tok was issued here and has not expired.
func (s *Server) ValidAccessToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.access[tok]
	return ok && (exp.IsZero() || time.Now().Before(exp))
}

// SecretMaterial lists every access token, refresh token and code issued here, and the
// client secret: what must never show in logs, events or status.
func (s *Server) SecretMaterial() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.material...)
}

func randomString(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (s *Server) newFamily() int {
	s.nextFamily++
	return s.nextFamily - 1
}

func (s *Server) mintRefreshToken(family int) string {
	rt := randomString("rt-")
	s.refreshTokens[rt] = &credential{family: family}
	s.material = append(s.material, rt)
	return rt
}

// mintAccessToken issues an access token living lifetime (zero: for ever); called with
// s.mu held.
func (s *Server) mintAccessToken(lifetime time.Duration) string {
	at := randomString("at-")
	s.recordAccessToken(at, lifetime)
	return at
}

func (s *Server) recordAccessToken(at string, lifetime time.Duration) {
	exp := time.Time{}
	if lifetime != 0 {
		exp = time.Now().Add(lifetime)
	}
	s.access[at] = exp
	s.material = append(s.material, at)
}

// oauthError writes an RFC 6749 section 5.2 error.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set(headerContentType, contentJSON)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// reject refuses a request that departs from the document and records why.
func (s *Server) reject(w http.ResponseWriter, reason string) {
	s.mu.Lock()
	s.rejections = append(s.rejections, reason)
	s.mu.Unlock()
	oauthError(w, http.StatusBadRequest, "invalid_request", reason)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set(headerContentType, contentJSON)
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// serve routes discovery and token requests.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path, "//") {
		s.reject(w, "a path with '//' (a trailing slash of the issuer was not dropped)")
		return
	}
	switch path := r.URL.Path; {
	case s.dialect.servesDiscovery(path):
		s.discovery(w, r)
		return
	case path == s.dialect.tokenPath(), strings.HasPrefix(path, s.dialect.tokenPath()+"/"):
		s.token(w, r)
		return
	case documentOf(s.dialect).serves(path):
		s.authorize(w, r, documentOf(s.dialect))
		return
	}
	s.mu.Lock()
	reason := s.scrub("a request to " + r.Method + " " + r.URL.EscapedPath() + ", which this provider does not serve")
	s.rejections = append(s.rejections, reason)
	s.mu.Unlock()
	oauthError(w, http.StatusNotFound, "invalid_request", reason)
}

// discovery serves an OIDC or RFC 8414 document naming the issuer, the token endpoint and
// the authorization endpoint.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.discoveries++
	hidden := r.URL.Path == wellKnownOIDC && !s.oidcDiscovery
	s.mu.Unlock()
	switch {
	case r.Method != http.MethodGet:
		s.reject(w, "discovery with method "+r.Method+" instead of GET")
	case hidden:
		// Not served; asking for it first is what clients do, so no rejection.
		http.NotFound(w, r)
	default:
		doc := map[string]string{"issuer": s.IssuerURL(), "token_endpoint": s.TokenURL()}
		if u := s.AuthorizeURL(); u != "" {
			doc["authorization_endpoint"] = u
		}
		writeJSON(w, doc)
	}
}

// scrub removes every secret this server knows from text it records; called with s.mu
// held.
func (s *Server) scrub(text string) string {
	for _, m := range s.material {
		text = strings.ReplaceAll(text, m, "[redacted]")
	}
	return text
}

// params are a token request's body fields and client credentials as received.
type params struct {
	mediaType            string
	fields               map[string]string
	basicID, basicSecret string
	hasBasic             bool
}

// clientAuth says where the client credentials came.
func (p *params) clientAuth() string {
	_, inBody := p.fields["client_secret"]
	switch {
	case p.hasBasic && inBody:
		return "both"
	case p.hasBasic:
		return "basic"
	case inBody:
		return "body"
	}
	return "none"
}

// maxBody bounds a request body read.
const maxBody = 1 << 20

// token handles one token request.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	p := &params{fields: map[string]string{}}
	if user, pass, ok := r.BasicAuth(); ok {
		p.hasBasic, p.basicID, p.basicSecret = true, user, pass
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	var grant provider.GrantType
	var reason string
	switch {
	case r.Method != http.MethodPost:
		reason = "method " + r.Method + " instead of POST"
	case r.URL.RawQuery != "":
		reason = "parameters in the URL query; they belong in the body"
	case err != nil || len(body) > maxBody:
		reason = "unreadable or oversized body"
	default:
		grant, reason = s.dialect.read(s, r, p, body)
	}
	// The delay comes once the body is read: only then does net/http watch the
	// connection, and cancel the request's context when the client gives up.
	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		}
	}
	s.count(grant)
	s.record(p, grant, reason)
	if f, ok := s.nextFailure(); ok {
		for k, vs := range f.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		if w.Header().Get(headerContentType) == "" {
			w.Header().Set(headerContentType, contentJSON)
		}
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return
	}
	if reason != "" {
		s.reject(w, reason)
		return
	}
	if status, code, desc := s.dialect.authenticate(s, p); status != 0 {
		oauthError(w, status, code, desc)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dialect.answer(s, w, r, p, grant)
}

// record logs a token request, its secrets redacted.
func (s *Server) record(p *params, grant provider.GrantType, rejection string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := TokenRequest{Grant: grant, MediaType: p.mediaType, ClientAuth: p.clientAuth(), Params: map[string]string{}, Rejection: s.scrub(rejection)}
	for k, v := range p.fields {
		if k == "client_secret" || k == "refresh_token" || k == "code" || k == "code_verifier" {
			v = "[redacted]"
		}
		rec.Params[k] = s.scrub(v)
	}
	if len(s.log) >= maxLog {
		s.log = slices.Delete(s.log, 0, 1)
	}
	s.log = append(s.log, rec)
}

func (s *Server) count(grant provider.GrantType) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total++
	s.requests[grant]++
}

// nextFailure takes the next canned failure: FailNextWith's first, then the faults that
// answer in the token endpoint's stead.
func (s *Server) nextFailure() (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		return f, true
	}
	if len(s.faults) > 0 {
		if f, ok := cannedFaults[s.faults[0]]; ok {
			s.faults = s.faults[1:]
			return f, true
		}
	}
	return Failure{}, false
}

// readFields reads a form, multipart or JSON body of one of the accepted media types into
// p, and says what departs from the document.
func readFields(r *http.Request, p *params, body []byte, accepted ...string) string {
	mediaType, mparams, err := mime.ParseMediaType(r.Header.Get(headerContentType))
	if err != nil {
		return "no valid Content-Type"
	}
	p.mediaType = mediaType
	if !slices.Contains(accepted, mediaType) {
		return fmt.Sprintf("Content-Type %s instead of %s", mediaType, accepted[0])
	}
	values, reason := parseBody(mediaType, mparams, body)
	if reason != "" {
		return reason
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if len(values[k]) > 1 {
			return "field " + k + " sent more than once (RFC 6749 section 3.2)"
		}
		p.fields[k] = values[k][0]
	}
	return ""
}

// parseBody reads a form, multipart or JSON body into its fields, keeping a repeated field
// so that it can be refused.
func parseBody(mediaType string, mparams map[string]string, body []byte) (url.Values, string) {
	switch mediaType {
	case contentForm:
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, "unreadable form body"
		}
		return v, ""
	case contentMultipart:
		if mparams["boundary"] == "" {
			return nil, "multipart body without boundary"
		}
		v := url.Values{}
		mr := multipart.NewReader(bytes.NewReader(body), mparams["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return v, ""
			}
			if err != nil {
				return nil, "unreadable multipart body"
			}
			if part.FileName() != "" || part.FormName() == "" {
				return nil, "a multipart part that is not a plain form field"
			}
			value, err := io.ReadAll(part)
			if err != nil {
				return nil, "unreadable multipart body"
			}
			v.Add(part.FormName(), string(value))
		}
	case contentJSON:
		return parseJSONObject(body)
	}
	return nil, "unsupported Content-Type"
}

// parseJSONObject reads a JSON object of strings token by token, so that a repeated key
// (which json.Unmarshal silently resolves to the last) is seen.
func parseJSONObject(body []byte) (url.Values, string) {
	const bad = "unreadable JSON body: not an object of strings"
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, bad
	}
	v := url.Values{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, bad
		}
		val, err := dec.Token()
		str, ok := val.(string)
		if err != nil || !ok {
			return nil, fmt.Sprintf("JSON field %v is not a string", k)
		}
		v.Add(k.(string), str)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, bad
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, "data after the JSON object"
	}
	return v, ""
}

// checkGrant checks the grant type is one the document takes, and the grant's fields.
func checkGrant(f map[string]string, grant provider.GrantType, allowed ...provider.GrantType) string {
	if !slices.Contains(allowed, grant) {
		return fmt.Sprintf("grant_type %q is not accepted", grant)
	}
	switch grant {
	case provider.GrantAuthorizationCode:
		if f["code"] == "" {
			return "authorization_code without code"
		}
		if _, ok := f["redirect_url"]; ok {
			return "redirect_url instead of redirect_uri"
		}
		if f["redirect_uri"] == "" {
			return "authorization_code without redirect_uri"
		}
	case provider.GrantRefreshToken:
		if f["refresh_token"] == "" {
			return "refresh_token grant without refresh_token"
		}
	}
	return ""
}

// checkKnownFields refuses a field the document does not name for the grant: the
// client's and the grant's own (RFC 6749, and RFC 7636's code_verifier with a code).
func checkKnownFields(f map[string]string, grant provider.GrantType, extra ...string) string {
	known := append([]string{"grant_type", "client_id", "client_secret"}, extra...)
	switch grant {
	case provider.GrantAuthorizationCode:
		known = append(known, "code", "redirect_uri", "code_verifier")
	case provider.GrantRefreshToken:
		known = append(known, "refresh_token")
	}
	for _, k := range slices.Sorted(maps.Keys(f)) {
		if !slices.Contains(known, k) {
			return "unexpected field " + k + " in a " + string(grant) + " request"
		}
	}
	return ""
}

// checkClientInBody checks that the client credentials came in the body only, as the Aura
// and Aston Club documents put them.
func checkClientInBody(p *params) string {
	if p.hasBasic {
		return "client credentials in HTTP Basic; the document puts them in the body"
	}
	if p.fields["client_id"] == "" || p.fields["client_secret"] == "" {
		return "client_id or client_secret missing from the body"
	}
	return ""
}

// authenticateBody checks client credentials sent in the body.
func (s *Server) authenticateBody(p *params) (int, string, string) {
	return s.checkClient(p.fields["client_id"], p.fields["client_secret"])
}

// authenticateFormBasic checks client credentials in the body, or in HTTP Basic with id
// and secret form-urlencoded first (RFC 6749 section 2.3.1).
func (s *Server) authenticateFormBasic(p *params) (int, string, string) {
	if !p.hasBasic {
		return s.authenticateBody(p)
	}
	id, err1 := url.QueryUnescape(p.basicID)
	secret, err2 := url.QueryUnescape(p.basicSecret)
	if err1 != nil || err2 != nil {
		return http.StatusUnauthorized, "invalid_client", "client credentials are not form-urlencoded"
	}
	return s.checkClient(id, secret)
}

// checkClient answers 401 invalid_client to wrong client credentials.
func (s *Server) checkClient(id, secret string) (int, string, string) {
	if id != s.clientID || secret != s.secret {
		return http.StatusUnauthorized, "invalid_client", "client authentication failed"
	}
	return 0, "", ""
}

// redeem checks and spends the code or refresh token of an accepted request, writing the
// RFC 6749 error when it fails; rotate makes a refresh token single-use. It returns the
// grant family (-1 for client credentials); called with s.mu held.
func (s *Server) redeem(w http.ResponseWriter, p *params, grant provider.GrantType, rotate bool) (int, bool) {
	switch grant {
	case provider.GrantAuthorizationCode:
		c, ok := s.codes[p.fields["code"]]
		switch {
		case !ok || s.revoked[c.family]:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "authorization code is invalid")
			return 0, false
		case c.used:
			// RFC 6749 section 4.1.2: a code used twice revokes what it issued.
			s.revoked[c.family] = true
			oauthError(w, http.StatusBadRequest, "invalid_grant", "authorization code was already used")
			return 0, false
		case p.fields["redirect_uri"] != c.boundRedirectURI(s.redirectURI):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match")
			return 0, false
		case c.challenge != "" && s256(p.fields["code_verifier"]) != c.challenge:
			// RFC 7636 section 4.6.
			oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code challenge")
			return 0, false
		}
		c.used = true
		return c.family, true
	case provider.GrantRefreshToken:
		c, ok := s.refreshTokens[p.fields["refresh_token"]]
		switch {
		case !ok || s.revoked[c.family]:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "refresh token is invalid")
			return 0, false
		case c.used:
			// RFC 9700 reuse detection: a rotated refresh token presented again revokes the
			// whole grant, the newest refresh token too.
			s.revoked[c.family] = true
			oauthError(w, http.StatusBadRequest, "invalid_grant", "refresh token was already used")
			return 0, false
		}
		if rotate {
			c.used = true
		}
		return c.family, true
	}
	return -1, true
}

// tokenAnswer is an RFC 6749 section 5.1 answer being built.
type tokenAnswer map[string]any

// newTokenAnswer mints an access token and starts its answer; called with s.mu held.
func (s *Server) newTokenAnswer(tokenType string) tokenAnswer {
	lifetime := s.lifetime
	if s.omitExpiresIn {
		lifetime = 0
	}
	a := tokenAnswer{"access_token": s.mintAccessToken(lifetime), "token_type": tokenType}
	if !s.omitExpiresIn {
		a["expires_in"] = int(s.lifetime.Seconds())
	}
	return a
}

// writeToken writes a token answer, shaped by the next fault if one is queued (faults.go);
// called with s.mu held.
func (s *Server) writeToken(w http.ResponseWriter, a tokenAnswer, p *params, grant provider.GrantType) {
	contentType := contentJSON
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		contentType = s.shape(f, a, p, grant)
	}
	w.Header().Set(headerContentType, contentType)
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any(a))
}
