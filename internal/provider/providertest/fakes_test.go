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
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

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
	return sendFull(t, s, r, nil)
}

// sendFull is send, storing the response header in header when it is not nil.
func sendFull(t *testing.T, s *Server, r raw, header *http.Header) (int, map[string]any) {
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
	if header != nil {
		*header = resp.Header
	}
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

func jsonBody(kv ...string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

const liveAudience = "https://api.client.integration.aurora.co.uk"

// A client id and secret whose characters RFC 6749 section 2.3.1's form-urlencoding changes.
const (
	awkwardID     = "client:id %+/é"
	awkwardSecret = "s3cr%t:with spaces+plus&amp"
)

// check is one row of a strictness table: a request, and the answer it must get.
type check struct {
	name     string
	req      func(s *Server) raw
	status   int
	code     string // the RFC 6749 error; "" for a success
	rejected bool   // whether the request is recorded as non-conforming
}

func runChecks(t *testing.T, newServer func() *Server, checks []check) {
	t.Helper()
	for _, tt := range checks {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer()
			defer s.Close()
			status, body := send(t, s, tt.req(s))
			if status != tt.status || body["error"] != nilIfEmpty(tt.code) {
				t.Errorf("got %d %v (%v), want %d %q", status, body["error"], body["error_description"], tt.status, tt.code)
			}
			if got := len(s.Rejections()) > 0; got != tt.rejected {
				t.Errorf("recorded as non-conforming: %v (%q), want %v", got, s.Rejections(), tt.rejected)
			}
			for _, r := range s.Rejections() {
				for _, m := range s.SecretMaterial() {
					if strings.Contains(r, m) {
						t.Errorf("a rejection reason carries secret material: %q", r)
					}
				}
			}
		})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func TestAuroraFakeIsStrict(t *testing.T) {
	ok := func(s *Server, extra ...string) raw {
		return raw{contentType: mediaForm, body: form(append([]string{"grant_type", "client_credentials",
			"client_id", s.ClientID(), "client_secret", s.ClientSecret(), "audience", liveAudience}, extra...)...)}
	}
	runChecks(t, func() *Server { return NewAurora(Options{ClientID: awkwardID, ClientSecret: awkwardSecret}) }, []check{
		{"accepts the document's form request", func(s *Server) raw { return ok(s) }, 200, "", false},
		{"accepts a scope", func(s *Server) raw { return ok(s, "scope", "accounts:read") }, 200, "", false},
		{"accepts client credentials in HTTP Basic, as the document allows", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "client_credentials", "audience", liveAudience),
				basic: [2]string{url.QueryEscape(s.ClientID()), url.QueryEscape(s.ClientSecret())}}
		}, 200, "", false},
		{"refuses GET", func(*Server) raw { return raw{method: http.MethodGet} }, 400, "invalid_request", true},
		{"refuses JSON", func(s *Server) raw {
			return raw{contentType: mediaJSON, body: jsonBody("grant_type", "client_credentials", "client_id", s.ClientID())}
		}, 400, "invalid_request", true},
		{"refuses a request without audience", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "client_credentials", "client_id", s.ClientID(), "client_secret", s.ClientSecret())}
		}, 400, "invalid_request", true},
		{"refuses client credentials in both places", func(s *Server) raw {
			r := ok(s)
			r.basic = [2]string{url.QueryEscape(s.ClientID()), url.QueryEscape(s.ClientSecret())}
			return r
		}, 400, "invalid_request", true},
		{"refuses a request without client credentials", func(*Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "client_credentials", "audience", liveAudience)}
		}, 400, "invalid_request", true},
		{"refuses another grant", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "password", "client_id", s.ClientID(), "client_secret", s.ClientSecret(), "audience", liveAudience)}
		}, 400, "unsupported_grant_type", true},
		{"refuses an unknown field", func(s *Server) raw { return ok(s, "resource", "https://x") }, 400, "invalid_request", true},
		{"refuses a repeated field", func(s *Server) raw {
			r := ok(s)
			r.body += "&audience=" + url.QueryEscape(liveAudience)
			return r
		}, 400, "invalid_request", true},
		{"refuses parameters in the query", func(s *Server) raw { r := ok(s); r.path = "/oauth/token?audience=x"; return r }, 400, "invalid_request", true},
		{"refuses a wrong secret with 401 invalid_client", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "client_credentials", "client_id", s.ClientID(), "client_secret", "wrong", "audience", liveAudience)}
		}, 401, "invalid_client", false},
		{"refuses an audience it does not know with 403 access_denied, as Auth0 does", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "client_credentials", "client_id", s.ClientID(), "client_secret", s.ClientSecret(), "audience", "https://x")}
		}, 403, "access_denied", false},
		{"refuses '//.well-known'", func(*Server) raw { return raw{method: http.MethodGet, path: "//.well-known/openid-configuration"} }, 404, "invalid_request", true},
		{"serves OIDC discovery naming its token endpoint", func(*Server) raw {
			return raw{method: http.MethodGet, path: "/.well-known/openid-configuration"}
		}, 200, "", false},
	})

	s := NewAurora(Options{})
	defer s.Close()
	status, doc := send(t, s, raw{method: http.MethodGet, path: "/.well-known/openid-configuration"})
	if status != 200 || doc["token_endpoint"] != s.TokenURL() || doc["issuer"] != s.URL()+"/" || !strings.HasSuffix(s.IssuerURL(), "/") {
		t.Errorf("discovery: %d %v", status, doc)
	}
	if s.DiscoveryRequests() != 1 || s.TotalRequests() != 0 {
		t.Errorf("discovery counted as %d discovery and %d token requests", s.DiscoveryRequests(), s.TotalRequests())
	}
}

