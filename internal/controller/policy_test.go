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
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// Fixtures: a state with a fresh one-hour token obtained at t0, changed by modifiers.

type stateOption func(*tokenState)

func state(opts ...stateOption) *tokenState {
	st := &tokenState{
		Token:  &storedToken{AccessToken: "at", TokenType: "Bearer", ObtainedAt: t0, Expiry: t0.Add(time.Hour)},
		Config: "config",
		Grant:  "grant",
		secret: nil,
	}
	for _, o := range opts {
		o(st)
	}
	return st
}

func withoutToken() stateOption { return func(st *tokenState) { st.Token = nil } }

func withoutExpiry() stateOption { return func(st *tokenState) { st.Token.Expiry = time.Time{} } }

func withFailure(f failure) stateOption { return func(st *tokenState) { st.Failure = &f } }

func withLifetime(d time.Duration) stateOption {
	return func(st *tokenState) { st.Token.Expiry = st.Token.ObtainedAt.Add(d) }
}

func withForced() stateOption { return func(st *tokenState) { st.Token.Forced = true } }

func withShortLived(n int32) stateOption { return func(st *tokenState) { st.Token.ShortLived = n } }

func withRefreshToken(rt, grant, endpoint string) stateOption {
	return func(st *tokenState) { st.RefreshToken, st.Grant, st.Endpoint = rt, grant, endpoint }
}

func withUsedCode(code string) stateOption {
	return func(st *tokenState) { st.markCodeUsed(hash("code", code)) }
}

// withAuthorized leaves a code from a browser sign-in in the state.
func withAuthorized(code, verifier string) stateOption {
	return func(st *tokenState) {
		st.Authorized = &authorizedCode{Code: code, RedirectURI: "https://connect/callback", CodeVerifier: verifier, At: t0}
	}
}

func withLostTokenBecause(t trigger) stateOption {
	return func(st *tokenState) { st.Token, st.lostBecause = nil, t }
}

type inputOption func(*tokenInput)

func at(now time.Time) inputOption { return func(in *tokenInput) { in.now = now } }

func input(st *tokenState, opts ...inputOption) tokenInput {
	in := tokenInput{now: t0, state: st, config: "config", grant: "grant", inputs: "inputs", jitterSeed: "uid", gap: DefaultMinRequestGap,
		authorized: pendingCode(st) != nil}
	for _, o := range opts {
		o(&in)
	}
	return in
}

