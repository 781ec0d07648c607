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
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// tokenKind is what an access token turned out to be.
type tokenKind string

const (
	tokenOpaque tokenKind = "opaque"
	// tokenJWT is a signed JWT (JWS compact serialisation) with a JSON claims set.
	tokenJWT tokenKind = "JWT"
	// tokenJWE is an encrypted JWT: only its header can be read.
	tokenJWE tokenKind = "JWE"
)

// tokenInfo is what can be said about a token without showing it: its kind and size,
// and for a JWT its header and claims. It never holds the token or its signature.
type tokenInfo struct {
	kind tokenKind
	// size is the token's length in bytes.
	size int
	// header and claims are the decoded JSON objects; claims only for a JWT.
	header, claims map[string]any
	// signatureSize is the decoded signature's length in bytes (JWT).
	signatureSize int
}

// parseToken looks at an access token. The signature is not verified (the plugin has no
// key, and a claim is only shown, never trusted); anything not a well-formed JWT or JWE
// is opaque.
func parseToken(token string) tokenInfo {
	info := tokenInfo{kind: tokenOpaque, size: len(token)}
	parts := strings.Split(token, ".")
	if len(parts) != 3 && len(parts) != 5 {
		return info
	}
	header, ok := decodeJSONObject(parts[0])
	if !ok {
		return info
	}
	if _, ok := header["alg"].(string); !ok {
		return info
	}
	if len(parts) == 5 {
		if _, ok := header["enc"].(string); ok {
			info.kind, info.header = tokenJWE, header
		}
		return info
	}
	claims, ok := decodeJSONObject(parts[1])
	if !ok {
		return info
	}
	sig, err := decodeSegment(parts[2])
	if err != nil {
		return info
	}
	info.kind, info.header, info.claims, info.signatureSize = tokenJWT, header, claims, len(sig)
	return info
}

// decodeSegment decodes base64url, with or without padding (RFC 7515 says without).
func decodeSegment(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func decodeJSONObject(segment string) (map[string]any, bool) {
	raw, err := decodeSegment(segment)
	if err != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep exp and iat as the integers they are
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
		return nil, false
	}
	return obj, true
}

// Header fields and claims shown with their values, in this order; others are named only.
var (
	shownHeaderFields = []string{"alg", "kid", "typ", "cty", "enc"}
	shownClaims       = []string{"iss", "sub", "aud", "azp", "client_id", "scope", "scp", "roles",
		"permissions", "exp", "iat", "nbf", "auth_time"}
	timeClaims = map[string]bool{"exp": true, "iat": true, "nbf": true, "auth_time": true}
)

// field is one shown header field or claim.
type field struct{ name, value string }

// shownFields picks the fields of obj that are shown, rendered, and names the others.
func shownFields(obj map[string]any, shown []string, now time.Time) (fields []field, others []string) {
	for _, name := range shown {
		if v, ok := obj[name]; ok {
			fields = append(fields, field{name: name, value: claimValue(name, v, now)})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(shown, name) {
			others = append(others, clean(name))
		}
	}
	return fields, others
}

// maxValueWidth bounds a shown claim, so that a huge claim cannot flood the terminal.
const maxValueWidth = 200

// claimValue renders a claim: times as the number with the UTC time and how far away it
// is, lists joined (scp with spaces, as scope), anything else as compact JSON.
func claimValue(name string, v any, now time.Time) string {
	switch v := v.(type) {
	case string:
		return truncate(clean(v), maxValueWidth)
	case json.Number:
		if n, err := v.Int64(); err == nil && timeClaims[name] {
			t := time.Unix(n, 0)
			return fmt.Sprintf("%d (%s, %s)", n, t.UTC().Format(time.RFC3339), relative(t, now))
		}
		return v.String()
	case []any:
		items := make([]string, 0, len(v))
		for _, item := range v {
			items = append(items, claimValue("", item, now))
		}
		sep := ", "
		if name == "scp" {
			sep = " "
		}
		return truncate(strings.Join(items, sep), maxValueWidth)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return truncate(clean(string(raw)), maxValueWidth)
}