func TestAuraFakeIsStrict(t *testing.T) {
	mp := func(kv ...string) raw {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for i := 0; i < len(kv); i += 2 {
			_ = w.WriteField(kv[i], kv[i+1])
		}
		_ = w.Close()
		return raw{contentType: w.FormDataContentType(), body: b.String()}
	}
	codeExchange := func(s *Server, extra ...string) raw {
		return mp(append([]string{"grant_type", "authorization_code", "client_id", s.ClientID(), "client_secret", s.ClientSecret(),
			"redirect_uri", s.RedirectURI(), "code", s.IssueCode()}, extra...)...)
	}
	runChecks(t, func() *Server { return NewAura(Options{}) }, []check{
		{"accepts the document's multipart code exchange", func(s *Server) raw { return codeExchange(s) }, 200, "", false},
		{"accepts the document's multipart refresh", func(s *Server) raw {
			return mp("grant_type", "refresh_token", "client_id", s.ClientID(), "client_secret", s.ClientSecret(), "refresh_token", s.IssueRefreshToken())
		}, 200, "", false},
		{"refuses a form body", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "refresh_token", "client_id", s.ClientID(), "client_secret", s.ClientSecret(), "refresh_token", s.IssueRefreshToken())}
		}, 400, "invalid_request", true},
		{"refuses redirect_url, the field list's spelling", func(s *Server) raw {
			return mp("grant_type", "authorization_code", "client_id", s.ClientID(), "client_secret", s.ClientSecret(),
				"redirect_url", s.RedirectURI(), "code", s.IssueCode())
		}, 400, "invalid_request", true},
		{"refuses a refresh that sends the token as code, as the field list says", func(s *Server) raw {
			return mp("grant_type", "refresh_token", "client_id", s.ClientID(), "client_secret", s.ClientSecret(), "code", s.IssueRefreshToken())
		}, 400, "invalid_request", true},
		{"refuses a code exchange without redirect_uri", func(s *Server) raw {
			return mp("grant_type", "authorization_code", "client_id", s.ClientID(), "client_secret", s.ClientSecret(), "code", s.IssueCode())
		}, 400, "invalid_request", true},
		{"refuses a scope, which the document does not know", func(s *Server) raw { return codeExchange(s, "scope", "x") }, 400, "invalid_request", true},
		{"refuses client credentials in HTTP Basic", func(s *Server) raw {
			r := mp("grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken())
			r.basic = [2]string{s.ClientID(), s.ClientSecret()}
			return r
		}, 400, "invalid_request", true},
		{"refuses a file part", func(s *Server) raw {
			var b bytes.Buffer
			w := multipart.NewWriter(&b)
			_ = w.WriteField("grant_type", "refresh_token")
			f, _ := w.CreateFormFile("refresh_token", "rt.txt")
			_, _ = io.WriteString(f, s.IssueRefreshToken())
			_ = w.Close()
			return raw{contentType: w.FormDataContentType(), body: b.String()}
		}, 400, "invalid_request", true},
		{"refuses a code with another redirect_uri as invalid_grant", func(s *Server) raw {
			return mp("grant_type", "authorization_code", "client_id", s.ClientID(), "client_secret", s.ClientSecret(),
				"redirect_uri", "https://evil.example.com/cb", "code", s.IssueCode())
		}, 400, "invalid_grant", false},
		{"refuses an unknown refresh token as invalid_grant", func(s *Server) raw {
			return mp("grant_type", "refresh_token", "client_id", s.ClientID(), "client_secret", s.ClientSecret(), "refresh_token", "rt-unknown")
		}, 400, "invalid_grant", false},
		{"refuses a wrong secret with 401 invalid_client", func(s *Server) raw {
			return mp("grant_type", "refresh_token", "client_id", s.ClientID(), "client_secret", "wrong", "refresh_token", s.IssueRefreshToken())
		}, 401, "invalid_client", false},
	})

	t.Run("rotates refresh tokens and revokes the grant when a spent one is presented again", func(t *testing.T) {
		s := NewAura(Options{})
		defer s.Close()
		refresh := func(rt string) (int, map[string]any) {
			return send(t, s, mp("grant_type", "refresh_token", "client_id", s.ClientID(), "client_secret", s.ClientSecret(), "refresh_token", rt))
		}
		code := s.IssueCode()
		exchange := mp("grant_type", "authorization_code", "client_id", s.ClientID(), "client_secret", s.ClientSecret(),
			"redirect_uri", s.RedirectURI(), "code", code)
		status, body := send(t, s, exchange)
		if status != 200 || body["refresh_token"] == nil {
			t.Fatalf("code exchange: %d %v", status, body)
		}
		first := body["refresh_token"].(string)
		status, body = refresh(first)
		if status != 200 || body["refresh_token"] == nil || body["refresh_token"] == first {
			t.Fatalf("refresh: %d %v, want a new refresh token", status, body)
		}
		second := body["refresh_token"].(string)
		if status, body := refresh(first); status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("a spent refresh token: %d %v, want invalid_grant", status, body["error"])
		}
		if status, body := refresh(second); status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("the newest refresh token after reuse: %d %v, want invalid_grant (the grant is revoked)", status, body["error"])
		}
		if status, body := send(t, s, exchange); status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("a reused code: %d %v, want invalid_grant", status, body["error"])
		}
		if len(s.Rejections()) != 0 {
			t.Errorf("conforming requests were recorded as non-conforming: %q", s.Rejections())
		}
		if s.Requests(provider.GrantRefreshToken) != 3 || s.Requests(provider.GrantAuthorizationCode) != 2 || s.TotalRequests() != 5 {
			t.Errorf("counted %d refresh, %d code, %d in all", s.Requests(provider.GrantRefreshToken), s.Requests(provider.GrantAuthorizationCode), s.TotalRequests())
		}
	})

	t.Run("issues JWT-like access tokens whose exp matches expires_in", func(t *testing.T) {
		s := NewAura(Options{Lifetime: 2 * time.Hour})
		defer s.Close()
		status, body := send(t, s, mp("grant_type", "refresh_token", "client_id", s.ClientID(), "client_secret", s.ClientSecret(), "refresh_token", s.IssueRefreshToken()))
		at, _ := body["access_token"].(string)
		parts := strings.Split(at, ".")
		if status != 200 || len(parts) != 3 {
			t.Fatalf("%d %q", status, at)
		}
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		var claims struct{ Exp float64 }
		if err != nil || json.Unmarshal(payload, &claims) != nil {
			t.Fatalf("payload %q: %v", payload, err)
		}
		if d := time.Until(time.Unix(int64(claims.Exp), 0)); d < 119*time.Minute || d > 121*time.Minute || body["expires_in"] != float64(7200) {
			t.Errorf("exp in %s, expires_in %v; want two hours", d, body["expires_in"])
		}
		if !s.ValidAccessToken(at) || s.ValidAccessToken(at+"x") || !slices.Contains(s.SecretMaterial(), at) {
			t.Error("the access token is not known as valid secret material")
		}
	})
}

