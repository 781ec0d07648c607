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

package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// hmacKey signs the test JWTs; it is thrown away with the test.
var hmacKey = []byte("throwaway-test-key-for-kubectl-tokenwarden")

// signedJWT is a real HS256 JWT over header and claims.
func signedJWT(header, claims map[string]any) string {
	enc := func(v any) string {
		raw, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return base64.RawURLEncoding.EncodeToString(raw)
	}
	signing := enc(header) + "." + enc(claims)
	mac := hmac.New(sha256.New, hmacKey)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// fixtures are the connections of the golden tests, in every state status shows, and
// the Secrets of two of them.
type fixtures struct {
	jwt, opaque string
	// secrets are the workload Secrets' data.
	secrets map[string]map[string]string
}

func at(d time.Duration) time.Time { return goldenNow.Add(d) }

func createFixtures(t *testing.T) fixtures {
	t.Helper()
	a, b := namespace(t, "team-a"), namespace(t, "team-b")
	f := fixtures{
		jwt: signedJWT(
			map[string]any{"alg": "HS256", "kid": "test-key-1", "typ": "at+jwt"},
			map[string]any{
				"iss":   "https://auth.example.com/",
				"sub":   "orders-service@clients",
				"aud":   []string{"https://api.example.com", "https://auth.example.com/userinfo"},
				"azp":   "orders-service",
				"scope": "orders.read orders.write",
				"exp":   at(42 * time.Minute).Unix(),
				"iat":   at(-18 * time.Minute).Unix(),
				"nbf":   at(-18 * time.Minute).Unix(),
				"gty":   "client-credentials",
				"jti":   "0d1c6f3e-1b7a-4f64-9c53-5d2f0d0c7e11",
			}),
		opaque: "ya29.a0AfH6SMBx3Qm-opaque-token-fixture-7f3c9e1d2b",
	}
	f.secrets = map[string]map[string]string{
		"aurora-api": {
			oauthv1alpha1.KeyAccessToken: f.jwt, oauthv1alpha1.KeyTokenType: "Bearer",
			oauthv1alpha1.KeyExpiry: at(42 * time.Minute).Format(time.RFC3339),
			oauthv1alpha1.KeyScope:  "orders.read orders.write", "Authorization": "Bearer " + f.jwt,
		},
		"aurinko-user": {
			oauthv1alpha1.KeyAccessToken: f.opaque, oauthv1alpha1.KeyTokenType: "Bearer",
			oauthv1alpha1.KeyUserSession: "sess-5b0c1e8a9d7f4e2a", oauthv1alpha1.KeyAccountID: "acc-88213",
			oauthv1alpha1.KeyUserID: "user-4471",
		},
	}
	create(t, connection(a, "aurora-api", oauthv1alpha1.ProviderAurora,
		ready(oauthv1alpha1.ReasonTokenRefreshed, "The Secret holds a token valid until 2026-03-14T12:42:00Z",
			at(-18*time.Minute)),
		token(at(-18*time.Minute), at(42*time.Minute), at(22*time.Minute)),
		withStatus(func(s *oauthv1alpha1.OAuthConnectionStatus) { s.Scope = "orders.read orders.write" })))
	create(t, connection(a, "billing-aura", oauthv1alpha1.ProviderAura,
		stalled(oauthv1alpha1.ReasonReauthorizationRequired, "The provider refused the grant (invalid_grant: "+
			"refresh token revoked); have the user authorise again and store the new refresh_token or code "+
			"in grant Secret billing-aura-grant", at(-5*time.Minute)),
		token(at(-65*time.Minute), at(-5*time.Minute), time.Time{}),
		withStatus(func(s *oauthv1alpha1.OAuthConnectionStatus) { s.ConsecutiveFailures = 1 })))
	create(t, connection(a, "orders-generic", oauthv1alpha1.ProviderGeneric,
		ready(oauthv1alpha1.ReasonTokenIssued, "The Secret holds a token valid until 2026-03-14T12:07:00Z",
			at(-23*time.Minute)),
		token(at(-23*time.Minute), at(7*time.Minute), at(2*time.Minute)),
		withStatus(func(s *oauthv1alpha1.OAuthConnectionStatus) { s.SecretName = "orders-token" })))
	create(t, connection(a, "aurinko-user", oauthv1alpha1.ProviderAurinko,
		ready(oauthv1alpha1.ReasonTokenIssued, "The Secret holds a token that does not expire", at(-51*time.Hour)),
		token(at(-51*time.Hour), time.Time{}, time.Time{})))
	create(t, connection(b, "astonclub-merchant", oauthv1alpha1.ProviderAstonClub,
		notReady(oauthv1alpha1.ReasonTokenRequestFailed, "No valid token; 3 token requests failed in a row, "+
			"retrying at 2026-03-14T12:00:40Z: the token endpoint answered 503 Service Unavailable",
			at(-2*time.Minute)),
		token(at(-62*time.Minute), at(-2*time.Minute), at(40*time.Second)),
		withStatus(func(s *oauthv1alpha1.OAuthConnectionStatus) { s.ConsecutiveFailures = 3 })))
	create(t, connection(b, "new-connection", oauthv1alpha1.ProviderGeneric))
	for name, data := range f.secrets {
		createSecret(t, a, name, data)
	}
	return f
}

// TestGoldenOutput compares what status and inspect print with testdata/, for
// connections in every state: Ready, Stalled, not Ready, expiring soon, expired, without
// expiry, and without status.
func TestGoldenOutput(t *testing.T) {
	createFixtures(t)
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"status.txt", []string{"status", "-n", "team-a"}},
		{"status-name.txt", []string{"status", "aurora-api", "-n", "team-a"}},
		{"status-all-namespaces.txt", []string{"status", "-A"}},
		{"status-wide.txt", []string{"status", "-A", "-o", "wide"}},
		{"status.json", []string{"status", "-A", "-o", "json"}},
		{"inspect-jwt.txt", []string{"inspect", "aurora-api", "-n", "team-a"}},
		{"inspect-opaque.txt", []string{"inspect", "aurinko-user", "-n", "team-a"}},
		{"inspect-no-secret.txt", []string{"inspect", "billing-aura", "-n", "team-a"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := runAt(tc.args...)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("kubectl tokenwarden %s: %s", strings.Join(tc.args, " "), r)
			}
			if strings.Contains(r.stdout, "\x1b[") {
				t.Errorf("colour codes in output that is not a terminal:\n%q", r.stdout)
			}
			expectGolden(t, tc.golden, r.stdout)
		})
	}
}

