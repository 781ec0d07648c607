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
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func decoded(segment string) string {
	raw, _ := decodeSegment(segment)
	return string(raw)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestParseToken(t *testing.T) {
	jwt := signedJWT(map[string]any{"alg": "HS256", "typ": "JWT"}, map[string]any{"sub": "me", "exp": 1773491400})
	for _, tc := range []struct {
		name   string
		token  string
		kind   tokenKind
		claims int
	}{
		{"a signed JWT shows its claims", jwt, tokenJWT, 2},
		{"a JWT with padded segments is still a JWT", strings.ReplaceAll(jwt, ".", "==."), tokenJWT, 2},
		{"an unsigned JWT (alg none, empty signature) is a JWT",
			b64(`{"alg":"none"}`) + "." + b64(`{"sub":"me"}`) + ".", tokenJWT, 1},
		{"a JWE shows its header only",
			b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a.b.c.d", tokenJWE, 0},
		{"an opaque token is opaque", "ya29.a0AfH6SMBx3Qm", tokenOpaque, 0},
		{"three segments that are not JSON are opaque", "abc.def.ghi", tokenOpaque, 0},
		{"a header without alg is opaque", b64(`{"typ":"JWT"}`) + "." + b64(`{}`) + ".", tokenOpaque, 0},
		{"claims that are not an object are opaque", b64(`{"alg":"HS256"}`) + "." + b64(`[1]`) + ".", tokenOpaque, 0},
		{"trailing data after the claims is opaque",
			b64(`{"alg":"HS256"}`) + "." + b64(`{} {}`) + ".", tokenOpaque, 0},
		{"a signature that is not base64url is opaque", b64(`{"alg":"HS256"}`) + "." + b64(`{}`) + ".!!", tokenOpaque, 0},
		{"the empty string is opaque", "", tokenOpaque, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := parseToken(tc.token)
			if info.kind != tc.kind || len(info.claims) != tc.claims || info.size != len(tc.token) {
				t.Errorf("got %s with %d claims, size %d; want %s with %d, size %d",
					info.kind, len(info.claims), info.size, tc.kind, tc.claims, len(tc.token))
			}
		})
	}
}

func TestClaimValues(t *testing.T) {
	info := parseToken(signedJWT(map[string]any{"alg": "HS256"}, map[string]any{
		"aud":         []string{"a", "b"},
		"scp":         []string{"read", "write"},
		"exp":         goldenNow.Add(30 * time.Minute).Unix(),
		"iat":         1.5,
		"permissions": []any{"orders:read", map[string]any{"x": 1}},
		"sub":         "line\nbreak\x1b[2J",
		"custom":      "kept quiet",
	}))
	fields, others := shownFields(info.claims, shownClaims, goldenNow)
	got := map[string]string{}
	for _, f := range fields {
		got[f.name] = f.value
	}
	for name, want := range map[string]string{
		"aud":         "a, b",
		"scp":         "read write",
		"exp":         "1773491400 (2026-03-14T12:30:00Z, in 30m)",
		"iat":         "1.5",
		"permissions": `orders:read, {"x":1}`,
		"sub":         "line break?[2J",
	} {
		if got[name] != want {
			t.Errorf("%s: got %q, want %q", name, got[name], want)
		}
	}
	if strings.Join(others, ",") != "custom" {
		t.Errorf("other claims: %v", others)
	}
}

// FuzzParseToken: any access token is described without a panic, and the description
// never contains the token's signature or the token itself.
func FuzzParseToken(f *testing.F) {
	f.Add(signedJWT(map[string]any{"alg": "HS256", "kid": "k"}, map[string]any{"sub": "s", "exp": 1773491400}))
	f.Add(b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a.b.c.d")
	f.Add("ya29.a0AfH6SMBx3Qm")
	f.Add(b64(`{"alg":"none"}`) + "." + b64(`{"aud":["a",{"b":[1,2]}],"scp":[]}`) + ".")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		info := parseToken(token)
		var b strings.Builder
		writeToken(&b, info, goldenNow)
		out := b.String()
		if len(token) >= 16 && strings.Contains(out, token) {
			t.Fatalf("the token appears in the description:\n%s", out)
		}
		parts := strings.Split(token, ".")
		if info.kind == tokenJWT && len(parts[2]) >= 16 && strings.Contains(out, parts[2]) &&
			!strings.Contains(decoded(parts[0])+decoded(parts[1]), parts[2]) { // unless a claim holds it
			t.Fatalf("the signature appears in the description:\n%s", out)
		}
	})
}
