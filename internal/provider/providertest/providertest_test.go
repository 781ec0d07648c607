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
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

const (
	auroraAudience = "https://api.client.integration.aurora.co.uk"
	ctForm         = "application/x-www-form-urlencoded"
	ctJSON         = "application/json"
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

func TestFakesRefuseOffDocumentRequests(t *testing.T) {
	const id, secret = "the-client", "the-secret-value"
	opts := providertest.Options{ClientID: id, ClientSecret: secret}
	generic := func(auth oauthv1alpha1.ClientAuthentication, enc oauthv1alpha1.RequestEncoding) func(providertest.Options) *providertest.Server {
		return func(o providertest.Options) *providertest.Server { return providertest.NewGeneric(o, auth, enc) }
	}
	basicForm := generic(oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm)
	bodyForm := generic(oauthv1alpha1.ClientAuthenticationBody, oauthv1alpha1.RequestEncodingForm)
	bodyJSON := generic(oauthv1alpha1.ClientAuthenticationBody, oauthv1alpha1.RequestEncodingJSON)
	auroraOK := formOf("grant_type", "client_credentials", "audience", auroraAudience, "client_id", id, "client_secret", secret)

	for _, tt := range []struct {
		name   string
		start  func(providertest.Options) *providertest.Server
		call   func(t *testing.T, s *providertest.Server) call
		status int
		code   string
		reason string // part of the recorded rejection; "" when none must be recorded
	}{
		{"Aurora refuses GET", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{method: http.MethodGet, url: s.TokenURL()}
		}, 400, "invalid_request", "GET"},
		{"Aurora refuses a multipart body", providertest.NewAurora, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "client_credentials", "audience", auroraAudience, "client_id", id, "client_secret", secret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_request", "Content-Type"},
		{"Aurora refuses JSON", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "client_credentials", "audience", auroraAudience, "client_id", id, "client_secret", secret)}
		}, 400, "invalid_request", "Content-Type"},
		{"Aurora refuses a request without audience", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "client_id", id, "client_secret", secret)}
		}, 400, "invalid_request", "audience"},
		{"Aurora refuses client credentials both in Basic and in the body", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: auroraOK, basic: formBasic(id, secret)}
		}, 400, "invalid_request", "both"},
		{"Aurora refuses the refresh_token grant", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token", "refresh_token", "rt", "audience", auroraAudience, "client_id", id, "client_secret", secret)}
		}, 400, "invalid_request", "grant_type"},
		{"Aurora refuses a wrong secret with 401 invalid_client", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "audience", auroraAudience, "client_id", id, "client_secret", "wrong")}
		}, 401, "invalid_client", ""},
		{"Aurora refuses an audience it does not serve", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "audience", "https://elsewhere.example", "client_id", id, "client_secret", secret)}
		}, 403, "access_denied", ""},
		{"Aurora accepts the client in the body", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: auroraOK}
		}, 200, "", ""},
		{"Aurora accepts the client in form-urlencoded HTTP Basic", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "audience", auroraAudience), basic: formBasic(id, secret)}
		}, 200, "", ""},
		{"Aurora refuses an issuer path with '//'", providertest.NewAurora, func(_ *testing.T, s *providertest.Server) call {
			return call{method: http.MethodGet, url: s.IssuerURL() + "/.well-known/openid-configuration"}
		}, 400, "invalid_request", "//"},

		{"Aura refuses a form body", providertest.NewAura, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken(), "client_id", id, "client_secret", secret)}
		}, 400, "invalid_request", "Content-Type"},
		{"Aura refuses client credentials in HTTP Basic", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken())
			return call{url: s.TokenURL(), ctype: ct, body: body, basic: []string{id, secret}}
		}, 400, "invalid_request", "Basic"},
		{"Aura refuses authorization_code without redirect_uri", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "authorization_code", "code", s.IssueCode(), "client_id", id, "client_secret", secret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_request", "redirect_uri"},
		{"Aura refuses redirect_url instead of redirect_uri", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "authorization_code", "code", s.IssueCode(), "redirect_url", s.RedirectURI(), "client_id", id, "client_secret", secret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_request", "redirect_url"},
		{"Aura refuses the client_credentials grant", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "client_credentials", "client_id", id, "client_secret", secret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_request", "grant_type"},
		{"Aura refuses a wrong secret with 401 invalid_client", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken(), "client_id", id, "client_secret", "wrong")
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 401, "invalid_client", ""},
		{"Aura refuses an unknown refresh token with invalid_grant", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "refresh_token", "refresh_token", "rt-never-issued", "client_id", id, "client_secret", secret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_grant", ""},
		{"Aura refuses a redirect_uri other than the registered one with invalid_grant", providertest.NewAura, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "authorization_code", "code", s.IssueCode(), "redirect_uri", "https://evil.example/cb", "client_id", id, "client_secret", secret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_grant", ""},
		{"Aura serves no discovery", providertest.NewAura, func(_ *testing.T, s *providertest.Server) call {
			return call{method: http.MethodGet, url: s.URL() + "/.well-known/openid-configuration"}
		}, 404, "", ""},

		{"Aston Club refuses a multipart body", providertest.NewAstonClub, func(t *testing.T, s *providertest.Server) call {
			ct, body := multipartOf(t, "grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken(), "client_id", id, "client_secret", secret)
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}, 400, "invalid_request", "Content-Type"},
		{"Aston Club refuses client credentials in HTTP Basic", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken()), basic: []string{id, secret}}
		}, 400, "invalid_request", "Basic"},
		{"Aston Club refuses a JSON field that is not a string", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: `{"grant_type":"refresh_token","refresh_token":"` + s.IssueRefreshToken() + `","client_id":1,"client_secret":"` + secret + `"}`}
		}, 400, "invalid_request", "not a string"},
		{"Aston Club refuses a refresh without refresh_token", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "refresh_token", "client_id", id, "client_secret", secret)}
		}, 400, "invalid_request", "refresh_token"},
		{"Aston Club accepts JSON", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken(), "client_id", id, "client_secret", secret)}
		}, 200, "", ""},
		{"Aston Club accepts a form body", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken(), "client_id", id, "client_secret", secret)}
		}, 200, "", ""},

		{"Aurinko refuses a code exchange without HTTP Basic", providertest.NewAurinko, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL() + "/" + s.IssueCode()}
		}, 400, "invalid_request", "Basic"},
		{"Aurinko refuses GET", providertest.NewAurinko, func(_ *testing.T, s *providertest.Server) call {
			return call{method: http.MethodGet, url: s.TokenURL() + "/" + s.IssueCode(), basic: []string{id, secret}}
		}, 400, "invalid_request", "GET"},
		{"Aurinko refuses a wrong secret with 401 invalid_client", providertest.NewAurinko, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL() + "/" + s.IssueCode(), basic: []string{id, "wrong"}}
		}, 401, "invalid_client", ""},
		{"Aurinko refuses an unknown code with invalid_grant", providertest.NewAurinko, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL() + "/code-never-issued", basic: []string{id, secret}}
		}, 400, "invalid_grant", ""},
		{"Aurinko answers a code exchange", providertest.NewAurinko, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL() + "/" + s.IssueCode(), basic: []string{id, secret}}
		}, 200, "", ""},

		{"Generic (Basic) refuses client credentials in the body only", basicForm, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "client_id", id, "client_secret", secret)}
		}, 400, "invalid_request", "Basic"},
		{"Generic (Basic) refuses a client_secret in the body as well", basicForm, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "client_secret", secret), basic: formBasic(id, secret)}
		}, 400, "invalid_request", "client_secret"},
		{"Generic (Body) refuses HTTP Basic", bodyForm, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials"), basic: formBasic(id, secret)}
		}, 400, "invalid_request", "Basic"},
		{"Generic (JSON) refuses a form body", bodyJSON, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "client_id", id, "client_secret", secret)}
		}, 400, "invalid_request", "Content-Type"},
		{"Generic refuses the authorization_code grant", bodyForm, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "authorization_code", "code", "c", "redirect_uri", "https://app.example.com/cb", "client_id", id, "client_secret", secret)}
		}, 400, "invalid_request", "grant_type"},
		{"Generic refuses a refresh without refresh_token", bodyForm, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token", "client_id", id, "client_secret", secret)}
		}, 400, "invalid_request", "refresh_token"},
		{"Generic refuses a wrong secret with 401 invalid_client", basicForm, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials"), basic: formBasic(id, "wrong")}
		}, 401, "invalid_client", ""},
		{"Generic accepts form-urlencoded HTTP Basic", basicForm, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials"), basic: formBasic(id, secret)}
		}, 200, "", ""},
		{"Generic accepts a JSON body with the client in it", bodyJSON, func(_ *testing.T, s *providertest.Server) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "client_credentials", "client_id", id, "client_secret", secret)}
		}, 200, "", ""},
		{"Generic refuses an issuer path with '//'", basicForm, func(_ *testing.T, s *providertest.Server) call {
			return call{method: http.MethodGet, url: s.URL() + "//.well-known/openid-configuration"}
		}, 400, "invalid_request", "//"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := tt.start(opts)
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
				for _, m := range append(fake.SecretMaterial(), secret) {
					if strings.Contains(r, m) {
						t.Errorf("%q holds the secret %q", r, m)
					}
				}
			}
		})
	}
}