// TestStatusColours: on a terminal, rows that need a human are red and rows expiring
// within 10 minutes yellow; the others, and JSON, have no colour.
func TestStatusColours(t *testing.T) {
	createFixtures(t)
	terminal := testEnvAt(goldenNow)
	terminal.isTerminal = func(w io.Writer) bool { return true }
	r := runWith(terminal, "status", "-A")
	if r.code != exitOK {
		t.Fatal(r)
	}
	want := map[string]string{
		"billing-aura":       colourRed,
		"astonclub-merchant": colourRed,
		"new-connection":     colourRed,
		"orders-generic":     colourYellow,
		"aurora-api":         "",
		"aurinko-user":       "",
	}
	for line := range strings.Lines(r.stdout) {
		for name, colour := range want {
			if !strings.Contains(line, " "+name+" ") {
				continue
			}
			switch {
			case colour == "" && strings.Contains(line, "\x1b["):
				t.Errorf("%s: coloured, want plain: %q", name, line)
			case colour != "" && (!strings.HasPrefix(line, colour) || !strings.HasSuffix(line, colourReset+"\n")):
				t.Errorf("%s: want colour %q: %q", name, colour, line)
			}
			delete(want, name)
		}
	}
	if len(want) > 0 {
		t.Errorf("rows missing: %v\n%s", want, r.stdout)
	}
	if r := runWith(terminal, "status", "-A", "-o", "json"); strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("colour in JSON: %s", r.stdout)
	}
}
