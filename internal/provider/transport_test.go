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
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// TestNetworkFailures: no answer (a refused connection, a timeout) is transient, on every
// path, and keeps its cause.
func TestNetworkFailures(t *testing.T) {
	for _, tg := range targets() {
		t.Run("connection refused by a closed server ("+tg.name+")", func(t *testing.T) {
			fake := tg.start(providertest.Options{})
			req := tg.req(fake)
			fake.Close()
			e := mustFail(t, quickClient(), req, provider.Transient)
			if e.StatusCode != 0 {
				t.Errorf("StatusCode = %d, want 0 (no response)", e.StatusCode)
			}
			if _, ok := errors.AsType[*net.OpError](e); !ok {
				t.Errorf("the cause of a refused connection is lost: %v", e)
			}
		})
		t.Run("a response slower than the timeout ("+tg.name+")", func(t *testing.T) {
			// Parallel: closing the fake waits out the delay of a request whose body the
			// handler has not read, so the waits overlap instead of adding up.
			t.Parallel()
			fake := tg.start(providertest.Options{})
			defer fake.Close()
			fake.SetDelay(time.Second)
			start := time.Now()
			_, err := (&provider.Client{Timeout: 100 * time.Millisecond}).Token(context.Background(), tg.req(fake))
			if provider.KindOf(err) != provider.Transient || err == nil {
				t.Fatalf("error = %v, want Transient", err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not match context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d > 900*time.Millisecond {
				t.Errorf("took %s; the timeout is 100ms", d)
			}
		})
	}
	t.Run("discovery from an unused port", func(t *testing.T) {
		_ = mustFail(t, quickClient(), &provider.Request{Provider: oauthv1alpha1.ProviderAurora, IssuerURL: freeLoopbackURL(t) + "/", ClientID: "id", ClientSecret: "secret"}, provider.Transient)
	})
	t.Run("an Aura token URL on an unused port", func(t *testing.T) {
		_ = mustFail(t, quickClient(), &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: freeLoopbackURL(t) + "/oauth/token", ClientID: "id", ClientSecret: "secret",
			Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-1234"}}, provider.Transient)
	})
}

func TestTokenOversizedResponsesAreTransient(t *testing.T) {
	huge := `{"access_token":"` + strings.Repeat("a", provider.MaxResponseBytes) + `","token_type":"Bearer"}`
	padded := `{"access_token":"small","token_type":"Bearer","expires_in":60}` + strings.Repeat(" ", provider.MaxResponseBytes+10)
	for _, tt := range []struct {
		name string
		body string
		req  func(url string) *provider.Request
	}{
		{"an access token bigger than 1 MiB (Aura)", huge, func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: u, ClientID: "id", ClientSecret: "secret", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-1234"}}
		}},
		{"an access token bigger than 1 MiB (Generic client credentials)", huge, func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u, ClientID: "id", ClientSecret: "secret"}
		}},
		{"a valid token padded past 1 MiB (Aura)", padded, func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: u, ClientID: "id", ClientSecret: "secret", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-1234"}}
		}},
		{"a valid token padded past 1 MiB (Aurora client credentials)", padded, func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAurora, TokenURL: u, ClientID: "id", ClientSecret: "secret"}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := staticServer(t, http.StatusOK, tt.body)
			tok, err := quickClient().Token(context.Background(), tt.req(srv.URL+"/token"))
			if err == nil || provider.KindOf(err) != provider.Transient {
				t.Fatalf("Token() = %v, %v; want a Transient error", tok, err)
			}
		})
	}
}

// TestRefusesNonHTTPSAndRedirects: credentials go only to the configured endpoint, over
// https (http to loopback hosts): a redirect is not followed, and cleartext to another host
// is not sent.
func TestRefusesNonHTTPSAndRedirects(t *testing.T) {
	t.Run("cleartext to other hosts", refusesCleartextToOtherHosts)

	other, hits := countingServer(t)
	// Another host: a different name and port than the redirecting server's 127.0.0.1.
	elsewhere := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere+r.URL.Path, status)
		}))
		for _, tt := range []struct {
			name string
			req  provider.Request
		}{
			{"Aura", provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: redirector.URL + "/oauth/token", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-1234"}}},
			{"Generic client credentials", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: redirector.URL + "/token"}},
			{"Generic refresh as JSON", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: redirector.URL + "/token", RequestEncoding: oauthv1alpha1.RequestEncodingJSON,
				Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-1234"}}},
			{"Aurinko", provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: redirector.URL + "/v1/auth/token", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "code-1234"}}},
			{"Aurora discovery", provider.Request{Provider: oauthv1alpha1.ProviderAurora, IssuerURL: redirector.URL + "/"}},
		} {
			t.Run(fmt.Sprintf("a %d to another host is a bad request (%s)", status, tt.name), func(t *testing.T) {
				req := tt.req
				req.ClientID, req.ClientSecret = "id", "secret"
				before := hits.Load()
				_ = mustFail(t, quickClient(), &req, provider.BadRequest)
				if n := hits.Load() - before; n != 0 {
					t.Errorf("the other host received %d requests", n)
				}
			})
		}
		redirector.Close()
	}
}

