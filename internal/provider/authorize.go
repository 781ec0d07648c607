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

// The browser half of the authorization-code flow: the URL a person opens to log in at the
// provider, and the redirect back that carries the code. The provider files declare their
// own endpoint and parameter names; this file holds what they share.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// AuthorizationRequest is everything one authorization URL needs: the connection's spec,
// resolved to plain values, and the flow's fresh state and PKCE challenge. It has no
// client secret: an authorization URL is handed to a browser.
type AuthorizationRequest struct {
	Provider    oauthv1alpha1.Provider
	Environment oauthv1alpha1.Environment
	// TokenURL and IssuerURL are the spec's: the default authorization endpoint is derived
	// from them.
	TokenURL  string
	IssuerURL string
	// AuthorizeURL overrides the derived authorization endpoint
	// (spec.authorization.authorizeURL).
	AuthorizeURL string
	ClientID     string
	// RedirectURI is where the provider sends the browser back: https, or http to a
	// loopback host, without fragment.
	RedirectURI string
	Scopes      []string
	// Parameters are extra query parameters (spec.authorization.parameters); they cannot
	// set what the request sends itself (Authorization.ReservedParameters).
	Parameters map[string]string
	// State binds the redirect back to this flow (NewState); required.
	State string
	// CodeChallenge is the S256 PKCE challenge (S256Challenge of the flow's verifier);
	// empty: no PKCE.
	CodeChallenge string
}

// Authorization is what a provider declares about its authorization endpoint.
type Authorization struct {
	// Names are the query parameter names of the provider's document.
	Names AuthorizationNames
	// PKCE says whether the provider's code exchange can carry a code_verifier, so that
	// spec.authorization.pkce may be S256. Aurinko's exchange has no body.
	PKCE bool
	// PKCEByDefault says whether spec.authorization.pkce defaults to S256 (Generic): the
	// named providers' documents do not describe PKCE, so for them it is Disabled.
	PKCEByDefault bool
	// DefaultParameters are sent unless spec.authorization.parameters sets them
	// (Aurinko's accountRole=primary).
	DefaultParameters map[string]string
	// RequiredParameters must be set by spec.authorization.parameters (Aurinko's
	// serviceType: which sign-in it shows).
	RequiredParameters []string
}

// AuthorizationNames are the names of the query parameters an authorization request
// sends itself.
type AuthorizationNames struct {
	ClientID, RedirectURI, ResponseType, Scope, State string
}

// rfc6749Names are RFC 6749 section 4.1.1's names, which Aura, Aston Club and Generic use.
var rfc6749Names = AuthorizationNames{
	ClientID: "client_id", RedirectURI: "redirect_uri", ResponseType: "response_type", Scope: "scope", State: "state",
}

// RFC 7636 section 4.3's parameters, and the only method sent.
const (
	paramCodeChallenge       = "code_challenge"
	paramCodeChallengeMethod = "code_challenge_method"
	methodS256               = "S256"
)

// ReservedParameters are the names spec.authorization.parameters cannot set: those the
// request sends itself, and RFC 7636's even where PKCE is off (a challenge whose verifier
// the operator does not hold would make the code unusable).
func (a Authorization) ReservedParameters() []string {
	n := a.Names
	return []string{n.ClientID, n.RedirectURI, n.ResponseType, n.Scope, n.State, paramCodeChallenge, paramCodeChallengeMethod}
}

// authorizer is a Provider with an authorization endpoint: every one but Aurora, whose
// grant is client credentials.
type authorizer interface {
	Provider
	// Authorization declares the provider's authorization endpoint.
	Authorization() Authorization
	// authorizeEndpoint derives the endpoint from the spec, when it does not name one.
	authorizeEndpoint(ctx context.Context, c *Client, req *AuthorizationRequest) (string, error)
	// checkCallback checks what the provider's redirect back carries besides code and
	// state (Aurinko's status, Aston Club's grant_type).
	checkCallback(query url.Values) error
}

// AuthorizationOf returns what provider p declares about its authorization endpoint; false
// for a provider without one (Aurora) or unknown to this package.
func AuthorizationOf(p oauthv1alpha1.Provider) (Authorization, bool) {
	if a, ok := registry[p].(authorizer); ok {
		return a.Authorization(), true
	}
	return Authorization{}, false
}

// exchangeTraits are the traits a token request is checked against: the provider's, and
// for a provider whose grant Secret holds no code but which has an authorization endpoint
// (Generic), the code of the operator's own authorization request, exchanged with its
// redirect_uri (RFC 6749 section 4.1.3: required when the authorization request had one,
// as the operator's always has). The controller reads codes from grant Secrets by the
// provider's Traits alone.
func exchangeTraits(p Provider) Traits {
	t := p.Traits()
	if _, ok := p.(authorizer); ok && !t.Code {
		t.Code, t.CodeRequires = true, []string{GrantKeyRedirectURI}
	}
	return t
}