func TestAstonClubFakeIsStrict(t *testing.T) {
	refreshJSON := func(s *Server) raw {
		return raw{contentType: mediaJSON, body: jsonBody("grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken(),
			"client_id", s.ClientID(), "client_secret", s.ClientSecret())}
	}
	runChecks(t, func() *Server { return NewAstonClub(Options{}) }, []check{
		{"accepts the document's JSON refresh", refreshJSON, 200, "", false},
		{"accepts the document's JSON code exchange", func(s *Server) raw {
			return raw{contentType: mediaJSON, body: jsonBody("grant_type", "authorization_code", "code", s.IssueCode(),
				"client_id", s.ClientID(), "redirect_uri", s.RedirectURI(), "client_secret", s.ClientSecret())}
		}, 200, "", false},
		{"accepts the form the document also allows", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken(),
				"client_id", s.ClientID(), "client_secret", s.ClientSecret())}
		}, 200, "", false},
		{"refuses multipart", func(s *Server) raw {
			return raw{contentType: "multipart/form-data; boundary=x", body: "--x--"}
		}, 400, "invalid_request", true},
		{"refuses a code without redirect_uri", func(s *Server) raw {
			return raw{contentType: mediaJSON, body: jsonBody("grant_type", "authorization_code", "code", s.IssueCode(), "client_id", s.ClientID(), "client_secret", s.ClientSecret())}
		}, 400, "invalid_request", true},
		{"refuses client credentials in HTTP Basic", func(s *Server) raw {
			return raw{contentType: mediaJSON, body: jsonBody("grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken()), basic: [2]string{s.ClientID(), s.ClientSecret()}}
		}, 400, "invalid_request", true},
		{"refuses a JSON number where a string belongs", func(s *Server) raw {
			return raw{contentType: mediaJSON, body: `{"grant_type":"refresh_token","refresh_token":1,"client_id":"a","client_secret":"b"}`}
		}, 400, "invalid_request", true},
		{"refuses a repeated JSON key", func(s *Server) raw {
			return raw{contentType: mediaJSON, body: `{"grant_type":"refresh_token","grant_type":"refresh_token","refresh_token":"x","client_id":"a","client_secret":"b"}`}
		}, 400, "invalid_request", true},
		{"refuses a client_credentials grant", func(s *Server) raw {
			return raw{contentType: mediaJSON, body: jsonBody("grant_type", "client_credentials", "client_id", s.ClientID(), "client_secret", s.ClientSecret())}
		}, 400, "unsupported_grant_type", true},
	})

	s := NewAstonClub(Options{})
	defer s.Close()
	status, body := send(t, s, refreshJSON(s))
	if status != 200 || body["token_type"] != "bearer" || body["resource_owner_type"] != "merchant" || body["scope"] != "posapi" || body["refresh_token"] == nil {
		t.Errorf("the document's response: %d %v", status, body)
	}
	s.SetOmitExpiresIn(true)
	s.SetOmitRefreshToken(true)
	rt := s.IssueRefreshToken()
	for range 2 {
		status, body = send(t, s, raw{contentType: mediaForm, body: form("grant_type", "refresh_token", "refresh_token", rt, "client_id", s.ClientID(), "client_secret", s.ClientSecret())})
		if _, ok := body["expires_in"]; status != 200 || ok || body["refresh_token"] != nil {
			t.Errorf("with the quirks on: %d %v, want no expires_in, no refresh_token, and the refresh token kept", status, body)
		}
		if !s.ValidAccessToken(body["access_token"].(string)) {
			t.Error("a token without expires_in is not valid")
		}
	}
	var types []string
	for _, r := range s.TokenRequests() {
		types = append(types, r.MediaType)
		if r.Params["refresh_token"] != "[redacted]" || r.Params["client_secret"] != "[redacted]" {
			t.Errorf("recorded params carry secrets: %v", r.Params)
		}
	}
	if !slices.Equal(types, []string{mediaJSON, mediaForm, mediaForm}) {
		t.Errorf("recorded media types %v", types)
	}
}

