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
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// maxBody bounds a request body read.
const maxBody = 1 << 20

// incoming is a token request as received.
type incoming struct {
	grant     provider.GrantType
	mediaType string
	fields    map[string]string
	hasBasic  bool
	basic     string // HTTP Basic credentials, base64-decoded: "id:secret"
	code      string // Aurinko: the code from the path
}

// refusal is an error answer. A violation departs from the document and is recorded.
type refusal struct {
	status    int
	code      string
	desc      string
	violation bool
	header    http.Header
}

func violation(code, format string, args ...any) *refusal {
	return &refusal{status: http.StatusBadRequest, code: code, desc: fmt.Sprintf(format, args...), violation: true}
}

func invalidGrant(desc string) *refusal {
	return &refusal{status: http.StatusBadRequest, code: "invalid_grant", desc: desc}
}

// serve routes by exact path, with no http.ServeMux: a mux would answer "//x" with a
// redirect to "/x", hiding the client bug the fake is here to catch.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	d := s.dialect
	path := r.URL.EscapedPath()
	switch {
	case strings.Contains(path, "//"):
		s.refuseUnknown(w, `a path with "//" (was the issuer's trailing slash kept?)`)
	case slices.Contains(d.discovery, path):
		s.serveDiscovery(w, r)
	case path == d.tokenPath, d.codeInPath && strings.HasPrefix(path, d.tokenPath+"/"):
		s.serveToken(w, r)
	default:
		s.refuseUnknown(w, "a request to "+r.Method+" "+path+", which this provider does not serve")
	}
}

func (s *Server) refuseUnknown(w http.ResponseWriter, reason string) {
	s.mu.Lock()
	reason = s.scrub(reason)
	s.rejections = append(s.rejections, reason)
	s.mu.Unlock()
	writeRefusal(w, &refusal{status: http.StatusNotFound, code: "invalid_request", desc: reason})
}

func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.discoveries++
	oidc := s.oidcDiscovery
	if r.Method != http.MethodGet {
		s.rejections = append(s.rejections, "discovery with method "+r.Method+" instead of GET")
	}
	s.mu.Unlock()
	switch {
	case r.Method != http.MethodGet:
		writeRefusal(w, violation("invalid_request", "discovery with method %s instead of GET", r.Method))
		return
	case r.URL.Path == oidcDiscoveryPath && !oidc:
		// Not served: trying it first is legitimate, so it is no rejection.
		http.NotFound(w, r)
		return
	}
	methods := []string{"client_secret_post"}
	switch s.dialect.auth {
	case authBasicOrBody:
		methods = []string{"client_secret_basic", "client_secret_post"}
	case authBasicForm:
		methods = []string{"client_secret_basic"}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.IssuerURL(),
		"token_endpoint":                        s.TokenURL(),
		"grant_types_supported":                 slices.Sorted(maps.Keys(s.dialect.grants)),
		"token_endpoint_auth_methods_supported": methods,
		"response_types_supported":              []string{"token"},
	})
}

// serveToken handles one token request.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
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
	in, ref := s.read(r)
	if ref == nil {
		ref = s.authenticate(in)
	}

	s.mu.Lock()
	s.total++
	s.requests[in.grant]++
	rec := TokenRequest{Grant: in.grant, MediaType: in.mediaType, ClientAuth: in.clientAuth(), Params: map[string]string{}}
	for k, v := range in.fields {
		if k == "client_secret" || k == "refresh_token" || k == "code" {
			v = "[redacted]"
		}
		rec.Params[k] = s.scrub(v)
	}
	if ref != nil && ref.violation {
		ref.desc = s.scrub(ref.desc)
		rec.Rejection = ref.desc
		s.rejections = append(s.rejections, ref.desc)
	}
	if len(s.log) >= maxLog {
		s.log = slices.Delete(s.log, 0, 1)
	}
	s.log = append(s.log, rec)
	var failure *Failure
	if len(s.failures) > 0 {
		failure = &s.failures[0]
		s.failures = s.failures[1:]
	}
	s.mu.Unlock()

	if ref == nil && s.dialect.check != nil {
		ref = s.dialect.check(in)
	}
	switch {
	case failure != nil:
		writeFailure(w, failure)
	case ref != nil:
		writeRefusal(w, ref)
	default:
		s.grant(w, in)
	}
}

func (in *incoming) clientAuth() string {
	_, inBody := in.fields["client_secret"]
	switch {
	case in.hasBasic && inBody:
		return "both"
	case in.hasBasic:
		return "basic"
	case inBody:
		return "body"
	}
	return "none"
}

