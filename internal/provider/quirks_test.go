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

// Tests of what the per-provider tests leave out: discovery's corners, the documented
// default endpoints (checked offline), Aurinko's path and answer, the x/oauth2 path's
// agreement with the hand-written ones, and a few provider answers off the happy path.

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// sent is a request an offline client or a capture server received.
type sent struct {
	method, url, path string
	header            http.Header
	body              string
}

// offlineClient answers every request with 200 and body, without a network, and reports
// what was sent.
func offlineClient(body string) (*provider.Client, func() []sent) {
	var mu sync.Mutex
	var log []sent
	rt := roundTrip(func(r *http.Request) (*http.Response, error) {
		var b []byte
		if r.Body != nil {
			b, _ = io.ReadAll(r.Body)
		}
		mu.Lock()
		log = append(log, sent{r.Method, r.URL.String(), r.URL.EscapedPath(), r.Header.Clone(), string(b)})
		mu.Unlock()
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})
	c := &provider.Client{HTTPClient: &http.Client{Transport: rt}, Timeout: 5 * time.Second}
	return c, func() []sent { mu.Lock(); defer mu.Unlock(); return slices.Clone(log) }
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// captureServer answers each request with handle's status and body, and reports what came.
func captureServer(t *testing.T, handle func(r *http.Request) (int, string)) (*httptest.Server, func() []sent) {
	t.Helper()
	var mu sync.Mutex
	var log []sent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		log = append(log, sent{r.Method, r.URL.String(), r.URL.EscapedPath(), r.Header.Clone(), string(b)})
		mu.Unlock()
		status, body := handle(r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []sent { mu.Lock(); defer mu.Unlock(); return slices.Clone(log) }
}

func TestDocumentedEndpoints(t *testing.T) {
	const live, dev = "https://api.client.integration.aurora.co.uk", "https://dev.client.integration.aurora.co.uk"
	tests := []struct {
		name     string
		req      provider.Request
		endpoint string
		check    func(t *testing.T, s sent)
	}{
		{"Aurora uses the Live token endpoint and audience by default, without discovery",
			provider.Request{Provider: oauthv1alpha1.ProviderAurora}, "https://auth.aurora.co.uk/oauth/token",
			func(t *testing.T, s sent) { wantForm(t, s, "audience", live) }},
		{"Aurora uses the Dev token endpoint and audience for Dev",
			provider.Request{Provider: oauthv1alpha1.ProviderAurora, Environment: oauthv1alpha1.EnvironmentDev}, "https://aurora-dev.uk.auth0.com/oauth/token",
			func(t *testing.T, s sent) { wantForm(t, s, "audience", dev) }},
		{"Aurora sends spec.audience over the environment's",
			provider.Request{Provider: oauthv1alpha1.ProviderAurora, Audience: dev}, "https://auth.aurora.co.uk/oauth/token",
			func(t *testing.T, s sent) { wantForm(t, s, "audience", dev) }},
		{"Aurora sends the client credentials in the body, and scope only when set",
			provider.Request{Provider: oauthv1alpha1.ProviderAurora}, "https://auth.aurora.co.uk/oauth/token",
			func(t *testing.T, s sent) {
				v, _ := url.ParseQuery(s.body)
				if s.header.Get("Authorization") != "" || v.Get("client_id") != "id" || v.Get("client_secret") != "secret" || v.Has("scope") ||
					v.Get("grant_type") != "client_credentials" || s.header.Get("Content-Type") != "application/x-www-form-urlencoded" {
					t.Errorf("sent %v %v", s.header, v)
				}
			}},
		{"Aston Club uses Production by default",
			provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "a324cc21"}},
			"https://auth.astonclub.com.au/v1/token", func(t *testing.T, s sent) {
				var body map[string]string
				if err := json.Unmarshal([]byte(s.body), &body); err != nil || s.header.Get("Content-Type") != "application/json" ||
					body["grant_type"] != "refresh_token" || body["refresh_token"] != "a324cc21" || body["client_id"] != "id" || body["client_secret"] != "secret" || len(body) != 4 {
					t.Errorf("sent %s %v (%v)", s.header.Get("Content-Type"), body, err)
				}
			}},
		{"Aston Club uses the Sandbox host for Sandbox",
			provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, Environment: oauthv1alpha1.EnvironmentSandbox,
				Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt"}}, "https://auth-sandbox.astonclub.com.au/v1/token", nil},
		{"Aurinko appends the code to the documented endpoint",
			provider.Request{Provider: oauthv1alpha1.ProviderAurinko, Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "xyz"}},
			"https://api.aurinko.io/v1/auth/token/xyz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, log := offlineClient(`{"access_token":"a","accessToken":"a","token_type":"bearer","expires_in":60}`)
			req := tt.req
			req.ClientID, req.ClientSecret = "id", "secret"
			if _, err := c.Token(context.Background(), &req); err != nil {
				t.Fatal(err)
			}
			got := log()
			if len(got) != 1 || got[0].method != http.MethodPost || got[0].url != tt.endpoint {
				t.Fatalf("sent %+v, want one POST to %s", got, tt.endpoint)
			}
			if tt.check != nil {
				tt.check(t, got[0])
			}
		})
	}
	for _, req := range []provider.Request{
		{Provider: oauthv1alpha1.ProviderAurora, Environment: oauthv1alpha1.EnvironmentSandbox},
		{Provider: oauthv1alpha1.ProviderAstonClub, Environment: oauthv1alpha1.EnvironmentDev, Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt"}},
	} {
		c, log := offlineClient(`{}`)
		if _, err := c.Token(context.Background(), &req); provider.KindOf(err) != provider.BadRequest || len(log()) != 0 {
			t.Errorf("%s in environment %s: %v, want BadRequest and no request", req.Provider, req.Environment, err)
		}
	}
}