// opAuthorization names the failing operation in an *Error of AuthorizationURL.
const opAuthorization = "authorization request"

// authorizationError is a refused AuthorizationURL: only a change of the spec helps.
func authorizationError(format string, args ...any) error {
	return &Error{Kind: BadRequest, Op: opAuthorization, Err: fmt.Errorf(format, args...)}
}

// AuthorizationURL returns the URL of req's authorization request, in its provider's
// dialect: the endpoint (req.AuthorizeURL, else derived from the token URL or, for
// Generic, discovered from the issuer), its own query kept (RFC 6749 section 3.1), and the
// request's parameters. Only Generic's discovery sends a request. An error is an *Error
// naming what to change: BadRequest, or the discovery's kind.
func (c *Client) AuthorizationURL(ctx context.Context, req *AuthorizationRequest) (string, error) {
	if req == nil {
		return "", authorizationError("no authorization request")
	}
	if c == nil {
		c = &Client{}
	}
	a, ok := registry[req.Provider].(authorizer)
	if !ok {
		return "", authorizationError("provider %q has no authorization endpoint", req.Provider)
	}
	decl := a.Authorization()
	params, err := authorizationParameters(req, decl)
	if err != nil {
		return "", err
	}
	endpoint := req.AuthorizeURL
	if endpoint == "" {
		ctx, cancel := context.WithTimeout(ctx, c.timeout())
		defer cancel()
		if endpoint, err = a.authorizeEndpoint(ctx, c, req); err != nil {
			if e, ok := errors.AsType[*Error](err); ok {
				out := *e
				out.Op = opAuthorization
				return "", &out
			}
			return "", err
		}
	}
	u, err := checkAuthorizeEndpoint(endpoint)
	if err != nil {
		return "", err
	}
	query := u.Query()
	for _, name := range slices.Sorted(maps.Keys(params)) {
		if query.Has(name) {
			return "", authorizationError("the authorization endpoint's own query sets %s, which the request sends itself", name)
		}
		query[name] = params[name]
	}
	u.RawQuery = query.Encode()
	return u.String(), nil
}

// authorizationParameters checks req and returns the query it sends, in decl's names.
func authorizationParameters(req *AuthorizationRequest, decl Authorization) (url.Values, error) {
	switch {
	case req.ClientID == "":
		return nil, authorizationError("no client id")
	case req.State == "":
		// RFC 6749 section 10.12: without it the redirect back could be anyone's.
		return nil, authorizationError("no state")
	}
	if err := checkRedirectURI(req.RedirectURI); err != nil {
		return nil, err
	}
	n := decl.Names
	q := url.Values{}
	q.Set(n.ClientID, req.ClientID)
	q.Set(n.RedirectURI, req.RedirectURI)
	q.Set(n.ResponseType, "code")
	q.Set(n.State, req.State)
	if len(req.Scopes) > 0 {
		q.Set(n.Scope, strings.Join(req.Scopes, " "))
	}
	if req.CodeChallenge != "" {
		if !decl.PKCE {
			return nil, authorizationError("provider %s takes no PKCE: its code exchange cannot carry a code_verifier", req.Provider)
		}
		if err := checkPKCEValue("code challenge", req.CodeChallenge); err != nil {
			return nil, authorizationError("%w", err)
		}
		q.Set(paramCodeChallenge, req.CodeChallenge)
		q.Set(paramCodeChallengeMethod, methodS256)
	}
	reserved := decl.ReservedParameters()
	for _, name := range slices.Sorted(maps.Keys(req.Parameters)) {
		switch {
		case name == "":
			return nil, authorizationError("spec.authorization.parameters has an empty name")
		case slices.Contains(reserved, name):
			// The API server refuses these too: they would replace what the request sends.
			return nil, authorizationError("spec.authorization.parameters must not set %s", name)
		}
		q.Set(name, req.Parameters[name])
	}
	for name, value := range decl.DefaultParameters {
		if !q.Has(name) {
			q.Set(name, value)
		}
	}
	for _, name := range decl.RequiredParameters {
		if q.Get(name) == "" {
			return nil, authorizationError("provider %s needs %s in spec.authorization.parameters", req.Provider, name)
		}
	}
	return q, nil
}

// checkAuthorizeEndpoint enforces https (http only to loopback hosts), no credentials and
// no fragment (RFC 6749 section 3.1) on an authorization endpoint.
func checkAuthorizeEndpoint(raw string) (*url.URL, error) {
	return checkBrowserURL("the authorization endpoint", raw, "RFC 6749 section 3.1")
}

