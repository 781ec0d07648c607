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
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// tokenResponse is RFC 6749 section 5.1, tolerant of expires_in as a string.
type tokenResponse struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	RefreshToken string          `json:"refresh_token"`
	Scope        string          `json:"scope"`
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
