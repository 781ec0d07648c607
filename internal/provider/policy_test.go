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
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

func TestAddressPolicy(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		addr    string
		blocked bool
	}{
		{"blocks the cloud metadata address by default", "default", "169.254.169.254", true},
		{"blocks IPv4 link-local by default", "default", "169.254.1.1", true},
		{"blocks IPv6 link-local by default", "default", "fe80::1", true},
		{"blocks AWS's IPv6 metadata address by default", "default", "fd00:ec2::254", true},
		{"blocks an IPv4-mapped metadata address", "default", "::ffff:169.254.169.254", true},
		{"allows loopback by default", "default", "127.0.0.1", false},
		{"allows public addresses by default", "default", "93.184.216.34", false},
		{"blocks what an extra CIDR names", "default,10.0.0.0/8", "10.1.2.3", true},
		{"blocks a single address", "192.0.2.7", "192.0.2.7", true},
		{"blocks nothing with none", "none", "169.254.169.254", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := provider.ParseAddressPolicy(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Blocks(netip.MustParseAddr(tt.addr)); got != tt.blocked {
				t.Errorf("Blocks(%s) = %v, want %v", tt.addr, got, tt.blocked)
			}
		})
	}
	if _, err := provider.ParseAddressPolicy("default,not-a-cidr"); err == nil {
		t.Error("an invalid entry was accepted")
	}
}

func TestPolicyRefusesBlockedTokenEndpoints(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer"}`))
	}))
	defer srv.Close()
	policy, err := provider.ParseAddressPolicy("default,127.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	c := &provider.Client{Timeout: 5 * time.Second, Policy: policy}
	for _, req := range []*provider.Request{
		{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: srv.URL + "/token", ClientID: "id", ClientSecret: "secret"},
		{Provider: oauthv1alpha1.ProviderGeneric, IssuerURL: srv.URL + "/", ClientID: "id", ClientSecret: "secret"},
		{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: srv.URL + "/token", ClientID: "id", ClientSecret: "secret",
			RequestEncoding: oauthv1alpha1.RequestEncodingJSON},
	} {
		_, err := c.Token(context.Background(), req)
		if provider.KindOf(err) != provider.BadRequest || !strings.Contains(err.Error(), "--token-url-policy") {
			t.Errorf("Token(%s%s) = %v, want a BadRequest naming the policy", req.TokenURL, req.IssuerURL, err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the blocked server received %d requests", hits.Load())
	}
	if _, err := (&provider.Client{Timeout: 5 * time.Second}).Token(context.Background(), &provider.Request{
		Provider: oauthv1alpha1.ProviderGeneric, TokenURL: "https://169.254.169.254/token", ClientID: "id", ClientSecret: "secret",
	}); provider.KindOf(err) != provider.BadRequest {
		t.Errorf("the default policy let a request to the metadata address through: %v", err)
	}
}

// TestPolicyStripsIPv6Zones: fe80::1%eth0 is fe80::1, which the default policy blocks;
// netip's Contains is false for any zoned address.
func TestPolicyStripsIPv6Zones(t *testing.T) {
	p := provider.DefaultAddressPolicy()
	for _, a := range []string{"fe80::1%eth0", "fe80::a9fe:a9fe%1", "::ffff:169.254.169.254%lo"} {
		if !p.Blocks(netip.MustParseAddr(a)) {
			t.Errorf("Blocks(%s) = false, want true", a)
		}
	}
	for _, u := range []string{"https://[fe80::1%25eth0]/token", "https://[fe80::a9fe:a9fe%25lo]:8443/token"} {
		_, err := (&provider.Client{Timeout: 5 * time.Second}).Token(context.Background(), &provider.Request{
			Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u, ClientID: "id", ClientSecret: "secret"})
		if provider.KindOf(err) != provider.BadRequest || !strings.Contains(err.Error(), "--token-url-policy") {
			t.Errorf("Token(%s) = %v, want a BadRequest naming the policy", u, err)
		}
	}
}

// connectProxy is a real HTTP proxy: CONNECT tunnels, other methods forwarded. It records
// the targets it was asked for.
func connectProxy(t *testing.T, l net.Listener) (*url.URL, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.Host)
		mu.Unlock()
		if r.Method != http.MethodConnect {
			r.RequestURI = ""
			resp, err := http.DefaultTransport.RoundTrip(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer func() { _ = resp.Body.Close() }()
			maps.Copy(w.Header(), resp.Header)
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
			return
		}
		dst, err := net.DialTimeout("tcp", r.Host, 2*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer func() { _ = dst.Close() }()
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { _, _ = io.Copy(dst, buf) }()
		_, _ = io.Copy(conn, dst)
	}))
	if l != nil {
		_ = srv.Listener.Close()
		srv.Listener = l
	}
	srv.Start()
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(asked) }
}

