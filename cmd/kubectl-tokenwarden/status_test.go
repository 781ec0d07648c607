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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

func mtime(d time.Duration) *metav1.Time {
	t := metav1.NewTime(goldenNow.Add(d))
	return &t
}

func TestTimeLeftAndNextRefresh(t *testing.T) {
	for _, tc := range []struct {
		name          string
		status        oauthv1alpha1.OAuthConnectionStatus
		stalled       bool
		left, refresh string
	}{
		{"a token with an expiry shows the time left and the next refresh",
			oauthv1alpha1.OAuthConnectionStatus{LastRefreshTime: mtime(-time.Hour), ExpiresAt: mtime(42 * time.Minute),
				NextRefreshTime: mtime(22 * time.Minute)}, false, "42m", "in 22m"},
		{"an expired token says expired",
			oauthv1alpha1.OAuthConnectionStatus{LastRefreshTime: mtime(-time.Hour), ExpiresAt: mtime(-time.Second)},
			false, "expired", "-"},
		{"a token expiring this second has expired",
			oauthv1alpha1.OAuthConnectionStatus{LastRefreshTime: mtime(-time.Hour), ExpiresAt: mtime(0)},
			false, "expired", "-"},
		{"a token without expiry is never refreshed",
			oauthv1alpha1.OAuthConnectionStatus{LastRefreshTime: mtime(-time.Hour)}, false, "never", "never"},
		{"a stalled connection without expiry has no next refresh",
			oauthv1alpha1.OAuthConnectionStatus{LastRefreshTime: mtime(-time.Hour)}, true, "never", "-"},
		{"no token yet shows dashes", oauthv1alpha1.OAuthConnectionStatus{}, false, "-", "-"},
		{"an overdue refresh says how long ago it was due",
			oauthv1alpha1.OAuthConnectionStatus{LastRefreshTime: mtime(-time.Hour), ExpiresAt: mtime(5 * time.Minute),
				NextRefreshTime: mtime(-90 * time.Second)}, false, "5m", "90s ago"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := timeLeft(&tc.status, goldenNow); got != tc.left {
				t.Errorf("time left %q, want %q", got, tc.left)
			}
			if got := nextRefresh(&tc.status, tc.stalled, goldenNow); got != tc.refresh {
				t.Errorf("next refresh %q, want %q", got, tc.refresh)
			}
		})
	}
}

func TestSortByUrgency(t *testing.T) {
	row := func(name string, u urgency, expires *metav1.Time) statusRow {
		return statusRow{Namespace: "ns", Name: name, urgency: u, ExpiresAt: expires}
	}
	rows := []statusRow{
		row("ready-never", urgencyReady, nil),
		row("ready-later", urgencyReady, mtime(time.Hour)),
		row("not-ready", urgencyNotReady, nil),
		row("ready-soon", urgencyReady, mtime(time.Minute)),
		row("stalled-b", urgencyStalled, nil),
		row("stalled-a", urgencyStalled, nil),
		row("not-ready-expired", urgencyNotReady, mtime(-time.Minute)),
	}
	sortByUrgency(rows)
	got := make([]string, 0, len(rows))
	for _, r := range rows {
		got = append(got, r.Name)
	}
	want := "stalled-a stalled-b not-ready-expired not-ready ready-soon ready-later ready-never"
	if strings.Join(got, " ") != want {
		t.Errorf("order:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestTextForOneLine(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"line breaks and tabs become spaces", "a\nb\tc\r", "a b c "},
		{"escape sequences cannot reach the terminal", "red \x1b[31mtext", "red ?[31mtext"},
		{"other text is kept", "Läuft – ok", "Läuft – ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := clean(tc.in); got != tc.want {
				t.Errorf("clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if got := truncate("0123456789", 8); got != "01234..." {
		t.Errorf("truncate: %q", got)
	}
	if got := truncate("ünïcödé", 7); got != "ünïcödé" {
		t.Errorf("truncate counts runes: %q", got)
	}
}

func TestRelative(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "now", 500 * time.Millisecond: "now", 90 * time.Second: "in 90s", -42 * time.Minute: "42m ago",
		51 * time.Hour: "in 2d3h", -3 * time.Second: "3s ago",
	} {
		if got := relative(goldenNow.Add(d), goldenNow); got != want {
			t.Errorf("relative(%s) = %q, want %q", d, got, want)
		}
	}
}
