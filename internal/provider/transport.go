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

package provider

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// errResponseTooLarge is returned (wrapped in a *url.Error) when a response body exceeds
// MaxResponseBytes: a token response is a few kilobytes, so a bigger one is a broken or
// hostile server, and reading it whole would let it exhaust the operator's memory.
var errResponseTooLarge = fmt.Errorf("response body exceeds %d bytes", MaxResponseBytes)

// errRedirectRefused is returned when a discovery request is redirected somewhere we do not
// follow (another host, a downgrade to http, too many hops).
var errRedirectRefused = errors.New("redirect refused")

// NewHTTPClient returns the hardened client used when Client.HTTPClient is nil: TLS 1.2 or
// newer with verification always on, the proxy from the environment (HTTPS_PROXY,
// NO_PROXY), bounded dial/handshake/header waits, no redirect for a token request, and
// DefaultAddressPolicy on every dialled address.
//
// It sets no overall http.Client.Timeout: Client.Token bounds each request (discovery
// included) with a context deadline, so a longer Client.Timeout is not cut short here.
func NewHTTPClient() *http.Client { return newHTTPClient(DefaultAddressPolicy()) }

func newHTTPClient(policy *AddressPolicy) *http.Client {
	// The policy sees the address actually dialled. Through a proxy that is the proxy's
	// address: the proxy is then the place to restrict destinations.
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: policy.control}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            dialer.DialContext,
			TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:    10 * time.Second,
			ResponseHeaderTimeout:  DefaultTimeout,
			ExpectContinueTimeout:  time.Second,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           32,
			IdleConnTimeout:        90 * time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		},
		CheckRedirect: checkRedirect,
	}
}

// defaultHTTPClient is shared by every Client without an HTTPClient or a Policy, so
// connections to a provider are reused across reconciles instead of a new TLS handshake
// per refresh.
var defaultHTTPClient = sync.OnceValue(NewHTTPClient)

// httpClient returns the client for one request: c.HTTPClient (else one enforcing
// c.Policy) with the package's redirect policy and body cap applied whatever the caller
// configured, so the guarantees hold for the x/oauth2 code paths too, which read bodies
// themselves.
func (c *Client) httpClient() *http.Client {
	base := c.HTTPClient
	switch {
	case base != nil:
	case c.Policy == nil:
		base = defaultHTTPClient()
	default:
		c.once.Do(func() { c.hc = newHTTPClient(c.Policy) })
		base = c.hc
	}
	hc := *base
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc.Transport = cappedTransport{rt}
	hc.CheckRedirect = checkRedirect
	return &hc
}

// cappedTransport reads every response body in full, through a limit, before handing the
// response on. Doing it at the transport is what lets the x/oauth2 paths honour the cap
// too: x/oauth2 silently truncates at 1 MiB and then reports a confusing parse error.
type cappedTransport struct{ base http.RoundTripper }

func (t cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(body) > MaxResponseBytes {
		return nil, errResponseTooLarge
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// checkRedirect never follows a redirect of a token request: its body holds the client
// secret and a grant, and a 307/308 would re-send them to wherever the Location points.
// The 3xx comes back as the response and is reported as BadRequest. A discovery GET may
// follow a couple of same-host redirects, never a downgrade from https.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first, prev := via[0], via[len(via)-1]
	if first.Method != http.MethodGet {
		return http.ErrUseLastResponse
	}
	switch {
	case len(via) >= 3:
		return fmt.Errorf("%w: more than %d redirects", errRedirectRefused, 2)
	case !strings.EqualFold(req.URL.Host, first.URL.Host):
		return fmt.Errorf("%w: to another host %q", errRedirectRefused, req.URL.Hostname())
	case prev.URL.Scheme == "https" && req.URL.Scheme != "https":
		return fmt.Errorf("%w: from https to %s", errRedirectRefused, req.URL.Scheme)
	}
	return nil
}

// checkEndpoint accepts an absolute https URL, or http to a loopback host (local fakes and
// port-forwards). It runs at request time on configured and discovered URLs alike, so a
// discovery document cannot downgrade the token request to cleartext. what names the URL in
// the error ("spec.tokenURL", "discovered token_endpoint").
func checkEndpoint(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Hostname() == "" {
		return nil, badRequest("%s is not an absolute URL", what)
	}
	if u.User != nil {
		// Credentials in a URL end up in logs and error messages.
		return nil, badRequest("%s must not contain user information", what)
	}
	if u.Fragment != "" {
		return nil, badRequest("%s must not contain a fragment", what)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, badRequest("%s %s must use https; http is allowed only for loopback hosts (127.0.0.1, [::1], localhost)", what, u.Redacted())
	default:
		return nil, badRequest("%s %s must use https", what, u.Redacted())
	}
	return u, nil
}

// isLoopback matches the hosts the CRD lets use http, and nothing broader: a name that
// merely resolves to a loopback address today could resolve elsewhere tomorrow.
func isLoopback(host string) bool {
	switch strings.ToLower(host) {
	case "127.0.0.1", "::1", "localhost":
		return true
	}
	return false
}