func wantForm(t *testing.T, s sent, key, want string) {
	t.Helper()
	v, err := url.ParseQuery(s.body)
	if err != nil || v.Get(key) != want {
		t.Errorf("%s = %q, want %q (body %q)", key, v.Get(key), want, s.body)
	}
}

func TestDiscoveryCorners(t *testing.T) {
	t.Run("falls back to RFC 8414 metadata when there is no OIDC document", func(t *testing.T) {
		fake := providertest.NewGeneric(providertest.Options{}, "", "")
		defer fake.Close()
		fake.SetOIDCDiscovery(false)
		tok := mustToken(t, &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, IssuerURL: fake.IssuerURL(), ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret()})
		if !fake.ValidAccessToken(tok.AccessToken) || fake.DiscoveryRequests() != 2 {
			t.Errorf("token %+v after %d discovery requests, want a valid one after 2", tok, fake.DiscoveryRequests())
		}
		noRejections(t, fake)
	})
	t.Run("discovers once for many token requests", func(t *testing.T) {
		fake := providertest.NewAurora(providertest.Options{})
		defer fake.Close()
		req := &provider.Request{Provider: oauthv1alpha1.ProviderAurora, IssuerURL: fake.IssuerURL(), ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret()}
		c := quickClient() // the cache is the client's
		for range 3 {
			if _, err := c.Token(context.Background(), req); err != nil {
				t.Fatal(err)
			}
		}
		if fake.DiscoveryRequests() != 1 || fake.TotalRequests() != 3 {
			t.Errorf("%d discovery and %d token requests, want 1 and 3", fake.DiscoveryRequests(), fake.TotalRequests())
		}
		noRejections(t, fake)
	})
	t.Run("an unavailable OIDC document is transient, not hidden behind the fallback's 404", func(t *testing.T) {
		srv, log := captureServer(t, func(r *http.Request) (int, string) {
			if strings.HasSuffix(r.URL.Path, "openid-configuration") {
				return http.StatusServiceUnavailable, ``
			}
			return http.StatusNotFound, ``
		})
		_ = mustFail(t, quickClient(), &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, IssuerURL: srv.URL + "/", ClientID: "id", ClientSecret: "s"}, provider.Transient)
		if n := len(log()); n != 1 {
			t.Errorf("%d requests, want the OIDC one only", n)
		}
	})
	t.Run("puts the well-known segments where OIDC and RFC 8414 want them for an issuer with a path", func(t *testing.T) {
		srv, log := captureServer(t, func(*http.Request) (int, string) { return http.StatusNotFound, `` })
		_ = mustFail(t, quickClient(), &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, IssuerURL: srv.URL + "/tenant/a/", ClientID: "id", ClientSecret: "s"}, provider.BadRequest)
		sent := log()
		paths := make([]string, 0, len(sent))
		for _, s := range sent {
			paths = append(paths, s.method+" "+s.path)
		}
		if want := []string{"GET /tenant/a/.well-known/openid-configuration", "GET /.well-known/oauth-authorization-server/tenant/a"}; !slices.Equal(paths, want) {
			t.Errorf("requested %q, want %q", paths, want)
		}
	})
	t.Run("refuses metadata of another issuer", func(t *testing.T) {
		fake := providertest.NewGeneric(providertest.Options{}, "", "")
		defer fake.Close()
		srv, _ := captureServer(t, func(*http.Request) (int, string) {
			return http.StatusOK, `{"issuer":"https://evil.example.com/","token_endpoint":"` + fake.TokenURL() + `"}`
		})
		_ = mustFail(t, quickClient(), &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, IssuerURL: srv.URL + "/", ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret()}, provider.BadRequest)
		if fake.TotalRequests() != 0 {
			t.Error("the client secret went to the endpoint of another issuer's metadata")
		}
	})
}

