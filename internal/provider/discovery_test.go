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
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

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

// issuerServer serves a discovery document naming issuer (with %s standing for its own URL)
// and its /token endpoint, and counts token requests.
func issuerServer(t *testing.T, issuer string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var tokens atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/token" {
			tokens.Add(1)
			_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer"}`))
			return
		}
		doc := `{"token_endpoint":"` + srv.URL + `/token"`
		if issuer != "-" {
			doc += `,"issuer":"` + strings.ReplaceAll(issuer, "%s", srv.URL) + `"`
		}
		_, _ = w.Write([]byte(doc + "}"))
	}))
	t.Cleanup(srv.Close)
	return srv, &tokens
}

// TestDiscoveryUsesOnlyTheIssuersOwnDocument: RFC 8414 section 3.3 and OpenID Connect
// Discovery section 4.3: a document whose issuer is missing or another is not used, or a
// document served elsewhere could send the client secret to its endpoint.
func TestDiscoveryUsesOnlyTheIssuersOwnDocument(t *testing.T) {
	for _, tt := range []struct {
		name, docIssuer, configured string // %s: the server's URL
		ok                          bool
		says                        string
	}{
		{"uses a document naming the issuer as configured", "%s/", "%s/", true, ""},
		{"uses a document naming the issuer without the configured trailing slash", "%s", "%s/", true, ""},
		{"uses a document naming the issuer with a trailing slash the configuration lacks", "%s/", "%s", true, ""},
		{"refuses a document without issuer", "-", "%s/", false, "no issuer"},
		{"refuses a document naming another issuer", "https://evil.example.com/", "%s/", false, "https://evil.example.com/"},
		{"refuses a document naming the issuer with another path", "%s/tenant", "%s/", false, "another issuer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, tokens := issuerServer(t, tt.docIssuer)
			req := &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, IssuerURL: strings.ReplaceAll(tt.configured, "%s", srv.URL), ClientID: "id", ClientSecret: "client-secret"}
			tok, err := quickClient().Token(context.Background(), req)
			if tt.ok {
				if err != nil || tok.AccessToken != "at" {
					t.Fatalf("Token() = %v, %v; want the token", tok, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), "not used") {
				t.Errorf("Token() error = %v, want one saying why the document is not used (%q)", err, tt.says)
			}
			if tokens.Load() != 0 {
				t.Errorf("%d token requests went to the document's endpoint", tokens.Load())
			}
		})
	}
}

// TestDiscoveryRefusesAnIssuerWithAQueryOrFragment: RFC 8414 section 2 issuers have
// neither; the API server refuses them too.
func TestDiscoveryRefusesAnIssuerWithAQueryOrFragment(t *testing.T) {
	srv, _ := issuerServer(t, "%s/")
	var hits atomic.Int32
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer counting.Close()
	for _, issuer := range []string{counting.URL + "/?tenant=a", counting.URL + "/#frag", counting.URL + "/?"} {
		c := &provider.Client{Timeout: 5 * time.Second}
		_ = mustFail(t, c, &provider.Request{Provider: oauthv1alpha1.ProviderAurora, IssuerURL: issuer, ClientID: "id", ClientSecret: "s"}, provider.BadRequest)
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests were sent", hits.Load())
	}
}
