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

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// This file is the RFC 6749 machinery every provider shares: the hardened HTTP client, the
// URL rule, sending a token request in each encoding, reading and normalising the answer,
// classifying failures, redacting secrets, and discovery.

// Token performs one token request for req, in its provider's dialect.
func (c *Client) Token(ctx context.Context, req *Request) (*Token, error) {
	if req == nil {
		return nil, &Error{Kind: BadRequest, Err: errors.New("no token request")}
	}
	if c == nil {
		c = &Client{}
	}
	p, ok := providers[req.Provider]
	if !ok {
		return nil, &Error{Kind: BadRequest, Err: fmt.Errorf("unknown provider %q", req.Provider)}
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return p.Token(ctx, c, req)
}

// httpClient returns the client for one request: c.HTTPClient, else the hardened one,
// with the body cap and the no-redirect rule applied whatever the caller configured. The
// cap sits in the transport so that it also binds x/oauth2, which reads bodies itself and
// would otherwise take the first MiB of an oversized answer as the whole of it.
func (c *Client) httpClient() *http.Client {
	base := c.HTTPClient
	if base == nil {
		c.once.Do(func() {
			policy := c.Policy
			if policy == nil {
				policy = DefaultAddressPolicy()
			}
			c.hc = NewHTTPClient(policy)
		})
		base = c.hc
	}
	hc := *base
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc.Transport = cappedTransport{rt}
	hc.CheckRedirect = noRedirect
	return &hc
}

// noRedirect follows no redirect: a token endpoint that redirects is misconfigured, and
// following it (a 307 or 308 re-sends the body) would carry credentials to wherever it
// points. The 3xx itself comes back and is classified as BadRequest.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// errResponseTooLarge is the transport error for a body over MaxResponseBytes.
var errResponseTooLarge = fmt.Errorf("response body exceeds %d bytes", MaxResponseBytes)

// cappedTransport reads each response body whole, through MaxResponseBytes+1, before
// handing the response on, and fails the round trip when the body is bigger.
type cappedTransport struct{ base http.RoundTripper }

func (t cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxResponseBytes {
		return nil, errResponseTooLarge
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	resp.ContentLength = int64(len(raw))
	return resp, nil
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// NewHTTPClient returns the client token requests go through: TLS verification always on
// (TLS 1.2 at least), proxies from the environment, connections to addresses the policy
// blocks refused, and no redirect followed — a token endpoint that redirects is
// misconfigured, and following it would carry credentials to wherever it points.
func NewHTTPClient(policy *AddressPolicy) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: policy.control}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: DefaultTimeout,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: noRedirect,
	}
}

// dialKind classifies a failed request: a blocked address is permanent (only a change of
// the spec or of the policy helps), anything else on the way is transient.
func dialKind(err error) Kind {
	if _, ok := errors.AsType[*errBlockedAddress](err); ok {
		return BadRequest
	}
	return Transient
}

// checkURL enforces https, allowing http only to loopback hosts. The API server's
// validation says the same for the spec; this also covers discovered endpoints.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return &Error{Kind: BadRequest, Err: fmt.Errorf("token endpoint %q is not an absolute URL", raw)}
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return &Error{Kind: BadRequest, Err: fmt.Errorf("token endpoint %s must use https (http only for loopback hosts)", u.Redacted())}
	}
	if u.User != nil {
		return &Error{Kind: BadRequest, Err: errors.New("token endpoint URLs must not carry credentials")}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactor replaces every secret of a request in text.
type redactor struct{ r *strings.Replacer }

func newRedactor(req *Request) redactor {
	var secrets []string
	for _, s := range []string{req.ClientSecret, req.Grant.RefreshToken, req.Grant.Code, url.PathEscape(req.Grant.Code),
		url.QueryEscape(req.ClientSecret), url.QueryEscape(req.Grant.RefreshToken), url.QueryEscape(req.Grant.Code)} {
		if len(s) >= 4 {
			secrets = append(secrets, s)
		}
	}
	// Longest first, so that a secret inside another is not half replaced.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	args := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		args = append(args, s, "[redacted]")
	}
	return redactor{r: strings.NewReplacer(args...)}
}

func (r redactor) String(s string) string { return r.r.Replace(s) }

