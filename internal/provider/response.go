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
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// parser reads a 2xx answer into a token: ParseTokenResponse's RFC 6749 section 5.1, or a
// provider's own format. An error means the answer holds no access token.
type parser func(header http.Header, body []byte, now time.Time) (*Token, error)

// answer turns a response into a token with parse, or into a classified error. Every
// provider's answers come through here, whatever sent the request.
func (c *Client) answer(req *Request, status int, header http.Header, raw []byte, parse parser) (*Token, error) {
	red := newRedactor(req, echoedTokens(header, raw)...)
	if status < 200 || status > 299 {
		return nil, classify(status, header, raw, red)
	}
	tok, err := parse(header, raw, c.now())
	if err == nil {
		// RFC 6749 section 5.1 asks for access_token and token_type only: with an access
		// token, a 2xx is a token, whatever else it holds.
		return tok, nil
	}
	if parseErrorResponse(header, raw).Error != "" {
		// RFC 6749 says 400, but some servers answer an error with a 200.
		return nil, classify(status, header, raw, red)
	}
	return nil, &Error{Kind: Transient, StatusCode: status, Err: err}
}

// ParseTokenResponse reads an RFC 6749 section 5.1 response body (a JSON object).
func ParseTokenResponse(body []byte, now time.Time) (*Token, error) {
	return parseTokenResponse(nil, body, now)
}

// parseTokenResponse reads an RFC 6749 section 5.1 answer leniently: only access_token is
// needed (a missing token_type is Bearer), and an optional field that cannot be read is
// left out rather than costing the token, and with it a rotated refresh token.
func parseTokenResponse(header http.Header, body []byte, now time.Time) (*Token, error) {
	fields, err := decodeAnswer(header, body)
	if err != nil {
		return nil, err
	}
	at, _ := fields["access_token"].(string)
	if at == "" {
		return nil, errors.New("malformed token response: no access_token")
	}
	tokenType, _ := fields["token_type"].(string)
	refreshToken, _ := fields["refresh_token"].(string)
	return &Token{
		AccessToken:  at,
		TokenType:    normaliseType(tokenType),
		Expiry:       expiry(fields["expires_in"], at, now),
		Scope:        scope(fields["scope"]),
		RefreshToken: refreshToken,
	}, nil
}

// decodeAnswer reads a response body's top-level fields: a JSON object whatever its label
// (sloppy servers call JSON text/plain, or nothing), else a form when so labelled (or
// text/plain, as GitHub-style servers answer). JSON numbers stay json.Number, so that no
// digit of an id is lost.
func decodeAnswer(header http.Header, body []byte) (map[string]any, error) {
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var fields map[string]any
		if err := dec.Decode(&fields); err != nil {
			return nil, errors.New("malformed token response: unreadable JSON")
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, errors.New("malformed token response: data after the JSON object")
		}
		return fields, nil
	}
	mt, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" || mt == "text/plain" {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errors.New("malformed token response: unreadable form")
		}
		fields := make(map[string]any, len(v))
		for k := range v {
			fields[k] = v.Get(k)
		}
		return fields, nil
	}
	return nil, errors.New("malformed token response: neither a JSON object nor a form")
}

// maxLifetime is the longest expires_in taken at its word (Aura's tokens live two years);
// beyond it the lifetime is unknown.
const maxLifetime = 10 * 365 * 24 * time.Hour

// expiry is when the access token expires: now plus expires_in when that is a whole
// number of seconds between 1 and maxLifetime (a JSON number, or a string of digits);
// otherwise the lifetime is unknown, and it is the exp of a JWT access token, or none. An
// expires_in of 0, taken literally, would be a token already expired and a refresh loop.
func expiry(expiresIn any, accessToken string, now time.Time) time.Time {
	var seconds int64
	var err error
	switch v := expiresIn.(type) {
	case json.Number:
		seconds, err = v.Int64()
		if err != nil {
			// 3.6e3 is a whole number; 3600.5 is not a number of seconds.
			f, ferr := v.Float64()
			if ferr == nil && f == math.Trunc(f) && f >= 1 && f <= maxLifetime.Seconds() {
				seconds, err = int64(f), nil
			}
		}
	case string:
		seconds, err = strconv.ParseInt(v, 10, 64)
	default:
		err = errors.New("absent, or not a number")
	}
	if err != nil || seconds < 1 || seconds > int64(maxLifetime/time.Second) {
		return jwtExpiry(accessToken)
	}
	return now.Add(time.Duration(seconds) * time.Second)
}

// scope reads the granted scope: a string, or an array of strings as some servers send.
func scope(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case []any:
		parts := make([]string, 0, len(s))
		for _, e := range s {
			if p, ok := e.(string); ok && p != "" {
				parts = append(parts, p)
			}
		}
		return strings.Join(parts, " ")
	}
	return ""
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
