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
// or content type, a missing field, client credentials in the wrong place, a reused Aura
// refresh token (which, as RFC 9700 reuse detection does, revokes the whole grant), a
// reused code. They count requests by grant, fail the next N requests on demand, and issue
// short lifetimes on demand. The controller's tests and the local demo both use them.
package providertest

import (
	"bytes"
	"crypto/rand"
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
	// Lifetime is the expires_in of issued access tokens; zero: one hour.
	Lifetime time.Duration
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
	// Params are the body parameters, client_secret, refresh_token and code replaced by
	// "[redacted]".
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

type dialect int

const (
	dialectAurora dialect = iota
	dialectAura
	dialectAstonClub
	dialectAurinko
	dialectGeneric
)

// Paths of the token endpoints.
const (
	auroraPath    = "/oauth/token"
	auraPath      = "/oauth/token"
	astonClubPath = "/v1/token"
	aurinkoPath   = "/v1/auth/token"
	genericPath   = "/token"
)

// Content types of token requests.
const (
	contentForm      = "application/x-www-form-urlencoded"
	contentMultipart = "multipart/form-data"
	contentJSON      = "application/json"
)

// Aurora's documented audiences.
var auroraAudiences = []string{"https://api.client.integration.aurora.co.uk", "https://dev.client.integration.aurora.co.uk"}

// Server is one fake provider. Its methods are safe for concurrent use.
type Server struct {
	srv     *httptest.Server
	dialect dialect
	auth    oauthv1alpha1.ClientAuthentication
	enc     oauthv1alpha1.RequestEncoding

	closed    chan struct{} // closed by Close: delayed answers give up
	closeOnce sync.Once

	mu               sync.Mutex
	oidcDiscovery    bool
	discoveries      int
	log              []TokenRequest
	clientID, secret string
	lifetime         time.Duration
	omitExpiresIn    bool
	omitRefreshToken bool
	delay            time.Duration
	failures         []Failure
	codes            map[string]*credential
	refreshTokens    map[string]*credential
	revoked          map[int]bool
	nextFamily       int
	access           map[string]time.Time
	requests         map[provider.GrantType]int
	total            int
	rejections       []string
	material         []string
}

// credential is a code or refresh token: single-use where the provider says so, and part
// of a grant family that reuse revokes.
type credential struct {
	family int
	used   bool
}

func newServer(d dialect, o Options) *Server {
	s := &Server{
		dialect:       d,
		closed:        make(chan struct{}),
		oidcDiscovery: true,
		clientID:      o.ClientID,
		secret:        o.ClientSecret,
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
	if s.lifetime == 0 {
		s.lifetime = time.Hour
	}
	s.material = append(s.material, s.secret)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// NewAurora starts a fake Aurora: client credentials with audience, form-encoded, client
// credentials in the body or in HTTP Basic (not both), and OIDC discovery.
func NewAurora(o Options) *Server { return newServer(dialectAurora, o) }

// NewAura starts a fake Aura: multipart/form-data, a code once, rotating refresh tokens.
func NewAura(o Options) *Server { return newServer(dialectAura, o) }

// NewAstonClub starts a fake Aston Auth: JSON (or form) bodies, lower-case token_type.
func NewAstonClub(o Options) *Server { return newServer(dialectAstonClub, o) }

// NewAurinko starts a fake Aurinko: POST {base}/{code} with HTTP Basic as curl -u sends it.
func NewAurinko(o Options) *Server { return newServer(dialectAurinko, o) }

// NewGeneric starts an RFC 6749 server that takes exactly one client authentication and
// one body encoding, and serves OIDC and RFC 8414 discovery.
func NewGeneric(o Options, auth oauthv1alpha1.ClientAuthentication, enc oauthv1alpha1.RequestEncoding) *Server {
	s := newServer(dialectGeneric, o)
	s.auth, s.enc = auth, enc
	if s.auth == "" {
		s.auth = oauthv1alpha1.ClientAuthenticationBasic
	}
	if s.enc == "" {
		s.enc = oauthv1alpha1.RequestEncodingForm
	}
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
func (s *Server) TokenURL() string {
	switch s.dialect {
	case dialectAurora:
		return s.srv.URL + auroraPath
	case dialectAura:
		return s.srv.URL + auraPath
	case dialectAstonClub:
		return s.srv.URL + astonClubPath
	case dialectAurinko:
		return s.srv.URL + aurinkoPath
	}
	return s.srv.URL + genericPath
}

// IssuerURL is the issuer to discover the token endpoint from; like Aurora's documented
// issuers it ends in "/".
func (s *Server) IssuerURL() string { return s.srv.URL + "/" }

// ClientID is the registered client id.
func (s *Server) ClientID() string { return s.clientID }

// ClientSecret is the registered client secret.
func (s *Server) ClientSecret() string { return s.secret }

// RedirectURI is the redirect URI registered with codes.
func (s *Server) RedirectURI() string { return "https://app.example.com/oauth/callback" }

// IssueRefreshToken mints a refresh token of a new grant, as a user's authorisation would.
func (s *Server) IssueRefreshToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mintRefreshToken(s.newFamily())
}

// IssueCode mints a one-time authorization code of a new grant.
func (s *Server) IssueCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := randomString("code-")
	s.codes[code] = &credential{family: s.newFamily()}
	s.material = append(s.material, code)
	return code
}

// SetLifetime sets the expires_in of tokens issued from now on.
func (s *Server) SetLifetime(d time.Duration) { s.mu.Lock(); s.lifetime = d; s.mu.Unlock() }

// SetOmitExpiresIn makes responses carry no expires_in.
func (s *Server) SetOmitExpiresIn(v bool) { s.mu.Lock(); s.omitExpiresIn = v; s.mu.Unlock() }

// SetOmitRefreshToken makes refresh responses carry no refresh_token (Aston Club's quirk).
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

// FailNextWith makes the next n token requests get r.
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

func (s *Server) mintAccessToken() string {
	at := randomString("at-")
	exp := time.Now().Add(s.lifetime)
	if s.omitExpiresIn {
		exp = time.Time{}
	}
	s.access[at] = exp
	s.material = append(s.material, at)
	return at
}

// oauthError writes an RFC 6749 section 5.2 error.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", contentJSON)
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
	w.Header().Set("Content-Type", contentJSON)
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// serve routes discovery and token requests.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path, "//") {
		s.reject(w, "a path with '//' (a trailing slash of the issuer was not dropped)")
		return
	}
	switch {
	case r.URL.Path == "/.well-known/openid-configuration" && (s.dialect == dialectAurora || s.dialect == dialectGeneric),
		r.URL.Path == "/.well-known/oauth-authorization-server" && s.dialect == dialectGeneric:
		s.mu.Lock()
		s.discoveries++
		hidden := r.URL.Path == "/.well-known/openid-configuration" && !s.oidcDiscovery
		s.mu.Unlock()
		switch {
		case r.Method != http.MethodGet:
			s.reject(w, "discovery with method "+r.Method+" instead of GET")
		case hidden:
			// Not served; asking for it first is what clients do, so no rejection.
			http.NotFound(w, r)
		default:
			writeJSON(w, map[string]string{"issuer": s.IssuerURL(), "token_endpoint": s.TokenURL()})
		}
		return
	case s.dialect == dialectAurinko && strings.HasPrefix(r.URL.Path, aurinkoPath+"/"):
		s.token(w, r)
		return
	case s.dialect != dialectAurinko && r.URL.Path == strings.TrimPrefix(s.TokenURL(), s.srv.URL):
		s.token(w, r)
		return
	}
	s.mu.Lock()
	reason := s.scrub("a request to " + r.Method + " " + r.URL.EscapedPath() + ", which this provider does not serve")
	s.rejections = append(s.rejections, reason)
	s.mu.Unlock()
	oauthError(w, http.StatusNotFound, "invalid_request", reason)
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

// token handles one token request.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	p, grant, reason := s.parse(r)
	if reason == "" {
		reason = s.checkBasicEncoding(p)
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
		w.Header().Set("Content-Type", contentJSON)
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return
	}
	if reason != "" {
		s.reject(w, reason)
		return
	}
	if status, code, desc := s.authenticate(p); status != 0 {
		oauthError(w, status, code, desc)
		return
	}
	switch s.dialect {
	case dialectAurora:
		s.aurora(w, p)
	case dialectAurinko:
		s.aurinko(w, r)
	default:
		s.grant(w, p, grant)
	}
}

