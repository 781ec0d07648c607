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

package provider

// The RFC 6749 machinery every provider shares: request bodies, sending, the section 5.1
// success and 5.2 error responses, normalisation and classification.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// badRequest is a permanent error raised before any request is sent: the spec or the grant
// must change.
func badRequest(format string, args ...any) *Error {
	return &Error{Kind: BadRequest, Err: fmt.Errorf(format, args...)}
}

// param is one token request parameter. A slice of them keeps the order of the provider's
// documented example in JSON and multipart bodies, which makes captured requests easy to
// compare with the document.
type param struct{ name, value string }

type params []param

// add appends name=value, skipping empty values: an optional parameter is absent, never "".
func (p *params) add(name, value string) {
	if value != "" {
		*p = append(*p, param{name, value})
	}
}

func (p params) get(name string) string {
	for _, kv := range p {
		if kv.name == name {
			return kv.value
		}
	}
	return ""
}

// form encodes p as application/x-www-form-urlencoded.
func (p params) form() []byte {
	var b strings.Builder
	for i, kv := range p {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv.name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv.value))
	}
	return []byte(b.String())
}

// json encodes p as a JSON object of strings, in order.
func (p params) json() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.name) // marshalling a string cannot fail
		v, _ := json.Marshal(kv.value)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// multipart encodes p as multipart/form-data and returns the body and its content type
// (which carries the boundary).
func (p params) multipart() ([]byte, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, kv := range p {
		_ = w.WriteField(kv.name, kv.value) // writes to a bytes.Buffer cannot fail
	}
	_ = w.Close()
	return b.Bytes(), w.FormDataContentType()
}

// userGrant returns the parameters of a refresh_token or authorization_code grant, the only
// grants the user-delegated providers run. redirectURI says whether the provider requires
// redirect_uri with a code.
func userGrant(g Grant, redirectURI bool) (params, error) {
	var p params
	switch g.Type {
	case GrantRefreshToken:
		if g.RefreshToken == "" {
			return nil, badRequest("grant has no refresh_token")
		}
		p.add("grant_type", string(g.Type))
		p.add("refresh_token", g.RefreshToken)
	case GrantAuthorizationCode:
		if g.Code == "" {
			return nil, badRequest("grant has no code")
		}
		if redirectURI && g.RedirectURI == "" {
			return nil, badRequest("grant has a code but no redirect_uri, which this provider requires")
		}
		p.add("grant_type", string(g.Type))
		p.add("code", g.Code)
		p.add("redirect_uri", g.RedirectURI)
	default:
		return nil, badRequest("grant type %q is not supported by this provider (want refresh_token or authorization_code)", g.Type)
	}
	return p, nil
}

// tokenRequest is one hand-written token request.
type tokenRequest struct {
	endpoint    string // validated by checkEndpoint
	contentType string // empty: no body
	body        []byte
	// basic, when set, is sent as HTTP Basic; the caller decides whether to form-encode.
	basic *[2]string
	// parse reads a 2xx body; nil: parseTokenResponse.
	parse func(mediaType string, body []byte, now time.Time) (*Token, error)
}

