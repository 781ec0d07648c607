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
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
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

	mu               sync.Mutex
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

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

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
		writeJSON(w, map[string]string{"issuer": s.IssuerURL(), "token_endpoint": s.TokenURL()})
		return
	case s.dialect == dialectAurinko && strings.HasPrefix(r.URL.Path, aurinkoPath+"/"):
		s.token(w, r)
		return
	case s.dialect != dialectAurinko && r.URL.Path == strings.TrimPrefix(s.TokenURL(), s.srv.URL):
		s.token(w, r)
		return
	}
	http.NotFound(w, r)
}

// params are a token request's body fields and client credentials as received.
type params struct {
	fields               map[string]string
	basicID, basicSecret string
	hasBasic             bool
}

// token handles one token request.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if r.Method != http.MethodPost {
		s.count("")
		s.reject(w, "method "+r.Method+" instead of POST")
		return
	}
	p, grant, reason := s.parse(r)
	s.count(grant)
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
// departs from it.
func (s *Server) parse(r *http.Request) (*params, provider.GrantType, string) {
	p := &params{fields: map[string]string{}}
	if user, pass, ok := r.BasicAuth(); ok {
		p.hasBasic, p.basicID, p.basicSecret = true, user, pass
	}
	if s.dialect == dialectAurinko {
		return p, provider.GrantAuthorizationCode, s.parseAurinko(r, p)
	}
	mediaType, mparams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return p, "", "no valid Content-Type"
	}
	want := s.contentType()
	// Aston Club's document also takes a form body.
	astonForm := s.dialect == dialectAstonClub && mediaType == contentForm
	if mediaType != want && !astonForm {
		return p, "", fmt.Sprintf("Content-Type %s instead of %s", mediaType, want)
	}
	switch mediaType {
	case contentForm:
		if err := r.ParseForm(); err != nil {
			return p, "", "unreadable form body"
		}
		for k := range r.PostForm {
			p.fields[k] = r.PostForm.Get(k)
		}
	case contentMultipart:
		if mparams["boundary"] == "" {
			return p, "", "multipart body without boundary"
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return p, "", "unreadable multipart body"
		}
		for k, vs := range r.MultipartForm.Value {
			if len(vs) > 0 {
				p.fields[k] = vs[0]
			}
		}
	case contentJSON:
		raw := map[string]any{}
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
			return p, "", "unreadable JSON body"
		}
		for k, v := range raw {
			str, ok := v.(string)
			if !ok {
				return p, "", "JSON field " + k + " is not a string"
			}
			p.fields[k] = str
		}
	}
	grant := provider.GrantType(p.fields["grant_type"])
	return p, grant, s.checkFields(p, grant)
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
	return s.checkClientPlacement(p)
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