func TestDecide(t *testing.T) {
	tests := map[string]struct {
		in          tokenInput
		trigger     trigger
		stalled     bool
		backingOff  bool
		answered    bool
		waitAtLeast time.Time
	}{
		"exchanges a code from the browser at once, though the token is fresh": {
			in: input(state(withAuthorized("c1", ""))), trigger: triggerAuthorized},
		"exchanges a code from the browser although the last failure was permanent (it is a new input)": {
			in:      input(state(withAuthorized("c1", ""), withFailure(failure{Inputs: "inputs-before-the-code", Permanent: true}))),
			trigger: triggerAuthorized},
		"does not exchange a code from the browser twice": {
			in: input(state(withAuthorized("c1", ""), withUsedCode("c1")), at(t0.Add(time.Minute))), waitAtLeast: t0.Add(30 * time.Minute)},
		"waits out a backoff after the code from the browser could not be sent": {
			in:         input(state(withAuthorized("c1", ""), withFailure(failure{Inputs: "inputs", RetryAt: t0.Add(time.Minute)}))),
			backingOff: true, waitAtLeast: t0.Add(time.Minute)},
		"requests a token when there is none": {
			in: input(state(withoutToken())), trigger: triggerNoToken},
		"requests a token when the inline token's Secret was deleted": {
			in: input(state(withLostTokenBecause(triggerSecretReplaced))), trigger: triggerSecretReplaced},
		"makes no request while the token is fresh": {
			in: input(state(), at(t0.Add(10*time.Minute)))},
		"refreshes when a third of the lifetime remains": {
			in: input(state(), at(t0.Add(40*time.Minute))), trigger: triggerRefreshDue},
		"refreshes an expired token": {
			in: input(state(), at(t0.Add(2*time.Hour))), trigger: triggerExpired},
		"never refreshes a token without expiry": {
			in: input(state(withoutExpiry()), at(t0.Add(1000*time.Hour)))},
		"adopts a changed grant Secret": {
			in: input(state(), func(in *tokenInput) { in.grant = "new" }), trigger: triggerGrantChanged},
		"does not reuse a token for changed settings": {
			in: input(state(), func(in *tokenInput) { in.config = "new" }), trigger: triggerSettingsChanged},
		"honours a new refresh annotation": {
			in: input(state(), at(t0.Add(time.Minute)), func(in *tokenInput) { in.refreshRequest = "v1" }), trigger: triggerRefreshRequested},
		"ignores an annotation already handled": {
			in: input(state(), func(in *tokenInput) { in.refreshRequest, in.lastHandled = "v1", "v1" })},
		"answers a refresh annotation with the forced token obtained under 10 seconds ago": {
			in:       input(state(withForced()), at(t0.Add(5*time.Second)), func(in *tokenInput) { in.refreshRequest = "v2" }),
			answered: true},
		"honours a refresh annotation right after a scheduled token": {
			in:      input(state(), at(t0.Add(5*time.Second)), func(in *tokenInput) { in.refreshRequest = "v2" }),
			trigger: triggerRefreshRequested},
		"honours a refresh annotation 10 seconds after a forced token": {
			in:      input(state(withForced()), at(t0.Add(11*time.Second)), func(in *tokenInput) { in.refreshRequest = "v2" }),
			trigger: triggerRefreshRequested},
		"stays stalled on a permanent failure while the inputs are unchanged": {
			in:      input(state(withFailure(failure{Inputs: "inputs", Permanent: true})), at(t0.Add(50*time.Minute))),
			stalled: true},
		"retries a permanent failure once an input changed": {
			in:      input(state(withFailure(failure{Inputs: "old", Permanent: true})), at(t0.Add(50*time.Minute))),
			trigger: triggerRefreshDue},
		"a new refresh annotation overrides a stall": {
			in: input(state(withFailure(failure{Inputs: "inputs", Permanent: true})), at(t0.Add(time.Minute)),
				func(in *tokenInput) { in.refreshRequest = "v2" }),
			trigger: triggerRefreshRequested},
		"waits for the backoff of a transient failure": {
			in:         input(state(withFailure(failure{Inputs: "inputs", RetryAt: t0.Add(51 * time.Minute)})), at(t0.Add(50*time.Minute))),
			backingOff: true, waitAtLeast: t0.Add(51 * time.Minute)},
		"retries once the backoff has passed": {
			in:      input(state(withFailure(failure{Inputs: "inputs", RetryAt: t0.Add(51 * time.Minute)})), at(t0.Add(52*time.Minute))),
			trigger: triggerRefreshDue},
		"makes no request within 10 seconds of a token that arrived already expired": {
			in:          input(state(withLifetime(-time.Minute), withShortLived(1)), at(t0.Add(3*time.Second))),
			waitAtLeast: t0.Add(10 * time.Second)},
		"makes no request within 10 seconds of a token that lives one second": {
			in:          input(state(withLifetime(time.Second), withShortLived(1)), at(t0.Add(2*time.Second))),
			waitAtLeast: t0.Add(10 * time.Second)},
		"requests again 10 seconds after a short-lived token": {
			in: input(state(withLifetime(time.Second), withShortLived(1)), at(t0.Add(21*time.Second))), trigger: triggerExpired},
		"waits longer after several short-lived tokens in a row": {
			in:          input(state(withLifetime(time.Second), withShortLived(3)), at(t0.Add(30*time.Second))),
			waitAtLeast: t0.Add(40 * time.Second)},
		"still adopts a changed grant Secret right after a short-lived token": {
			in:      input(state(withLifetime(time.Second), withShortLived(1)), at(t0.Add(2*time.Second)), func(in *tokenInput) { in.grant = "new" }),
			trigger: triggerGrantChanged},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			d := decide(tt.in)
			if d.trigger != tt.trigger || d.stalled != tt.stalled || d.backingOff != tt.backingOff || d.answersRefreshRequest != tt.answered {
				t.Errorf("decide() = %+v, want trigger %q stalled %v backingOff %v answered %v",
					d, tt.trigger, tt.stalled, tt.backingOff, tt.answered)
			}
			if !tt.waitAtLeast.IsZero() && d.waitUntil.Before(tt.waitAtLeast) {
				t.Errorf("decide() waits until %s, want no earlier than %s", d.waitUntil, tt.waitAtLeast)
			}
		})
	}
}

