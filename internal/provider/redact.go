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
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
)

// redactor replaces every secret of a request in text: the client secret, the refresh
// token, the code and the PKCE verifier, as they are and as the request encoded them (form,
// path, HTTP Basic), however short, and any token an answer echoed.
type redactor struct{ r *strings.Replacer }

func newRedactor(req *Request, echoed ...string) redactor {
	secrets := slices.Clone(echoed)
	for _, s := range []string{req.ClientSecret, req.Grant.RefreshToken, req.Grant.Code, req.Grant.CodeVerifier} {
		secrets = append(secrets, s, url.QueryEscape(s), url.PathEscape(s))
	}
	if req.ClientSecret != "" {
		// A provider echoing the Authorization header.
		secrets = append(secrets, basicAuth(req.ClientID, req.ClientSecret, false), basicAuth(req.ClientID, req.ClientSecret, true))
		for i, s := range secrets[len(secrets)-2:] {
			secrets[len(secrets)-2+i] = strings.TrimPrefix(s, "Basic ")
		}
	}
	secrets = slices.DeleteFunc(secrets, func(s string) bool { return s == "" })
	// Longest first, so that a secret inside another is not half replaced.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	args := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		args = append(args, s, "[redacted]")
	}
	return redactor{r: strings.NewReplacer(args...)}
}

// echoedTokens are the token-like values of an answer that is not a token (an error beside
// an access token, say), so that its error text cannot carry them.
func echoedTokens(header http.Header, body []byte) []string {
	fields, err := decodeAnswer(header, body)
	if err != nil {
		return nil
	}
	var out []string
	for _, k := range []string{"access_token", GrantKeyRefreshToken, "id_token", "accessToken", "userSession"} {
		if v, ok := fields[k].(string); ok {
			out = append(out, v)
		}
	}
	return out
}

// redact applies the request's redactor to an error leaving Client.Token, so that no path,
// however it failed, returns a secret. The provider's code and description were redacted
// already, before truncation (classify).
func redact(req *Request, err error) error {
	red := newRedactor(req)
	e, ok := errors.AsType[*Error](err)
	if !ok {
		return &Error{Kind: Transient, Err: red.error(err)}
	}
	out := *e
	out.Err = red.error(e.Err)
	return &out
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