// read parses the request as the dialect's document says it must come.
func (s *Server) read(r *http.Request) (*incoming, *refusal) {
	d := s.dialect
	in := &incoming{fields: map[string]string{}}
	if d.codeInPath {
		in.grant = provider.GrantAuthorizationCode
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return in, violation("invalid_request", "Authorization scheme %s instead of Basic", scheme)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return in, violation("invalid_request", "malformed HTTP Basic credentials")
		}
		in.hasBasic, in.basic = true, string(raw)
	}
	if r.Method != http.MethodPost {
		return in, violation("invalid_request", "method %s instead of POST", r.Method)
	}
	if r.URL.RawQuery != "" {
		return in, violation("invalid_request", "parameters in the URL query; they belong in the body")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		return in, violation("invalid_request", "unreadable or oversized body")
	}
	if d.codeInPath {
		seg := strings.TrimPrefix(r.URL.EscapedPath(), d.tokenPath+"/")
		code, err := url.PathUnescape(seg)
		switch {
		case r.URL.EscapedPath() == d.tokenPath || seg == "" || strings.Contains(seg, "/") || err != nil:
			return in, violation("invalid_request", "no code as the last path segment of %s/{code}", d.tokenPath)
		case len(body) > 0:
			return in, violation("invalid_request", "a request body; the document sends none (curl -u ... -X POST)")
		}
		in.code = code
		return in, nil
	}

	mediaType, mparams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return in, violation("invalid_request", "no valid Content-Type (want %s)", strings.Join(d.mediaTypes, " or "))
	}
	in.mediaType = mediaType
	if !slices.Contains(d.mediaTypes, mediaType) {
		return in, violation("invalid_request", "Content-Type %s instead of %s", mediaType, strings.Join(d.mediaTypes, " or "))
	}
	values, reason := parseBody(mediaType, mparams, body)
	if reason != "" {
		return in, violation("invalid_request", "%s", reason)
	}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if len(values[name]) > 1 {
			return in, violation("invalid_request", "field %s sent more than once (RFC 6749 section 3.2)", name)
		}
		in.fields[name] = values[name][0]
	}
	in.grant = provider.GrantType(in.fields["grant_type"])
	required, ok := d.grants[in.grant]
	switch {
	case in.grant == "":
		return in, violation("invalid_request", "no grant_type")
	case !ok:
		return in, violation("unsupported_grant_type", "grant_type %s is not accepted", in.grant)
	}
	for _, name := range required {
		if in.fields[name] == "" {
			return in, violation("invalid_request", "a %s request without %s", in.grant, name)
		}
	}
	if !d.anyField {
		allowed := slices.Concat([]string{"grant_type", "client_id", "client_secret"}, required, d.optional)
		for _, name := range slices.Sorted(maps.Keys(in.fields)) {
			if slices.Contains(allowed, name) {
				continue
			}
			if name == "redirect_url" {
				return in, violation("invalid_request", "field redirect_url instead of redirect_uri (the document's example and RFC 6749 say redirect_uri)")
			}
			return in, violation("invalid_request", "unexpected field %s in a %s request", name, in.grant)
		}
	}
	return in, nil
}

// parseBody reads a form, multipart or JSON body into its fields, keeping repeats so they
// can be refused.
func parseBody(mediaType string, mparams map[string]string, body []byte) (url.Values, string) {
	switch mediaType {
	case mediaForm:
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, "unreadable form body"
		}
		return v, ""
	case mediaMultipart:
		if mparams["boundary"] == "" {
			return nil, "multipart body without a boundary"
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
	case mediaJSON:
		return parseJSONObject(body)
	}
	return nil, "unsupported Content-Type"
}