// record logs a token request, its secrets redacted.
func (s *Server) record(p *params, grant provider.GrantType, rejection string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := TokenRequest{Grant: grant, MediaType: p.mediaType, ClientAuth: p.clientAuth(), Params: map[string]string{}, Rejection: s.scrub(rejection)}
	for k, v := range p.fields {
		if k == "client_secret" || k == "refresh_token" || k == "code" {
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

func (s *Server) nextFailure() (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) == 0 {
		return Failure{}, false
	}
	f := s.failures[0]
	s.failures = s.failures[1:]
	return f, true
}

// parse reads the request as the dialect's document says it must come, and says what
// departs from it. It reads the whole body.
func (s *Server) parse(r *http.Request) (*params, provider.GrantType, string) {
	p := &params{fields: map[string]string{}}
	if user, pass, ok := r.BasicAuth(); ok {
		p.hasBasic, p.basicID, p.basicSecret = true, user, pass
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	switch {
	case r.Method != http.MethodPost:
		return p, "", "method " + r.Method + " instead of POST"
	case r.URL.RawQuery != "":
		return p, "", "parameters in the URL query; they belong in the body"
	case err != nil || len(body) > maxBody:
		return p, "", "unreadable or oversized body"
	}
	if s.dialect == dialectAurinko {
		if len(body) > 0 {
			return p, provider.GrantAuthorizationCode, "a request body; the document sends none (curl -u ... -X POST)"
		}
		return p, provider.GrantAuthorizationCode, s.parseAurinko(r, p)
	}
	mediaType, mparams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return p, "", "no valid Content-Type"
	}
	p.mediaType = mediaType
	want := s.contentType()
	// Aston Club's document also takes a form body.
	astonForm := s.dialect == dialectAstonClub && mediaType == contentForm
	if mediaType != want && !astonForm {
		return p, "", fmt.Sprintf("Content-Type %s instead of %s", mediaType, want)
	}
	values, reason := parseBody(mediaType, mparams, body)
	if reason != "" {
		return p, "", reason
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if len(values[k]) > 1 {
			return p, "", "field " + k + " sent more than once (RFC 6749 section 3.2)"
		}
		p.fields[k] = values[k][0]
	}
	grant := provider.GrantType(p.fields["grant_type"])
	return p, grant, s.checkFields(p, grant)
}

// maxBody bounds a request body read.
const maxBody = 1 << 20

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

func (s *Server) contentType() string {
	switch s.dialect {
	case dialectAura:
		return contentMultipart
	case dialectAstonClub:
		return contentJSON
	case dialectGeneric:
		switch s.enc {
		case oauthv1alpha1.RequestEncodingJSON:
			return contentJSON
		case oauthv1alpha1.RequestEncodingMultipart:
			return contentMultipart
		}
	}
	return contentForm
}

// checkFields checks the grant's fields and where the client credentials are.
func (s *Server) checkFields(p *params, grant provider.GrantType) string {
	if reason := s.checkGrant(p.fields, grant); reason != "" {
		return reason
	}
	if reason := s.checkKnownFields(p.fields, grant); reason != "" {
		return reason
	}
	return s.checkClientPlacement(p)
}

// checkKnownFields refuses a field the document does not name (Generic takes any: its
// extraParameters).
func (s *Server) checkKnownFields(f map[string]string, grant provider.GrantType) string {
	known := []string{"grant_type", "client_id", "client_secret"}
	switch {
	case s.dialect == dialectGeneric:
		return ""
	case s.dialect == dialectAurora:
		known = append(known, "audience", "scope")
	case grant == provider.GrantAuthorizationCode:
		known = append(known, "code", "redirect_uri")
	case grant == provider.GrantRefreshToken:
		known = append(known, "refresh_token")
	}
	for _, k := range slices.Sorted(maps.Keys(f)) {
		if !slices.Contains(known, k) {
			return "unexpected field " + k + " in a " + string(grant) + " request"
		}
	}
	return ""
}

// checkBasicEncoding tells HTTP Basic credentials encoded the wrong way from wrong ones:
// Generic's RFC 6749 section 2.3.1 wants id and secret form-urlencoded first, Aurinko's
// curl -u sends them as they are.
func (s *Server) checkBasicEncoding(p *params) string {
	if !p.hasBasic {
		return ""
	}
	raw := p.basicID + ":" + p.basicSecret
	id, err1 := url.QueryUnescape(p.basicID)
	secret, err2 := url.QueryUnescape(p.basicSecret)
	formOK := err1 == nil && err2 == nil && id == s.clientID && secret == s.secret
	rawOK := raw == s.clientID+":"+s.secret
	switch {
	case s.dialect == dialectGeneric && s.auth == oauthv1alpha1.ClientAuthenticationBasic && rawOK && !formOK:
		return "HTTP Basic credentials not form-urlencoded first (RFC 6749 section 2.3.1)"
	case s.dialect == dialectAurinko && formOK && !rawOK:
		return "HTTP Basic credentials form-urlencoded; curl -u sends them as they are"
	}
	return ""
}

// checkGrant checks the grant type and its fields.
func (s *Server) checkGrant(f map[string]string, grant provider.GrantType) string {
	var allowed []provider.GrantType
	switch s.dialect {
	case dialectAurora:
		allowed = []provider.GrantType{provider.GrantClientCredentials}
	case dialectAura, dialectAstonClub:
		allowed = []provider.GrantType{provider.GrantAuthorizationCode, provider.GrantRefreshToken}
	case dialectGeneric:
		allowed = []provider.GrantType{provider.GrantClientCredentials, provider.GrantRefreshToken}
	}
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
	if s.dialect == dialectAurora && f["audience"] == "" {
		return "no audience"
	}
	return ""
}

// checkClientPlacement checks that the client credentials are where the document puts them.
func (s *Server) checkClientPlacement(p *params) string {
	f := p.fields
	inBody := f["client_secret"] != "" || f["client_id"] != ""
	completeBody := f["client_id"] != "" && f["client_secret"] != ""
	switch {
	case s.dialect == dialectAura || s.dialect == dialectAstonClub:
		if p.hasBasic {
			return "client credentials in HTTP Basic; the document puts them in the body"
		}
		if !completeBody {
			return "client_id or client_secret missing from the body"
		}
	case s.dialect == dialectAurora:
		if p.hasBasic && inBody {
			return "client credentials both in HTTP Basic and in the body"
		}
		if !p.hasBasic && !completeBody {
			return "client_id or client_secret missing"
		}
	case s.auth == oauthv1alpha1.ClientAuthenticationBasic:
		if !p.hasBasic {
			return "no HTTP Basic client authentication"
		}
		if f["client_secret"] != "" {
			return "client_secret in the body as well as HTTP Basic"
		}
	default:
		if p.hasBasic {
			return "HTTP Basic client authentication; this server takes client credentials in the body"
		}
		if !completeBody {
			return "client_id or client_secret missing from the body"
		}
	}
	return ""
}

// parseAurinko checks POST {base}/{code} with HTTP Basic and no form.
func (s *Server) parseAurinko(r *http.Request, p *params) string {
	if !p.hasBasic {
		return "no HTTP Basic client authentication"
	}
	code := strings.TrimPrefix(r.URL.EscapedPath(), aurinkoPath+"/")
	if code == "" || strings.Contains(code, "/") {
		return "no code in the path"
	}
	return ""
}

// authenticate checks the client credentials: 401 invalid_client when they are wrong.
func (s *Server) authenticate(p *params) (int, string, string) {
	id, secret := p.fields["client_id"], p.fields["client_secret"]
	if p.hasBasic {
		id, secret = p.basicID, p.basicSecret
		if s.dialect == dialectGeneric || s.dialect == dialectAurora {
			// RFC 6749 section 2.3.1: both are form-urlencoded before Basic.
			var err1, err2 error
			id, err1 = url.QueryUnescape(id)
			secret, err2 = url.QueryUnescape(secret)
			if err1 != nil || err2 != nil {
				return http.StatusUnauthorized, "invalid_client", "client credentials are not form-urlencoded"
			}
		}
	}
	if id != s.clientID || secret != s.secret {
		return http.StatusUnauthorized, "invalid_client", "client authentication failed"
	}
	return 0, "", ""
}

// aurora answers a client credentials request.
func (s *Server) aurora(w http.ResponseWriter, p *params) {
	ok := false
	for _, a := range auroraAudiences {
		ok = ok || p.fields["audience"] == a
	}
	if !ok {
		oauthError(w, http.StatusForbidden, "access_denied", "Service not enabled within domain: "+p.fields["audience"])
		return
	}
	s.mu.Lock()
	at := s.mintAccessToken()
	resp := map[string]any{"access_token": at, "token_type": "Bearer"}
	if !s.omitExpiresIn {
		resp["expires_in"] = int(s.lifetime.Seconds())
	}
	s.mu.Unlock()
	writeJSON(w, resp)
}

// grant answers Aura, Aston Club and Generic requests.
func (s *Server) grant(w http.ResponseWriter, p *params, grant provider.GrantType) {
	s.mu.Lock()
	defer s.mu.Unlock()
	family := -1
	switch grant {
	case provider.GrantAuthorizationCode:
		c, ok := s.codes[p.fields["code"]]
		switch {
		case !ok || s.revoked[c.family]:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "authorization code is invalid")
			return
		case c.used:
			// RFC 6749 section 4.1.2: a code used twice revokes what it issued.
			s.revoked[c.family] = true
			oauthError(w, http.StatusBadRequest, "invalid_grant", "authorization code was already used")
			return
		case p.fields["redirect_uri"] != s.RedirectURI():
			oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match")
			return
		}
		c.used = true
		family = c.family
	case provider.GrantRefreshToken:
		c, ok := s.refreshTokens[p.fields["refresh_token"]]
		switch {
		case !ok || s.revoked[c.family]:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "refresh token is invalid")
			return
		case c.used:
			// RFC 9700 reuse detection: a rotated refresh token presented again revokes the
			// whole grant, the newest refresh token too.
			s.revoked[c.family] = true
			oauthError(w, http.StatusBadRequest, "invalid_grant", "refresh token was already used")
			return
		}
		if s.dialect == dialectAura {
			c.used = true // Aura rotates: the old refresh token stops working
		}
		family = c.family
	}
	at := s.mintAccessToken()
	resp := map[string]any{"access_token": at, "token_type": "Bearer"}
	if s.dialect == dialectAstonClub {
		resp["token_type"] = "bearer"
		resp["scope"] = "posapi"
		resp["resource_owner_type"] = "merchant"
	}
	if scope := p.fields["scope"]; scope != "" {
		resp["scope"] = scope
	}
	if !s.omitExpiresIn {
		resp["expires_in"] = int(s.lifetime.Seconds())
	}
	switch {
	case family < 0: // client credentials: no refresh token
	case grant == provider.GrantRefreshToken && s.omitRefreshToken:
	case grant == provider.GrantRefreshToken && s.dialect == dialectGeneric:
	default:
		resp["refresh_token"] = s.mintRefreshToken(family)
	}
	writeJSON(w, resp)
}

// aurinko answers a code exchange with Aurinko's own JSON.
func (s *Server) aurinko(w http.ResponseWriter, r *http.Request) {
	code, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), aurinkoPath+"/"))
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[code]
	if err != nil || !ok || c.used || s.revoked[c.family] {
		if ok {
			s.revoked[c.family] = true
		}
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code is invalid or was already used")
		return
	}
	c.used = true
	at := randomString("at-")
	s.access[at] = time.Time{}
	session := randomString("session-")
	s.material = append(s.material, at, session)
	writeJSON(w, map[string]any{"accountId": 123, "accessToken": at, "userId": "user-id-xyz", "userSession": session})
}
