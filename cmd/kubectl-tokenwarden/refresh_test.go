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

package main

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// playOperator answers the next refresh request on the connection as the operator would:
// it watches for a new annotation value, then answer changes the status, which it writes
// through the status subresource. The watch starts before it returns, so no request is
// missed.
func playOperator(t *testing.T, c *oauthv1alpha1.OAuthConnection,
	answer func(s *oauthv1alpha1.OAuthConnectionStatus, requested string)) {
	t.Helper()
	k := cluster(t)
	w, err := k.Watch(ctx, &oauthv1alpha1.OAuthConnectionList{}, client.InNamespace(c.Namespace),
		client.MatchingFields{"metadata.name": c.Name})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			conn, ok := ev.Object.(*oauthv1alpha1.OAuthConnection)
			if !ok || ev.Type == watch.Deleted {
				continue
			}
			v := conn.Annotations[oauthv1alpha1.RefreshRequestedAnnotation]
			if v == "" || v == conn.Status.LastHandledRefreshRequest {
				continue
			}
			answer(&conn.Status, v)
			conn.Status.LastHandledRefreshRequest = v
			if err := k.Status().Update(ctx, conn); err != nil {
				t.Errorf("the fake operator could not write the status: %v", err)
			}
			return
		}
	}()
	t.Cleanup(func() { w.Stop(); <-done })
}

func setReady(s *oauthv1alpha1.OAuthConnectionStatus, st metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&s.Conditions, metav1.Condition{
		Type: oauthv1alpha1.ConditionReady, Status: st, Reason: reason, Message: msg, ObservedGeneration: 1})
}

// refreshFixture is a Ready connection whose token was obtained an hour ago.
func refreshFixture(t *testing.T, name string) *oauthv1alpha1.OAuthConnection {
	ns := namespace(t, "refresh")
	now := time.Now()
	return create(t, connection(ns, name, oauthv1alpha1.ProviderAurora,
		ready(oauthv1alpha1.ReasonTokenIssued, "The Secret holds a token valid until later", now.Add(-time.Hour)),
		token(now.Add(-time.Hour), now.Add(time.Hour), now.Add(20*time.Minute))))
}