func grantSecretOf(refreshToken, code, redirectURI string) *grantSecret {
	g := &grantSecret{name: "grant", refreshToken: refreshToken, code: code, redirectURI: redirectURI}
	g.fingerprint = grantFingerprint(g)
	return g
}

func TestGrantFingerprintSurvivesTheUpgradeThatAddedCodeVerifier(t *testing.T) {
	g := &grantSecret{refreshToken: "rt", code: "c", redirectURI: "https://app/cb"}
	if got, before := grantFingerprint(g), hash("grant", "rt", "c", "https://app/cb"); got != before {
		t.Errorf("a grant Secret without code_verifier changed fingerprint: %s, was %s", got, before)
	}
	if grantFingerprint(withVerifier(&grantSecret{code: "c"}, "v")) == grantFingerprint(&grantSecret{code: "c"}) {
		t.Error("a code_verifier does not change the fingerprint")
	}
}

func withVerifier(g *grantSecret, v string) *grantSecret {
	g.codeVerifier = v
	g.fingerprint = grantFingerprint(g)
	return g
}

var (
	rotating    = provider.Traits{RefreshToken: true, Code: true, CodeRequires: []string{"redirect_uri"}}
	codeOnly    = provider.Traits{Code: true}
	refreshOnly = provider.Traits{ClientCredentials: true, RefreshToken: true}
)

func TestChooseGrant(t *testing.T) {
	adopted := grantSecretOf("rt-from-secret", "", "")
	tests := map[string]struct {
		in         grantInput
		want       provider.GrantType
		wantToken  string
		wantReason string
		wantInMsg  string
		// wantVerifier is the code_verifier sent with a code.
		wantVerifier string
	}{
		"runs client credentials without a grant Secret": {
			in: grantInput{traits: refreshOnly, state: state()}, want: provider.GrantClientCredentials},
		"presents the state's rotated refresh token for the grant it adopted": {
			in: grantInput{traits: rotating, grant: adopted, endpoint: "e",
				state: state(withRefreshToken("rotated", adopted.fingerprint, "e"))},
			want: provider.GrantRefreshToken, wantToken: "rotated"},
		"presents the grant Secret's refresh token when the endpoint or client changed": {
			in: grantInput{traits: rotating, grant: adopted, endpoint: "other",
				state: state(withRefreshToken("rotated", adopted.fingerprint, "e"))},
			want: provider.GrantRefreshToken, wantToken: "rt-from-secret"},
		"presents a new grant Secret's refresh token": {
			in:   grantInput{traits: rotating, grant: adopted, endpoint: "e", state: state(withRefreshToken("rotated", "old", "e"))},
			want: provider.GrantRefreshToken, wantToken: "rt-from-secret"},
		"exchanges a new code with its redirect_uri": {
			in:   grantInput{traits: rotating, grant: grantSecretOf("", "c1", "https://app/cb"), state: state(withoutToken())},
			want: provider.GrantAuthorizationCode},
		"sends a code with its PKCE verifier": {
			in:   grantInput{traits: rotating, grant: withVerifier(grantSecretOf("", "c1", "https://app/cb"), "v1"), state: state(withoutToken())},
			want: provider.GrantAuthorizationCode, wantVerifier: "v1"},
		"refuses a code without the redirect_uri its exchange needs, before anything is sent": {
			in:         grantInput{traits: rotating, grant: grantSecretOf("", "c1", ""), state: state(withoutToken())},
			wantReason: oauthv1alpha1.ReasonGrantSecretNotFound, wantInMsg: "redirect_uri"},
		"never exchanges a code twice": {
			in:         grantInput{traits: codeOnly, grant: grantSecretOf("", "c1", ""), state: state(withUsedCode("c1"))},
			wantReason: oauthv1alpha1.ReasonReauthorizationRequired, wantInMsg: "already exchanged"},
		"does not present a refresh token to a provider that takes none": {
			in:         grantInput{traits: codeOnly, grant: grantSecretOf("rt", "", ""), state: state(withoutToken())},
			wantReason: oauthv1alpha1.ReasonReauthorizationRequired, wantInMsg: "no usable code"},
		"exchanges the code of a browser sign-in before anything else, with its verifier": {
			in: grantInput{traits: rotating, grant: adopted, browser: true, endpoint: "e",
				state: state(withAuthorized("c2", "v2"), withRefreshToken("rotated", adopted.fingerprint, "e"))},
			want: provider.GrantAuthorizationCode, wantVerifier: "v2"},
		"presents the state's refresh token of a browser sign-in when there is no grant Secret": {
			in:   grantInput{traits: rotating, browser: true, endpoint: "e", state: state(withRefreshToken("from-sign-in", "", "e"))},
			want: provider.GrantRefreshToken, wantToken: "from-sign-in"},
		"asks for a sign-in when there is neither a grant Secret nor a sign-in": {
			in:         grantInput{traits: rotating, browser: true, endpoint: "e", state: state(withoutToken())},
			wantReason: oauthv1alpha1.ReasonAuthorizationRequired, wantInMsg: "status.authorizationURL"},
		"asks for a sign-in when the state's refresh token belongs to another client": {
			in:         grantInput{traits: rotating, browser: true, endpoint: "new", state: state(withRefreshToken("rotated", "", "old"))},
			wantReason: oauthv1alpha1.ReasonAuthorizationRequired, wantInMsg: "sign in"},
		"asks for a sign-in again once the code from the browser was used": {
			in:         grantInput{traits: codeOnly, browser: true, state: state(withAuthorized("c1", ""), withUsedCode("c1"))},
			wantReason: oauthv1alpha1.ReasonAuthorizationRequired, wantInMsg: "No account is connected"},
		"does not exchange a code with a provider that takes none": {
			in:         grantInput{traits: refreshOnly, grant: grantSecretOf("", "c1", ""), state: state(withoutToken())},
			wantReason: oauthv1alpha1.ReasonReauthorizationRequired, wantInMsg: "no usable refresh_token"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, refusal := chooseGrant(tt.in)
			if tt.wantReason != "" {
				if refusal == nil || refusal.reason != tt.wantReason || !strings.Contains(refusal.message, tt.wantInMsg) {
					t.Fatalf("chooseGrant() refusal = %v, want %s mentioning %q", refusal, tt.wantReason, tt.wantInMsg)
				}
				return
			}
			if refusal != nil || got.grant.Type != tt.want || (tt.wantToken != "" && got.grant.RefreshToken != tt.wantToken) {
				t.Fatalf("chooseGrant() = %+v, %v; want %s %q", got, refusal, tt.want, tt.wantToken)
			}
			if got.grant.CodeVerifier != tt.wantVerifier {
				t.Errorf("code_verifier = %q, want %q", got.grant.CodeVerifier, tt.wantVerifier)
			}
			if tt.want != provider.GrantClientCredentials && got.credential == "" {
				t.Error("a single-use credential has no fingerprint to claim")
			}
		})
	}
}