func TestXOAuth2PathAgreesWithHandWrittenOnes(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	reqs := map[string]func(string) *provider.Request{
		"Aurora (x/oauth2)": func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAurora, TokenURL: u, ClientID: "id", ClientSecret: "s"}
		},
		"Generic client credentials (x/oauth2)": func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u, ClientID: "id", ClientSecret: "s"}
		},
		"Generic refresh (hand-written)": func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u, ClientID: "id", ClientSecret: "s",
				Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt"}}
		},
	}
	for name, req := range reqs {
		t.Run(name+": an invalid_grant in a 200 is invalid_grant", func(t *testing.T) {
			srv, _ := captureServer(t, func(*http.Request) (int, string) { return http.StatusOK, `{"error":"invalid_grant"}` })
			e := mustFail(t, quickClient(), req(srv.URL), provider.InvalidGrant)
			if e.Code != "invalid_grant" {
				t.Errorf("code %q", e.Code)
			}
		})
		t.Run(name+": a 400 temporarily_unavailable is transient", func(t *testing.T) {
			srv, _ := captureServer(t, func(*http.Request) (int, string) { return http.StatusBadRequest, `{"error":"temporarily_unavailable"}` })
			_ = mustFail(t, quickClient(), req(srv.URL), provider.Transient)
		})
		t.Run(name+": the expiry follows the client's clock", func(t *testing.T) {
			srv, _ := captureServer(t, func(*http.Request) (int, string) {
				return http.StatusOK, `{"access_token":"a","token_type":"bearer","expires_in":"3600"}`
			})
			c := &provider.Client{Timeout: 5 * time.Second, Now: func() time.Time { return now }}
			tok, err := c.Token(context.Background(), req(srv.URL))
			if err != nil || !tok.Expiry.Equal(now.Add(time.Hour)) || tok.TokenType != "Bearer" {
				t.Errorf("token %+v, %v; want Bearer expiring at %s", tok, err, now.Add(time.Hour))
			}
		})
		t.Run(name+": an expires_in of 0 is no expiry, not an expired token", func(t *testing.T) {
			srv, _ := captureServer(t, func(*http.Request) (int, string) { return http.StatusOK, `{"access_token":"a","expires_in":0}` })
			if tok := mustToken(t, req(srv.URL)); !tok.Expiry.IsZero() {
				t.Errorf("expiry %s, want none", tok.Expiry)
			}
		})
		t.Run(name+": an absurd Retry-After is bounded", func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "99999999999999")
				w.WriteHeader(http.StatusTooManyRequests)
			}))
			defer srv.Close()
			e := mustFail(t, quickClient(), req(srv.URL), provider.Transient)
			if e.RetryAfter <= 0 || e.RetryAfter > provider.MaxRetryAfter {
				t.Errorf("RetryAfter = %s", e.RetryAfter)
			}
		})
	}
}

func TestAurinkoPathAndAnswer(t *testing.T) {
	tests := []struct {
		name, tokenURL, code, path, answer string
		extra                              map[string]string
	}{
		{"path-escapes a code with '/', '?', '#' and ' '", "/v1/auth/token", "a/b?c#d e", "/v1/auth/token/a%2Fb%3Fc%23d%20e",
			`{"accountId":123,"accessToken":"at","userId":"u","userSession":"s"}`,
			map[string]string{oauthv1alpha1.KeyAccountID: "123", oauthv1alpha1.KeyUserID: "u", oauthv1alpha1.KeyUserSession: "s"}},
		{"renders an account id in exponent form in decimal", "/v1/auth/token/", "c1", "/v1/auth/token/c1",
			`{"accountId":1.23e2,"accessToken":"at","userSession":"s"}`,
			map[string]string{oauthv1alpha1.KeyAccountID: "123", oauthv1alpha1.KeyUserSession: "s"}},
		{"keeps every digit of a large account id, and leaves out what did not come", "/v1/auth/token", "c2", "/v1/auth/token/c2",
			`{"accountId":12345678901234567890,"accessToken":"at"}`,
			map[string]string{oauthv1alpha1.KeyAccountID: "12345678901234567890"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, log := captureServer(t, func(*http.Request) (int, string) { return http.StatusOK, tt.answer })
			tok := mustToken(t, &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: srv.URL + tt.tokenURL,
				ClientID: "ClientId", ClientSecret: "Se:cr%et", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: tt.code}})
			s := log()[0]
			user, pass, _ := (&http.Request{Header: s.header}).BasicAuth()
			if s.method != http.MethodPost || s.path != tt.path || s.body != "" || user != "ClientId" || pass != "Se:cr%et" {
				t.Errorf("sent %s %s body %q basic %q:%q, want POST %s with curl -u's raw credentials", s.method, s.path, s.body, user, pass, tt.path)
			}
			if !maps.Equal(tok.Extra, tt.extra) || tok.TokenType != "Bearer" || !tok.Expiry.IsZero() {
				t.Errorf("token %+v, want extras %v", tok, tt.extra)
			}
		})
	}
	for _, req := range []provider.Request{
		{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: "https://api.aurinko.io/v1/auth/token", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: ".."}},
		{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: "https://api.aurinko.io/v1/auth/token?x=1", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "c"}},
		{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: "https://auth.example.com/token", ExtraParameters: map[string]string{"scope": "admin"}},
		{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: "https://auth.example.com/token", RequestEncoding: oauthv1alpha1.RequestEncodingJSON,
			ExtraParameters: map[string]string{"grant_type": "password"}},
	} {
		c, log := offlineClient(`{}`)
		if _, err := c.Token(context.Background(), &req); provider.KindOf(err) != provider.BadRequest || len(log()) != 0 {
			t.Errorf("%+v: %v, want BadRequest and no request", req, err)
		}
	}
}
