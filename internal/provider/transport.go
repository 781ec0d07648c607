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
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"time"
)

// httpClient returns the client for one request: c.HTTPClient, else the hardened one,
// with the no-redirect rule applied whatever the caller configured.
func (c *Client) httpClient() *http.Client {
	base := c.HTTPClient
	if base == nil {
		c.once.Do(func() {
			policy := c.Policy
			if policy == nil {
				policy = DefaultAddressPolicy()
			}
			c.hc = newHTTPClient(policy, c.timeout())
		})
		base = c.hc
	}
	hc := *base
	hc.CheckRedirect = noRedirect
	return &hc
}

// noRedirect follows no redirect: a token endpoint that redirects is misconfigured, and
// following it (a 307 or 308 re-sends the body) would carry credentials to wherever it
// points. The 3xx itself comes back and is classified as BadRequest.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// errResponseTooLarge is the error for a body over MaxResponseBytes.
var errResponseTooLarge = fmt.Errorf("response body exceeds %d bytes", MaxResponseBytes)

// readCapped reads a response body whole, through MaxResponseBytes+1: a bigger one is
// refused rather than cut, which could leave a valid-looking prefix.
func readCapped(body io.Reader) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(body, MaxResponseBytes+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxResponseBytes {
		return nil, errResponseTooLarge
	}
	return raw, nil
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// NewHTTPClient returns the client token requests go through: TLS verification always on
// (TLS 1.2 at least), proxies from the environment, connections to addresses the policy
// blocks refused, and no redirect followed — a token endpoint that redirects is
// misconfigured, and following it would carry credentials to wherever it points.
func NewHTTPClient(policy *AddressPolicy) *http.Client {
	return newHTTPClient(policy, DefaultTimeout)
}

// newHTTPClient is NewHTTPClient with every internal timeout derived from timeout, the
// bound of one token request, so that one setting bounds everything.
func newHTTPClient(policy *AddressPolicy, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: min(10*time.Second, timeout), KeepAlive: 30 * time.Second, Control: policy.control}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 policy.proxy(http.ProxyFromEnvironment),
			GetProxyConnectHeader: policy.proxyConnectHeader,
			DialContext:           dialer.DialContext,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   min(10*time.Second, timeout),
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: noRedirect,
	}
}

// dialKind classifies a failed request: a blocked address is permanent (only a change of
// the spec or of the policy helps), anything else on the way is transient.
func dialKind(err error) Kind {
	if _, ok := errors.AsType[*errBlockedAddress](err); ok {
		return BadRequest
	}
	return Transient
}

// checkURL enforces https, allowing http only to loopback hosts. The API server's
// validation says the same for the spec; this also covers discovered endpoints.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return &Error{Kind: BadRequest, Err: fmt.Errorf("token endpoint %q is not an absolute URL", raw)}
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return &Error{Kind: BadRequest, Err: fmt.Errorf("token endpoint %s must use https (http only for loopback hosts)", u.Redacted())}
	}
	if u.User != nil {
		return &Error{Kind: BadRequest, Err: errors.New("token endpoint URLs must not carry credentials")}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// post sends one token request and returns the response body, read through the size cap.
func (c *Client) post(ctx context.Context, endpoint string, body io.Reader, contentType, authorization string) (int, http.Header, []byte, error) {
	if err := checkURL(endpoint); err != nil {
		return 0, nil, nil, err
	}
	if body == nil {
		body = http.NoBody
	}
	if wire, ok := ctx.Value(wireKey{}).(*atomic.Bool); ok {
		// From the moment the headers are written, the request (for Aurinko the code in its
		// path) may have reached the provider.
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: func() { wire.Store(true) }})
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, body)
	if err != nil {
		return 0, nil, nil, &Error{Kind: BadRequest, Err: err}
	}
	if contentType != "" {
		hreq.Header.Set("Content-Type", contentType)
	}
	if authorization != "" {
		hreq.Header.Set("Authorization", authorization)
	}
	hreq.Header.Set("Accept", "application/json")
	resp, err := c.httpClient().Do(hreq)
	if err != nil {
		return 0, nil, nil, &Error{Kind: dialKind(err), Err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := readCapped(resp.Body)
	if err != nil {
		return resp.StatusCode, resp.Header, nil, &Error{Kind: Transient, StatusCode: resp.StatusCode, Err: err}
	}
	return resp.StatusCode, resp.Header, raw, nil
}
