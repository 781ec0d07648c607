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

// Package provider performs one OAuth 2.0 token request in the dialect of a provider and
// returns a normalised Token or a classified *Error. It never retries a request: a retry
// could present a single-use authorization code or refresh token twice; retrying is the
// controller's decision.
package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// GrantType is the OAuth 2.0 grant a token request runs.
type GrantType string

// The grants the operator runs.
const (
	GrantClientCredentials GrantType = "client_credentials"
	GrantRefreshToken      GrantType = "refresh_token"
	GrantAuthorizationCode GrantType = "authorization_code"
)

// Grant is the end user's grant presented in a request. Zero for client credentials.
type Grant struct {
	Type         GrantType
	RefreshToken string
	Code         string
	RedirectURI  string
	// CodeVerifier is the PKCE verifier (RFC 7636) of the authorization request that issued
	// Code: sent as code_verifier with the code exchange when set, by the providers whose
	// exchange has a body (Aurinko's has none).
	CodeVerifier string
}

// Request is everything one token request needs: the connection's spec, resolved to plain
// values, the client credentials and the grant.
type Request struct {
	Provider             oauthv1alpha1.Provider
	Environment          oauthv1alpha1.Environment
	TokenURL             string
	IssuerURL            string
	Audience             string
	Scopes               []string
	ClientAuthentication oauthv1alpha1.ClientAuthentication
	RequestEncoding      oauthv1alpha1.RequestEncoding
	ExtraParameters      map[string]string

	ClientID     string
	ClientSecret string
	Grant        Grant
}

// Token is a normalised token response.
type Token struct {
	// AccessToken is the access token.
	AccessToken string
	// TokenType is normalised: "Bearer" whatever case the provider sent.
	TokenType string
	// Expiry is when the access token expires; zero when it does not.
	Expiry time.Time
	// Scope is the granted scope, when the provider returned one.
	Scope string
	// RefreshToken is a new refresh token, when the provider returned one. The caller must
	// persist it before using the access token: the old one may have stopped working.
	RefreshToken string
	// Extra holds provider-specific values keyed by their workload Secret key
	// (Aurinko's user_session, account_id, user_id).
	Extra map[string]string
}

// Provider is one provider's dialect: what it declares about itself, and one token request.
// Implementations live one per file and are listed in the registry (registry.go).
type Provider interface {
	// Traits declares the grants the provider takes and what its code exchange needs.
	Traits() Traits
	// Defaults fills in what the spec leaves to the provider's document.
	Defaults(req *Request)
	// Token performs exactly one token request (plus, where the provider is configured
	// for it, one discovery request) and returns the normalised token. req carries the
	// provider's defaults, and a grant its Traits allow.
	Token(ctx context.Context, c *Client, req *Request) (*Token, error)
}

// Kind classifies a failed token request so the controller can act on it.
type Kind int

// The kinds of failure.
const (
	// Transient failures (network, timeout, 5xx, 429, any answer without an RFC 6749
	// section 5.2 error such as a gateway's HTML 403 or a 408, a malformed or oversized
	// body) are retried with backoff.
	Transient Kind = iota
	// InvalidGrant means the grant is no longer accepted (invalid_grant): a human must
	// re-authorise.
	InvalidGrant
	// InvalidClient means the client credentials are refused (invalid_client,
	// unauthorized_client).
	InvalidClient
	// BadRequest is a permanent refusal of the request itself (invalid_request,
	// invalid_scope, unsupported_grant_type, a redirect, or a request this package will not
	// send): the spec or the input must change.
	BadRequest
)

// kindNames are the one place the kinds are named: in Go and conditions (String), and in
// metric labels (Label).
var kindNames = [...]struct{ name, label string }{
	Transient:     {"Transient", "transient"},
	InvalidGrant:  {"InvalidGrant", "invalid_grant"},
	InvalidClient: {"InvalidClient", "invalid_client"},
	BadRequest:    {"BadRequest", "bad_request"},
}

// String returns the name of the kind.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k].name
}

// Label returns the kind's name in metric labels (the result of
// tokenwarden_token_requests_total): transient, invalid_grant, invalid_client,
// bad_request.
func (k Kind) Label() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "unknown"
	}
	return kindNames[k].label
}