func TestCodeTakenAsUsed(t *testing.T) {
	lost := &tokenState{recordLost: true}
	tests := map[string]struct {
		st        *tokenState
		grant     *grantSecret
		published bool
		want      bool
	}{
		"a lost record of a connection that published a token: the code may have been used": {
			st: lost, grant: grantSecretOf("", "c1", ""), published: true, want: true},
		"a lost record of a connection that never published: the code is new": {
			st: lost, grant: grantSecretOf("", "c1", ""), published: false},
		"a state that records the used codes decides alone": {
			st: state(), grant: grantSecretOf("", "c1", ""), published: true},
		"a refresh token is not a code": {
			st: lost, grant: grantSecretOf("rt", "", ""), published: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := codeTakenAsUsed(tt.st, tt.grant, tt.published); got != tt.want {
				t.Errorf("codeTakenAsUsed() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClaimHeldByOther(t *testing.T) {
	tests := map[string]struct {
		c    *claim
		want bool
	}{
		"no claim":                 {nil, false},
		"this manager's own claim": {&claim{Holder: "me", At: t0}, false},
		"another manager's claim of a second ago":    {&claim{Holder: "other", At: t0.Add(-time.Second)}, true},
		"another manager's claim older than its TTL": {&claim{Holder: "other", At: t0.Add(-3 * time.Minute)}, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := claimHeldByOther(tt.c, "me", t0, DefaultClaimTTL); got != tt.want {
				t.Errorf("claimHeldByOther() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRetryWithNewerToken(t *testing.T) {
	read := &tokenState{Seq: 3, RefreshToken: "rotated"}
	tests := map[string]struct {
		presented string
		live      *tokenState
		want      bool
	}{
		"someone stored a newer refresh token since this manager read the state": {
			presented: "rotated", live: &tokenState{Seq: 5, RefreshToken: "newer"}, want: true},
		"a bad refresh token from the grant Secret, refused, while the state holds another": {
			presented: "pasted", live: &tokenState{Seq: 3, RefreshToken: "rotated"}},
		"the state's own refresh token refused": {
			presented: "rotated", live: &tokenState{Seq: 3, RefreshToken: "rotated"}},
		"the live state could not be read": {presented: "rotated"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := retryWithNewerToken(tt.presented, read, tt.live); got != tt.want {
				t.Errorf("retryWithNewerToken() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClassifyFailure(t *testing.T) {
	tests := map[string]struct {
		err        error
		previous   *failure
		permanent  bool
		reason     string
		retryAfter time.Duration // at least
		count      int32
	}{
		"invalid_grant needs a human": {
			err: &provider.Error{Kind: provider.InvalidGrant, StatusCode: 400, Code: "invalid_grant"}, permanent: true,
			reason: oauthv1alpha1.ReasonReauthorizationRequired, count: 1},
		"invalid_client needs a human": {
			err: &provider.Error{Kind: provider.InvalidClient, StatusCode: 401, Code: "invalid_client"}, permanent: true,
			reason: oauthv1alpha1.ReasonInvalidClient, count: 1},
		"another OAuth error the provider sent needs a human": {
			err: &provider.Error{Kind: provider.BadRequest, StatusCode: 400, Code: "invalid_scope"}, permanent: true,
			reason: oauthv1alpha1.ReasonTokenRequestFailed, count: 1},
		"a 503 is retried with backoff": {
			err: &provider.Error{Kind: provider.Transient, StatusCode: 503}, reason: oauthv1alpha1.ReasonTokenRequestFailed,
			retryAfter: 4 * time.Second, count: 1},
		"a WAF's HTML 403 is retried, later than a 5xx": {
			err: &provider.Error{Kind: provider.Transient, StatusCode: http.StatusForbidden}, reason: oauthv1alpha1.ReasonTokenRequestFailed,
			retryAfter: 24 * time.Second, count: 1},
		"a 429 waits for its Retry-After": {
			err: &provider.Error{Kind: provider.Transient, StatusCode: 429, RetryAfter: 2 * time.Minute}, reason: oauthv1alpha1.ReasonTokenRequestFailed,
			retryAfter: 2 * time.Minute, count: 1},
		"a network error is retried": {
			err: errors.New("dial tcp: connection refused"), reason: oauthv1alpha1.ReasonTokenRequestFailed, retryAfter: 4 * time.Second, count: 1},
		"failures in a row are counted": {
			err: errors.New("timeout"), previous: &failure{Count: 3}, reason: oauthv1alpha1.ReasonTokenRequestFailed,
			retryAfter: 30 * time.Second, count: 4},
		"a stall found before the request keeps its reason": {
			err: stalled(oauthv1alpha1.ReasonGrantSecretNotFound, "no redirect_uri"), permanent: true,
			reason: oauthv1alpha1.ReasonGrantSecretNotFound, count: 1},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			answered := t0.Add(30 * time.Second)
			f := classifyFailure(failureInput{err: tt.err, previous: tt.previous, inputs: "inputs", answeredAt: answered, seed: "uid"})
			if f.Permanent != tt.permanent || f.Reason != tt.reason || f.Count != tt.count || f.Inputs != "inputs" {
				t.Fatalf("classifyFailure() = %+v, want permanent %v reason %s count %d", f, tt.permanent, tt.reason, tt.count)
			}
			if tt.permanent != f.RetryAt.IsZero() {
				t.Errorf("RetryAt = %s for permanent %v", f.RetryAt, tt.permanent)
			}
			if !tt.permanent && f.RetryAt.Sub(answered) < tt.retryAfter {
				t.Errorf("retries %s after the answer, want at least %s (counted from the answer)", f.RetryAt.Sub(answered), tt.retryAfter)
			}
		})
	}
}

func TestReadyCondition(t *testing.T) {
	valid := &storedToken{AccessToken: "at", TokenType: "Bearer", ObtainedAt: t0, Expiry: t0.Add(time.Hour), Reason: oauthv1alpha1.ReasonTokenRefreshed}
	expiredTok := &storedToken{AccessToken: "at", TokenType: "Bearer", ObtainedAt: t0.Add(-2 * time.Hour), Expiry: t0.Add(-time.Hour)}
	conflict := stalled(oauthv1alpha1.ReasonSecretConflict, "Secret x exists")
	reauth := stalled(oauthv1alpha1.ReasonReauthorizationRequired, "store a new refresh_token")
	transient := &failure{Reason: oauthv1alpha1.ReasonTokenRequestFailed, Count: 2, Message: "HTTP 503", RetryAt: t0.Add(time.Minute)}
	tests := map[string]struct {
		in     statusInput
		status metav1.ConditionStatus
		reason string
		inMsg  string
	}{
		"a Secret name clash wins over a valid token": {
			in: statusInput{token: valid, published: true, stall: conflict}, status: metav1.ConditionFalse, reason: oauthv1alpha1.ReasonSecretConflict},
		"a published valid token is Ready even while stalled": {
			in: statusInput{token: valid, published: true, stall: reauth}, status: metav1.ConditionTrue, reason: oauthv1alpha1.ReasonTokenRefreshed},
		"a published valid token is Ready while requests fail, and says so": {
			in: statusInput{token: valid, published: true, failure: transient}, status: metav1.ConditionTrue,
			reason: oauthv1alpha1.ReasonTokenRefreshed, inMsg: "failed (2 in a row)"},
		"a token not published is not Ready": {
			in: statusInput{token: valid}, status: metav1.ConditionFalse, reason: oauthv1alpha1.ReasonProgressing},
		"a stall without a valid token shows the stall": {
			in: statusInput{token: expiredTok, published: true, stall: reauth}, status: metav1.ConditionFalse, reason: oauthv1alpha1.ReasonReauthorizationRequired},
		"failing requests without a valid token show the failure": {
			in: statusInput{failure: transient}, status: metav1.ConditionFalse, reason: oauthv1alpha1.ReasonTokenRequestFailed, inMsg: "retrying at"},
		"an expired token being refreshed": {
			in: statusInput{token: expiredTok, published: true}, status: metav1.ConditionFalse, reason: oauthv1alpha1.ReasonTokenExpired},
		"nothing yet": {
			in: statusInput{}, status: metav1.ConditionFalse, reason: oauthv1alpha1.ReasonProgressing},
		"a token that came short-lived is Ready and says so": {
			in:     statusInput{token: &storedToken{AccessToken: "at", ObtainedAt: t0, Expiry: t0.Add(2 * time.Second), ShortLived: 1}, published: true},
			status: metav1.ConditionTrue, reason: oauthv1alpha1.ReasonTokenValid, inMsg: "2s of life left"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			tt.in.now, tt.in.gap = t0, DefaultMinRequestGap
			c := readyCondition(tt.in)
			if c.status != tt.status || c.reason != tt.reason || !strings.Contains(c.message, tt.inMsg) {
				t.Errorf("readyCondition() = %+v, want %s %s mentioning %q", c, tt.status, tt.reason, tt.inMsg)
			}
		})
	}
}

func TestEventsWorthEmitting(t *testing.T) {
	reauth := stalled(oauthv1alpha1.ReasonReauthorizationRequired, "store a new refresh_token")
	shown := &metav1.Condition{Status: metav1.ConditionTrue, Reason: reauth.reason, Message: reauth.message}
	stallTests := map[string]struct {
		shown         *metav1.Condition
		s             *stall
		requestFailed bool
		want          bool
	}{
		"a new stall is announced":                                {nil, reauth, false, true},
		"a stall the status already shows is not announced again": {shown, reauth, false, false},
		"a stall whose message changed is announced":              {shown, stalled(reauth.reason, "other"), false, true},
		"a failed request has its own event":                      {nil, reauth, true, false},
		"no stall, no event":                                      {shown, nil, false, false},
	}
	for name, tt := range stallTests {
		t.Run(name, func(t *testing.T) {
			if got := stallEventDue(tt.shown, tt.s, tt.requestFailed); got != tt.want {
				t.Errorf("stallEventDue() = %v, want %v", got, tt.want)
			}
		})
	}
	var announced []string
	for n := int32(1); n <= 20; n++ {
		if failureEventDue(n) {
			announced = append(announced, fmt.Sprint(n))
		}
	}
	if got := strings.Join(announced, ","); got != "1,2,4,8,16" {
		t.Errorf("failures announced: %s, want 1,2,4,8,16 (rate-limited, not one per retry)", got)
	}
}
