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

package providertest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// raw is a hand-made token request.
type raw struct {
	method      string
	path        string // appended to the server URL; default: the token URL
	contentType string
	body        string
	basic       [2]string
}

// send sends a raw request and returns the status and the decoded JSON answer.
func send(t *testing.T, s *Server, r raw) (int, map[string]any) {
	t.Helper()
	u := s.TokenURL()
	if r.path != "" {
		u = s.URL() + r.path
	}
	if r.method == "" {
		r.method = http.MethodPost
	}
	req, err := http.NewRequest(r.method, u, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.basic[0] != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(r.basic[0]+":"+r.basic[1])))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out := map[string]any{}
	rawBody, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(rawBody, &out)
	return resp.StatusCode, out
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

func multipartBody(t *testing.T, kv ...string) (string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i := 0; i < len(kv); i += 2 {
		if err := w.WriteField(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

func jsonBody(kv ...string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

const liveAudience = "https://api.client.integration.aurora.co.uk"

func TestAuroraFakeIsStrict(t *testing.T) {
	s := NewAurora(Options{})
	defer s.Close()
	id, secret := s.ClientID(), s.ClientSecret()
	ok := form("grant_type", "client_credentials", "client_id", id, "client_secret", secret, "audience", liveAudience)
	tests := []struct {
		name   string
		r      raw
		status int
		code   string
	}{
		{"accepts the document's form request", raw{contentType: "application/x-www-form-urlencoded", body: ok}, 200, ""},
		{"accepts client credentials in HTTP Basic", raw{contentType: "application/x-www-form-urlencoded",
			body: form("grant_type", "client_credentials", "audience", liveAudience), basic: [2]string{id, secret}}, 200, ""},
		{"refuses GET", raw{method: http.MethodGet}, 400, "invalid_request"},
		{"refuses JSON", raw{contentType: "application/json", body: jsonBody("grant_type", "client_credentials")}, 400, "invalid_request"},
		{"refuses a request without audience", raw{contentType: "application/x-www-form-urlencoded",
			body: form("grant_type", "client_credentials", "client_id", id, "client_secret", secret)}, 400, "invalid_request"},
		{"refuses credentials in both places", raw{contentType: "application/x-www-form-urlencoded", body: ok, basic: [2]string{id, secret}}, 400, "invalid_request"},
		{"refuses another grant", raw{contentType: "application/x-www-form-urlencoded",
			body: form("grant_type", "password", "client_id", id, "client_secret", secret, "audience", liveAudience)}, 400, "invalid_request"},
		{"refuses a wrong secret", raw{contentType: "application/x-www-form-urlencoded",
			body: form("grant_type", "client_credentials", "client_id", id, "client_secret", "wrong", "audience", liveAudience)}, 401, "invalid_client"},
		{"refuses an unknown audience", raw{contentType: "application/x-www-form-urlencoded",
			body: form("grant_type", "client_credentials", "client_id", id, "client_secret", secret, "audience", "https://x")}, 403, "access_denied"},
		{"refuses '//.well-known'", raw{method: http.MethodGet, path: "//.well-known/openid-configuration"}, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := send(t, s, tt.r)
			if status != tt.status || (tt.code != "" && body["error"] != tt.code) {
				t.Errorf("status %d error %v, want %d %s", status, body["error"], tt.status, tt.code)
			}
		})
	}
	if s.Requests(provider.GrantClientCredentials) < 4 {
		t.Errorf("client_credentials requests = %d", s.Requests(provider.GrantClientCredentials))
	}
	for _, r := range s.Rejections() {
		if strings.Contains(r, secret) {
			t.Errorf("a rejection reason carries the client secret: %q", r)
		}
	}
}

func TestAuraFakeIsStrict(t *testing.T) {
	s := NewAura(Options{})
	defer s.Close()
	id, secret := s.ClientID(), s.ClientSecret()
	exchange := func(kv ...string) (int, map[string]any) {
		body, ct := multipartBody(t, kv...)
		return send(t, s, raw{contentType: ct, body: body})
	}
	code := s.IssueCode()
	if status, _ := send(t, s, raw{contentType: "application/x-www-form-urlencoded",
		body: form("grant_type", "authorization_code", "client_id", id, "client_secret", secret, "code", code, "redirect_uri", s.RedirectURI())}); status != 400 {
		t.Errorf("a form body: %d, want 400", status)
	}
	if status, _ := exchange("grant_type", "authorization_code", "client_id", id, "client_secret", secret, "code", code, "redirect_url", s.RedirectURI()); status != 400 {
		t.Errorf("redirect_url instead of redirect_uri: %d, want 400", status)
	}
	status, body := exchange("grant_type", "authorization_code", "client_id", id, "client_secret", secret, "code", code, "redirect_uri", s.RedirectURI())
	if status != 200 || body["refresh_token"] == nil {
		t.Fatalf("the document's code exchange: %d %v", status, body["error"])
	}
	first := body["refresh_token"].(string)
	status, body = exchange("grant_type", "refresh_token", "client_id", id, "client_secret", secret, "refresh_token", first)
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, body["error"])
	}
	second := body["refresh_token"].(string)
	if second == first {
		t.Fatal("the refresh token did not rotate")
	}
	if status, body := exchange("grant_type", "refresh_token", "client_id", id, "client_secret", secret, "refresh_token", first); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("a reused refresh token: %d %v, want invalid_grant", status, body["error"])
	}
	if status, body := exchange("grant_type", "refresh_token", "client_id", id, "client_secret", secret, "refresh_token", second); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("the newest refresh token after reuse: %d %v, want invalid_grant (the family is revoked)", status, body["error"])
	}
	if status, body := exchange("grant_type", "authorization_code", "client_id", id, "client_secret", secret, "code", code, "redirect_uri", s.RedirectURI()); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("a reused code (RFC 6749 section 4.1.2): %d %v, want invalid_grant", status, body["error"])
	}
	body2, ct := multipartBody(t, "grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken())
	if status, _ := send(t, s, raw{contentType: ct, body: body2, basic: [2]string{id, secret}}); status != 400 {
		t.Errorf("client credentials in HTTP Basic: %d, want 400", status)
	}
}

