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

package provider_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// TestErrorClasses: every provider's path, against its fake, classifies each kind of
// failure alike, with exactly one request (no retry).
func TestErrorClasses(t *testing.T) {
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	for _, tt := range []struct {
		name      string
		grantOnly bool
		arrange   func(*providertest.Server, *provider.Request)
		want      provider.Kind
		check     func(*testing.T, *provider.Error)
	}{
		{"a 503 is transient", false, func(s *providertest.Server, _ *provider.Request) { s.FailNext(1, http.StatusServiceUnavailable) }, provider.Transient,
			func(t *testing.T, e *provider.Error) {
				if e.StatusCode != 503 || e.Code != "server_error" {
					t.Errorf("error = %+v, want HTTP 503 server_error", e)
				}
			}},
		{"a 500 is transient", false, func(s *providertest.Server, _ *provider.Request) { s.FailNext(1, http.StatusInternalServerError) }, provider.Transient,
			func(t *testing.T, e *provider.Error) {
				if e.StatusCode != 500 {
					t.Errorf("StatusCode = %d, want 500", e.StatusCode)
				}
			}},
		{"a 429 with Retry-After in seconds is transient and carries the wait", false, func(s *providertest.Server, _ *provider.Request) {
			s.FailNextWith(1, providertest.Failure{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"7"}}, Body: `{"error":"slow_down"}`})
		}, provider.Transient, func(t *testing.T, e *provider.Error) {
			if e.StatusCode != 429 || e.RetryAfter != 7*time.Second {
				t.Errorf("error = %+v, want HTTP 429 with RetryAfter 7s", e)
			}
		}},
		{"a 429 with Retry-After as an HTTP-date is transient and carries the wait", false, func(s *providertest.Server, _ *provider.Request) {
			when := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
			s.FailNextWith(1, providertest.Failure{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {when}}})
		}, provider.Transient, func(t *testing.T, e *provider.Error) {
			if e.RetryAfter < 58*time.Minute || e.RetryAfter > time.Hour+time.Second {
				t.Errorf("RetryAfter = %s, want about an hour", e.RetryAfter)
			}
		}},
		{"a 200 with malformed JSON is transient", false, func(s *providertest.Server, _ *provider.Request) {
			s.FailNextWith(1, providertest.Failure{Status: http.StatusOK, Header: jsonHeader, Body: `{"access_token": "x", `})
		}, provider.Transient, nil},
		{"a 200 without an access token is transient", false, func(s *providertest.Server, _ *provider.Request) {
			s.FailNextWith(1, providertest.Failure{Status: http.StatusOK, Header: jsonHeader, Body: `{"token_type":"Bearer","expires_in":3600}`})
		}, provider.Transient, nil},
		{"a revoked grant is invalid_grant", true, func(s *providertest.Server, _ *provider.Request) { s.RevokeGrants() }, provider.InvalidGrant,
			func(t *testing.T, e *provider.Error) {
				if e.Code != "invalid_grant" || e.StatusCode != 400 {
					t.Errorf("error = %+v, want HTTP 400 invalid_grant", e)
				}
			}},
		{"a wrong client secret is invalid_client", false, func(_ *providertest.Server, r *provider.Request) { r.ClientSecret = "not-the-secret" }, provider.InvalidClient,
			func(t *testing.T, e *provider.Error) {
				if e.StatusCode != 401 {
					t.Errorf("StatusCode = %d, want 401", e.StatusCode)
				}
			}},
		{"another 4xx error code is a bad request", false, func(s *providertest.Server, _ *provider.Request) {
			s.FailNextWith(1, providertest.Failure{Status: http.StatusBadRequest, Body: `{"error":"invalid_scope","error_description":"scope unknown"}`})
		}, provider.BadRequest, func(t *testing.T, e *provider.Error) {
			if e.Code != "invalid_scope" || e.Description != "scope unknown" {
				t.Errorf("error = %+v, want invalid_scope: scope unknown", e)
			}
		}},
		{"unauthorized_client is invalid_client", false, func(s *providertest.Server, _ *provider.Request) {
			s.FailNextWith(1, providertest.Failure{Status: http.StatusBadRequest, Body: `{"error":"unauthorized_client"}`})
		}, provider.InvalidClient, nil},
		{"a 403 without an error code is transient and says what came", false, func(s *providertest.Server, _ *provider.Request) {
			s.FailNextWith(1, providertest.Failure{Status: http.StatusForbidden, Body: `forbidden`})
		}, provider.Transient, func(t *testing.T, e *provider.Error) {
			if e.StatusCode != 403 || !strings.Contains(e.Error(), "without an OAuth error") {
				t.Errorf("error = %v, want HTTP 403 saying no OAuth error came", e)
			}
		}},
	} {
		for _, tg := range targets() {
			if tt.grantOnly && !tg.grant {
				continue
			}
			t.Run(tt.name+" ("+tg.name+")", func(t *testing.T) {
				fake := tg.start(providertest.Options{})
				defer fake.Close()
				req := tg.req(fake)
				tt.arrange(fake, req)
				e := mustFail(t, quickClient(), req, tt.want)
				if tt.check != nil {
					tt.check(t, e)
				}
				if got := fake.TotalRequests(); got != 1 {
					t.Errorf("token requests = %d, want exactly 1 (no retry)", got)
				}
				noRejections(t, fake)
			})
		}
	}
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
		kind   provider.Kind
		says   string // part of the message, for the answers without an OAuth error
	}{
		{"an HTML 403 from a WAF is transient", 403, html, `<html><body>Request blocked. ` + secret + `</body></html>`, provider.Transient, "text/html"},
		{"an HTML 404 from a gateway is transient", 404, html, `<html>Not Found</html>`, provider.Transient, "text/html"},
		{"a 408 from a load balancer is transient", 408, nil, ``, provider.Transient, "408"},
		{"a 425 Too Early is transient", 425, nil, ``, provider.Transient, "425"},
		{"a 401 without an error field is transient", 401, http.Header{"WWW-Authenticate": {`Basic realm="x"`}}, ``, provider.Transient, "401"},
		{"a JSON 403 whose error is an object is transient", 403, jsonCT, `{"error":{"message":"forbidden"}}`, provider.Transient, "application/json"},
		{"a 403 access_denied, not a token endpoint error, is transient", 403, jsonCT, `{"error":"access_denied"}`, provider.Transient, ""},
		{"an unknown code with a 400 is transient", 400, jsonCT, `{"error":"no_such_code"}`, provider.Transient, ""},
		{"invalid_grant is permanent", 400, jsonCT, `{"error":"invalid_grant"}`, provider.InvalidGrant, ""},
		{"invalid_client is permanent", 401, jsonCT, `{"error":"invalid_client"}`, provider.InvalidClient, ""},
		{"unauthorized_client is permanent", 400, jsonCT, `{"error":"unauthorized_client"}`, provider.InvalidClient, ""},
		{"invalid_request is permanent", 400, jsonCT, `{"error":"invalid_request"}`, provider.BadRequest, ""},
		{"invalid_scope is permanent", 400, jsonCT, `{"error":"invalid_scope"}`, provider.BadRequest, ""},
		{"unsupported_grant_type is permanent", 400, jsonCT, `{"error":"unsupported_grant_type"}`, provider.BadRequest, ""},
		{"a 429 stays transient", 429, nil, ``, provider.Transient, ""},
		{"a 503 stays transient", 503, html, `<html>down</html>`, provider.Transient, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := provider.Classify(tt.status, tt.header, []byte(tt.body), provider.NewRedactor(&provider.Request{Grant: provider.Grant{RefreshToken: secret}}))
			if e.Kind != tt.kind || e.StatusCode != tt.status {
				t.Fatalf("Classify() = %s, HTTP %d (%v); want %s, HTTP %d", e.Kind, e.StatusCode, e, tt.kind, tt.status)
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
		{"bounds a huge number", "99999999999999999", provider.MaxRetryAfter},
		{"ignores a negative number", "-5", 0},
		{"ignores garbage", "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := provider.RetryAfter(tt.value, now); got != tt.want {
				t.Errorf("RetryAfter(%q) = %s, want %s", tt.value, got, tt.want)
			}
		})
	}
}