func TestAurinkoFakeIsStrict(t *testing.T) {
	curl := func(s *Server) raw {
		return raw{path: "/v1/auth/token/" + s.IssueCode(), basic: [2]string{s.ClientID(), s.ClientSecret()}}
	}
	runChecks(t, func() *Server { return NewAurinko(Options{ClientID: "aurinko-app", ClientSecret: awkwardSecret}) }, []check{
		{"accepts the document's curl -u request", curl, 200, "", false},
		{"refuses a request without HTTP Basic", func(s *Server) raw { return raw{path: "/v1/auth/token/" + s.IssueCode()} }, 400, "invalid_request", true},
		{"refuses HTTP Basic form-urlencoded, which curl -u does not do", func(s *Server) raw {
			return raw{path: "/v1/auth/token/" + s.IssueCode(), basic: [2]string{s.ClientID(), url.QueryEscape(s.ClientSecret())}}
		}, 400, "invalid_request", true},
		{"refuses a body", func(s *Server) raw {
			r := curl(s)
			r.contentType, r.body = mediaForm, form("code", "x")
			return r
		}, 400, "invalid_request", true},
		{"refuses a code in the query instead of the path", func(s *Server) raw {
			return raw{path: "/v1/auth/token?code=" + s.IssueCode(), basic: [2]string{s.ClientID(), s.ClientSecret()}}
		}, 400, "invalid_request", true},
		{"refuses GET", func(s *Server) raw { r := curl(s); r.method = http.MethodGet; return r }, 400, "invalid_request", true},
		{"refuses an unknown code as invalid_grant", func(s *Server) raw {
			return raw{path: "/v1/auth/token/code-unknown", basic: [2]string{s.ClientID(), s.ClientSecret()}}
		}, 400, "invalid_grant", false},
		{"refuses a wrong secret with 401 invalid_client", func(s *Server) raw {
			return raw{path: "/v1/auth/token/" + s.IssueCode(), basic: [2]string{s.ClientID(), "wrong"}}
		}, 401, "invalid_client", false},
	})

	s := NewAurinko(Options{})
	defer s.Close()
	r := curl(s)
	status, body := send(t, s, r)
	if status != 200 || body["accessToken"] == nil || body["userSession"] == nil || body["accountId"] != float64(123) || body["userId"] == nil {
		t.Fatalf("the document's response: %d %v", status, body)
	}
	session, _ := body["userSession"].(string)
	if !slices.Contains(s.SecretMaterial(), session) {
		t.Error("the user session is not listed as secret material")
	}
	if status, body := send(t, s, r); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("a reused code: %d %v", status, body["error"])
	}
	if n := s.Requests(provider.GrantAuthorizationCode); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
}