// checkRedirectURI enforces what api.md says of spec.authorization.redirectURI, and RFC
// 6749 section 3.1.2's absolute URI without fragment.
func checkRedirectURI(raw string) error {
	if raw == "" {
		return authorizationError("no redirect URI")
	}
	_, err := checkBrowserURL("the redirect URI", raw, "RFC 6749 section 3.1.2")
	return err
}

// checkBrowserURL checks a URL a browser is sent to: absolute, https (http only to a
// loopback host, as for token endpoints), without credentials or fragment.
func checkBrowserURL(what, raw, fragmentRule string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return nil, authorizationError("%s %q is not an absolute URL", what, truncate(printable(raw), 100))
	case checkURL(u.Scheme+"://"+u.Host) != nil:
		return nil, authorizationError("%s %s must use https (http only for loopback hosts)", what, u.Redacted())
	case u.User != nil:
		return nil, authorizationError("%s must not carry credentials", what)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, authorizationError("%s must have no fragment (%s)", what, fragmentRule)
	}
	return u, nil
}

// replacePath derives an endpoint from a token URL by replacing the documented path at its
// end: scheme, host, port and any path prefix are kept.
func replacePath(tokenURL, documented, replacement string) (string, error) {
	u, err := url.Parse(tokenURL)
	if err != nil || u.Host == "" {
		return "", authorizationError("spec.tokenURL is not an absolute URL")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", authorizationError("spec.tokenURL has a query or fragment, so no authorization endpoint is derived from it: set spec.authorization.authorizeURL")
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	if !strings.HasSuffix(path, documented) {
		return "", authorizationError("spec.tokenURL does not end in %s, so no authorization endpoint is derived from it: set spec.authorization.authorizeURL", documented)
	}
	return u.Scheme + "://" + u.Host + strings.TrimSuffix(path, documented) + replacement, nil
}

// Callback is what an authorization's redirect back carries.
type Callback struct {
	// Code is the one-time authorization code: a secret, to exchange at once.
	Code string
	// State is the state of the request the redirect answers, as the provider echoed it
	// ("" when it sent none).
	State string
}

// CallbackError is the provider's refusal, as its redirect back says it (RFC 6749 section
// 4.1.2.1): access_denied when the person denied the request.
type CallbackError struct {
	// Code is the provider's error, or for Aurinko its status other than success.
	Code string
	// Description is the provider's error_description: one printable line, truncated,
	// without the code.
	Description string
}

// Error implements error.
func (e *CallbackError) Error() string {
	msg := "the provider refused the authorization: " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// ErrMalformedCallback is the error, wrapped, of a redirect back that is neither a code nor
// the provider's refusal: a parameter sent twice, no code, a dialect's marker missing.
var ErrMalformedCallback = errors.New("malformed authorization callback")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedCallback, fmt.Sprintf(format, args...))
}

// maxErrorCode bounds the provider's error code in error text.
const maxErrorCode = 64

// ParseCallback reads the query of an authorization's redirect back, in provider p's
// dialect: the code and state, or the provider's refusal as a *CallbackError (with the
// state, when it sent one, in the Callback), or an error wrapping ErrMalformedCallback.
// No error carries the code.
func ParseCallback(p oauthv1alpha1.Provider, query url.Values) (Callback, error) {
	a, ok := registry[p].(authorizer)
	if !ok {
		return Callback{}, fmt.Errorf("provider %q has no authorization endpoint", p)
	}
	for _, name := range slices.Sorted(maps.Keys(query)) {
		if len(query[name]) > 1 {
			// RFC 6749 section 3.1: which one would count?
			return Callback{}, malformed("%s sent more than once", truncate(printable(name), maxErrorCode))
		}
	}
	cb := Callback{State: query.Get("state")}
	if query.Has("error") && query.Get("error") == "" {
		// Neither a refusal nor plainly not one.
		return cb, malformed("an empty error")
	}
	if code := query.Get("error"); code != "" {
		red := strings.NewReplacer(callbackSecrets(query)...)
		return cb, &CallbackError{
			Code:        truncate(printable(red.Replace(code)), maxErrorCode),
			Description: truncate(printable(red.Replace(query.Get("error_description"))), maxDescription),
		}
	}
	if err := a.checkCallback(query); err != nil {
		return cb, err
	}
	if query.Get("code") == "" {
		return cb, malformed("no code")
	}
	cb.Code = query.Get("code")
	return cb, nil
}

// callbackSecrets are Replacer pairs that hide a redirect's code, as it is and escaped, in
// a provider's error text that echoes it.
func callbackSecrets(query url.Values) []string {
	code := query.Get("code")
	if code == "" {
		return nil
	}
	secrets := []string{code, url.QueryEscape(code), url.PathEscape(code)}
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, s := range slices.Compact(secrets) {
		pairs = append(pairs, s, "[redacted]")
	}
	return pairs
}