// error wraps err with its text redacted. The original chain is not kept: a caller walking
// it (errors.As to a *url.Error) would find the URL, and for Aurinko the code in it. What
// callers test for stays matchable: the context and size sentinels for errors.Is, and a
// *net.OpError or a blocked address, whose texts name addresses only.
func (r redactor) error(err error) error {
	if err == nil {
		return nil
	}
	e := &redactedError{msg: r.String(err.Error())}
	for _, sentinel := range []error{context.DeadlineExceeded, context.Canceled, os.ErrDeadlineExceeded, errResponseTooLarge} {
		if errors.Is(err, sentinel) {
			e.causes = append(e.causes, sentinel)
		}
	}
	if op, ok := errors.AsType[*net.OpError](err); ok {
		e.causes = append(e.causes, op)
	} else if b, ok := errors.AsType[*errBlockedAddress](err); ok {
		e.causes = append(e.causes, b)
	}
	return e
}

type redactedError struct {
	msg    string
	causes []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.causes }

// form is a token request's parameters in order of insertion.
type form struct {
	keys   []string
	values map[string]string
}

func newForm() *form { return &form{values: map[string]string{}} }

func (f *form) set(k, v string) {
	if v == "" {
		return
	}
	if _, ok := f.values[k]; !ok {
		f.keys = append(f.keys, k)
	}
	f.values[k] = v
}

// paramAudience is the token request parameter Aurora and many RFC 6749 servers read the
// audience from.
const paramAudience = "audience"

// encoding is how a token request's body is written.
type encoding int

const (
	encodeForm encoding = iota
	encodeJSON
	encodeMultipart
)

func (f *form) body(enc encoding) (io.Reader, string, error) {
	switch enc {
	case encodeJSON:
		m := make(map[string]string, len(f.keys))
		for _, k := range f.keys {
			m[k] = f.values[k]
		}
		raw, err := json.Marshal(m)
		return bytes.NewReader(raw), "application/json", err
	case encodeMultipart:
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for _, k := range f.keys {
			if err := w.WriteField(k, f.values[k]); err != nil {
				return nil, "", err
			}
		}
		if err := w.Close(); err != nil {
			return nil, "", err
		}
		return &buf, w.FormDataContentType(), nil
	default:
		v := url.Values{}
		for _, k := range f.keys {
			v.Set(k, f.values[k])
		}
		return strings.NewReader(v.Encode()), "application/x-www-form-urlencoded", nil
	}
}

// basicAuth is an Authorization header value; formEncoded applies RFC 6749 section 2.3.1
// (id and secret form-urlencoded before base64), raw sends them as `curl -u` does.
func basicAuth(id, secret string, formEncoded bool) string {
	if formEncoded {
		id, secret = url.QueryEscape(id), url.QueryEscape(secret)
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// post sends one token request and returns the response body, read through the size cap.
func (c *Client) post(ctx context.Context, req *Request, endpoint string, body io.Reader, contentType, authorization string) (int, http.Header, []byte, error) {
	red := newRedactor(req)
	if err := checkURL(endpoint); err != nil {
		return 0, nil, nil, err
	}
	if body == nil {
		body = http.NoBody
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, body)
	if err != nil {
		return 0, nil, nil, &Error{Kind: BadRequest, Err: red.error(err)}
	}
	if contentType != "" {
		hreq.Header.Set("Content-Type", contentType)
	}
	if authorization != "" {
		hreq.Header.Set("Authorization", authorization)
	}
	hreq.Header.Set("Accept", "application/json")
	resp, err := c.httpClient().Do(hreq)
	if err != nil {
		return 0, nil, nil, &Error{Kind: dialKind(err), Err: red.error(err)}
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return resp.StatusCode, resp.Header, nil, &Error{Kind: Transient, StatusCode: resp.StatusCode, Err: red.error(err)}
	}
	if len(raw) > MaxResponseBytes {
		return resp.StatusCode, resp.Header, nil, &Error{Kind: Transient, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("response body exceeds %d bytes", MaxResponseBytes)}
	}
	return resp.StatusCode, resp.Header, raw, nil
}

// tokenResponse is RFC 6749 section 5.1, tolerant of expires_in as a string.
type tokenResponse struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	RefreshToken string          `json:"refresh_token"`
	Scope        string          `json:"scope"`
}

// errorResponse is RFC 6749 section 5.2.
type errorResponse struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// ParseTokenResponse reads an RFC 6749 section 5.1 response body.
func ParseTokenResponse(body []byte, now time.Time) (*Token, error) {
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, errors.New("malformed token response: not a JSON object")
	}
	if tr.AccessToken == "" {
		return nil, errors.New("malformed token response: no access_token")
	}
	tok := &Token{
		AccessToken:  tr.AccessToken,
		TokenType:    normaliseType(tr.TokenType),
		Scope:        tr.Scope,
		RefreshToken: tr.RefreshToken,
	}
	seconds, present, err := parseExpiresIn(tr.ExpiresIn)
	if err != nil {
		return nil, err
	}
	if present {
		tok.Expiry = now.Add(time.Duration(seconds) * time.Second)
	} else {
		tok.Expiry = jwtExpiry(tok.AccessToken)
	}
	return tok, nil
}