// auraRefresh presents rt to an Aura fake and returns the answer.
func auraRefresh(t *testing.T, s *providertest.Server, rt string) answer {
	t.Helper()
	ct, body := multipartOf(t, "grant_type", "refresh_token", "refresh_token", rt, "client_id", s.ClientID(), "client_secret", s.ClientSecret())
	return do(t, call{url: s.TokenURL(), ctype: ct, body: body})
}

func TestAuraFakeRotatesAndDetectsReuse(t *testing.T) {
	fake := providertest.NewAura(providertest.Options{})
	defer fake.Close()
	rt0 := fake.IssueRefreshToken()
	first := auraRefresh(t, fake, rt0)
	rt1 := first.str("refresh_token")
	if first.status != 200 || rt1 == "" || rt1 == rt0 || first.str("token_type") != "Bearer" {
		t.Fatalf("first refresh = %d %v, want 200 with a new refresh token", first.status, first.body)
	}
	if reused := auraRefresh(t, fake, rt0); reused.status != 400 || reused.str("error") != "invalid_grant" {
		t.Errorf("reused refresh token = %d %v, want 400 invalid_grant", reused.status, reused.body)
	}
	if newest := auraRefresh(t, fake, rt1); newest.status != 400 || newest.str("error") != "invalid_grant" {
		t.Errorf("newest refresh token after a reuse = %d %v, want 400 invalid_grant (family revoked)", newest.status, newest.body)
	}
	if other := auraRefresh(t, fake, fake.IssueRefreshToken()); other.status != 200 {
		t.Errorf("another grant's refresh token = %d %v, want 200", other.status, other.body)
	}
	if got := fake.Requests(provider.GrantRefreshToken); got != 4 {
		t.Errorf("refresh_token requests = %d, want 4", got)
	}
	if r := fake.Rejections(); len(r) > 0 {
		t.Errorf("invalid_grant answers are not rejections: %q", r)
	}
}

