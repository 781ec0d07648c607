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
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Discovered token endpoints are kept for discoveryTTL: a discovery fetch is not a token
// request, and doing one before every refresh would double the traffic to the provider.
// An hour lets a moved endpoint be picked up the same day. The cache is bounded because
// issuers come from user specs.
const (
	discoveryTTL        = time.Hour
	maxDiscoveryEntries = 256
)

type discoveryCache struct {
	mu      sync.Mutex
	entries map[string]discoveryEntry
}

type discoveryEntry struct {
	tokenEndpoint string
	expires       time.Time
}

// discovered is process-wide rather than per Client: controllers may build a Client per
// request, and the answer depends on the issuer only.
var discovered = &discoveryCache{entries: map[string]discoveryEntry{}}

func (d *discoveryCache) get(issuer string, now time.Time) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.entries[issuer]
	if !ok || !now.Before(e.expires) {
		return "", false
	}
	return e.tokenEndpoint, true
}

func (d *discoveryCache) put(issuer, tokenEndpoint string, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.entries[issuer]; !ok && len(d.entries) >= maxDiscoveryEntries {
		// Full: drop what has expired, else the entry closest to expiry.
		oldest := ""
		for k, e := range d.entries {
			if !now.Before(e.expires) {
				delete(d.entries, k)
			} else if oldest == "" || e.expires.Before(d.entries[oldest].expires) {
				oldest = k
			}
		}
		if len(d.entries) >= maxDiscoveryEntries {
			delete(d.entries, oldest)
		}
	}
	d.entries[issuer] = discoveryEntry{tokenEndpoint: tokenEndpoint, expires: now.Add(discoveryTTL)}
}

// tokenEndpoint resolves the token endpoint of req: spec.tokenURL, else discovery from
// spec.issuerURL, else the provider's documented default (empty: none).
func (c *Client) tokenEndpoint(ctx context.Context, req *Request, documented string, red redactor) (string, error) {
	switch {
	case req.TokenURL != "" && req.IssuerURL != "":
		return "", badRequest("spec.tokenURL and spec.issuerURL are mutually exclusive")
	case req.TokenURL != "":
		_, err := checkEndpoint("spec.tokenURL", req.TokenURL)
		return req.TokenURL, err
	case req.IssuerURL != "":
		return c.discoverTokenEndpoint(ctx, req.IssuerURL, red)
	case documented != "":
		return documented, nil
	}
	return "", badRequest("spec.tokenURL or spec.issuerURL is required")
}

// discoverTokenEndpoint reads the token endpoint from the issuer's metadata. OpenID
// Connect Discovery is tried first: it is what Aurora documents and what most providers
// serve. RFC 8414 follows when the OIDC document is missing (a 4xx), for plain OAuth 2.0
// servers. The issuer's trailing slash is dropped before a well-known suffix is added
// (Aurora's documented issuers end in "/"; "//.well-known" is a different path).
func (c *Client) discoverTokenEndpoint(ctx context.Context, issuer string, red redactor) (string, error) {
	u, err := checkEndpoint("spec.issuerURL", issuer)
	if err != nil {
		return "", err
	}
	u.RawQuery, u.RawPath = "", ""
	u.Path = strings.TrimRight(u.Path, "/")
	key := u.String()
	if ep, ok := discovered.get(key, time.Now()); ok {
		return ep, nil
	}
	oidc, rfc8414 := *u, *u
	oidc.Path = u.Path + "/.well-known/openid-configuration"
	// RFC 8414 section 3.1 inserts the well-known segment before the issuer's path.
	rfc8414.Path = "/.well-known/oauth-authorization-server" + u.Path
	var statuses []string
	for _, doc := range []string{oidc.String(), rfc8414.String()} {
		ep, missing, err := c.fetchDiscovery(ctx, doc, key, red)
		switch {
		case err == nil:
			discovered.put(key, ep, time.Now())
			return ep, nil
		case missing == 0:
			return "", err
		}
		statuses = append(statuses, fmt.Sprintf("%s: HTTP %d", doc, missing))
	}
	return "", badRequest("discovery from %s: no authorization server metadata (%s)", key, strings.Join(statuses, ", "))
}

// fetchDiscovery GETs one metadata document and returns its checked token_endpoint. When
// the document is not there (a 3xx or 4xx other than 429), missing is that status, so the
// next well-known location is tried.
func (c *Client) fetchDiscovery(ctx context.Context, doc, issuer string, red redactor) (endpoint string, missing int, _ error) {
	fail := func(kind Kind, status int, format string, args ...any) *Error {
		return &Error{Kind: kind, StatusCode: status, Err: red.wrap(fmt.Errorf("discovery from %s: "+format, append([]any{issuer}, args...)...))}
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, doc, nil)
	if err != nil {
		return "", 0, fail(BadRequest, 0, "%w", err)
	}
	hreq.Header.Set("Accept", "application/json")
	resp, err := c.httpClient().Do(hreq)
	if err != nil {
		e := transportError(err, red)
		e.Err = fail(e.Kind, 0, "%w", e.Err).Err
		return "", 0, e
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", 0, transportError(err, red)
	}
	switch status := resp.StatusCode; {
	case status == http.StatusTooManyRequests || status >= 500:
		e := responseError(status, resp.Header, oauthError{}, red, c.now())
		e.Err = fail(Transient, status, "the server is unavailable").Err
		return "", 0, e
	case status >= 300 && status < 500:
		return "", status, fail(BadRequest, status, "no metadata at %s", doc)
	case !success(status):
		return "", 0, fail(Transient, status, "unexpected HTTP %d", status)
	}
	var meta struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return "", 0, fail(Transient, resp.StatusCode, "malformed metadata: %w", err)
	}
	if meta.TokenEndpoint == "" {
		return "", 0, fail(BadRequest, resp.StatusCode, "the metadata has no token_endpoint")
	}
	// OIDC Discovery section 4.3 and RFC 8414 section 3.3: the metadata must be the
	// issuer's own, or a document elsewhere could send the client secret to its endpoint.
	// Trailing slashes are ignored, as they are when the request is built.
	if meta.Issuer != "" && strings.TrimRight(meta.Issuer, "/") != issuer {
		return "", 0, fail(BadRequest, resp.StatusCode, "the metadata is for issuer %q", red.clip(meta.Issuer, maxDescriptionLen))
	}
	if _, err := checkEndpoint("the token_endpoint discovered from "+issuer, meta.TokenEndpoint); err != nil {
		return "", 0, err
	}
	return meta.TokenEndpoint, 0, nil
}