// parseExpiresIn reads expires_in as a JSON number or a numeric string.
func parseExpiresIn(raw json.RawMessage) (int64, bool, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0, false, nil
	}
	s = strings.Trim(s, `"`)
	if s == "" {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 100*365*24*3600 {
		return 0, false, errors.New("malformed token response: expires_in is not a number of seconds")
	}
	if f < 1 {
		// Taken literally, a token already expired: the caller would refresh in a loop.
		// Treated as absent instead (a JWT's exp, else no expiry).
		return 0, false, nil
	}
	return int64(f), true, nil
}

// normaliseType spells the bearer type "Bearer" whatever case came (or none, as Aurinko).
func normaliseType(t string) string {
	if t == "" || strings.EqualFold(t, "bearer") {
		return "Bearer"
	}
	return t
}

// jwtExpiry reads the exp claim of a JWT access token; zero when it is not one.
func jwtExpiry(token string) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == "" {
		return time.Time{}
	}
	exp, err := claims.Exp.Float64()
	if err != nil || !(exp > 0 && exp < 253402300800) { // 253402300800: year 10000
		// Beyond int64 seconds the conversion below would overflow into the past.
		return time.Time{}
	}
	sec := int64(exp)
	return time.Unix(sec, int64((exp-float64(sec))*1e9)).UTC()
}

// maxDescription bounds the provider's error_description in error text.
const maxDescription = 200

// classify turns a non-2xx answer into an *Error.
func classify(status int, header http.Header, body []byte, red redactor) *Error {
	e := &Error{StatusCode: status}
	er := parseErrorResponse(header, body)
	// Redacted before truncated: cut first, a secret straddling the cut would keep its
	// prefix out of the redactor's reach.
	e.Code = truncate(printable(red.String(er.Error)), 64)
	e.Description = truncate(printable(red.String(er.ErrorDescription)), maxDescription)
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		e.Kind = Transient
		e.RetryAfter = retryAfter(header.Get("Retry-After"), time.Now())
	case er.Error == "temporarily_unavailable" || er.Error == "server_error" || er.Error == "slow_down":
		// Codes of the authorization endpoint that some servers also use at the token
		// endpoint, with a 400: the server's trouble, not the request's.
		e.Kind = Transient
		e.RetryAfter = retryAfter(header.Get("Retry-After"), time.Now())
	case er.Error == "invalid_grant":
		e.Kind = InvalidGrant
	case er.Error == "invalid_client" || er.Error == "unauthorized_client":
		e.Kind = InvalidClient
	case status == http.StatusUnauthorized && er.Error == "":
		e.Kind = InvalidClient
	case status >= 300 && status < 400:
		e.Kind = BadRequest
		e.Err = errors.New("the token endpoint redirected; redirects are not followed")
	default:
		e.Kind = BadRequest
	}
	return e
}

// parseErrorResponse reads `error` and `error_description` from a JSON body, or from a
// form-encoded one (as x/oauth2 accepts); anything else has neither. Only strings count:
// some APIs put an object under "error".
func parseErrorResponse(header http.Header, body []byte) errorResponse {
	if isForm(header, body) {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return errorResponse{}
		}
		return errorResponse{Error: v.Get("error"), ErrorDescription: v.Get("error_description")}
	}
	var raw struct {
		Error            any `json:"error"`
		ErrorDescription any `json:"error_description"`
	}
	if json.Unmarshal(body, &raw) != nil {
		return errorResponse{}
	}
	code, _ := raw.Error.(string)
	desc, _ := raw.ErrorDescription.(string)
	return errorResponse{Error: code, ErrorDescription: desc}
}

// isForm says whether a body is form-encoded: so labelled, or text/plain (GitHub-style
// servers answer so, and x/oauth2 reads it) unless it is plainly a JSON object, which
// sloppy servers label text/plain too.
func isForm(header http.Header, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		return true
	case "text/plain":
		return !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{"))
	}
	return false
}

// printable makes provider text one line of printable characters, for conditions and
// events.
func printable(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?")))
}

