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
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// errorResponse is RFC 6749 section 5.2.
type errorResponse struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// maxDescription bounds the provider's error_description in error text.
const maxDescription = 200

// tokenEndpointErrors are the RFC 6749 section 5.2 codes, and the kind each one means: the
// only answers that make a token request fail for good. Anything else, a gateway's page, a
// firewall's 403, a load balancer's 408, an authorization-endpoint code, may pass: retried.
var tokenEndpointErrors = map[string]Kind{
	"invalid_grant":          InvalidGrant,
	"invalid_client":         InvalidClient,
	"unauthorized_client":    InvalidClient,
	"invalid_request":        BadRequest,
	"invalid_scope":          BadRequest,
	"unsupported_grant_type": BadRequest,
}

// classify turns an answer that is not a token (a non-2xx, or an error in a 2xx) into an
// *Error.
func classify(status int, header http.Header, body []byte, red redactor) *Error {
	e := &Error{Kind: Transient, StatusCode: status}
	er := parseErrorResponse(header, body)
	// Redacted before truncated: cut first, a secret straddling the cut would keep its
	// prefix out of the redactor's reach.
	e.Code = truncate(printable(red.String(er.Error)), 64)
	e.Description = truncate(printable(red.String(er.ErrorDescription)), maxDescription)
	kind, permanent := tokenEndpointErrors[er.Error]
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		e.RetryAfter = retryAfter(header.Get("Retry-After"), time.Now())
	case status >= 300 && status < 400:
		e.Kind = BadRequest
		e.Err = errors.New("the token endpoint redirected; redirects are not followed")
	case permanent:
		e.Kind = kind
	case er.Error == "":
		// Not the token endpoint's answer, or not one that says what is wrong: what came
		// back is named, the body (which may echo the request) is not.
		e.RetryAfter = retryAfter(header.Get("Retry-After"), time.Now())
		e.Err = fmt.Errorf("an answer of type %s without an OAuth error; a gateway or firewall in front of the token endpoint may have sent it", mediaType(header))
	default:
		e.RetryAfter = retryAfter(header.Get("Retry-After"), time.Now())
		e.Err = errors.New("not an RFC 6749 token endpoint error; retried")
	}
	return e
}

// mediaType names a response's content type, without its parameters, for messages.
func mediaType(header http.Header) string {
	v := header.Get("Content-Type")
	if v == "" {
		return "(none)"
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		return "(unreadable)"
	}
	return truncate(printable(mt), 64)
}

// parseErrorResponse reads `error` and `error_description` from a body decodeAnswer can
// read (JSON whatever its label, or a form); anything else has neither. Only strings count:
// some APIs put an object under "error".
func parseErrorResponse(header http.Header, body []byte) errorResponse {
	fields, err := decodeAnswer(header, body)
	if err != nil {
		return errorResponse{}
	}
	code, _ := fields["error"].(string)
	desc, _ := fields["error_description"].(string)
	return errorResponse{Error: code, ErrorDescription: desc}
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

// MaxRetryAfter bounds a provider's Retry-After (Error.RetryAfter), so that an absurd value
// cannot overflow or park a connection for days: the one cap, for the controller's
// scheduling too.
const MaxRetryAfter = time.Hour

// retryAfter reads a Retry-After header: seconds or an HTTP-date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(v, 10, 64); err == nil {
		return time.Duration(min(s, uint64(MaxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), MaxRetryAfter)
	}
	return 0
}
