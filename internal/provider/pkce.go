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
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// randomBytes is the entropy of a PKCE verifier and of a state: 256 bits, above RFC 7636
// section 7.1's and RFC 9700 section 2.1.1's floor, and 43 characters once encoded.
const randomBytes = 32

// NewVerifier returns a fresh PKCE code verifier (RFC 7636 section 4.1): 32 bytes from
// crypto/rand, base64url without padding, so 43 characters of the unreserved set.
func NewVerifier() string { return randomToken() }

// S256Challenge returns the S256 code challenge of verifier (RFC 7636 section 4.2):
// BASE64URL(SHA256(ASCII(verifier))), without padding.
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NewState returns a fresh state for an authorization request (RFC 6749 section 10.12):
// 256 bits from crypto/rand, base64url without padding, so it binds the redirect back to
// the flow that sent it and cannot be guessed.
func NewState() string { return randomToken() }

func randomToken() string {
	b := make([]byte, randomBytes)
	// crypto/rand.Read never fails: on a broken source the program crashes rather than
	// hand out guessable values.
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CheckVerifier reports whether v is a code verifier RFC 7636 section 4.1 allows: 43 to 128
// characters of ALPHA / DIGIT / "-" / "." / "_" / "~". A grant Secret's code_verifier is
// outside input.
func CheckVerifier(v string) error { return checkPKCEValue("code verifier", v) }

// checkPKCEValue checks a verifier or a challenge: both are 43*128unreserved (RFC 7636
// sections 4.1 and 4.2).
func checkPKCEValue(what, v string) error {
	if len(v) < 43 || len(v) > 128 {
		return errors.New("a PKCE " + what + " has 43 to 128 characters (RFC 7636)")
	}
	if strings.IndexFunc(v, func(r rune) bool { return !isUnreserved(r) }) >= 0 {
		return errors.New("a PKCE " + what + " has only the characters A-Z a-z 0-9 - . _ ~ (RFC 7636)")
	}
	return nil
}

// isUnreserved is RFC 3986's unreserved set, which RFC 7636 uses for verifiers.
func isUnreserved(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' ||
		r == '-' || r == '.' || r == '_' || r == '~'
}