func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// maxRetryAfter bounds a provider's Retry-After, so an absurd value cannot overflow or park
// a connection for weeks; the controller's backoff applies beyond it.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads a Retry-After header: seconds or an HTTP-date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(v, 10, 64); err == nil {
		return time.Duration(min(s, uint64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// exchange posts a token request and parses an RFC 6749 answer.
func (c *Client) exchange(ctx context.Context, req *Request, endpoint string, f *form, enc encoding, authorization string) (*Token, error) {
	body, contentType, err := f.body(enc)
	if err != nil {
		return nil, &Error{Kind: BadRequest, Err: err}
	}
	status, header, raw, err := c.post(ctx, req, endpoint, body, contentType, authorization)
	if err != nil {
		return nil, err
	}
	return c.answer(req, status, header, raw, ParseTokenResponse)
}

// answer turns a response into a token with parse, or into a classified error.
func (c *Client) answer(req *Request, status int, header http.Header, raw []byte,
	parse func([]byte, time.Time) (*Token, error)) (*Token, error) {
	red := newRedactor(req)
	// RFC 6749 says 400, but some servers answer an error with a 200.
	if status < 200 || status > 299 || parseErrorResponse(header, raw).Error != "" {
		return nil, classify(status, header, raw, red)
	}
	tok, err := parse(raw, c.now())
	if err != nil {
		return nil, &Error{Kind: Transient, StatusCode: status, Err: red.error(err)}
	}
	return tok, nil
}

// clientCredentials runs the client credentials grant through x/oauth2, with the client
// authentication style stated, never auto-detected.
func (c *Client) clientCredentials(ctx context.Context, req *Request, endpoint string, style oauth2.AuthStyle, params map[string]string) (*Token, error) {
	if err := checkURL(endpoint); err != nil {
		return nil, err
	}
	cc := clientcredentials.Config{
		ClientID:       req.ClientID,
		ClientSecret:   req.ClientSecret,
		TokenURL:       endpoint,
		Scopes:         req.Scopes,
		AuthStyle:      style,
		EndpointParams: url.Values{},
	}
	for k, v := range params {
		if v != "" {
			cc.EndpointParams.Set(k, v)
		}
	}
	red := newRedactor(req)
	// The HTTP client in the context carries the body cap and the no-redirect rule; the
	// answer is then classified and normalised like a hand-written request's.
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, c.httpClient()))
	if err != nil {
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.Response != nil {
			// A non-2xx, or an error code in a 2xx: re.Body is whole (cappedTransport).
			return nil, classify(re.Response.StatusCode, re.Response.Header, re.Body, red)
		}
		if _, ok := errors.AsType[*url.Error](err); ok {
			return nil, &Error{Kind: dialKind(err), Err: red.error(err)}
		}
		// What else x/oauth2 reports concerns a 2xx body: unparseable, or no access_token.
		return nil, &Error{Kind: Transient, StatusCode: http.StatusOK, Err: red.error(fmt.Errorf("malformed token response: %w", err))}
	}
	out := &Token{
		AccessToken:  tok.AccessToken,
		TokenType:    normaliseType(tok.TokenType),
		RefreshToken: tok.RefreshToken,
	}
	if s, ok := tok.Extra("scope").(string); ok {
		out.Scope = s
	}
	// x/oauth2 computes Expiry with time.Now; expires_in is read again so that c.Now, the
	// clock the caller schedules with, is the one used.
	seconds, present, err := parseExpiresIn(extraNumber(tok.Extra("expires_in")))
	switch {
	case err != nil:
		return nil, &Error{Kind: Transient, StatusCode: http.StatusOK, Err: err}
	case present:
		out.Expiry = c.now().Add(time.Duration(seconds) * time.Second)
	default:
		out.Expiry = jwtExpiry(out.AccessToken)
	}
	return out, nil
}

// extraNumber renders a value of oauth2.Token.Extra (decoded from JSON or a form) as the
// JSON text parseExpiresIn reads.
func extraNumber(v any) json.RawMessage {
	switch n := v.(type) {
	case float64:
		return json.RawMessage(strconv.FormatFloat(n, 'f', -1, 64))
	case int64:
		return json.RawMessage(strconv.FormatInt(n, 10))
	case string:
		return json.RawMessage(strconv.Quote(n))
	}
	return nil
}

// grantForm starts a token request body with the grant's parameters.
func grantForm(req *Request) (*form, error) {
	f := newForm()
	switch req.Grant.Type {
	case GrantRefreshToken:
		if req.Grant.RefreshToken == "" {
			return nil, &Error{Kind: BadRequest, Err: errors.New("no refresh token to present")}
		}
		f.set("grant_type", string(GrantRefreshToken))
		f.set("refresh_token", req.Grant.RefreshToken)
	case GrantAuthorizationCode:
		if req.Grant.Code == "" {
			return nil, &Error{Kind: BadRequest, Err: errors.New("no code to present")}
		}
		f.set("grant_type", string(GrantAuthorizationCode))
		f.set("code", req.Grant.Code)
		f.set("redirect_uri", req.Grant.RedirectURI)
	case GrantClientCredentials, "":
		f.set("grant_type", string(GrantClientCredentials))
	}
	return f, nil
}

