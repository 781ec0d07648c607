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
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/internal/provider"
)

func TestS256Challenge(t *testing.T) {
	for name, tt := range map[string]struct {
		verifier, challenge string
	}{
		// The RFC's own value. A variant ending "...CQHhT8PhYY8Pse7ONz1k2Bw" circulates in
		// copies of the example; it is not SHA-256 of this verifier.
		"RFC 7636 Appendix B's example":                                {"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"a verifier of 128 characters":                                 {strings.Repeat("~", 128), "zNhOm5Jyonenca7bQzzpjUpwFDVrfhrbbOGCqgWA6HU"},
		"the empty verifier is hashed as it is, and refused elsewhere": {"", "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := provider.S256Challenge(tt.verifier); got != tt.challenge {
				t.Errorf("S256Challenge(%q) = %q, want %q", tt.verifier, got, tt.challenge)
			}
		})
	}
}

func TestNewVerifierAndState(t *testing.T) {
	for name, newValue := range map[string]func() string{
		"a verifier": provider.NewVerifier,
		"a state":    provider.NewState,
	} {
		t.Run(name+" is 43 unreserved characters, fresh each time", func(t *testing.T) {
			seen := map[string]bool{}
			for range 100 {
				v := newValue()
				// 32 random bytes, base64url without padding: at least the 128 bits RFC 9700
				// section 2.1.1 asks of a state.
				if len(v) != 43 {
					t.Fatalf("%q has %d characters, want 43", v, len(v))
				}
				if err := provider.CheckVerifier(v); err != nil {
					t.Fatalf("%q: %v", v, err)
				}
				if strings.ContainsAny(v, "+/=") {
					t.Fatalf("%q is not base64url without padding", v)
				}
				if seen[v] {
					t.Fatalf("%q came twice", v)
				}
				seen[v] = true
			}
		})
	}
}

func TestCheckVerifier(t *testing.T) {
	for name, tt := range map[string]struct {
		verifier string
		ok       bool
	}{
		"RFC 7636 Appendix B's verifier is accepted":          {"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", true},
		"43 characters of every unreserved kind are accepted": {strings.Repeat("aZ09-._~", 5) + "abc", true},
		"128 characters are accepted":                         {strings.Repeat("a", 128), true},
		"42 characters are refused":                           {strings.Repeat("a", 42), false},
		"129 characters are refused":                          {strings.Repeat("a", 129), false},
		"the empty verifier is refused":                       {"", false},
		"a '+' (base64, not base64url) is refused":            {strings.Repeat("a", 42) + "+", false},
		"a '=' (padding) is refused":                          {strings.Repeat("a", 42) + "=", false},
		"a space is refused":                                  {strings.Repeat("a", 42) + " ", false},
		"a non-ASCII letter is refused":                       {strings.Repeat("a", 42) + "é", false},
	} {
		t.Run(name, func(t *testing.T) {
			if err := provider.CheckVerifier(tt.verifier); (err == nil) != tt.ok {
				t.Errorf("CheckVerifier(%q) = %v, want ok=%v", tt.verifier, err, tt.ok)
			}
		})
	}
}
