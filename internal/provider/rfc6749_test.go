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
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		kind   Kind
	}{
		{"a 5xx is transient whatever its code", 503, jsonCT, `{"error":"invalid_grant"}`, Transient},
		{"a 429 is transient", 429, nil, ``, Transient},
		{"invalid_grant asks for re-authorisation", 400, jsonCT, `{"error":"invalid_grant"}`, InvalidGrant},
		{"invalid_grant in a 200 is still invalid_grant", 200, jsonCT, `{"error":"invalid_grant"}`, InvalidGrant},
		{"invalid_client is a bad client", 401, jsonCT, `{"error":"invalid_client"}`, InvalidClient},
		{"unauthorized_client is a bad client", 400, jsonCT, `{"error":"unauthorized_client"}`, InvalidClient},
		{"a 401 without a code is transient (no OAuth error came)", 401, nil, ``, Transient},
		{"temporarily_unavailable in a 400 is transient", 400, jsonCT, `{"error":"temporarily_unavailable"}`, Transient},
		{"invalid_scope is a bad request", 400, jsonCT, `{"error":"invalid_scope"}`, BadRequest},
		{"a 404 page is transient (no OAuth error came)", 404, http.Header{"Content-Type": {"text/html"}}, `<html>`, Transient},
		{"a redirect is a bad request", 307, nil, ``, BadRequest},
		{"a form-encoded error is read", 400, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, `error=invalid_grant`, InvalidGrant},
		{"JSON labelled text/plain is read as JSON", 400, http.Header{"Content-Type": {"text/plain"}}, `{"error":"invalid_grant"}`, InvalidGrant},
		{"an error that is not a string is no code, so transient", 400, jsonCT, `{"error":{"code":"invalid_grant"}}`, Transient},
		{"a 502 with an HTML body is transient", 502, nil, `<html>bad gateway</html>`, Transient},
		{"invalid_client with a 400 is a bad client", 400, nil, `{"error":"invalid_client"}`, InvalidClient},
		{"invalid_request is a bad request", 400, nil, `{"error":"invalid_request"}`, BadRequest},
		{"a 403 access_denied is transient (not a token endpoint error)", 403, nil, `{"error":"access_denied"}`, Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.status, tt.header, []byte(tt.body), newRedactor(&Request{})); got.Kind != tt.kind {
				t.Errorf("kind = %s (%v), want %s", got.Kind, got, tt.kind)
			}
		})
	}
}

func TestErrorTextIsRedactedBoundedAndOneLine(t *testing.T) {
	req := &Request{ClientSecret: "s3cr%t:x y", Grant: Grant{RefreshToken: "rt/with+plus-0123456789", Code: "code?1234"}}
	red := newRedactor(req)
	for _, desc := range []string{
		"secret s3cr%t:x y form s3cr%25t%3Ax+y",
		"refresh rt%2Fwith%2Bplus-0123456789 and code%3F1234",
		strings.Repeat("x", 190) + "rt/with+plus-0123456789",
		"two\nlines\x00 code?1234",
	} {
		body, _ := json.Marshal(map[string]string{"error": "invalid_grant", "error_description": desc})
		msg := classify(400, http.Header{"Content-Type": {"application/json"}}, body, red).Error()
		for _, leak := range []string{"s3cr", "rt/with", "rt%2F", "code?", "code%3F", "\n", "\x00"} {
			if strings.Contains(msg, leak) {
				t.Errorf("%q leaks %q", msg, leak)
			}
		}
		if len([]rune(msg)) > 300 {
			t.Errorf("unbounded: %q", msg)
		}
	}
	err := red.error(errors.Join(errors.New(`Post "http://h/v1/auth/token/code%3F1234": boom`), errResponseTooLarge))
	if strings.Contains(err.Error(), "code%3F1234") || !errors.Is(err, errResponseTooLarge) {
		t.Errorf("error() = %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"reads seconds", "7", 7 * time.Second},
		{"reads zero seconds", "0", 0},
		{"trims spaces around seconds", " 30 ", 30 * time.Second},
		{"reads an RFC 850 date", now.Add(time.Hour).Format(time.RFC850), time.Hour},
		{"ignores fractional seconds", "1.5", 0},
		{"is zero when absent", "", 0},
		{"reads an HTTP-date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"reads a date in the past as zero", now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"bounds a huge number", "99999999999999999", MaxRetryAfter},
		{"ignores a negative number", "-5", 0},
		{"ignores garbage", "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryAfter(tt.value, now); got != tt.want {
				t.Errorf("retryAfter(%q) = %s, want %s", tt.value, got, tt.want)
			}
		})
	}
}

func TestExpiryReading(t *testing.T) {
	jwt := func(claims string) string {
		return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".sig"
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		body string
		want time.Time
		err  bool
	}{
		{"expires_in as a number", `{"access_token":"a","expires_in":60}`, now.Add(time.Minute), false},
		{"expires_in as a string", `{"access_token":"a","expires_in":"60"}`, now.Add(time.Minute), false},
		{"expires_in with a fraction is an unknown lifetime", `{"access_token":"a","expires_in":59.9}`, time.Time{}, false},
		{"expires_in 0 is absent, not expired", `{"access_token":"a","expires_in":0}`, time.Time{}, false},
		{"a JWT's exp with a fraction, as Aura's", `{"access_token":"` + jwt(`{"exp":1752871693.5}`) + `"}`, time.Unix(1752871693, 5e8), false},
		{"a JWT's absurd exp is no expiry", `{"access_token":"` + jwt(`{"exp":1e300}`) + `"}`, time.Time{}, false},
		{"a JWT with a negative exp is no expiry", `{"access_token":"` + jwt(`{"exp":-1}`) + `"}`, time.Time{}, false},
		{"expires_in NaN is an unknown lifetime", `{"access_token":"a","expires_in":"NaN"}`, time.Time{}, false},
		{"expires_in Inf is an unknown lifetime", `{"access_token":"a","expires_in":"+Inf"}`, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := ParseTokenResponse([]byte(tt.body), now)
			if tt.err {
				if err == nil {
					t.Errorf("got %+v, want an error", tok)
				}
				return
			}
			if err != nil || !tok.Expiry.Equal(tt.want) {
				t.Errorf("got %v %v, want expiry %s", tok, err, tt.want)
			}
		})
	}
}

func TestIdentifier(t *testing.T) {
	for raw, want := range map[string]string{
		`123`: "123", `12345678901234567890`: "12345678901234567890", `1.23e2`: "123", `-7`: "-7",
		`"acc-9"`: "acc-9", `null`: "", `1.5`: "1.5", `{}`: "", `true`: "",
	} {
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if got := identifier(v); got != want {
			t.Errorf("identifier(%s) = %q; want %q", raw, got, want)
		}
	}
}
