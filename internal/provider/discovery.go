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
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// discoveryTTL is how long discovered endpoints are reused.
const discoveryTTL = time.Hour

// maxDiscoveryEntries bounds the discovery cache.
const maxDiscoveryEntries = 1024

// metadata are the endpoints an issuer's discovery document names.
type metadata struct {
	token string
	// authorization is the authorization_endpoint, "" when the document names none.
	authorization string
}

type discovered struct {
	metadata
	at time.Time
}

// discoveries caches discovered endpoints by issuer. It lives on the Client, so
// clients (and tests) with other HTTP clients or policies never share endpoints.
type discoveries struct {
	mu      sync.Mutex
	entries map[string]discovered // created on first store
}

func (d *discoveries) get(issuer string, now time.Time) (metadata, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.entries[issuer]
	if !ok || now.Sub(e.at) >= discoveryTTL {
		return metadata{}, false
	}
	return e.metadata, true
}

func (d *discoveries) put(issuer string, m metadata, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.entries == nil || len(d.entries) >= maxDiscoveryEntries {
		d.entries = map[string]discovered{}
	}
	d.entries[issuer] = discovered{metadata: m, at: now}
}

// discoverTokenEndpoint reads the token endpoint from the issuer's OpenID Connect
// configuration, falling back to RFC 8414 authorization server metadata. The issuer's
// trailing slash is dropped first: the documented Aurora issuers end in "/", and
// "//.well-known" is not their document.
func (c *Client) discoverTokenEndpoint(ctx context.Context, issuer string) (string, error) {
	m, err := c.discover(ctx, issuer)
	return m.token, err
}

// discover reads the issuer's metadata as discoverTokenEndpoint says, through the cache.
func (c *Client) discover(ctx context.Context, issuer string) (metadata, error) {
	if u, err := url.Parse(issuer); err == nil && (u.RawQuery != "" || u.ForceQuery || u.Fragment != "") {
		// RFC 8414 section 2: an issuer has no query or fragment (the API server refuses
		// one too); appending the well-known path to it would make another URL.
		return metadata{}, &Error{Kind: BadRequest, Err: errors.New("spec.issuerURL must have no query or fragment")}
	}
	base := strings.TrimRight(issuer, "/")
	if err := checkURL(base); err != nil {
		return metadata{}, err
	}
	if m, ok := c.discovered.get(base, c.now()); ok {
		return m, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return metadata{}, &Error{Kind: BadRequest, Err: errors.New("the issuer URL is not a URL")}
	}
	// OIDC appends its well-known segment to the issuer; RFC 8414 section 3.1 inserts
	// its own between the host and the issuer's path. The same for an issuer without path.
	oidc, rfc8414 := *u, *u
	oidc.Path, oidc.RawPath = u.Path+"/.well-known/openid-configuration", ""
	rfc8414.Path, rfc8414.RawPath = "/.well-known/oauth-authorization-server"+u.Path, ""
	var lastErr error
	for _, doc := range []string{oidc.String(), rfc8414.String()} {
		m, err := c.fetchMetadata(ctx, doc, issuer)
		if err != nil {
			// Only a missing OIDC document sends us to RFC 8414; an unavailable or
			// unreachable issuer is reported as it is (transient), not hidden behind
			// the fallback's 404.
			if e, ok := errors.AsType[*Error](err); ok && e.StatusCode >= 400 && e.StatusCode < 500 && e.StatusCode != http.StatusTooManyRequests {
				lastErr = err
				continue
			}
			return metadata{}, err
		}
		if err := checkURL(m.token); err != nil {
			return metadata{}, err
		}
		c.discovered.put(base, m, c.now())
		return m, nil
	}
	return metadata{}, lastErr
}

func (c *Client) fetchMetadata(ctx context.Context, u, issuer string) (metadata, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return metadata{}, &Error{Kind: BadRequest, Err: err}
	}
	hreq.Header.Set("Accept", "application/json")
	resp, err := c.httpClient().Do(hreq)
	if err != nil {
		return metadata{}, &Error{Kind: dialKind(err), Err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := readCapped(resp.Body)
	if err != nil {
		return metadata{}, &Error{Kind: Transient, StatusCode: resp.StatusCode, Err: errors.New("discovery document unreadable or too large")}
	}
	if resp.StatusCode != http.StatusOK {
		// No such document (on both paths, the issuer is wrong) and a redirect (not
		// followed) are the spec's to fix; anything else, a gateway's 403 say, may pass.
		kind := Transient
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400,
			resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusGone:
			kind = BadRequest
		}
		return metadata{}, &Error{Kind: kind, StatusCode: resp.StatusCode, Err: fmt.Errorf("discovery at %s failed", u)}
	}
	var doc struct {
		Issuer                string `json:"issuer"`
		TokenEndpoint         string `json:"token_endpoint"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
	}
	if json.Unmarshal(raw, &doc) != nil || doc.TokenEndpoint == "" {
		return metadata{}, &Error{Kind: Transient, StatusCode: resp.StatusCode, Err: fmt.Errorf("discovery document at %s has no token_endpoint", u)}
	}
	// OIDC Discovery section 4.3, RFC 8414 section 3.3: the metadata must be the issuer's
	// own, or a document served elsewhere could direct the client secret to its endpoint.
	// A trailing slash aside, which the documented issuers have and specs may drop.
	switch {
	case doc.Issuer == "":
		// The document's trouble, which its server may mend: retried.
		return metadata{}, &Error{Kind: Transient, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("discovery document at %s has no issuer, so it is not used (RFC 8414 section 3.3)", u)}
	case strings.TrimSuffix(doc.Issuer, "/") != strings.TrimSuffix(issuer, "/"):
		return metadata{}, &Error{Kind: BadRequest, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("discovery document at %s is for another issuer, %q, not %s, so it is not used (RFC 8414 section 3.3)",
				u, truncate(printable(doc.Issuer), 100), issuer)}
	}
	return metadata{token: doc.TokenEndpoint, authorization: doc.AuthorizationEndpoint}, nil
}
