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
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseTokenResponse feeds the token-response parsers outside input. The seeds in
// testdata/fuzz run with every `go test`; `go test -fuzz FuzzParseTokenResponse` explores.
func FuzzParseTokenResponse(f *testing.F) {
	f.Add([]byte(`{"access_token":"a","token_type":"bearer","expires_in":3600,"refresh_token":"r","scope":"posapi"}`))
	f.Add([]byte(`{"accessToken":"a","userSession":"s","accountId":123,"userId":"u"}`))
	f.Add([]byte(`{"access_token":"x.eyJleHAiOjF9.y"}`))
	f.Add([]byte(`{"expires_in":"-1"}`))
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		for _, parse := range []func() (*Token, error){
			func() (*Token, error) { return ParseTokenResponse(body, now) },
			func() (*Token, error) { return parseTokenResponse(form, body, now) },
			func() (*Token, error) { return parseAurinkoResponse(nil, body, now) },
		} {
			tok, err := parse()
			if err != nil {
				if tok != nil {
					t.Fatalf("a token with an error: %+v", tok)
				}
				continue
			}
			if tok.AccessToken == "" || tok.TokenType == "" {
				t.Fatalf("accepted a token without access token or type: %+v", tok)
			}
			if !tok.Expiry.IsZero() && tok.Expiry.Before(time.Unix(0, 0)) {
				t.Fatalf("expiry before 1970: %s", tok.Expiry)
			}
		}
		// A refresh token that came with an access token is never thrown away, whatever
		// else the answer holds.
		if fields, err := decodeAnswer(nil, body); err == nil {
			at, _ := fields["access_token"].(string)
			rt, _ := fields["refresh_token"].(string)
			if tok, err := ParseTokenResponse(body, now); at != "" && (err != nil || tok.RefreshToken != rt) {
				t.Fatalf("an answer with an access token lost it or its refresh token: %+v, %v", tok, err)
			}
		}
		// Error text is bounded and valid UTF-8 whatever the provider sent.
		e := classify(400, nil, body, newRedactor(&Request{ClientSecret: "secret-value"}))
		if msg := e.Error(); len(msg) > 400 || !utf8.ValidString(msg) {
			t.Fatalf("unbounded or invalid error text: %q", msg)
		}
	})
}
