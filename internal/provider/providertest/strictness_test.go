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
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// A client id and secret whose characters RFC 6749 section 2.3.1's form-urlencoding changes.
const (
	awkwardID     = "client:id %+/é"
	awkwardSecret = "s3cr%t:with spaces+plus&amp"
)

// TestFakesRefuseWhatNoDocumentSends: requests that depart from a document in ways a
// sloppy client would are refused with 400 invalid_request and recorded, without secrets.
func TestFakesRefuseWhatNoDocumentSends(t *testing.T) {
	auroraOK := func(s *Server, extra ...string) raw {
		return raw{contentType: contentForm, body: form(append([]string{"grant_type", "client_credentials",
			"client_id", s.ClientID(), "client_secret", s.ClientSecret(), "audience", liveAudience}, extra...)...)}
	}
	tests := []struct {
		name   string
		start  func() *Server
		req    func(*testing.T, *Server) raw
		status int
	}{
		{"Aurora: a field the document does not name", func() *Server { return NewAurora(Options{}) },
			func(_ *testing.T, s *Server) raw { return auroraOK(s, "resource", "https://x") }, 400},
		{"Aurora: a repeated field", func() *Server { return NewAurora(Options{}) },
			func(_ *testing.T, s *Server) raw {
				r := auroraOK(s)
				r.body += "&audience=" + url.QueryEscape(liveAudience)
				return r
			}, 400},
		{"Aurora: parameters in the URL query", func() *Server { return NewAurora(Options{}) },
			func(_ *testing.T, s *Server) raw { r := auroraOK(s); r.path = "/oauth/token" + "?audience=x"; return r }, 400},
		{"Aura: a scope, which the document does not know", func() *Server { return NewAura(Options{}) },
			func(t *testing.T, s *Server) raw {
				body, ct := multipartBody(t, "grant_type", "refresh_token", "client_id", s.ClientID(), "client_secret", s.ClientSecret(),
					"refresh_token", s.IssueRefreshToken(), "scope", "x")
				return raw{contentType: ct, body: body}
			}, 400},
		{"Aura: a refresh sending the token as code, as the document's field list says", func() *Server { return NewAura(Options{}) },
			func(t *testing.T, s *Server) raw {
				body, ct := multipartBody(t, "grant_type", "refresh_token", "client_id", s.ClientID(), "client_secret", s.ClientSecret(),
					"code", s.IssueRefreshToken())
				return raw{contentType: ct, body: body}
			}, 400},
		{"Aston Club: a repeated JSON key", func() *Server { return NewAstonClub(Options{}) },
			func(_ *testing.T, s *Server) raw {
				return raw{contentType: contentJSON, body: `{"grant_type":"refresh_token","grant_type":"refresh_token","refresh_token":"` +
					s.IssueRefreshToken() + `","client_id":"` + s.ClientID() + `","client_secret":"` + s.ClientSecret() + `"}`}
			}, 400},
		{"Aston Club: a JSON number where a string belongs", func() *Server { return NewAstonClub(Options{}) },
			func(_ *testing.T, s *Server) raw {
				return raw{contentType: contentJSON, body: `{"grant_type":"refresh_token","refresh_token":1,"client_id":"a","client_secret":"b"}`}
			}, 400},
		{"Aurinko: HTTP Basic form-urlencoded, which curl -u does not do",
			func() *Server { return NewAurinko(Options{ClientID: "aurinko-app", ClientSecret: awkwardSecret}) },
			func(_ *testing.T, s *Server) raw {
				return raw{path: "/v1/auth/token" + "/" + s.IssueCode(), basic: [2]string{s.ClientID(), url.QueryEscape(s.ClientSecret())}}
			}, 400},
		{"Aurinko: a request body", func() *Server { return NewAurinko(Options{}) },
			func(_ *testing.T, s *Server) raw {
				return raw{path: "/v1/auth/token" + "/" + s.IssueCode(), basic: [2]string{s.ClientID(), s.ClientSecret()}, contentType: contentForm, body: "code=x"}
			}, 400},
		{"Generic Basic: id and secret not form-urlencoded first",
			func() *Server {
				return NewGeneric(Options{ClientID: awkwardID, ClientSecret: awkwardSecret}, oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm)
			},
			func(_ *testing.T, s *Server) raw {
				return raw{contentType: contentForm, body: form("grant_type", "client_credentials"), basic: [2]string{s.ClientID(), s.ClientSecret()}}
			}, 400},
		{"any: a path the provider does not serve", func() *Server { return NewAstonClub(Options{}) },
			func(*testing.T, *Server) raw { return raw{path: "/oauth/token"} }, 404},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			s := tt.start()
			defer s.Close()
			status, body := send(t, s, tt.req(t, s))
			if status != tt.status || body["error"] != "invalid_request" {
				t.Errorf("got %d %v (%v), want %d invalid_request", status, body["error"], body["error_description"], tt.status)
			}
			rejections := s.Rejections()
			if len(rejections) != 1 {
				t.Fatalf("rejections %q, want one", rejections)
			}
			for _, m := range s.SecretMaterial() {
				if strings.Contains(rejections[0], m) {
					t.Errorf("the rejection %q carries secret material", rejections[0])
				}
			}
		})
	}

	t.Run("accepts the same credentials encoded the right way", func(t *testing.T) {
		g := NewGeneric(Options{ClientID: awkwardID, ClientSecret: awkwardSecret}, oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm)
		defer g.Close()
		if status, _ := send(t, g, raw{contentType: contentForm, body: form("grant_type", "client_credentials"),
			basic: [2]string{url.QueryEscape(g.ClientID()), url.QueryEscape(g.ClientSecret())}}); status != 200 {
			t.Errorf("RFC 6749 section 2.3.1 Basic: %d", status)
		}
		a := NewAurinko(Options{ClientID: "aurinko-app", ClientSecret: awkwardSecret})
		defer a.Close()
		if status, _ := send(t, a, raw{path: "/v1/auth/token" + "/" + a.IssueCode(), basic: [2]string{a.ClientID(), a.ClientSecret()}}); status != 200 {
			t.Errorf("curl -u Basic: %d", status)
		}
		if len(g.Rejections())+len(a.Rejections()) != 0 {
			t.Errorf("rejections %q %q", g.Rejections(), a.Rejections())
		}
	})
}