// TestPolicyChecksTargetsSentThroughAProxy: through a proxy the dial check sees only the
// proxy's address, so the target is checked before the request: a literal address, or
// the addresses a name resolves to. HTTPS_PROXY is stood in for by the Transport's Proxy
// func (ProxyFromEnvironment reads the environment once per process).
func TestPolicyChecksTargetsSentThroughAProxy(t *testing.T) {
	tlsTarget := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer tlsTarget.Close()
	// The proxy listens on 127.0.0.2, so that a policy may block 127.0.0.1 and not it.
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 here: %v", err)
	}
	proxyURL, asked := connectProxy(t, l)
	for _, tt := range []struct {
		name, policy, tokenURL string
		blocked                bool
	}{
		{"refuses a blocked literal address", "default", "https://169.254.169.254/token", true},
		{"refuses a blocked IPv6 address with a zone", "default", "https://[fe80::1%25eth0]/token", true},
		{"refuses a name that resolves to a blocked address", "127.0.0.1/32,::1/128", "https://localhost:1/token", true},
		{"lets an allowed target through the proxy", "default", tlsTarget.URL + "/token", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			policy, err := provider.ParseAddressPolicy(tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			hc := provider.NewHTTPClient(policy)
			hc.Transport.(*http.Transport).Proxy = http.ProxyURL(proxyURL)
			before := len(asked())
			_, err = (&provider.Client{Timeout: 5 * time.Second, HTTPClient: hc}).Token(context.Background(), &provider.Request{
				Provider: oauthv1alpha1.ProviderGeneric, TokenURL: tt.tokenURL, ClientID: "id", ClientSecret: "secret"})
			sent := asked()[before:]
			if !tt.blocked {
				// The proxy tunnelled it; the test server's certificate is not trusted.
				if len(sent) != 1 || strings.Contains(fmt.Sprint(err), "--token-url-policy") {
					t.Errorf("proxy asked for %q, error %v; want one CONNECT and no policy error", sent, err)
				}
				return
			}
			if provider.KindOf(err) != provider.BadRequest || !strings.Contains(fmt.Sprint(err), "--token-url-policy") {
				t.Errorf("Token() error = %v, want a BadRequest naming the policy", err)
			}
			if len(sent) != 0 {
				t.Errorf("the proxy was asked for %q", sent)
			}
		})
	}
}

// TestPolicyWrapsTheProxyFunction: the default client's Proxy function (ProxyFromEnvironment,
// wrapped) refuses a blocked target before any proxy kind, SOCKS5 included, is used.
func TestPolicyWrapsTheProxyFunction(t *testing.T) {
	proxyURL, _ := url.Parse("socks5://127.0.0.1:1080")
	proxy := provider.DefaultAddressPolicy().ProxyForTest(http.ProxyURL(proxyURL))
	direct := provider.DefaultAddressPolicy().ProxyForTest(func(*http.Request) (*url.URL, error) { return nil, nil })
	for _, tt := range []struct {
		name, target string
		proxy        func(*http.Request) (*url.URL, error)
		blocked      bool
	}{
		{"refuses a blocked target of a proxied request", "https://169.254.169.254/token", proxy, true},
		{"lets an allowed target through", "https://auth.example.com/token", proxy, false},
		{"leaves a direct request to the dial check", "https://169.254.169.254/token", direct, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, tt.target, nil)
			_, err := tt.proxy(req)
			if blocked := err != nil && strings.Contains(err.Error(), "--token-url-policy"); blocked != tt.blocked {
				t.Errorf("Proxy(%s) error = %v, want blocked %v", tt.target, err, tt.blocked)
			}
		})
	}
}