func TestAstonClubFakeIsStrict(t *testing.T) {
	s := NewAstonClub(Options{})
	defer s.Close()
	id, secret := s.ClientID(), s.ClientSecret()
	rt := s.IssueRefreshToken()
	status, body := send(t, s, raw{contentType: "application/json", body: jsonBody("grant_type", "refresh_token", "refresh_token", rt, "client_id", id, "client_secret", secret)})
	if status != 200 || body["token_type"] != "bearer" {
		t.Errorf("the document's JSON request: %d, token_type %v (want lower-case bearer)", status, body["token_type"])
	}
	if status, _ := send(t, s, raw{contentType: "application/x-www-form-urlencoded", body: form("grant_type", "refresh_token", "refresh_token", rt, "client_id", id, "client_secret", secret)}); status != 200 {
		t.Errorf("the form the document also allows: %d", status)
	}
	if status, _ := send(t, s, raw{contentType: "application/json", body: jsonBody("grant_type", "authorization_code", "code", s.IssueCode(), "client_id", id, "client_secret", secret)}); status != 400 {
		t.Errorf("a code without redirect_uri: %d, want 400", status)
	}
	if status, _ := send(t, s, raw{contentType: "application/json", body: jsonBody("grant_type", "refresh_token", "refresh_token", rt), basic: [2]string{id, secret}}); status != 400 {
		t.Errorf("client credentials in HTTP Basic: %d, want 400", status)
	}
}

func TestAurinkoFakeIsStrict(t *testing.T) {
	s := NewAurinko(Options{})
	defer s.Close()
	code := s.IssueCode()
	if status, _ := send(t, s, raw{path: "/v1/auth/token/" + code}); status != 400 {
		t.Errorf("no HTTP Basic: %d, want 400", status)
	}
	status, body := send(t, s, raw{path: "/v1/auth/token/" + code, basic: [2]string{s.ClientID(), s.ClientSecret()}})
	if status != 200 || body["accessToken"] == nil || body["userSession"] == nil {
		t.Fatalf("the document's curl -u request: %d %v", status, body)
	}
	if status, body := send(t, s, raw{path: "/v1/auth/token/" + code, basic: [2]string{s.ClientID(), s.ClientSecret()}}); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("a reused code: %d %v", status, body["error"])
	}
	if s.Requests(provider.GrantAuthorizationCode) != 3 {
		t.Errorf("requests = %d, want 3", s.Requests(provider.GrantAuthorizationCode))
	}
}

func TestGenericFakeTakesOnlyItsClientAuthentication(t *testing.T) {
	basic := NewGeneric(Options{ClientID: "id:x", ClientSecret: "s e+c"}, oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm)
	defer basic.Close()
	enc := [2]string{url.QueryEscape("id:x"), url.QueryEscape("s e+c")}
	if status, _ := send(t, basic, raw{contentType: "application/x-www-form-urlencoded", body: form("grant_type", "client_credentials"), basic: enc}); status != 200 {
		t.Errorf("RFC 6749 section 2.3.1 Basic: %d", status)
	}
	if status, _ := send(t, basic, raw{contentType: "application/x-www-form-urlencoded", body: form("grant_type", "client_credentials", "client_id", "id:x", "client_secret", "s e+c")}); status != 400 {
		t.Errorf("credentials in the body of a Basic server: %d, want 400", status)
	}
	body := NewGeneric(Options{}, oauthv1alpha1.ClientAuthenticationBody, oauthv1alpha1.RequestEncodingJSON)
	defer body.Close()
	if status, _ := send(t, body, raw{contentType: "application/json", body: jsonBody("grant_type", "client_credentials"), basic: [2]string{body.ClientID(), body.ClientSecret()}}); status != 400 {
		t.Errorf("HTTP Basic to a Body server: %d, want 400", status)
	}
	if status, _ := send(t, body, raw{contentType: "application/x-www-form-urlencoded", body: form("grant_type", "client_credentials", "client_id", body.ClientID(), "client_secret", body.ClientSecret())}); status != 400 {
		t.Errorf("a form to a JSON server: %d, want 400", status)
	}
	if status, _ := send(t, body, raw{contentType: "application/json", body: jsonBody("grant_type", "client_credentials", "client_id", body.ClientID(), "client_secret", body.ClientSecret())}); status != 200 {
		t.Errorf("the right request: %d", status)
	}
}

func TestFailNext(t *testing.T) {
	s := NewAurora(Options{})
	defer s.Close()
	ok := raw{contentType: "application/x-www-form-urlencoded",
		body: form("grant_type", "client_credentials", "client_id", s.ClientID(), "client_secret", s.ClientSecret(), "audience", liveAudience)}
	s.FailNext(1, 503)
	s.FailNext(1, 429)
	if status, body := send(t, s, ok); status != 503 || body["error"] != "server_error" {
		t.Errorf("first: %d %v, want 503 server_error", status, body["error"])
	}
	if status, _ := send(t, s, ok); status != 429 {
		t.Errorf("second: %d, want 429", status)
	}
	if status, _ := send(t, s, ok); status != 200 {
		t.Errorf("third: %d, want 200", status)
	}
	if s.TotalRequests() != 3 {
		t.Errorf("total = %d", s.TotalRequests())
	}
}
