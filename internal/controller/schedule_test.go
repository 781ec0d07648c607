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
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

type stateOption func(*tokenState)

func state(opts ...stateOption) *tokenState {
	st := &tokenState{
		Token:  &storedToken{AccessToken: "at", TokenType: "Bearer", ObtainedAt: t0, Expiry: t0.Add(time.Hour)},
		Config: "config",
		Grant:  "grant",
	}
	for _, o := range opts {
		o(st)
	}
	return st
}

func withoutToken() stateOption { return func(st *tokenState) { st.Token = nil } }

func withoutExpiry() stateOption { return func(st *tokenState) { st.Token.Expiry = time.Time{} } }

func withFailure(f failure) stateOption { return func(st *tokenState) { st.Failure = &f } }

func input(now time.Time, st *tokenState, opts ...func(*decisionInput)) decisionInput {
	in := decisionInput{now: now, state: st, config: "config", grant: "grant", inputs: "inputs", jitterSeed: "uid"}
	for _, o := range opts {
		o(&in)
	}
	return in
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name        string
		in          decisionInput
		wantTrigger trigger
		wantStalled bool
		wantBackoff bool
	}{
		{"requests a token when there is none", input(t0, state(withoutToken())), triggerNoToken, false, false},
		{"makes no request while the token is fresh", input(t0.Add(10*time.Minute), state()), triggerNone, false, false},
		{"refreshes when a third of the lifetime remains", input(t0.Add(40*time.Minute), state()), triggerRefreshDue, false, false},
		{"refreshes an expired token", input(t0.Add(2*time.Hour), state()), triggerExpired, false, false},
		{"never refreshes a token without expiry", input(t0.Add(1000*time.Hour), state(withoutExpiry())), triggerNone, false, false},
		{"adopts a changed grant Secret", input(t0, state(), func(in *decisionInput) { in.grant = "new" }), triggerGrantChanged, false, false},
		{"does not reuse a token for changed settings", input(t0, state(), func(in *decisionInput) { in.config = "new" }), triggerSettingsChanged, false, false},
		{"honours a new refresh annotation", input(t0, state(), func(in *decisionInput) { in.refreshRequest = "v1" }), triggerRefreshRequested, false, false},
		{"ignores an annotation already handled", input(t0, state(), func(in *decisionInput) {
			in.refreshRequest, in.lastHandled = "v1", "v1"
		}), triggerNone, false, false},
		{"stays stalled on a permanent failure while the inputs are unchanged",
			input(t0.Add(50*time.Minute), state(withFailure(failure{Inputs: "inputs", Permanent: true}))), triggerNone, true, false},
		{"retries a permanent failure once an input changed",
			input(t0.Add(50*time.Minute), state(withFailure(failure{Inputs: "old", Permanent: true}))), triggerRefreshDue, false, false},
		{"a new refresh annotation overrides a stall",
			input(t0, state(withFailure(failure{Inputs: "inputs", Permanent: true})), func(in *decisionInput) { in.refreshRequest = "v2" }),
			triggerRefreshRequested, false, false},
		{"waits for the backoff of a transient failure",
			input(t0.Add(50*time.Minute), state(withFailure(failure{Inputs: "inputs", RetryAt: t0.Add(51 * time.Minute)}))), triggerNone, false, true},
		{"retries once the backoff has passed",
			input(t0.Add(52*time.Minute), state(withFailure(failure{Inputs: "inputs", RetryAt: t0.Add(51 * time.Minute)}))), triggerRefreshDue, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decide(tt.in)
			if d.trigger != tt.wantTrigger || d.stalled != tt.wantStalled || d.backingOff != tt.wantBackoff {
				t.Errorf("decide() = %+v, want trigger %q stalled %v backingOff %v", d, tt.wantTrigger, tt.wantStalled, tt.wantBackoff)
			}
		})
	}
}

func TestRefreshAt(t *testing.T) {
	tok := &storedToken{ObtainedAt: t0, Expiry: t0.Add(90 * time.Minute)}
	tests := []struct {
		name          string
		refreshBefore time.Duration
		earliest      time.Time
		latest        time.Time
	}{
		{"defaults to a third of the lifetime, spread up to 10% earlier", 0, t0.Add(57 * time.Minute), t0.Add(60 * time.Minute)},
		{"honours refreshBefore", 10 * time.Minute, t0.Add(79 * time.Minute), t0.Add(80 * time.Minute)},
		{"caps refreshBefore at half the lifetime", 2 * time.Hour, t0.Add(40*time.Minute + 30*time.Second), t0.Add(45 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := refreshAt(tok, tt.refreshBefore, "uid")
			if at.Before(tt.earliest) || at.After(tt.latest) {
				t.Errorf("refreshAt() = %s, want within [%s, %s]", at, tt.earliest, tt.latest)
			}
			if again := refreshAt(tok, tt.refreshBefore, "uid"); !again.Equal(at) {
				t.Errorf("refreshAt() is not deterministic: %s then %s", at, again)
			}
		})
	}
	if !refreshAt(&storedToken{ObtainedAt: t0}, 0, "uid").IsZero() {
		t.Error("a token without expiry has a refresh time")
	}
}

func TestRefreshAtSpreadsConnections(t *testing.T) {
	// 1,000 connections created in the same second: no second holds more than a few
	// percent of their refreshes.
	tok := &storedToken{ObtainedAt: t0, Expiry: t0.Add(time.Hour)}
	perSecond := map[int64]int{}
	for i := range 1000 {
		perSecond[refreshAt(tok, 0, "uid-"+string(rune('a'+i%26))+time.Duration(i).String()).Unix()]++
	}
	for sec, n := range perSecond {
		if n > 20 {
			t.Errorf("%d refreshes due in second %d", n, sec)
		}
	}
	if len(perSecond) < 100 {
		t.Errorf("refreshes spread over only %d seconds", len(perSecond))
	}
}

func TestRetryTime(t *testing.T) {
	tests := []struct {
		name       string
		failures   int32
		retryAfter time.Duration
		expiry     time.Time
		min, max   time.Duration
	}{
		{"starts at about 5s", 1, 0, time.Time{}, 4 * time.Second, 6 * time.Second},
		{"doubles", 3, 0, time.Time{}, 16 * time.Second, 24 * time.Second},
		{"caps at about 5 minutes", 20, 0, time.Time{}, 4 * time.Minute, 6 * time.Minute},
		{"honours Retry-After", 1, time.Minute, time.Time{}, time.Minute, time.Minute},
		{"caps Retry-After at an hour", 1, 24 * time.Hour, time.Time{}, time.Hour, time.Hour},
		{"still tries before the token expires", 20, 0, t0.Add(time.Minute), 54 * time.Second, 56 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := retryTime(t0, tt.failures, tt.retryAfter, tt.expiry).Sub(t0)
			if d < tt.min || d > tt.max {
				t.Errorf("retryTime() = +%s, want within [%s, %s]", d, tt.min, tt.max)
			}
		})
	}
}