// parseJSONObject reads a JSON object of strings token by token, so a repeated key (which
// json.Unmarshal silently resolves to the last) is seen.
func parseJSONObject(body []byte) (url.Values, string) {
	const bad = "the JSON body is not an object of strings"
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

// authenticate checks where the client credentials are (a violation when misplaced or
// mis-encoded) and whether they are right (401 invalid_client when not).
func (s *Server) authenticate(in *incoming) *refusal {
	bodyID, hasBodyID := in.fields["client_id"]
	bodySecret, hasBodySecret := in.fields["client_secret"]
	rawID, rawSecret, _ := strings.Cut(in.basic, ":")
	// RFC 6749 section 2.3.1: each form-urlencoded, then joined by ":".
	formID, err1 := url.QueryUnescape(rawID)
	formSecret, err2 := url.QueryUnescape(rawSecret)
	formOK := in.hasBasic && err1 == nil && err2 == nil && formID == s.clientID && formSecret == s.secret
	rawOK := in.hasBasic && in.basic == s.clientID+":"+s.secret

	ok := false
	switch s.dialect.auth {
	case authBody:
		switch {
		case in.hasBasic && hasBodySecret:
			return violation("invalid_request", "client credentials both in HTTP Basic and in the body")
		case in.hasBasic:
			return violation("invalid_request", "client credentials in HTTP Basic; the document puts them in the body")
		case !hasBodyID || !hasBodySecret:
			return violation("invalid_request", "client_id or client_secret missing from the body")
		}
		ok = bodyID == s.clientID && bodySecret == s.secret
	case authBasicOrBody:
		switch {
		case in.hasBasic && hasBodySecret:
			return violation("invalid_request", "client credentials both in HTTP Basic and in the body")
		case in.hasBasic:
			ok = (rawOK || formOK) && (!hasBodyID || bodyID == s.clientID)
		case !hasBodyID || !hasBodySecret:
			return violation("invalid_request", "no client credentials: client_id and client_secret in the body, or HTTP Basic")
		default:
			ok = bodyID == s.clientID && bodySecret == s.secret
		}
	case authBasicForm:
		switch {
		case in.hasBasic && hasBodySecret:
			return violation("invalid_request", "client credentials both in HTTP Basic and in the body")
		case hasBodySecret:
			return violation("invalid_request", "client_secret in the body; this server takes HTTP Basic (RFC 6749 section 2.3.1)")
		case !in.hasBasic:
			return violation("invalid_request", "no HTTP Basic client authentication")
		case !formOK && rawOK:
			return violation("invalid_request", "HTTP Basic credentials not form-urlencoded first (RFC 6749 section 2.3.1)")
		}
		ok = formOK && (!hasBodyID || bodyID == s.clientID)
	case authBasicRaw:
		switch {
		case !in.hasBasic:
			return violation("invalid_request", "no HTTP Basic client authentication (curl -u)")
		case !rawOK && formOK:
			return violation("invalid_request", "HTTP Basic credentials form-urlencoded; curl -u sends them as they are")
		}
		ok = rawOK
	}
	if ok {
		return nil
	}
	ref := &refusal{status: http.StatusUnauthorized, code: "invalid_client", desc: "client authentication failed"}
	if in.hasBasic {
		// RFC 6749 section 5.2: a 401 to Basic names the scheme.
		ref.header = http.Header{"WWW-Authenticate": {`Basic realm="token"`}}
	}
	return ref
}

// grant runs the grant and answers with a token, or invalid_grant.
func (s *Server) grant(w http.ResponseWriter, in *incoming) {
	s.mu.Lock()
	body, ref := s.issue(in)
	s.mu.Unlock()
	if ref != nil {
		writeRefusal(w, ref)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// issue is grant's work, with s.mu held.
func (s *Server) issue(in *incoming) (map[string]any, *refusal) {
	d := s.dialect
	_, refreshable := d.grants[provider.GrantRefreshToken]
	var refreshToken string
	switch in.grant {
	case provider.GrantAuthorizationCode:
		code := in.fields["code"]
		if d.codeInPath {
			code = in.code
		}
		c, ok := s.codes[code]
		switch {
		case !ok || s.revoked[c.family]:
			return nil, invalidGrant("the authorization code is invalid")
		case c.used:
			// RFC 6749 section 4.1.2: a code used twice revokes what it issued.
			s.revoked[c.family] = true
			return nil, invalidGrant("the authorization code was already used")
		case time.Now().After(c.expires):
			return nil, invalidGrant("the authorization code has expired")
		case slices.Contains(d.grants[in.grant], "redirect_uri") && in.fields["redirect_uri"] != s.RedirectURI():
			return nil, invalidGrant("redirect_uri does not match the authorization request")
		}
		c.used = true
		if refreshable {
			refreshToken = s.mintRefreshToken(c.family)
		}
	case provider.GrantRefreshToken:
		c, ok := s.refreshTokens[in.fields["refresh_token"]]
		switch {
		case !ok || s.revoked[c.family]:
			return nil, invalidGrant("the refresh token is invalid")
		case c.used:
			// RFC 9700 section 4.14.2: a spent refresh token presented again means it
			// leaked; the whole grant is revoked, the newest refresh token too.
			s.revoked[c.family] = true
			return nil, invalidGrant("the refresh token was already used")
		}
		if d.refreshReturnsRefreshToken && !s.omitRefreshToken {
			c.used = d.rotate
			refreshToken = s.mintRefreshToken(c.family)
		}
	}
	return d.body(s, in, s.mintAccessToken(), refreshToken), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeRefusal writes an RFC 6749 section 5.2 error.
func writeRefusal(w http.ResponseWriter, r *refusal) {
	maps.Copy(w.Header(), r.header)
	writeJSON(w, r.status, map[string]string{"error": r.code, "error_description": r.desc})
}

func writeFailure(w http.ResponseWriter, f *Failure) {
	maps.Copy(w.Header(), f.Header)
	if f.Body != "" && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(f.Status)
	_, _ = io.WriteString(w, f.Body)
}

// fakeJWT is a JWT-shaped access token like Aura's: RS256 header, the claims Aura's
// example carries (exp with a fraction, as there), and a random signature. Nobody can
// verify it; it only has to look and parse like one.
func fakeJWT(audience string, exp time.Time) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256"})
	now := float64(time.Now().UnixMicro()) / 1e6
	claims, _ := json.Marshal(map[string]any{
		"aud": audience, "jti": randomString(""), "iat": now, "nbf": now,
		"exp": float64(exp.UnixMicro()) / 1e6, "sub": randomString("user-")[:21], "scopes": []string{},
	})
	sig := make([]byte, 64)
	_, _ = rand.Read(sig)
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString(sig)
}
