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
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// Fault is a departure from the documents that real token endpoints, and the gateways,
// firewalls and load balancers in front of them, send. The strict fakes answer only as
// the documents say unless told otherwise with InjectFault.
type Fault int

// The faults. Those that shape a lifetime or a refresh token leave Aurinko's answers, which
// carry neither, as they are.
const (
	// FaultHTMLForbidden: a web application firewall's HTML 403 page, no OAuth error.
	FaultHTMLForbidden Fault = iota + 1
	// FaultRequestTimeout: a load balancer's 408, no OAuth error.
	FaultRequestTimeout
	// FaultErrorIn200: {"error":"invalid_grant"} with status 200 and no access token; the
	// grant itself stays valid.
	FaultErrorIn200
	// FaultJSONAsTextPlain: the token answer labelled text/plain.
	FaultJSONAsTextPlain
	// FaultFloatExpiresIn: expires_in with a fraction (the lifetime plus half a second).
	FaultFloatExpiresIn
	// FaultExpiredToken: expires_in 1, a token all but expired on arrival.
	FaultExpiredToken
	// FaultExpiredJWT: the access token a JWT whose exp is an hour past, and no
	// expires_in.
	FaultExpiredJWT
	// FaultRotatedRefreshTokenUnreadableExpiresIn: a new refresh token (the one presented
	// stops working, as Aura's do) in an answer whose expires_in is not a number.
	FaultRotatedRefreshTokenUnreadableExpiresIn
)

// cannedFaults answer in the token endpoint's stead: the request changes nothing.
var cannedFaults = map[Fault]Failure{
	FaultHTMLForbidden: {Status: http.StatusForbidden, Header: http.Header{headerContentType: {"text/html; charset=utf-8"}},
		Body: "<html><head><title>403 Forbidden</title></head><body><h1>Request blocked</h1><p>Your request was blocked by the web application firewall.</p></body></html>"},
	FaultRequestTimeout: {Status: http.StatusRequestTimeout, Header: http.Header{headerContentType: {"text/html"}, "Connection": {"close"}},
		Body: "<html><body><h1>408 Request Time-out</h1>Your browser didn't send a complete request in time.</body></html>"},
	FaultErrorIn200: {Status: http.StatusOK, Header: http.Header{headerContentType: {"application/json"}},
		Body: `{"error":"invalid_grant","error_description":"The grant is invalid (answered with a 200)"}`},
}

// InjectFault makes the next n token requests meet f. A canned fault answers in the
// endpoint's stead and changes nothing; the others shape an otherwise normal answer (its
// code or refresh token is spent as usual). FailNextWith's failures come first.
func (s *Server) InjectFault(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// shape applies a fault to a token answer and returns its content type; called with s.mu
// held.
func (s *Server) shape(f Fault, a tokenAnswer, p *params, grant provider.GrantType) string {
	at, _ := a["access_token"].(string)
	switch f {
	case FaultJSONAsTextPlain:
		return "text/plain; charset=utf-8"
	case FaultFloatExpiresIn:
		if _, ok := a["expires_in"]; ok {
			a["expires_in"] = s.lifetime.Seconds() + 0.5
		}
	case FaultExpiredToken:
		a["expires_in"] = 1
		if at != "" {
			s.access[at] = time.Now().Add(time.Second)
		}
	case FaultExpiredJWT:
		if at != "" {
			delete(s.access, at)
			exp := time.Now().Add(-time.Hour)
			jwt := "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":`+strconv.FormatInt(exp.Unix(), 10)+`}`)) + "." + randomString("sig-")
			s.access[jwt] = exp
			s.material = append(s.material, jwt)
			a["access_token"] = jwt
			delete(a, "expires_in")
		}
	case FaultRotatedRefreshTokenUnreadableExpiresIn:
		a["expires_in"] = "3600 seconds"
		if c, ok := s.refreshTokens[p.fields["refresh_token"]]; ok && grant == provider.GrantRefreshToken {
			c.used = true
			a["refresh_token"] = s.mintRefreshToken(c.family)
		}
	}
	return contentJSON
}