func unsupported(p oauthv1alpha1.Provider, g GrantType) error {
	return &Error{Kind: BadRequest, Err: fmt.Errorf("provider %s does not take the %s grant", p, g)}
}

// discoveryTTL is how long a discovered token endpoint is reused.
const discoveryTTL = time.Hour

// maxDiscoveryEntries bounds the discovery cache.
const maxDiscoveryEntries = 1024

type discovered struct {
	endpoint string
	at       time.Time
}

var discovery struct {
	sync.Mutex
	entries map[string]discovered
}

// discoverTokenEndpoint reads the token endpoint from the issuer's OpenID Connect
// configuration, falling back to RFC 8414 authorization server metadata. The issuer's
// trailing slash is dropped first: the documented Aurora issuers end in "/", and
// "//.well-known" is not their document.
func (c *Client) discoverTokenEndpoint(ctx context.Context, req *Request, issuer string) (string, error) {
	base := strings.TrimRight(issuer, "/")
	if err := checkURL(base); err != nil {
		return "", err
	}
	discovery.Lock()
	if d, ok := discovery.entries[base]; ok && c.now().Sub(d.at) < discoveryTTL {
		discovery.Unlock()
		return d.endpoint, nil
	}
	discovery.Unlock()
	u, err := url.Parse(base)
	if err != nil {
		return "", &Error{Kind: BadRequest, Err: errors.New("the issuer URL is not a URL")}
	}
	// OIDC appends its well-known segment to the issuer; RFC 8414 section 3.1 inserts
	// its own between the host and the issuer's path. The same for an issuer without path.
	oidc, rfc8414 := *u, *u
	oidc.Path, oidc.RawPath = u.Path+"/.well-known/openid-configuration", ""
	rfc8414.Path, rfc8414.RawPath = "/.well-known/oauth-authorization-server"+u.Path, ""
	var lastErr error
	for _, doc := range []string{oidc.String(), rfc8414.String()} {
		endpoint, err := c.fetchMetadata(ctx, req, doc, base)
		if err != nil {
			// Only a missing OIDC document sends us to RFC 8414; an unavailable or
			// unreachable issuer is reported as it is (transient), not hidden behind
			// the fallback's 404.
			if e, ok := errors.AsType[*Error](err); ok && e.StatusCode >= 400 && e.StatusCode < 500 && e.StatusCode != http.StatusTooManyRequests {
				lastErr = err
				continue
			}
			return "", err
		}
		if err := checkURL(endpoint); err != nil {
			return "", err
		}
		discovery.Lock()
		if discovery.entries == nil || len(discovery.entries) >= maxDiscoveryEntries {
			discovery.entries = map[string]discovered{}
		}
		discovery.entries[base] = discovered{endpoint: endpoint, at: c.now()}
		discovery.Unlock()
		return endpoint, nil
	}
	return "", lastErr
}

func (c *Client) fetchMetadata(ctx context.Context, req *Request, u, issuer string) (string, error) {
	red := newRedactor(req)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", &Error{Kind: BadRequest, Err: err}
	}
	hreq.Header.Set("Accept", "application/json")
	resp, err := c.httpClient().Do(hreq)
	if err != nil {
		return "", &Error{Kind: dialKind(err), Err: red.error(err)}
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil || len(raw) > MaxResponseBytes {
		return "", &Error{Kind: Transient, StatusCode: resp.StatusCode, Err: errors.New("discovery document unreadable or too large")}
	}
	if resp.StatusCode != http.StatusOK {
		kind := BadRequest
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			kind = Transient
		}
		return "", &Error{Kind: kind, StatusCode: resp.StatusCode, Err: fmt.Errorf("discovery at %s failed", u)}
	}
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if json.Unmarshal(raw, &doc) != nil || doc.TokenEndpoint == "" {
		return "", &Error{Kind: Transient, StatusCode: resp.StatusCode, Err: fmt.Errorf("discovery document at %s has no token_endpoint", u)}
	}
	// OIDC Discovery section 4.3, RFC 8414 section 3.3: the metadata must be the issuer's
	// own, or a document served elsewhere could direct the client secret to its endpoint.
	// Trailing slashes aside, as when the request was built.
	if doc.Issuer != "" && strings.TrimRight(doc.Issuer, "/") != issuer {
		return "", &Error{Kind: BadRequest, StatusCode: resp.StatusCode, Err: fmt.Errorf("discovery document at %s is for another issuer", u)}
	}
	return doc.TokenEndpoint, nil
}