func TestFakesRefuseAReusedCode(t *testing.T) {
	for _, tt := range []struct {
		name  string
		start func(providertest.Options) *providertest.Server
		call  func(t *testing.T, s *providertest.Server, code string) call
	}{
		{"Aura", providertest.NewAura, func(t *testing.T, s *providertest.Server, code string) call {
			ct, body := multipartOf(t, "grant_type", "authorization_code", "code", code, "redirect_uri", s.RedirectURI(), "client_id", s.ClientID(), "client_secret", s.ClientSecret())
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}},
		{"Aston Club", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server, code string) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "authorization_code", "code", code, "redirect_uri", s.RedirectURI(), "client_id", s.ClientID(), "client_secret", s.ClientSecret())}
		}},
		{"Aurinko", providertest.NewAurinko, func(_ *testing.T, s *providertest.Server, code string) call {
			return call{url: s.TokenURL() + "/" + code, basic: []string{s.ClientID(), s.ClientSecret()}}
		}},
	} {
		t.Run(tt.name+" takes a code once", func(t *testing.T) {
			fake := tt.start(providertest.Options{})
			defer fake.Close()
			code := fake.IssueCode()
			if first := do(t, tt.call(t, fake, code)); first.status != 200 {
				t.Fatalf("first exchange = %d %v, want 200", first.status, first.body)
			}
			if again := do(t, tt.call(t, fake, code)); again.status != 400 || again.str("error") != "invalid_grant" {
				t.Errorf("second exchange = %d %v, want 400 invalid_grant", again.status, again.body)
			}
			if got := fake.Requests(provider.GrantAuthorizationCode); got != 2 {
				t.Errorf("authorization_code requests = %d, want 2", got)
			}
		})
	}
}

