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
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestClassifyKeepsCodeStatusAndRetryAfter checks what an error carries besides its kind.
func TestClassifyKeepsCodeStatusAndRetryAfter(t *testing.T) {
	retry := http.Header{"Retry-After": {"12"}}
	for _, tt := range []struct {
		name       string
		status     int
		header     http.Header
		body       string
		code       string
		retryAfter time.Duration
	}{
		{"a 429 carries its Retry-After and code", 429, retry, `{"error":"slow_down"}`, "slow_down", 12 * time.Second},
		{"a 503 carries its Retry-After", 503, retry, ``, "", 12 * time.Second},
		{"invalid_grant keeps its code, no Retry-After", 400, retry, `{"error":"invalid_grant","error_description":"expired"}`, "invalid_grant", 0},
		{"a 302 has no code", 302, http.Header{"Location": {"https://elsewhere.example/token"}}, ``, "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := classify(tt.status, tt.header, []byte(tt.body), newRedactor(&Request{}))
			if e.StatusCode != tt.status || e.Code != tt.code || e.RetryAfter != tt.retryAfter {
				t.Errorf("classify() = %+v, want status %d, code %q, RetryAfter %s", e, tt.status, tt.code, tt.retryAfter)
			}
		})
	}
}

func TestClassifyBoundsAndRedactsProviderText(t *testing.T) {
	const secret, refresh, code = "client-secret-value", "refresh-token-value", "code/value 1"
	red := newRedactor(&Request{ClientSecret: secret, Grant: Grant{RefreshToken: refresh, Code: code}})
	for _, tt := range []struct {
		name string
		body string
	}{
		{"redacts a client secret in error_description", `{"error":"invalid_client","error_description":"bad secret client-secret-value"}`},
		{"redacts a refresh token in error_description", `{"error":"invalid_grant","error_description":"refresh-token-value is revoked"}`},
		{"redacts a query-escaped code", `{"error":"invalid_grant","error_description":"code=code%2Fvalue+1 unknown"}`},
		{"redacts a path-escaped code", `{"error":"invalid_grant","error_description":"/token/code%2Fvalue%201 unknown"}`},
		{"redacts a secret in the error code", `{"error":"refresh-token-value"}`},
		{"bounds a long description", `{"error":"invalid_request","error_description":"` + strings.Repeat("long ", 500) + `"}`},
		{"bounds a long code", `{"error":"` + strings.Repeat("c", 500) + `"}`},
		{"keeps invalid UTF-8 out", "{\"error\":\"invalid_request\",\"error_description\":\"bad \xff\xfe bytes " + strings.Repeat("é", 300) + "\"}"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := classify(400, nil, []byte(tt.body), red)
			msg := e.Error()
			for _, s := range []string{secret, refresh, code, "code%2Fvalue"} {
				if strings.Contains(msg, s) {
					t.Errorf("error text %q contains %q", msg, s)
				}
			}
			if !utf8.ValidString(msg) || len(e.Description) > 4*maxDescription+4 || len(e.Code) > 4*64+4 {
				t.Errorf("unbounded or invalid error text (%d bytes): %q", len(msg), msg)
			}
			if utf8.RuneCountInString(e.Description) > maxDescription+1 {
				t.Errorf("description has %d runes, want at most %d and an ellipsis", utf8.RuneCountInString(e.Description), maxDescription)
			}
		})
	}
	t.Run("redacts a secret that straddles the truncation point", func(t *testing.T) {
		for pad := maxDescription - len(refresh) + 1; pad < maxDescription; pad++ {
			body := `{"error":"invalid_grant","error_description":"` + strings.Repeat("x", pad) + refresh + `"}`
			e := classify(400, nil, []byte(body), red)
			if strings.Contains(e.Description, refresh[:8]) {
				t.Fatalf("a secret cut by the %d-byte truncation leaks its prefix: %q", maxDescription, e.Description)
			}
		}
	})
}

// TestOnlyOAuthErrorsArePermanent: a 4xx is permanent only when the provider sent one of the
// RFC 6749 section 5.2 codes; what a gateway, firewall or load balancer answers in front of
// it (an HTML 403, a 408, a 425, a bare 401) is transient and says what came back.
func TestOnlyOAuthErrorsArePermanent(t *testing.T) {
	const secret = "rt-echoed-in-the-page"
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	for _, tt := range []struct {
		name   string
		status int
		header http.Header
		body   string
		kind   Kind
		says   string // part of the message, for the answers without an OAuth error
	}{
		{"an HTML 403 from a WAF is transient", 403, html, `<html><body>Request blocked. ` + secret + `</body></html>`, Transient, "text/html"},
		{"an HTML 404 from a gateway is transient", 404, html, `<html>Not Found</html>`, Transient, "text/html"},
		{"a 408 from a load balancer is transient", 408, nil, ``, Transient, "408"},
		{"a 425 Too Early is transient", 425, nil, ``, Transient, "425"},
		{"a 401 without an error field is transient", 401, http.Header{"WWW-Authenticate": {`Basic realm="x"`}}, ``, Transient, "401"},
		{"a JSON 403 whose error is an object is transient", 403, jsonCT, `{"error":{"message":"forbidden"}}`, Transient, "application/json"},
		{"a 403 access_denied, not a token endpoint error, is transient", 403, jsonCT, `{"error":"access_denied"}`, Transient, ""},
		{"an unknown code with a 400 is transient", 400, jsonCT, `{"error":"no_such_code"}`, Transient, ""},
		{"invalid_grant is permanent", 400, jsonCT, `{"error":"invalid_grant"}`, InvalidGrant, ""},
		{"invalid_client is permanent", 401, jsonCT, `{"error":"invalid_client"}`, InvalidClient, ""},
		{"unauthorized_client is permanent", 400, jsonCT, `{"error":"unauthorized_client"}`, InvalidClient, ""},
		{"invalid_request is permanent", 400, jsonCT, `{"error":"invalid_request"}`, BadRequest, ""},
		{"invalid_scope is permanent", 400, jsonCT, `{"error":"invalid_scope"}`, BadRequest, ""},
		{"unsupported_grant_type is permanent", 400, jsonCT, `{"error":"unsupported_grant_type"}`, BadRequest, ""},
		{"a 429 stays transient", 429, nil, ``, Transient, ""},
		{"a 503 stays transient", 503, html, `<html>down</html>`, Transient, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := classify(tt.status, tt.header, []byte(tt.body), newRedactor(&Request{Grant: Grant{RefreshToken: secret}}))
			if e.Kind != tt.kind || e.StatusCode != tt.status {
				t.Fatalf("classify() = %s, HTTP %d (%v); want %s, HTTP %d", e.Kind, e.StatusCode, e, tt.kind, tt.status)
			}
			msg := e.Error()
			if !strings.Contains(msg, tt.says) {
				t.Errorf("message %q does not say what came back (%q)", msg, tt.says)
			}
			if strings.Contains(msg, secret) || strings.Contains(msg, "<html") {
				t.Errorf("message %q carries the body", msg)
			}
		})
	}
}
