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

// Helpers the fakes' tests share: hand-made requests and the table runner.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

const (
	auroraAudience    = "https://api.client.integration.aurora.co.uk"
	auroraDevAudience = "https://dev.client.integration.aurora.co.uk"
	ctForm            = "application/x-www-form-urlencoded"
	ctJSON            = "application/json"
)

// call is one hand-made request to a fake.
type call struct {
	method string
	url    string
	ctype  string
	body   string
	basic  []string // id, secret as put in the header, unencoded
}

// answer is a fake's response.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a answer) str(k string) string { s, _ := a.body[k].(string); return s }

// do sends c and decodes the JSON answer.
func do(t *testing.T, c call) answer {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodPost
	}
	req, err := http.NewRequest(c.method, c.url, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	}
	if len(c.basic) == 2 {
		req.SetBasicAuth(c.basic[0], c.basic[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	a := answer{status: resp.StatusCode, header: resp.Header, body: map[string]any{}}
	_ = json.NewDecoder(resp.Body).Decode(&a.body)
	return a
}

// formOf encodes key, value pairs as a form.
func formOf(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

// jsonOf encodes key, value pairs as a JSON object of strings.
func jsonOf(kv ...string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// multipartOf encodes key, value pairs as multipart/form-data; it returns the content type
// and the body.
func multipartOf(t *testing.T, kv ...string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(kv); i += 2 {
		if err := w.WriteField(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.String()
}

// formBasic is HTTP Basic as RFC 6749 section 2.3.1 wants it: id and secret form-urlencoded.
func formBasic(id, secret string) []string {
	return []string{url.QueryEscape(id), url.QueryEscape(secret)}
}

// TestFormBasicEncodesAsRFC6749Says pins the helper the table relies on.
func TestFormBasicEncodesAsRFC6749Says(t *testing.T) {
	got := formBasic("a:b c", "x%+y")
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	req.SetBasicAuth(got[0], got[1])
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("a%3Ab+c:x%25%2By"))
	if h := req.Header.Get("Authorization"); h != want {
		t.Errorf("Authorization = %q, want %q", h, want)
	}
}

// The client every table case registers, and the odd one: a client id and secret whose
// characters RFC 6749 section 2.3.1's form-urlencoding changes.
const (
	testID        = "the-client"
	testSecret    = "the-secret-value"
	awkwardID     = "client:id %+/é"
	awkwardSecret = "s3cr%t:with spaces+plus&amp"
)

// fakeCase is one hand-made request to a fake and what it must answer.
type fakeCase struct {
	name   string
	start  func(providertest.Options) *providertest.Server
	call   func(t *testing.T, s *providertest.Server) call
	status int
	code   string
	reason string // part of the recorded rejection; "" when none must be recorded
}

// generic starts Generic fakes of one client authentication and body encoding.
func generic(auth oauthv1alpha1.ClientAuthentication, enc oauthv1alpha1.RequestEncoding) func(providertest.Options) *providertest.Server {
	return func(o providertest.Options) *providertest.Server { return providertest.NewGeneric(o, auth, enc) }
}

// with starts a fake with its own options instead of the table's.
func with(start func(providertest.Options) *providertest.Server, o providertest.Options) func(providertest.Options) *providertest.Server {
	return func(providertest.Options) *providertest.Server { return start(o) }
}

// auroraOK is the document's request, with the table's client.
func auroraOK() string {
	return formOf("grant_type", "client_credentials", "audience", auroraAudience, "client_id", testID, "client_secret", testSecret)
}

// checkFakeCases runs a table: a fake following its document answers a conforming request,
// and refuses, recording why without a secret, one that departs from it.
func checkFakeCases(t *testing.T, cases []fakeCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			fake := tt.start(providertest.Options{ClientID: testID, ClientSecret: testSecret})
			defer fake.Close()
			got := do(t, tt.call(t, fake))
			if got.status != tt.status || tt.code != "" && got.str("error") != tt.code {
				t.Fatalf("answer %d %v, want %d %s", got.status, got.body, tt.status, tt.code)
			}
			if tt.status == 200 && (got.str("access_token") == "" && got.str("accessToken") == "" || !fake.ValidAccessToken(got.str("access_token")+got.str("accessToken"))) {
				t.Errorf("answer %v has no valid access token", got.body)
			}
			rej := fake.Rejections()
			switch {
			case tt.reason == "" && tt.status != 404 && len(rej) > 0:
				t.Errorf("rejections = %q, want none", rej)
			case tt.reason != "" && (len(rej) != 1 || !strings.Contains(rej[0], tt.reason)):
				t.Errorf("rejections = %q, want one mentioning %q", rej, tt.reason)
			}
			for _, r := range append(rej, got.str("error_description")) {
				for _, m := range append(fake.SecretMaterial(), testSecret) {
					if strings.Contains(r, m) {
						t.Errorf("%q holds the secret %q", r, m)
					}
				}
			}
		})
	}
}