func refusesCleartextToOtherHosts(t *testing.T) {
	discovery := staticServer(t, http.StatusOK, `{"issuer":"x","token_endpoint":"http://tokens.example.com/token"}`)
	for _, tt := range []struct {
		name      string
		req       provider.Request
		transport bool // send through a counting transport that must see nothing
	}{
		{"an http token URL to a remote host (Generic)", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: "http://tokens.example.com/token"}, true},
		{"an http token URL to a remote host (Aurora)", provider.Request{Provider: oauthv1alpha1.ProviderAurora, TokenURL: "http://tokens.example.com/token"}, true},
		{"an http token URL to a remote host (Aura)", provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: "http://tokens.example.com/oauth/token", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-1234"}}, true},
		{"an http token URL to a remote host (Aurinko)", provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: "http://api.aurinko.example/v1/auth/token", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "code-1234"}}, true},
		{"an http issuer on a remote host", provider.Request{Provider: oauthv1alpha1.ProviderAurora, IssuerURL: "http://auth.example.com/"}, true},
		{"a token URL with user information", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: "https://user:pw@tokens.example.com/token"}, true},
		{"a relative token URL", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: "/token"}, true},
		{"a discovered http token endpoint on a remote host", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, IssuerURL: discovery.URL}, false},
		{"an unknown provider", provider.Request{Provider: "Nope", TokenURL: "https://tokens.example.com/token"}, true},
	} {
		t.Run(tt.name+" is a bad request, sent nowhere", func(t *testing.T) {
			req := tt.req
			req.ClientID, req.ClientSecret = "id", "secret"
			c := quickClient()
			var rt countingTransport
			if tt.transport {
				c.HTTPClient = &http.Client{Transport: &rt}
			}
			_ = mustFail(t, c, &req, provider.BadRequest)
			if n := rt.n.Load(); n != 0 {
				t.Errorf("%d requests were sent", n)
			}
		})
	}
}

// TestClientTimeoutBoundsEveryInternalTimeout: one setting, Client.Timeout, bounds the
// transport's own timeouts too, so that a manager's --token-request-timeout is the whole
// story; MaxTimeout leaves room to store an answer within a minute.
func TestClientTimeoutBoundsEveryInternalTimeout(t *testing.T) {
	for _, tt := range []struct {
		name    string
		timeout time.Duration
		want    time.Duration
	}{
		{"a short timeout bounds the wait for response headers", 2 * time.Second, 2 * time.Second},
		{"a long timeout is not cut short by a fixed 30 s", 40 * time.Second, 40 * time.Second},
		{"zero is DefaultTimeout", 0, provider.DefaultTimeout},
		{"beyond MaxTimeout is MaxTimeout", 10 * time.Minute, provider.MaxTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &provider.Client{Timeout: tt.timeout}
			tr, ok := c.HTTPClientForTest().Transport.(*http.Transport)
			if !ok {
				t.Fatalf("transport %T", c.HTTPClientForTest().Transport)
			}
			if tr.ResponseHeaderTimeout != tt.want {
				t.Errorf("ResponseHeaderTimeout = %s, want %s", tr.ResponseHeaderTimeout, tt.want)
			}
			if tr.TLSHandshakeTimeout > tt.want {
				t.Errorf("TLSHandshakeTimeout = %s, beyond the request's %s", tr.TLSHandshakeTimeout, tt.want)
			}
			if got := c.TimeoutForTest(); got != tt.want {
				t.Errorf("timeout() = %s, want %s", got, tt.want)
			}
		})
	}
	if provider.DefaultTimeout > provider.MaxTimeout || provider.MaxTimeout > 50*time.Second {
		t.Errorf("DefaultTimeout %s, MaxTimeout %s: want DefaultTimeout <= MaxTimeout, with room to store an answer within a minute", provider.DefaultTimeout, provider.MaxTimeout)
	}
}

// TestNotSentSaysWhetherTheRequestLeft: a failure before any of the request was written to
// the network leaves a single-use credential it carried usable; once the headers are
// written (for Aurinko they carry the code in the path), it may have reached the provider.
func TestNotSentSaysWhetherTheRequestLeft(t *testing.T) {
	answering := func(status int, delay time.Duration) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"error":"server_error"}`))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	blocking, err := provider.ParseAddressPolicy("default,127.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	code := provider.Grant{Type: provider.GrantAuthorizationCode, Code: "code-1234"}
	tests := map[string]struct {
		client  *provider.Client
		req     *provider.Request
		notSent bool
	}{
		"a refused connection never left": {
			client:  quickClient(),
			req:     &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: freeLoopbackURL(t) + "/v1/auth/token", ClientID: "id", ClientSecret: "secret", Grant: code},
			notSent: true},
		"an address the policy blocks never left": {
			client:  &provider.Client{Timeout: 5 * time.Second, Policy: blocking},
			req:     &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: answering(500, 0) + "/v1/auth/token", ClientID: "id", ClientSecret: "secret", Grant: code},
			notSent: true},
		"a grant the provider does not take never left": {
			client:  quickClient(),
			req:     &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: answering(500, 0) + "/v1/auth/token", ClientID: "id", ClientSecret: "secret", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt"}},
			notSent: true},
		"an error the provider answered was sent": {
			client: quickClient(),
			req:    &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: answering(500, 0) + "/v1/auth/token", ClientID: "id", ClientSecret: "secret", Grant: code}},
		"a timeout after the provider got the request was sent": {
			client: &provider.Client{Timeout: 200 * time.Millisecond},
			req:    &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: answering(500, time.Minute) + "/v1/auth/token", ClientID: "id", ClientSecret: "secret", Grant: code}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := tt.client.Token(context.Background(), tt.req)
			if err == nil {
				t.Fatal("the request succeeded")
			}
			if got := provider.NotSent(err); got != tt.notSent {
				t.Errorf("NotSent(%v) = %v, want %v", err, got, tt.notSent)
			}
		})
	}
}
