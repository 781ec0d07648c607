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
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// FuzzParseCallback feeds ParseCallback the query of a redirect back, which anyone can
// send to the callback. The seeds in testdata/fuzz (the documents' redirects) run with
// every `go test`; `go test -fuzz FuzzParseCallback` explores.
func FuzzParseCallback(f *testing.F) {
	providers := []oauthv1alpha1.Provider{
		oauthv1alpha1.ProviderAura, oauthv1alpha1.ProviderAstonClub, oauthv1alpha1.ProviderAurinko, oauthv1alpha1.ProviderGeneric,
	}
	f.Add("grant_type=authorization_code&code=asn3733ne3ndfd&state=xyz", uint8(1))
	f.Add("error=access_denied&error_description=code+asn3733ne3ndfd&code=asn3733ne3ndfd", uint8(3))
	f.Fuzz(func(t *testing.T, rawQuery string, which uint8) {
		p := providers[int(which)%len(providers)]
		query, err := url.ParseQuery(rawQuery)
		if err != nil {
			return // the callback server's router refuses it before
		}
		cb, err := provider.ParseCallback(p, query)
		code := query.Get("code")
		if err == nil {
			if cb.Code == "" || cb.Code != code || query.Has("error") || len(query["code"]) != 1 {
				t.Fatalf("accepted %+v from %q", cb, rawQuery)
			}
			return
		}
		if cb.Code != "" {
			t.Fatalf("a code with an error: %+v, %v", cb, err)
		}
		msg := err.Error()
		if !utf8.ValidString(msg) || len(msg) > 400 {
			t.Fatalf("unbounded or invalid error text: %q", msg)
		}
		// A code of a few characters may occur in any text; a real one does not.
		if len(code) >= 8 && strings.Contains(msg, code) {
			t.Fatalf("the error %q holds the code %q", msg, code)
		}
		var refusal *provider.CallbackError
		if !errors.As(err, &refusal) && !errors.Is(err, provider.ErrMalformedCallback) {
			t.Fatalf("error %v is neither a refusal nor a malformed callback", err)
		}
	})
}