func TestGenericFakeTakesOnlyItsClientAuthenticationAndEncoding(t *testing.T) {
	encoded := func(s *Server) [2]string { return [2]string{url.QueryEscape(s.ClientID()), url.QueryEscape(s.ClientSecret())} }
	basic := func() *Server {
		return NewGeneric(Options{ClientID: awkwardID, ClientSecret: awkwardSecret}, oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm)
	}
	runChecks(t, basic, []check{
		{"accepts RFC 6749 section 2.3.1 Basic", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "client_credentials", "resource", "https://api"), basic: encoded(s)}
		}, 200, "", false},
		{"accepts a refresh token", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "refresh_token", "refresh_token", s.IssueRefreshToken()), basic: encoded(s)}
		}, 200, "", false},
		{"refuses Basic credentials that were not form-urlencoded first", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "client_credentials"), basic: [2]string{s.ClientID(), s.ClientSecret()}}
		}, 400, "invalid_request", true},
		{"refuses credentials in the body of a Basic server", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "client_credentials", "client_id", s.ClientID(), "client_secret", s.ClientSecret())}
		}, 400, "invalid_request", true},
		{"refuses credentials in both places", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "client_credentials", "client_secret", s.ClientSecret()), basic: encoded(s)}
		}, 400, "invalid_request", true},
		{"refuses JSON to a Form server", func(s *Server) raw {
			return raw{contentType: mediaJSON, body: jsonBody("grant_type", "client_credentials"), basic: encoded(s)}
		}, 400, "invalid_request", true},
		{"refuses an authorization_code grant", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "authorization_code", "code", "x", "redirect_uri", "https://x"), basic: encoded(s)}
		}, 400, "unsupported_grant_type", true},
		{"refuses a wrong secret with 401 invalid_client", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "client_credentials"), basic: [2]string{url.QueryEscape(s.ClientID()), "wrong"}}
		}, 401, "invalid_client", false},
	})
	runChecks(t, func() *Server {
		return NewGeneric(Options{}, oauthv1alpha1.ClientAuthenticationBody, oauthv1alpha1.RequestEncodingJSON)
	}, []check{
		{"accepts JSON with credentials in the body", func(s *Server) raw {
			return raw{contentType: mediaJSON, body: jsonBody("grant_type", "client_credentials", "client_id", s.ClientID(), "client_secret", s.ClientSecret())}
		}, 200, "", false},
		{"refuses HTTP Basic to a Body server", func(s *Server) raw {
			return raw{contentType: mediaJSON, body: jsonBody("grant_type", "client_credentials"), basic: [2]string{s.ClientID(), s.ClientSecret()}}
		}, 400, "invalid_request", true},
		{"refuses a form to a JSON server", func(s *Server) raw {
			return raw{contentType: mediaForm, body: form("grant_type", "client_credentials", "client_id", s.ClientID(), "client_secret", s.ClientSecret())}
		}, 400, "invalid_request", true},
	})

	t.Run("serves OIDC and RFC 8414 discovery, and can hide the OIDC document", func(t *testing.T) {
		s := basic()
		defer s.Close()
		for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
			if status, doc := send(t, s, raw{method: http.MethodGet, path: path}); status != 200 || doc["token_endpoint"] != s.TokenURL() {
				t.Errorf("%s: %d %v", path, status, doc)
			}
		}
		s.SetOIDCDiscovery(false)
		if status, _ := send(t, s, raw{method: http.MethodGet, path: "/.well-known/openid-configuration"}); status != 404 {
			t.Errorf("hidden OIDC document: %d", status)
		}
		if len(s.Rejections()) != 0 || s.DiscoveryRequests() != 3 {
			t.Errorf("rejections %q, discoveries %d", s.Rejections(), s.DiscoveryRequests())
		}
	})
}

