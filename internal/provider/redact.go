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
	"cmp"
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// redacted replaces a secret value in error text.
const redacted = "[redacted]"

// Limits on provider-supplied error text: enough to say what went wrong, short enough for a
// condition message and an event.
const (
	maxCodeLen        = 64
	maxDescriptionLen = 200
)

// redactor removes a request's secret values (client secret, refresh token, code) from text
// that leaves the package. Providers echo input in error_description, and Go's *url.Error
// quotes the request URL, which for Aurinko holds the code; so every message derived from a
// response or a transport error goes through redact before it is stored in an *Error.
type redactor []string

// newRedactor lists each secret of req as sent and in the escaped forms it takes in a
// form body, a query or a URL path, longest first so a secret containing another is
// replaced whole.
func newRedactor(req *Request) redactor {
	var r redactor
	for _, s := range []string{req.ClientSecret, req.Grant.RefreshToken, req.Grant.Code} {
		if s == "" {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if !slices.Contains(r, form) {
				r = append(r, form)
			}
		}
	}
	slices.SortFunc(r, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return r
}

func (r redactor) redact(s string) string {
	for _, secret := range r {
		s = strings.ReplaceAll(s, secret, redacted)
	}
	return s
}

// wrap returns err with its text redacted. The original chain is dropped, because a caller
// formatting it with %+v or walking it (errors.AsType[*url.Error]) would find the secret
// in the URL again. What callers may test for is kept: the sentinels for errors.Is, and a
// *net.OpError, whose text names addresses only, never the URL.
func (r redactor) wrap(err error) error {
	if err == nil {
		return nil
	}
	re := &redactedError{msg: r.redact(err.Error())}
	for _, sentinel := range []error{context.DeadlineExceeded, context.Canceled, os.ErrDeadlineExceeded, errResponseTooLarge, errRedirectRefused} {
		if errors.Is(err, sentinel) {
			re.causes = append(re.causes, sentinel)
		}
	}
	if op, ok := errors.AsType[*net.OpError](err); ok {
		re.causes = append(re.causes, op)
	}
	return re
}

type redactedError struct {
	msg    string
	causes []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.causes }

// clip redacts s, then makes it one printable line of at most max runes. Redacting first
// matters: truncating first could cut a secret in two and leave its prefix unredacted.
func (r redactor) clip(s string, max int) string {
	s = r.redact(s)
	s = strings.Map(func(c rune) rune {
		if c == utf8.RuneError || !unicode.IsPrint(c) {
			return ' '
		}
		return c
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return s
}