func TestRefreshWaitSucceedsWhenTheOperatorGetsANewToken(t *testing.T) {
	c := refreshFixture(t, "succeeds")
	playOperator(t, c, func(s *oauthv1alpha1.OAuthConnectionStatus, _ string) {
		now := metav1.NewTime(time.Now())
		expires := metav1.NewTime(now.Add(time.Hour))
		s.LastRefreshTime, s.ExpiresAt, s.ConsecutiveFailures = &now, &expires, 0
		setReady(s, metav1.ConditionTrue, oauthv1alpha1.ReasonTokenRefreshed, "The Secret holds a new token")
	})
	start := time.Now()
	r := runNow("refresh", c.Name, "-n", c.Namespace, "--wait", "--timeout", "30s")
	if r.code != exitOK {
		t.Fatal(r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "oauthconnection/succeeds refresh requested (") ||
		!strings.HasPrefix(lines[1], "oauthconnection/succeeds refreshed: new token obtained at ") {
		t.Errorf("want the request and the outcome, one line each:\n%s", r)
	}
	// The annotation holds a fresh RFC 3339 UTC value, the one the command printed.
	got := &oauthv1alpha1.OAuthConnection{}
	if err := cluster(t).Get(ctx, client.ObjectKeyFromObject(c), got); err != nil {
		t.Fatal(err)
	}
	value := got.Annotations[oauthv1alpha1.RefreshRequestedAnnotation]
	requested, err := time.Parse(time.RFC3339Nano, value)
	if err != nil || !strings.HasSuffix(value, "Z") || requested.Before(start.Add(-time.Second)) {
		t.Errorf("annotation %q: want a fresh RFC 3339 UTC time (%v)", value, err)
	}
	if !strings.Contains(lines[0], value) {
		t.Errorf("the request line does not say the value %q: %s", value, lines[0])
	}
}

// TestRefreshWaitGolden is the success case with the fixed clock, for the README's sample.
func TestRefreshWaitGolden(t *testing.T) {
	c := refreshFixture(t, "aurora-api")
	playOperator(t, c, func(s *oauthv1alpha1.OAuthConnectionStatus, requested string) {
		at, err := time.Parse(time.RFC3339Nano, requested)
		if err != nil {
			t.Errorf("annotation %q: %v", requested, err)
		}
		obtained, expires := metav1.NewTime(at), metav1.NewTime(at.Add(time.Hour))
		s.LastRefreshTime, s.ExpiresAt = &obtained, &expires
		setReady(s, metav1.ConditionTrue, oauthv1alpha1.ReasonTokenRefreshed, "The Secret holds a new token")
	})
	r := runAt("refresh", c.Name, "-n", c.Namespace, "--wait")
	if r.code != exitOK || r.stderr != "" {
		t.Fatal(r)
	}
	expectGolden(t, "refresh-wait.txt", r.stdout)
}

func TestRefreshWaitFailsWhenTheTokenRequestFails(t *testing.T) {
	c := refreshFixture(t, "fails")
	playOperator(t, c, func(s *oauthv1alpha1.OAuthConnectionStatus, _ string) {
		s.ConsecutiveFailures = 1
		setReady(s, metav1.ConditionFalse, oauthv1alpha1.ReasonTokenRequestFailed,
			"No valid token; 1 token requests failed in a row: the token endpoint answered 503")
	})
	r := runNow("refresh", c.Name, "-n", c.Namespace, "--wait", "--timeout", "30s")
	if r.code != exitFailed {
		t.Fatal(r)
	}
	want := "error: oauthconnection/fails refresh failed: TokenRequestFailed: No valid token; " +
		"1 token requests failed in a row: the token endpoint answered 503\n"
	if r.stderr != want {
		t.Errorf("stderr:\n got %q\nwant %q", r.stderr, want)
	}
}

func TestRefreshWaitTimesOutWhenNobodyAnswers(t *testing.T) {
	c := refreshFixture(t, "unanswered")
	start := time.Now()
	r := runNow("refresh", c.Name, "-n", c.Namespace, "--wait", "--timeout", "2s")
	if r.code != exitTimeout {
		t.Fatal(r)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("took %s for a 2s timeout", took)
	}
	if !strings.Contains(r.stderr, "timed out after 2s waiting for the operator") {
		t.Errorf("stderr does not say it timed out: %s", r)
	}
}

func TestRefreshWithoutWaitOnlyRequests(t *testing.T) {
	c := refreshFixture(t, "no-wait")
	r := runNow("refresh", c.Name, "-n", c.Namespace)
	if r.code != exitOK || strings.Count(r.stdout, "\n") != 1 {
		t.Fatal(r)
	}
}

func TestRefreshErrors(t *testing.T) {
	ns := namespace(t, "refresh")
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"a missing connection is an API error", []string{"refresh", "missing", "-n", ns},
			`Error from server (NotFound): oauthconnections.oauth.tokenwarden.io "missing" not found`},
		{"no name is a usage error", []string{"refresh", "-n", ns}, "error: NAME is required"},
		{"two names are a usage error", []string{"refresh", "a", "b"}, "error: one NAME expected"},
		{"a zero timeout is a usage error", []string{"refresh", "a", "--timeout", "0s"},
			"error: --timeout must be positive"},
		{"a bad duration is a usage error", []string{"refresh", "a", "--timeout", "soon"},
			`error: invalid argument "soon" for "--timeout" flag`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runNow(tc.args...)
			if r.code != exitError || !strings.HasPrefix(r.stderr, tc.stderr) {
				t.Errorf("want exit 3 and %q:\n%s", tc.stderr, r)
			}
		})
	}
}