func TestFailuresDelaysAndRevocation(t *testing.T) {
	s := NewAurora(Options{})
	defer s.Close()
	ok := raw{contentType: mediaForm,
		body: form("grant_type", "client_credentials", "client_id", s.ClientID(), "client_secret", s.ClientSecret(), "audience", liveAudience)}
	s.FailNext(1, 503)
	s.FailNext(1, 429)
	s.FailNextWith(1, Failure{Status: 502, Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html>bad gateway</html>"})
	if status, body := send(t, s, ok); status != 503 || body["error"] != "server_error" {
		t.Errorf("first: %d %v, want 503 server_error", status, body["error"])
	}
	if status, _, header := sendWithHeader(t, s, ok); status != 429 || header.Get("Retry-After") != "1" {
		t.Errorf("second: %d Retry-After %q, want 429 with Retry-After 1", status, header.Get("Retry-After"))
	}
	if status, _, header := sendWithHeader(t, s, ok); status != 502 || header.Get("Content-Type") != "text/html" {
		t.Errorf("third: %d %q, want the canned 502", status, header.Get("Content-Type"))
	}
	if status, _ := send(t, s, ok); status != 200 {
		t.Errorf("fourth: %d, want 200", status)
	}
	if s.TotalRequests() != 4 || s.Requests(provider.GrantClientCredentials) != 4 {
		t.Errorf("total = %d", s.TotalRequests())
	}

	s.SetDelay(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.TokenURL(), strings.NewReader(ok.body))
	req.Header.Set("Content-Type", mediaForm)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Error("a delayed response came before the client's deadline")
	}

	aura := NewAura(Options{})
	defer aura.Close()
	rt, code := aura.IssueRefreshToken(), aura.IssueCode()
	aura.RevokeGrants()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, kv := range [][2]string{{"grant_type", "refresh_token"}, {"client_id", aura.ClientID()}, {"client_secret", aura.ClientSecret()}, {"refresh_token", rt}} {
		_ = w.WriteField(kv[0], kv[1])
	}
	_ = w.Close()
	if status, body := send(t, aura, raw{contentType: w.FormDataContentType(), body: b.String()}); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("a revoked refresh token: %d %v", status, body["error"])
	}
	if !slices.Contains(aura.SecretMaterial(), rt) || !slices.Contains(aura.SecretMaterial(), code) || !slices.Contains(aura.SecretMaterial(), aura.ClientSecret()) {
		t.Error("SecretMaterial misses a refresh token, a code or the client secret")
	}
}

// sendWithHeader is send, also returning the response header.
func sendWithHeader(t *testing.T, s *Server, r raw) (int, map[string]any, http.Header) {
	t.Helper()
	var header http.Header
	status, body := sendFull(t, s, r, &header)
	return status, body, header
}