func TestFakeAnswers(t *testing.T) {
	t.Run("Aston Club answers with its documented lower-case bearer and posapi scope", func(t *testing.T) {
		fake := providertest.NewAstonClub(providertest.Options{Lifetime: 365 * 24 * time.Hour})
		defer fake.Close()
		got := do(t, call{url: fake.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "refresh_token", "refresh_token", fake.IssueRefreshToken(), "client_id", fake.ClientID(), "client_secret", fake.ClientSecret())})
		if got.str("token_type") != "bearer" || got.str("scope") != "posapi" || got.body["expires_in"] != float64(31536000) || got.body["refresh_token"] != nil {
			t.Errorf("answer = %v", got.body)
		}
	})
	t.Run("SetOmitExpiresIn and SetOmitRefreshToken drop those fields", func(t *testing.T) {
		fake := providertest.NewAstonClub(providertest.Options{})
		defer fake.Close()
		fake.SetOmitExpiresIn(true)
		fake.SetOmitRefreshToken(true)
		got := do(t, call{url: fake.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "refresh_token", "refresh_token", fake.IssueRefreshToken(), "client_id", fake.ClientID(), "client_secret", fake.ClientSecret())})
		if _, ok := got.body["expires_in"]; ok {
			t.Errorf("answer %v has expires_in", got.body)
		}
		if _, ok := got.body["refresh_token"]; ok {
			t.Errorf("answer %v has refresh_token", got.body)
		}
	})
	t.Run("SetLifetime sets expires_in", func(t *testing.T) {
		fake := providertest.NewAurora(providertest.Options{})
		defer fake.Close()
		fake.SetLifetime(2 * time.Minute)
		got := do(t, call{url: fake.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "audience", auroraAudience, "client_id", fake.ClientID(), "client_secret", fake.ClientSecret())})
		if got.body["expires_in"] != float64(120) || got.str("token_type") != "Bearer" {
			t.Errorf("answer = %v, want expires_in 120", got.body)
		}
	})
	t.Run("Aurinko answers its own JSON", func(t *testing.T) {
		fake := providertest.NewAurinko(providertest.Options{})
		defer fake.Close()
		got := do(t, call{url: fake.TokenURL() + "/" + fake.IssueCode(), basic: []string{fake.ClientID(), fake.ClientSecret()}})
		if got.body["accountId"] != float64(123) || got.str("accessToken") == "" || got.str("userSession") == "" || got.str("userId") == "" {
			t.Errorf("answer = %v", got.body)
		}
	})
	t.Run("Generic serves OIDC and RFC 8414 discovery naming its token endpoint", func(t *testing.T) {
		fake := providertest.NewGeneric(providertest.Options{}, "", "")
		defer fake.Close()
		for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
			got := do(t, call{method: http.MethodGet, url: fake.URL() + path})
			if got.status != 200 || got.str("token_endpoint") != fake.TokenURL() {
				t.Errorf("%s = %d %v", path, got.status, got.body)
			}
		}
	})
	t.Run("Generic does not rotate refresh tokens", func(t *testing.T) {
		fake := providertest.NewGeneric(providertest.Options{}, oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm)
		defer fake.Close()
		rt := fake.IssueRefreshToken()
		for i := range 2 {
			got := do(t, call{url: fake.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token", "refresh_token", rt), basic: formBasic(fake.ClientID(), fake.ClientSecret())})
			if got.status != 200 || got.str("refresh_token") != "" {
				t.Errorf("refresh %d = %d %v, want 200 without a new refresh token", i, got.status, got.body)
			}
		}
	})
	t.Run("RevokeGrants stops what was issued before, not what is issued after", func(t *testing.T) {
		fake := providertest.NewAura(providertest.Options{})
		defer fake.Close()
		before := fake.IssueRefreshToken()
		fake.RevokeGrants()
		if got := auraRefresh(t, fake, before); got.status != 400 || got.str("error") != "invalid_grant" {
			t.Errorf("revoked refresh token = %d %v, want 400 invalid_grant", got.status, got.body)
		}
		if got := auraRefresh(t, fake, fake.IssueRefreshToken()); got.status != 200 {
			t.Errorf("refresh token issued after = %d %v, want 200", got.status, got.body)
		}
	})
	t.Run("ValidAccessToken knows only what it issued", func(t *testing.T) {
		fake := providertest.NewAurora(providertest.Options{})
		defer fake.Close()
		if fake.ValidAccessToken("at-not-issued") || fake.ValidAccessToken("") {
			t.Error("an access token that was never issued is valid")
		}
	})
	t.Run("the default client id is test-client and the secret is random", func(t *testing.T) {
		a, b := providertest.NewAura(providertest.Options{}), providertest.NewAura(providertest.Options{})
		defer a.Close()
		defer b.Close()
		if a.ClientID() != "test-client" || a.ClientSecret() == "" || a.ClientSecret() == b.ClientSecret() {
			t.Errorf("clients %q/%q and %q/%q", a.ClientID(), a.ClientSecret(), b.ClientID(), b.ClientSecret())
		}
	})
}

func TestFakeCountsRequests(t *testing.T) {
	fake := providertest.NewGeneric(providertest.Options{}, oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm)
	defer fake.Close()
	basic := formBasic(fake.ClientID(), fake.ClientSecret())
	for range 2 {
		do(t, call{url: fake.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials"), basic: basic})
	}
	do(t, call{url: fake.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token"), basic: basic}) // refused: no refresh_token
	do(t, call{url: fake.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials"), basic: formBasic(fake.ClientID(), "wrong")})
	do(t, call{method: http.MethodGet, url: fake.URL() + "/.well-known/openid-configuration"}) // discovery is no token request
	for _, tt := range []struct {
		grant provider.GrantType
		want  int
	}{{provider.GrantClientCredentials, 3}, {provider.GrantRefreshToken, 1}, {provider.GrantAuthorizationCode, 0}} {
		if got := fake.Requests(tt.grant); got != tt.want {
			t.Errorf("Requests(%s) = %d, want %d", tt.grant, got, tt.want)
		}
	}
	if got := fake.TotalRequests(); got != 4 {
		t.Errorf("TotalRequests() = %d, want 4", got)
	}
}

func TestFakeFailNext(t *testing.T) {
	ok := func(s *providertest.Server) call {
		return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "audience", auroraAudience, "client_id", s.ClientID(), "client_secret", s.ClientSecret())}
	}
	for _, tt := range []struct {
		name       string
		arrange    func(*providertest.Server)
		status     int
		code       string
		retryAfter string
		failures   int
	}{
		{"FailNext with a 503 answers server_error n times", func(s *providertest.Server) { s.FailNext(2, http.StatusServiceUnavailable) }, 503, "server_error", "", 2},
		{"FailNext with a 500 answers server_error", func(s *providertest.Server) { s.FailNext(1, http.StatusInternalServerError) }, 500, "server_error", "", 1},
		{"FailNext with a 429 answers Retry-After", func(s *providertest.Server) { s.FailNext(1, http.StatusTooManyRequests) }, 429, "slow_down", "1", 1},
		{"FailNext with a 400 answers invalid_request", func(s *providertest.Server) { s.FailNext(1, http.StatusBadRequest) }, 400, "invalid_request", "", 1},
		{"FailNextWith answers exactly the canned response", func(s *providertest.Server) {
			s.FailNextWith(1, providertest.Failure{Status: 429, Header: http.Header{"Retry-After": {"Wed, 21 Oct 2037 07:28:00 GMT"}}, Body: `{"error":"custom"}`})
		}, 429, "custom", "Wed, 21 Oct 2037 07:28:00 GMT", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := providertest.NewAurora(providertest.Options{})
			defer fake.Close()
			tt.arrange(fake)
			do(t, call{method: http.MethodGet, url: fake.URL() + "/.well-known/openid-configuration"}) // discovery takes no failure
			for i := range tt.failures {
				got := do(t, ok(fake))
				if got.status != tt.status || got.str("error") != tt.code || got.header.Get("Retry-After") != tt.retryAfter {
					t.Errorf("request %d = %d %v Retry-After %q, want %d %s %q", i, got.status, got.body, got.header.Get("Retry-After"), tt.status, tt.code, tt.retryAfter)
				}
			}
			if got := do(t, ok(fake)); got.status != 200 {
				t.Errorf("after the failures = %d %v, want 200", got.status, got.body)
			}
			if r := fake.Rejections(); len(r) > 0 {
				t.Errorf("canned failures are not rejections: %q", r)
			}
		})
	}
}

func TestFakeRejectionsHoldNoSecrets(t *testing.T) {
	fake := providertest.NewAura(providertest.Options{ClientSecret: "very-secret-client-secret"})
	defer fake.Close()
	rt, code := fake.IssueRefreshToken(), fake.IssueCode()
	// Off-document requests carrying every secret.
	do(t, call{url: fake.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token", "refresh_token", rt, "client_id", fake.ClientID(), "client_secret", fake.ClientSecret())})
	ct, body := multipartOf(t, "grant_type", "authorization_code", "code", code, "redirect_url", fake.RedirectURI(), "client_id", fake.ClientID(), "client_secret", fake.ClientSecret())
	do(t, call{url: fake.TokenURL(), ctype: ct, body: body})
	ct, body = multipartOf(t, "grant_type", "refresh_token", "refresh_token", rt)
	do(t, call{url: fake.TokenURL(), ctype: ct, body: body, basic: []string{fake.ClientID(), fake.ClientSecret()}})
	do(t, call{method: http.MethodGet, url: fake.TokenURL() + "?client_secret=" + fake.ClientSecret()})
	rej := fake.Rejections()
	if len(rej) != 4 {
		t.Fatalf("rejections = %q, want 4", rej)
	}
	material := fake.SecretMaterial()
	for _, want := range []string{"very-secret-client-secret", rt, code} {
		found := false
		for _, m := range material {
			found = found || m == want
		}
		if !found {
			t.Errorf("SecretMaterial() = %q lacks %q", material, want)
		}
	}
	for _, r := range rej {
		if r == "" {
			t.Error("an empty rejection reason")
		}
		for _, m := range material {
			if strings.Contains(r, m) {
				t.Errorf("rejection %q holds the secret %q", r, m)
			}
		}
	}
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
