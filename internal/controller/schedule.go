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

package controller

import (
	"hash/fnv"
	"strconv"
	"time"

	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// This file holds the arithmetic of time: when a token is due for refresh, and when a
// failed request is retried. Pure functions; the clock and the jitter's seed are inputs.

// refreshAt is when a token is due for refresh: refreshBefore ahead of its expiry (default
// a third of its lifetime), spread earlier by up to 10% of refreshBefore so that tokens
// obtained together do not come due together, and never later than that. refreshBefore
// is capped at half the lifetime, so that a token is never refreshed more often than every
// half lifetime however short the provider makes it. Zero for a token without expiry.
func refreshAt(tok *storedToken, refreshBefore time.Duration, jitterSeed string) time.Time {
	if tok == nil || tok.Expiry.IsZero() {
		return time.Time{}
	}
	lifetime := tok.Expiry.Sub(tok.ObtainedAt)
	if lifetime <= 0 {
		return tok.Expiry
	}
	before := refreshBefore
	if before <= 0 {
		before = lifetime / 3
	}
	before = min(before, lifetime/2)
	// The spread is a deterministic function of the connection and the token, so that a
	// restarted manager computes the same time and makes no request it did not need.
	spread := time.Duration(unitFraction(jitterSeed, tok.ObtainedAt.UTC().Format(time.RFC3339Nano)) * 0.1 * float64(before))
	return tok.Expiry.Add(-before - spread)
}

// unitFraction maps its parts to [0, 1) uniformly.
func unitFraction(parts ...string) float64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return float64(h.Sum64()>>11) / float64(1<<53)
}

// Backoff bounds for transient failures.
const (
	backoffBase = 5 * time.Second
	// backoffBase4xx starts the backoff after a 4xx that was not an OAuth error (a gateway
	// or WAF page, a provider mid-deploy): likely to last longer than a 5xx.
	backoffBase4xx = 30 * time.Second
	backoffMax     = 5 * time.Minute
	// backoffMax4xx caps the backoff after such 4xx answers.
	backoffMax4xx = 30 * time.Minute
	// retryMargin is how long before expiry a last retry is placed.
	retryMargin = 5 * time.Second
)

// retryInput is what retryTime looks at.
type retryInput struct {
	// now is when the failure was known (the answer came, or the request gave up).
	now      time.Time
	failures int32
	// base is the first backoff: backoffBase, or backoffBase4xx.
	base       time.Duration
	retryAfter time.Duration
	// expiry is the current token's; zero when there is none or it does not expire.
	expiry time.Time
	// seed makes the jitter deterministic (the connection's UID).
	seed string
}

// retryTime is when to retry after the failures-th consecutive transient failure: the
// base (5s, or 30s after a non-OAuth 4xx) doubling to its cap with ±20% jitter, no earlier
// than the provider's Retry-After (capped by the provider package), and, while a valid
// token remains, no later than shortly before it expires.
func retryTime(in retryInput) time.Time {
	base, ceiling := in.base, backoffMax
	if base <= 0 {
		base = backoffBase
	}
	if base >= backoffBase4xx {
		ceiling = backoffMax4xx
	}
	d := base
	for i := int32(1); i < in.failures && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	jitter := unitFraction(in.seed, strconv.Itoa(int(in.failures)), in.now.UTC().Format(time.RFC3339Nano))
	d = time.Duration(float64(d) * (0.8 + 0.4*jitter))
	if !in.expiry.IsZero() {
		if last := in.expiry.Add(-retryMargin); in.now.Before(last) && in.now.Add(d).After(last) {
			d = max(last.Sub(in.now), time.Second)
		}
	}
	if in.retryAfter > 0 {
		d = max(d, min(in.retryAfter, provider.MaxRetryAfter))
	}
	return in.now.Add(d)
}
