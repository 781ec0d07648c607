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
	tests := map[string]struct {
		in       retryInput
		min, max time.Duration
	}{
		"starts at about 5s":      {retryInput{failures: 1}, 4 * time.Second, 6 * time.Second},
		"doubles":                 {retryInput{failures: 3}, 16 * time.Second, 24 * time.Second},
		"caps at about 5 minutes": {retryInput{failures: 20}, 4 * time.Minute, 6 * time.Minute},
		"starts at about 30s after a non-OAuth 4xx":             {retryInput{failures: 1, base: backoffBase4xx}, 24 * time.Second, 36 * time.Second},
		"caps at about 30 minutes after repeated non-OAuth 4xx": {retryInput{failures: 20, base: backoffBase4xx}, 24 * time.Minute, 36 * time.Minute},
		"honours Retry-After":                                   {retryInput{failures: 1, retryAfter: time.Minute}, time.Minute, time.Minute},
		"caps Retry-After at an hour":                           {retryInput{failures: 1, retryAfter: 24 * time.Hour}, time.Hour, time.Hour},
		"still tries before the token expires":                  {retryInput{failures: 20, expiry: t0.Add(time.Minute)}, 54 * time.Second, 56 * time.Second},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			tt.in.now, tt.in.seed = t0, "uid"
			d := retryTime(tt.in).Sub(t0)
			if d < tt.min || d > tt.max {
				t.Errorf("retryTime() = +%s, want within [%s, %s]", d, tt.min, tt.max)
			}
			if again := retryTime(tt.in).Sub(t0); again != d {
				t.Errorf("retryTime() is not deterministic: %s then %s", d, again)
			}
		})
	}
}