// send performs tr and returns the normalised token or a classified *Error.
func (c *Client) send(ctx context.Context, tr tokenRequest, red redactor) (*Token, error) {
	var body io.Reader
	if tr.body != nil {
		body = bytes.NewReader(tr.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, tr.endpoint, body)
	if err != nil {
		return nil, &Error{Kind: BadRequest, Err: red.wrap(err)}
	}
	if tr.contentType != "" {
		hreq.Header.Set("Content-Type", tr.contentType)
	}
	hreq.Header.Set("Accept", "application/json")
	if tr.basic != nil {
		hreq.SetBasicAuth(tr.basic[0], tr.basic[1])
	}
	resp, err := c.httpClient().Do(hreq)
	if err != nil {
		return nil, transportError(err, red)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body) // already read and capped by cappedTransport
	if err != nil {
		return nil, transportError(err, red)
	}
	mediaType := mediaTypeOf(resp.Header)
	now := c.now()
	if oe := parseOAuthError(mediaType, raw); !success(resp.StatusCode) || oe.code != "" {
		return nil, responseError(resp.StatusCode, resp.Header, oe, red, now)
	}
	parse := tr.parse
	if parse == nil {
		parse = parseTokenResponse
	}
	tok, err := parse(mediaType, raw, now)
	if err != nil {
		return nil, malformed(resp.StatusCode, err, red)
	}
	return tok, nil
}

func success(status int) bool { return status >= 200 && status < 300 }

func mediaTypeOf(h http.Header) string {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt
}

// malformed is a 2xx response we cannot use. It is Transient: a proxy's error page or a
// half-deployed server is more likely than a provider that changed its format for good.
func malformed(status int, err error, red redactor) *Error {
	return &Error{Kind: Transient, StatusCode: status, Err: red.wrap(fmt.Errorf("malformed token response: %w", err))}
}

// transportError classifies a failure to get a response at all.
func transportError(err error, red redactor) *Error {
	e := &Error{Kind: Transient, Err: red.wrap(err)}
	if _, ok := errors.AsType[*errBlockedAddress](err); ok {
		// Only the manager's flag or the spec can change this: retrying is pointless.
		e.Kind = BadRequest
	}
	switch {
	case errors.Is(err, errRedirectRefused):
		e.Kind = BadRequest
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		e.Err = red.wrap(fmt.Errorf("timed out: %w", err))
	}
	return e
}

// oauthError is the RFC 6749 section 5.2 error of a response, when it has one.
type oauthError struct{ code, description string }

// parseOAuthError reads `error` and `error_description` from a JSON (or, for the few
// servers that answer that way, form-encoded) body; anything else yields no code.
func parseOAuthError(mediaType string, body []byte) oauthError {
	if isFormMediaType(mediaType) {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return oauthError{}
		}
		return oauthError{v.Get("error"), v.Get("error_description")}
	}
	var e struct {
		Code        any `json:"error"`
		Description any `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil {
		return oauthError{}
	}
	// Only strings count: some APIs put an object or a boolean under "error".
	code, _ := e.Code.(string)
	desc, _ := e.Description.(string)
	return oauthError{code, desc}
}

func isFormMediaType(mt string) bool {
	return mt == "application/x-www-form-urlencoded" || mt == "text/plain"
}

// maxRetryAfter bounds a provider's Retry-After: a typo or hostile value must not park a
// connection for days; the controller's own backoff takes over beyond it.
const maxRetryAfter = time.Hour

// responseError classifies a refused token request.
func responseError(status int, h http.Header, oe oauthError, red redactor, now time.Time) *Error {
	e := &Error{
		Kind:        classify(status, oe.code),
		StatusCode:  status,
		Code:        red.clip(oe.code, maxCodeLen),
		Description: red.clip(oe.description, maxDescriptionLen),
		RetryAfter:  retryAfter(h.Get("Retry-After"), now),
	}
	if status >= 300 && status < 400 {
		e.Err = errors.New("the token endpoint answered with a redirect, which is never followed for a token request (it would re-send the client secret and grant): set the final token URL")
	}
	return e
}

// classify maps an HTTP status and an RFC 6749 error code to a Kind. Server trouble wins
// over the code (a 503 saying invalid_grant is still an outage), then the code decides,
// then the status.
func classify(status int, code string) Kind {
	switch {
	case status == http.StatusTooManyRequests, status >= 500:
		return Transient
	case code == "invalid_grant":
		return InvalidGrant
	case code == "invalid_client", code == "unauthorized_client":
		return InvalidClient
	case code == "temporarily_unavailable", code == "server_error", code == "slow_down":
		// Authorization-endpoint codes that some servers also use at the token endpoint.
		return Transient
	case status == http.StatusUnauthorized:
		// RFC 6749 section 5.2: a 401 is the answer to failed client authentication.
		return InvalidClient
	case status >= 300 && status < 500:
		return BadRequest
	case success(status):
		// An error code in a 2xx: the server refused, whatever its status says.
		return BadRequest
	}
	return Transient
}

// retryAfter parses Retry-After as delay-seconds or an HTTP-date (RFC 9110 section
// 10.2.3); zero when absent or unparseable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil {
		d = time.Duration(min(secs, uint64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, maxRetryAfter))
}

// tokenFields is a token response before normalisation, whichever parser read it.
type tokenFields struct {
	accessToken  string
	tokenType    string
	refreshToken string
	scope        string
	// expiresIn is the expires_in value as text (a JSON number's literal, or a string):
	// empty when absent.
	expiresIn string
}

// maxLifetime bounds expires_in so the expiry cannot overflow time.Duration; a century is
// "does not expire" for any practical purpose.
const maxLifetime = 100 * 365 * 24 * time.Hour

// normalise builds the Token. TokenType is "Bearer" for a bearer token whatever the case
// (Aston Club sends "bearer") and when token_type is absent (Aurinko); another type (a
// Generic server's DPoP, say) is kept as sent, since labelling it Bearer would mislead the
// workload. The expiry comes from expires_in, else from the exp claim of a JWT access
// token, else there is none.
//
// An expires_in of zero or less is treated as absent: taken literally it would mean a token
// already expired, and refreshing in a tight loop helps nobody.
func (f tokenFields) normalise(now time.Time) (*Token, error) {
	if f.accessToken == "" {
		return nil, errors.New("no access_token")
	}
	typ := strings.TrimSpace(f.tokenType)
	switch {
	case typ == "" || strings.EqualFold(typ, "bearer"):
		typ = "Bearer"
	case !isTokenTypeName(typ):
		return nil, errors.New("token_type is not a token type name")
	}
	t := &Token{AccessToken: f.accessToken, TokenType: typ, Scope: f.scope, RefreshToken: f.refreshToken}
	lifetime, err := parseExpiresIn(f.expiresIn)
	if err != nil {
		return nil, err
	}
	if lifetime > 0 {
		t.Expiry = now.Add(lifetime)
	} else if exp, ok := jwtExpiry(f.accessToken); ok {
		t.Expiry = exp
	}
	return t, nil
}

// isTokenTypeName accepts a short name of letters, digits and "-._" (RFC 6749 section 7.1
// types are registered names such as "Bearer", "DPoP", "N_A"), keeping odd bytes out of the
// workload Secret.
func isTokenTypeName(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// parseExpiresIn reads expires_in from its text; 0 when absent. Integers, decimals
// (truncated) and the same inside a JSON string (some servers quote it) are accepted.
func parseExpiresIn(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("expires_in is not a number")
	}
	if f <= 0 {
		return 0, nil
	}
	return min(time.Duration(min(f, maxLifetime.Seconds()))*time.Second, maxLifetime), nil
}

// jwtExpiry returns the exp claim of an access token that is a JWS compact serialisation
// (three base64url segments with a JSON object payload). The signature is not checked: the
// claim only schedules the next refresh, and the token came straight from the provider over
// TLS. A non-numeric or absurd exp counts as no claim.
func jwtExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims map[string]json.RawMessage
	if json.Unmarshal(payload, &claims) != nil {
		return time.Time{}, false
	}
	raw := strings.TrimSpace(string(claims["exp"]))
	if raw == "" || raw[0] == '"' {
		// RFC 7519 NumericDate is a JSON number, never a string.
		return time.Time{}, false
	}
	exp, err := strconv.ParseFloat(raw, 64)
	if err != nil || !(exp > 0 && exp < 253402300800) { // before year 10000
		return time.Time{}, false
	}
	sec, frac := math.Modf(exp)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// parseTokenResponse reads an RFC 6749 section 5.1 response. JSON is the standard; a
// form-encoded body (Content-Type application/x-www-form-urlencoded or text/plain) is
// accepted as x/oauth2 does, so both code paths read the same servers.
func parseTokenResponse(mediaType string, body []byte, now time.Time) (*Token, error) {
	if isFormMediaType(mediaType) {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		return tokenFields{
			accessToken:  v.Get("access_token"),
			tokenType:    v.Get("token_type"),
			refreshToken: v.Get("refresh_token"),
			scope:        v.Get("scope"),
			expiresIn:    v.Get("expires_in"),
		}.normalise(now)
	}
	var r struct {
		AccessToken  string          `json:"access_token"`
		TokenType    string          `json:"token_type"`
		RefreshToken string          `json:"refresh_token"`
		Scope        json.RawMessage `json:"scope"`
		ExpiresIn    json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	expiresIn, err := scalarText(r.ExpiresIn)
	if err != nil {
		return nil, fmt.Errorf("expires_in: %w", err)
	}
	var scope any
	if len(r.Scope) > 0 {
		if err := json.Unmarshal(r.Scope, &scope); err != nil {
			return nil, err
		}
	}
	return tokenFields{
		accessToken:  r.AccessToken,
		tokenType:    r.TokenType,
		refreshToken: r.RefreshToken,
		scope:        scopeText(scope),
		expiresIn:    expiresIn,
	}.normalise(now)
}

// scalarText renders a JSON string or number as text (a number by its literal, so large
// integers keep every digit); empty for null or absent.
func scalarText(raw json.RawMessage) (string, error) {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "" || s == "null":
		return "", nil
	case s[0] == '"':
		var v string
		err := json.Unmarshal(raw, &v)
		return v, err
	case s[0] == '-' || (s[0] >= '0' && s[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", err
		}
		return n.String(), nil
	}
	return "", errors.New("want a string or a number")
}

// scopeText renders scope as RFC 6749 wants it (space-separated), accepting the JSON array
// a few servers send.
func scopeText(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case []any:
		var parts []string
		for _, e := range s {
			if str, ok := e.(string); ok && str != "" {
				parts = append(parts, str)
			}
		}
		return strings.Join(parts, " ")
	}
	return ""
}

// x/oauth2 runs the plain form-encoded client-credentials requests (Aurora, Generic with
// Form encoding): its wire format is exactly RFC 6749 section 4.4, and the AuthStyle is
// always set explicitly so it never auto-detects (which re-sends a refused request the
// other way). The result is normalised and classified like every hand-written request:
// the HTTP client in the context applies the body cap and redirect policy, and an
// *oauth2.RetrieveError carries the response status and headers needed for Retry-After.
//
// x/oauth2 is not used for refresh_token grants: its refresh request carries only
// grant_type and refresh_token (no scope, audience or extra parameters), and it substitutes
// the old refresh token when the response has none, hiding whether the provider rotated it.

// clientCredentials runs cfg through x/oauth2 with c's HTTP client.
func (c *Client) clientCredentials(ctx context.Context, cfg *clientcredentials.Config, red redactor) (*Token, error) {
	if cfg.AuthStyle == oauth2.AuthStyleAutoDetect {
		// A programming error, caught here rather than by a burnt credential.
		return nil, badRequest("internal error: x/oauth2 auth style must be explicit")
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.httpClient())
	tok, err := cfg.Token(ctx)
	if err != nil {
		return nil, c.fromOAuth2Error(err, red)
	}
	t, err := tokenFields{
		accessToken:  tok.AccessToken,
		tokenType:    tok.TokenType,
		refreshToken: tok.RefreshToken,
		scope:        scopeText(tok.Extra("scope")),
		expiresIn:    extraText(tok.Extra("expires_in")),
	}.normalise(c.now())
	if err != nil {
		return nil, malformed(http.StatusOK, err, red)
	}
	return t, nil
}

// fromOAuth2Error turns an x/oauth2 failure into the package's *Error.
func (c *Client) fromOAuth2Error(err error, red redactor) *Error {
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.Response != nil {
		return responseError(re.Response.StatusCode, re.Response.Header, oauthError{re.ErrorCode, re.ErrorDescription}, red, c.now())
	}
	if _, ok := errors.AsType[*url.Error](err); ok {
		return transportError(err, red)
	}
	// Everything else x/oauth2 reports is about the body of a 2xx: unparseable, or without
	// an access_token.
	return malformed(http.StatusOK, err, red)
}

// extraText renders a value from oauth2.Token.Extra (JSON-decoded, or parsed from a form
// body) as text.
func extraText(v any) string {
	switch n := v.(type) {
	case string:
		return n
	case float64:
		return strconv.FormatFloat(n, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(n, 10)
	case json.Number:
		return n.String()
	}
	return ""
}
