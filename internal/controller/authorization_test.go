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
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

func TestLinkDecision(t *testing.T) {
	live := &authLink{Token: "t1", Hash: "h1", Expires: t0.Add(time.Hour)}
	older := &authLink{Hash: "h1", Expires: t0.Add(time.Hour)} // of a state that kept no token
	tests := map[string]struct {
		in   linkInput
		want linkAction
	}{
		"offers a link when the connection waits and has none": {
			in: linkInput{now: t0, awaiting: true}, want: mintLink},
		"keeps a live link the status shows": {
			in: linkInput{now: t0, awaiting: true, link: live, shown: "h1"}, want: keepLink},
		"keeps a live link the status does not show yet (another manager made it; its status write is not seen here yet), to show it": {
			in: linkInput{now: t0, awaiting: true, link: live, shown: "h0"}, want: keepLink},
		"keeps a live link whose status write was lost, or whose callback URL changed, to show it again": {
			in: linkInput{now: t0, awaiting: true, link: live, shown: ""}, want: keepLink},
		"replaces a link once it started a sign-in": {
			in:   linkInput{now: t0, awaiting: true, link: &authLink{Token: "t1", Hash: "h1", Expires: t0.Add(time.Hour), Used: true}, shown: "h1"},
			want: mintLink},
		"replaces a link when it expires": {
			in: linkInput{now: t0.Add(time.Hour), awaiting: true, link: live, shown: "h1"}, want: mintLink},
		"keeps a link of an older state that the status shows": {
			in: linkInput{now: t0, awaiting: true, link: older, shown: "h1"}, want: keepLink},
		"replaces a link of an older state that the status no longer shows: nobody can open it": {
			in: linkInput{now: t0, awaiting: true, link: older, shown: ""}, want: mintLink},
		"withdraws the link once the connection has a usable grant": {
			in: linkInput{now: t0, link: live, shown: "h1"}, want: withdrawLink},
		"does nothing for a connection that waits for nothing and has no link": {
			in: linkInput{now: t0}, want: keepLink},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := linkDecision(tt.in); got != tt.want {
				t.Errorf("linkDecision() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckLink(t *testing.T) {
	tests := map[string]struct {
		link *authLink
		hash string
		now  time.Time
		want error
	}{
		"a live link starts a sign-in": {
			link: &authLink{Hash: "h", Expires: t0.Add(time.Minute)}, hash: "h", now: t0},
		"a link never offered is refused": {
			link: &authLink{Hash: "h", Expires: t0.Add(time.Minute)}, hash: "forged", now: t0, want: errLinkUnknown},
		"any link is refused when none is offered": {hash: "h", now: t0, want: errLinkUnknown},
		"a used link is refused": {
			link: &authLink{Hash: "h", Expires: t0.Add(time.Minute), Used: true}, hash: "h", now: t0, want: errLinkUsed},
		"the link a new one replaced is refused as used": {
			link: &authLink{Hash: "h2", Expires: t0.Add(time.Minute), Previous: "h"}, hash: "h", now: t0, want: errLinkUsed},
		"an expired link is refused": {
			link: &authLink{Hash: "h", Expires: t0}, hash: "h", now: t0, want: errLinkExpired},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if err := checkLink(tt.link, tt.hash, tt.now); !errors.Is(err, tt.want) {
				t.Errorf("checkLink() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestFindFlow(t *testing.T) {
	flows := []authFlow{
		{State: "s1", Browser: "b1", Started: t0},
		{State: "s2", Browser: "b2", Started: t0.Add(5 * time.Minute)},
	}
	tests := map[string]struct {
		state, browser string
		now            time.Time
		want           int
		err            error
	}{
		"accepts the redirect back of a flow from the browser that started it": {
			state: "s2", browser: "b2", now: t0.Add(6 * time.Minute), want: 1},
		"refuses a state no flow was started with (forged, or replayed after it was accepted)": {
			state: "s3", browser: "b2", now: t0, want: -1, err: errFlowUnknown},
		"refuses a redirect back in a browser without the flow's cookie": {
			state: "s2", browser: "", now: t0.Add(6 * time.Minute), want: -1, err: errOtherBrowser},
		"refuses a redirect back in a browser with another flow's cookie": {
			state: "s2", browser: "b1", now: t0.Add(6 * time.Minute), want: -1, err: errOtherBrowser},
		"refuses a redirect back 10 minutes after the start, naming the flow to remove": {
			state: "s1", browser: "b1", now: t0.Add(flowLifetime), want: 0, err: errFlowExpired},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := findFlow(flows, tt.state, tt.browser, tt.now)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("findFlow() = %d, %v; want %d, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestAddFlowIsBounded(t *testing.T) {
	var flows []authFlow
	for i := range maxFlows + 3 {
		flows = addFlow(flows, authFlow{State: string(rune('a' + i)), Started: t0}, t0)
	}
	if len(flows) != maxFlows || flows[len(flows)-1].State != string(rune('a'+maxFlows+2)) {
		t.Fatalf("addFlow kept %d flows ending in %q; want the newest %d", len(flows), flows[len(flows)-1].State, maxFlows)
	}
	flows = addFlow(flows, authFlow{State: "new", Started: t0.Add(flowLifetime)}, t0.Add(flowLifetime))
	if len(flows) != 1 || flows[0].State != "new" {
		t.Errorf("addFlow kept expired flows: %+v", flows)
	}
}

func TestUsePKCE(t *testing.T) {
	generic, _ := provider.AuthorizationOf(oauthv1alpha1.ProviderGeneric)
	aura, _ := provider.AuthorizationOf(oauthv1alpha1.ProviderAura)
	tests := map[string]struct {
		pkce oauthv1alpha1.PKCEMethod
		decl provider.Authorization
		want bool
	}{
		"Generic sends a challenge by default":          {decl: generic, want: true},
		"a named provider sends none by default":        {decl: aura, want: false},
		"S256 sends a challenge to a named provider":    {pkce: oauthv1alpha1.PKCES256, decl: aura, want: true},
		"Disabled sends none, whatever the default was": {pkce: oauthv1alpha1.PKCEDisabled, decl: generic, want: false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := usePKCE(&oauthv1alpha1.Authorization{PKCE: tt.pkce}, tt.decl); got != tt.want {
				t.Errorf("usePKCE() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStateNamesItsConnection(t *testing.T) {
	key := types.NamespacedName{Namespace: "team-a", Name: "billing.example"}
	s1, s2 := stateParameter(key), stateParameter(key)
	if s1 == s2 {
		t.Fatal("two flows got the same state")
	}
	if got, ok := connectionOfState(s1); !ok || got != key {
		t.Fatalf("connectionOfState(stateParameter(%s)) = %s, %v", key, got, ok)
	}
	for name, state := range map[string]string{
		"no state":                  "",
		"no random part":            "dGVhbS1hL2JpbGxpbmc.",
		"not base64":                "!!!.abc",
		"no namespace/name":         "bm9zbGFzaA.abc",
		"an oversized state":        strings.Repeat("a", 2000) + ".b",
		"a state of someone else's": "xyzzy",
	} {
		if _, ok := connectionOfState(state); ok {
			t.Errorf("%s: connectionOfState(%q) named a connection", name, state)
		}
	}
}

func TestShownLinkHash(t *testing.T) {
	base := "https://connect.example.com/tw"
	link := base + linkPath("ns", "conn", "tok")
	tests := map[string]struct {
		shown, want string
	}{
		"the link offered":                      {link, hash("link", "tok")},
		"no link":                               {"", ""},
		"a link of another callback URL":        {"https://old.example.com" + linkPath("ns", "conn", "tok"), ""},
		"a link of another connection":          {base + linkPath("ns", "other", "tok"), ""},
		"a link with something after the token": {link + "/x", ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := shownLinkHash(tt.shown, base, "ns", "conn"); got != tt.want {
				t.Errorf("shownLinkHash(%q) = %q, want %q", tt.shown, got, tt.want)
			}
		})
	}
}

func TestServesRedirect(t *testing.T) {
	for name, tt := range map[string]struct {
		redirect string
		want     bool
	}{
		"its own /callback":                          {"https://connect.example.com/tw/callback", true},
		"a loopback listener of kubectl tokenwarden": {"http://127.0.0.1:8400/callback", false},
		"another path on its host":                   {"https://connect.example.com/tw/other", false},
	} {
		t.Run(name, func(t *testing.T) {
			if got := servesRedirect(tt.redirect, "https://connect.example.com/tw"); got != tt.want {
				t.Errorf("servesRedirect(%q) = %v, want %v", tt.redirect, got, tt.want)
			}
		})
	}
}

func TestCallbackURLMustBeSafe(t *testing.T) {
	for name, tt := range map[string]struct {
		url, wantErr string
	}{
		"https is taken, its trailing slash dropped": {url: "https://connect.example.com/"},
		"http to loopback is taken":                  {url: "http://127.0.0.1:8082"},
		"none is refused":                            {url: "", wantErr: "required"},
		"http to a remote host is refused":           {url: "http://connect.example.com", wantErr: "must use https"},
		"a query is refused":                         {url: "https://connect.example.com/?a=b", wantErr: "no credentials, query or fragment"},
		"a relative URL is refused":                  {url: "/connect", wantErr: "absolute"},
	} {
		t.Run(name, func(t *testing.T) {
			base, err := CallbackOptions{BindAddress: ":8082", URL: tt.url}.baseURL()
			if tt.wantErr == "" {
				if err != nil || strings.HasSuffix(base, "/") {
					t.Fatalf("baseURL() = %q, %v", base, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("baseURL() error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestAddressLimiter(t *testing.T) {
	l := newAddressLimiter()
	allowed := 0
	for range callbackBurst + 10 {
		if l.allow("192.0.2.1:1234") {
			allowed++
		}
	}
	if allowed != callbackBurst {
		t.Errorf("one address made %d requests in a burst, want %d", allowed, callbackBurst)
	}
	if !l.allow("192.0.2.2:1234") {
		t.Error("another address was limited by the first one's burst")
	}
}
