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
	"math/rand/v2"
	"time"
)

// This file holds the pure decisions: does a connection need a token request, and when is
// it next due. The clock is an input, so they are table-tested without a cluster, and
// their reasons feed the status messages.

// trigger says why a token request is made.
type trigger string

const (
	triggerNone             trigger = ""
	triggerRefreshRequested trigger = "refresh requested by annotation"
	triggerNoToken          trigger = "no token yet"
	triggerSecretReplaced   trigger = "the workload Secret was deleted or changed"
	triggerSettingsChanged  trigger = "connection settings changed"
	triggerGrantChanged     trigger = "grant Secret changed"
	triggerExpired          trigger = "token expired"
	triggerRefreshDue       trigger = "refresh due"
)

// decisionInput is what decide looks at.
type decisionInput struct {
	now   time.Time
	state *tokenState
	// config is the fingerprint of the current settings, grant that of the grant Secret
	// ("" when the connection has none), inputs that of every input together.
	config, grant, inputs string
	// refreshRequest is the refresh annotation's value; lastHandled the last one acted on.
	refreshRequest, lastHandled string
	refreshBefore               time.Duration
	jitterSeed                  string
}

// decision is the outcome of decide.
type decision struct {
	// trigger is why a token request is needed; triggerNone when none is.
	trigger trigger
	// waitUntil is when to look again when no request is made; zero: only on a change.
	waitUntil time.Time
	// stalled is set when the last failure was permanent and no input changed since.
	stalled bool
	// backingOff is set while a transient failure's retry time has not come.
	backingOff bool
}

// decide says whether a token request is needed now, and if not, when to look again.
func decide(in decisionInput) decision {
	if in.refreshRequest != "" && in.refreshRequest != in.lastHandled {
		return decision{trigger: triggerRefreshRequested}
	}
	st := in.state
	if f := st.Failure; f != nil && f.Inputs == in.inputs {
		if f.Permanent {
			return decision{stalled: true, waitUntil: expiryOf(st)}
		}
		if in.now.Before(f.RetryAt) {
			return decision{backingOff: true, waitUntil: f.RetryAt}
		}
	}
	switch {
	case !st.Token.held() && st.lostBecause != triggerNone:
		return decision{trigger: st.lostBecause}
	case !st.Token.held():
		return decision{trigger: triggerNoToken}
	case st.Config != in.config:
		return decision{trigger: triggerSettingsChanged}
	case in.grant != "" && st.Grant != in.grant:
		return decision{trigger: triggerGrantChanged}
	case !st.Token.Expiry.IsZero() && !in.now.Before(st.Token.Expiry):
		return decision{trigger: triggerExpired}
	}
	at := refreshAt(st.Token, in.refreshBefore, in.jitterSeed)
	if !at.IsZero() && !in.now.Before(at) {
		return decision{trigger: triggerRefreshDue}
	}
	return decision{waitUntil: at}
}

// expiryOf is the current token's expiry, zero when there is none or it does not expire.
func expiryOf(st *tokenState) time.Time {
	if st.Token == nil {
		return time.Time{}
	}
	return st.Token.Expiry
}

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
	spread := time.Duration(unitFraction(jitterSeed, tok.ObtainedAt) * 0.1 * float64(before))
	return tok.Expiry.Add(-before - spread)
}

// unitFraction maps (seed, t) to [0, 1) uniformly.
func unitFraction(seed string, t time.Time) float64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(seed))
	_, _ = h.Write([]byte(t.UTC().Format(time.RFC3339Nano)))
	return float64(h.Sum64()>>11) / float64(1<<53)
}

// Backoff bounds for transient failures.
const (
	backoffBase = 5 * time.Second
	backoffMax  = 5 * time.Minute
	// retryMargin is how long before expiry a last retry is placed.
	retryMargin = 5 * time.Second
	// maxRetryAfter caps a provider's Retry-After.
	maxRetryAfter = time.Hour
)

// retryTime is when to retry after the failures-th consecutive transient failure: about
// 5s doubling to 5 min with ±20% jitter, no earlier than the provider's Retry-After, and,
// while a valid token remains, no later than shortly before it expires.
func retryTime(now time.Time, failures int32, retryAfter time.Duration, expiry time.Time) time.Time {
	d := backoffBase
	for i := int32(1); i < failures && d < backoffMax; i++ {
		d *= 2
	}
	d = min(d, backoffMax)
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64())) //nolint:gosec // jitter, not security
	if !expiry.IsZero() {
		if last := expiry.Add(-retryMargin); now.Before(last) && now.Add(d).After(last) {
			d = max(last.Sub(now), time.Second)
		}
	}
	if retryAfter > 0 {
		d = max(d, min(retryAfter, maxRetryAfter))
	}
	return now.Add(d)
}