// TestClassify: what an answer that is not a token becomes, besides the permanence that
// TestOnlyOAuthErrorsArePermanent pins: the kind of the codes servers use out of place, the
// bodies it reads, and what the error carries (code, status, Retry-After).
func TestClassify(t *testing.T) {
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	retry := http.Header{"Retry-After": {"12"}}
	for _, tt := range []struct {
		name       string
		status     int
		header     http.Header
		body       string
		kind       provider.Kind
		code       string
		retryAfter time.Duration
	}{
		{"a 5xx is transient whatever its code", 503, jsonCT, `{"error":"invalid_grant"}`, provider.Transient, "invalid_grant", 0},
		{"a 429 carries its Retry-After and code", 429, retry, `{"error":"slow_down"}`, provider.Transient, "slow_down", 12 * time.Second},
		{"a 503 carries its Retry-After", 503, retry, ``, provider.Transient, "", 12 * time.Second},
		{"invalid_grant keeps its code, and no Retry-After", 400, retry, `{"error":"invalid_grant","error_description":"expired"}`, provider.InvalidGrant, "invalid_grant", 0},
		{"invalid_grant in a 200 is still invalid_grant", 200, jsonCT, `{"error":"invalid_grant"}`, provider.InvalidGrant, "invalid_grant", 0},
		{"invalid_client with a 400 is a bad client", 400, nil, `{"error":"invalid_client"}`, provider.InvalidClient, "invalid_client", 0},
		{"temporarily_unavailable in a 400 is transient", 400, jsonCT, `{"error":"temporarily_unavailable"}`, provider.Transient, "temporarily_unavailable", 0},
		{"a redirect is a bad request with no code", 307, http.Header{"Location": {"https://elsewhere.example/token"}}, ``, provider.BadRequest, "", 0},
		{"a 302 is a bad request", 302, nil, ``, provider.BadRequest, "", 0},
		{"a form-encoded error is read", 400, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, `error=invalid_grant`, provider.InvalidGrant, "invalid_grant", 0},
		{"JSON labelled text/plain is read as JSON", 400, http.Header{"Content-Type": {"text/plain"}}, `{"error":"invalid_grant"}`, provider.InvalidGrant, "invalid_grant", 0},
		{"an error that is not a string is no code, so transient", 400, jsonCT, `{"error":{"code":"invalid_grant"}}`, provider.Transient, "", 0},
		{"a 502 with an HTML body is transient", 502, nil, `<html>bad gateway</html>`, provider.Transient, "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := provider.Classify(tt.status, tt.header, []byte(tt.body), provider.NewRedactor(&provider.Request{}))
			if e.Kind != tt.kind || e.StatusCode != tt.status || e.Code != tt.code || e.RetryAfter != tt.retryAfter {
				t.Errorf("Classify() = %s %+v, want %s, HTTP %d, code %q, RetryAfter %s", e.Kind, e, tt.kind, tt.status, tt.code, tt.retryAfter)
			}
		})
	}
}