// Error is a failed token request (or authorization request). Its text carries the provider's `error` code and a
// truncated `error_description`, and never a token, refresh token, code or client secret.
type Error struct {
	Kind Kind
	// Op is what failed, for the text: "" a token request; "authorization request" the
	// building of one (Client.AuthorizationURL).
	Op string
	// StatusCode is the HTTP status, 0 when no response came.
	StatusCode int
	// Code is the RFC 6749 section 5.2 `error`, when the provider sent one.
	Code string
	// Description is the provider's truncated, redacted `error_description`.
	Description string
	// RetryAfter is the provider's Retry-After, when it sent one.
	RetryAfter time.Duration
	// Err is the underlying cause (network error, parse error), already redacted.
	Err error
	// NotSent says the request failed before any of it was written to the network (refused
	// before it, a blocked address, a refused connection, a failed TLS handshake): a
	// single-use credential it carried may still be presented once.
	NotSent bool
}

// NotSent reports whether err is a token request that failed before any of it was written
// to the network.
func NotSent(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.NotSent
}

// wireKey holds, in a token request's context, the flag set once its request headers are
// written.
type wireKey struct{}

// markNotSent flags err, a failed token request, as never sent.
func markNotSent(err error) error {
	if e, ok := errors.AsType[*Error](err); ok {
		out := *e
		out.NotSent = true
		return &out
	}
	return &Error{Kind: KindOf(err), Err: err, NotSent: true}
}

// Error implements error.
func (e *Error) Error() string {
	op := e.Op
	if op == "" {
		op = "token request"
	}
	msg := op + " failed"
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(": HTTP %d", e.StatusCode)
	}
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Permanent reports whether retrying the same request cannot succeed.
func (e *Error) Permanent() bool { return e.Kind != Transient }

// KindOf returns the kind of err: the Kind of an *Error in its chain, else Transient.
func KindOf(err error) Kind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return Transient
}

// DefaultTimeout bounds one token request, discovery included.
const DefaultTimeout = 30 * time.Second

// MaxTimeout is the longest Client.Timeout honoured (a longer one is cut to it): with it, a
// token request and the storing of its answer fit within a minute. The manager validates
// --token-request-timeout against it.
const MaxTimeout = 45 * time.Second

// MaxResponseBytes caps every response body read.
const MaxResponseBytes = 1 << 20

// Client performs token requests. Its zero value is usable.
type Client struct {
	// HTTPClient sends the requests. Nil: a hardened client as NewHTTPClient builds,
	// with its timeouts from Timeout.
	HTTPClient *http.Client
	// Timeout bounds one token request, and every timeout of the default HTTP client's
	// transport; zero: DefaultTimeout; at most MaxTimeout.
	Timeout time.Duration
	// Now is the clock used to turn expires_in into an expiry; nil: time.Now.
	Now func() time.Time
	// Policy refuses connections to blocked addresses (with the default HTTP client);
	// nil: DefaultAddressPolicy.
	Policy *AddressPolicy

	once       sync.Once
	hc         *http.Client
	discovered discoveries
}

// timeout is the bound of one token request.
func (c *Client) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultTimeout
	}
	return min(c.Timeout, MaxTimeout)
}

// Token performs one token request for req, in its provider's dialect, with the provider's
// defaults applied. A grant the provider does not take is refused before any request; an
// error, whatever its path, carries none of the request's secrets.
func (c *Client) Token(ctx context.Context, req *Request) (*Token, error) {
	if req == nil {
		return nil, &Error{Kind: BadRequest, Err: errors.New("no token request")}
	}
	if c == nil {
		c = &Client{}
	}
	p, ok := registry[req.Provider]
	if !ok {
		return nil, &Error{Kind: BadRequest, Err: fmt.Errorf("unknown provider %q", req.Provider)}
	}
	r := WithDefaults(*req) // the caller's request stays as it was
	if err := exchangeTraits(p).checkGrant(r.Provider, r.Grant); err != nil {
		return nil, markNotSent(err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	var wire atomic.Bool
	tok, err := p.Token(context.WithValue(ctx, wireKey{}, &wire), c, &r)
	if err != nil {
		err = redact(&r, err)
		if !wire.Load() {
			err = markNotSent(err)
		}
		return nil, err
	}
	return tok, nil
}
