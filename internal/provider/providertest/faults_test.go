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

package providertest_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// TestInjectedFaults: each fault answers as the real servers, or the boxes in front of
// them, do; a canned one changes nothing, the others shape an otherwise normal answer.
func TestInjectedFaults(t *testing.T) {
	refresh := func(s *providertest.Server, rt string) call {
		ct, body := multipartOf(t, "grant_type", "refresh_token", "refresh_token", rt, "client_id", s.ClientID(), "client_secret", s.ClientSecret())
		return call{url: s.TokenURL(), ctype: ct, body: body}
	}
	for _, tt := range []struct {
		name  string
		fault providertest.Fault
		check func(t *testing.T, s *providertest.Server, rt string, got answer)
	}{
		{"an HTML 403 from a firewall", providertest.FaultHTMLForbidden, func(t *testing.T, s *providertest.Server, rt string, got answer) {
			if got.status != 403 || !strings.HasPrefix(got.header.Get("Content-Type"), "text/html") || len(got.body) != 0 {
				t.Errorf("answer %d %s %v, want an HTML 403", got.status, got.header.Get("Content-Type"), got.body)
			}
			if next := do(t, refresh(s, rt)); next.status != 200 {
				t.Errorf("the refresh token after the fault: %d %v, want it unspent", next.status, next.body)
			}
		}},
		{"a 408 from a load balancer", providertest.FaultRequestTimeout, func(t *testing.T, _ *providertest.Server, _ string, got answer) {
			if got.status != 408 || len(got.body) != 0 {
				t.Errorf("answer %d %v, want a bare 408", got.status, got.body)
			}
		}},
		{"an error body on a 200", providertest.FaultErrorIn200, func(t *testing.T, _ *providertest.Server, _ string, got answer) {
			if got.status != 200 || got.str("error") != "invalid_grant" || got.str("access_token") != "" {
				t.Errorf("answer %d %v, want invalid_grant in a 200", got.status, got.body)
			}
		}},
		{"JSON labelled text/plain", providertest.FaultJSONAsTextPlain, func(t *testing.T, s *providertest.Server, _ string, got answer) {
			if got.status != 200 || !strings.HasPrefix(got.header.Get("Content-Type"), "text/plain") || !s.ValidAccessToken(got.str("access_token")) {
				t.Errorf("answer %d %s %v, want a token labelled text/plain", got.status, got.header.Get("Content-Type"), got.body)
			}
		}},
		{"a fractional expires_in", providertest.FaultFloatExpiresIn, func(t *testing.T, _ *providertest.Server, _ string, got answer) {
			if got.body["expires_in"] != float64(3600.5) {
				t.Errorf("expires_in = %v, want 3600.5", got.body["expires_in"])
			}
		}},
		{"a token all but expired", providertest.FaultExpiredToken, func(t *testing.T, s *providertest.Server, _ string, got answer) {
			if got.body["expires_in"] != float64(1) {
				t.Errorf("expires_in = %v, want 1", got.body["expires_in"])
			}
			at := got.str("access_token")
			if !s.ValidAccessToken(at) {
				t.Errorf("the token is not valid for its second")
			}
		}},
		{"a JWT already expired", providertest.FaultExpiredJWT, func(t *testing.T, s *providertest.Server, _ string, got answer) {
			at := got.str("access_token")
			parts := strings.Split(at, ".")
			var claims struct{ Exp int64 }
			if len(parts) != 3 {
				t.Fatalf("access token %q is not a JWT", at)
			}
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp >= time.Now().Unix() || got.body["expires_in"] != nil || s.ValidAccessToken(at) {
				t.Errorf("answer %v (exp %d), want a JWT expired, without expires_in", got.body, claims.Exp)
			}
		}},
		{"a rotated refresh token with an unreadable expires_in", providertest.FaultRotatedRefreshTokenUnreadableExpiresIn, func(t *testing.T, s *providertest.Server, rt string, got answer) {
			if got.str("expires_in") == "" || got.str("refresh_token") == "" || got.str("refresh_token") == rt {
				t.Fatalf("answer %v, want a new refresh token and a string expires_in", got.body)
			}
			if again := do(t, refresh(s, got.str("refresh_token"))); again.status != 200 {
				t.Errorf("the rotated refresh token: %d %v, want it to work", again.status, again.body)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Generic, multipart: a fake that rotates nothing by itself.
			s := providertest.NewGeneric(providertest.Options{}, "Body", "Multipart")
			defer s.Close()
			rt := s.IssueRefreshToken()
			s.InjectFault(1, tt.fault)
			tt.check(t, s, rt, do(t, refresh(s, rt)))
			if r := s.Rejections(); len(r) > 0 {
				t.Errorf("faults are not rejections: %q", r)
			}
		})
	}
}