func TestFakesRecordRequests(t *testing.T) {
	s := NewAstonClub(Options{})
	defer s.Close()
	rt := s.IssueRefreshToken()
	for _, r := range []raw{
		{contentType: contentJSON, body: jsonBody("grant_type", "refresh_token", "refresh_token", rt, "client_id", s.ClientID(), "client_secret", s.ClientSecret())},
		{contentType: contentForm, body: form("grant_type", "refresh_token", "refresh_token", rt, "client_id", s.ClientID(), "client_secret", s.ClientSecret())},
	} {
		if status, body := send(t, s, r); status != 200 {
			t.Fatalf("%d %v", status, body)
		}
	}
	reqs := s.TokenRequests()
	if len(reqs) != 2 || reqs[0].MediaType != contentJSON || reqs[1].MediaType != contentForm {
		t.Fatalf("recorded %+v, want a JSON then a form request", reqs)
	}
	for _, r := range reqs {
		if r.Grant != provider.GrantRefreshToken || r.ClientAuth != "body" || r.Params["client_id"] != s.ClientID() ||
			r.Params["refresh_token"] != "[redacted]" || r.Params["client_secret"] != "[redacted]" || r.Rejection != "" {
			t.Errorf("recorded %+v", r)
		}
	}
}

func TestGenericFakeDiscovery(t *testing.T) {
	s := NewGeneric(Options{}, "", "")
	defer s.Close()
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		if status, doc := send(t, s, raw{method: http.MethodGet, path: path}); status != 200 || doc["token_endpoint"] != s.TokenURL() || doc["issuer"] != s.IssuerURL() {
			t.Errorf("%s: %d %v", path, status, doc)
		}
	}
	s.SetOIDCDiscovery(false)
	if status, _ := send(t, s, raw{method: http.MethodGet, path: "/.well-known/openid-configuration"}); status != 404 {
		t.Errorf("the hidden OIDC document: %d, want 404", status)
	}
	if n := s.DiscoveryRequests(); n != 3 || s.TotalRequests() != 0 || len(s.Rejections()) != 0 {
		t.Errorf("%d discovery requests, %d token requests, rejections %q", n, s.TotalRequests(), s.Rejections())
	}
}

func TestDelayEndsWithTheClientOrTheServer(t *testing.T) {
	s := NewAurora(Options{})
	s.SetDelay(time.Hour)
	ok := form("grant_type", "client_credentials", "client_id", s.ClientID(), "client_secret", s.ClientSecret(), "audience", liveAudience)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.TokenURL(), strings.NewReader(ok))
	req.Header.Set("Content-Type", contentForm)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Error("a delayed answer came before the client's deadline")
	}
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close waited %s for a delayed answer", d)
	}
	if !slices.Contains(s.SecretMaterial(), s.ClientSecret()) {
		t.Error("the client secret is not listed as secret material")
	}
}