// TestRefreshOutcome: what a handled request's status says, case by case.
func TestRefreshOutcome(t *testing.T) {
	requested := time.Date(2026, 3, 14, 12, 0, 0, 500_000_000, time.UTC)
	tm := func(d time.Duration) *metav1.Time {
		mt := metav1.NewTime(requested.Add(d).Truncate(time.Second))
		return &mt
	}
	cond := func(typ string, st metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: st, Reason: reason, Message: reason + " message"}
	}
	readyTrue := cond(oauthv1alpha1.ConditionReady, metav1.ConditionTrue, oauthv1alpha1.ReasonTokenRefreshed)
	for _, tc := range []struct {
		name   string
		status oauthv1alpha1.OAuthConnectionStatus
		ok     bool
		line   string
	}{
		{"succeeds with a token obtained in the request's second (times have second precision)",
			oauthv1alpha1.OAuthConnectionStatus{Conditions: []metav1.Condition{readyTrue},
				LastRefreshTime: tm(0), ExpiresAt: tm(time.Hour)},
			true, "refreshed: new token obtained at 2026-03-14T12:00:00Z, expires 2026-03-14T13:00:00Z (in 59m)"},
		{"succeeds with a token that does not expire",
			oauthv1alpha1.OAuthConnectionStatus{Conditions: []metav1.Condition{readyTrue},
				LastRefreshTime: tm(2 * time.Second)},
			true, "refreshed: new token obtained at 2026-03-14T12:00:02Z, does not expire"},
		{"succeeds when a token request within 10s before answered it (coalesced)",
			oauthv1alpha1.OAuthConnectionStatus{Conditions: []metav1.Condition{readyTrue},
				LastRefreshTime: tm(-8 * time.Second), ExpiresAt: tm(time.Hour)},
			true, "refreshed: answered by the token obtained at 2026-03-14T11:59:52Z (forced refreshes within 10s " +
				"are coalesced), expires 2026-03-14T13:00:00Z (in 59m)"},
		{"fails when Ready is False",
			oauthv1alpha1.OAuthConnectionStatus{Conditions: []metav1.Condition{
				cond(oauthv1alpha1.ConditionReady, metav1.ConditionFalse, oauthv1alpha1.ReasonTokenRequestFailed)}},
			false, "refresh failed: TokenRequestFailed: TokenRequestFailed message"},
		{"fails when Stalled is True though the old token still serves",
			oauthv1alpha1.OAuthConnectionStatus{Conditions: []metav1.Condition{readyTrue,
				cond(oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonInvalidClient)},
				LastRefreshTime: tm(-time.Hour)},
			false, "refresh failed: InvalidClient: InvalidClient message"},
		{"fails when the request failed and the old token is still Ready",
			oauthv1alpha1.OAuthConnectionStatus{Conditions: []metav1.Condition{readyTrue},
				LastRefreshTime: tm(-5 * time.Second), ConsecutiveFailures: 2},
			false, "refresh failed: no new token (2 failed token requests in a row); the previous token is still " +
				"served: TokenRefreshed: TokenRefreshed message"},
		{"fails when the token is older than the coalescing window",
			oauthv1alpha1.OAuthConnectionStatus{Conditions: []metav1.Condition{readyTrue},
				LastRefreshTime: tm(-time.Hour)},
			false, "refresh failed: no new token (0 failed token requests in a row); the previous token is still " +
				"served: TokenRefreshed: TokenRefreshed message"},
		{"fails without a Ready condition",
			oauthv1alpha1.OAuthConnectionStatus{},
			false, "refresh failed: the connection has no Ready condition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &oauthv1alpha1.OAuthConnection{Status: tc.status}
			ok, line := refreshOutcome(c, requested, requested)
			if ok != tc.ok || line != tc.line {
				t.Errorf("got (%v, %q)\nwant (%v, %q)", ok, line, tc.ok, tc.line)
			}
		})
	}
}

func TestHandled(t *testing.T) {
	requested := time.Date(2026, 3, 14, 12, 0, 0, 123_456_789, time.UTC)
	for _, tc := range []struct {
		name, last string
		want       bool
	}{
		{"not before the operator records it", "", false},
		{"once the operator records the value", requested.Format(time.RFC3339Nano), true},
		{"once a later request was handled", "2026-03-14T12:00:05Z", true},
		{"not while an earlier request is the last handled", "2026-03-14T12:00:00Z", false},
		{"not with a value that is not a time", "yesterday", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &oauthv1alpha1.OAuthConnection{}
			c.Status.LastHandledRefreshRequest = tc.last
			if got := handled(c, requested); got != tc.want {
				t.Errorf("handled(%q) = %v", tc.last, got)
			}
		})
	}
}
