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
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// This file holds the decisions that matter most, as pure functions over plain inputs
// (spec, state, grant, previous failure, now): whether a token request is needed, which
// grant to present, whether another manager's claim is honoured, how a failure is
// classified, which condition the connection shows, and when an event is worth emitting.
// The clock is an input; each has a table test keyed by sentences (policy_test.go).

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
	triggerAuthorized       trigger = "an account was connected in the browser"
)

// DefaultMinRequestGap is the least time between two token requests a connection makes on
// its own schedule (and the window in which forced refreshes are answered by one request),
// whatever lifetime the provider gives its tokens.
const DefaultMinRequestGap = 10 * time.Second

// tokenInput is what the decision to make a token request looks at.
type tokenInput struct {
	now   time.Time
	state *tokenState
	// config is the fingerprint of the current settings, grant that of the grant Secret
	// ("" when the connection has none), inputs that of every input together.
	config, grant, inputs string
	// refreshRequest is the refresh annotation's value; lastHandled the last one acted on.
	refreshRequest, lastHandled string
	refreshBefore               time.Duration
	jitterSeed                  string
	// gap is the least time between two requests on the connection's own schedule.
	gap time.Duration
	// authorized says the state holds a code from the browser that was not presented yet.
	authorized bool
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
	// answersRefreshRequest is set when a new refresh annotation is answered by a token
	// obtained moments ago instead of a request of its own.
	answersRefreshRequest bool
}

// tokenCheck decides, or passes (false) to the next check.
type tokenCheck func(in tokenInput) (decision, bool)

// tokenChecks are asked in order; the first that decides wins.
var tokenChecks = []tokenCheck{
	refreshRequested,
	permanentFailure,
	backingOff,
	accountAuthorized,
	tokenLost,
	noToken,
	settingsChanged,
	grantChanged,
	tooSoon,
	expired,
	refreshDue,
}

// decide says whether a token request is needed now, and if not, when to look again.
func decide(in tokenInput) decision {
	d := decision{}
	for _, check := range tokenChecks {
		if out, ok := check(in); ok {
			d = out
			break
		}
	}
	if d.trigger == triggerNone && refreshPending(in) {
		// Only a forced request of moments ago lets a new annotation value pass without one.
		d.answersRefreshRequest = true
	}
	return d
}

func refreshPending(in tokenInput) bool {
	return in.refreshRequest != "" && in.refreshRequest != in.lastHandled
}

// obtainedWithin reports whether the current token was obtained less than d before now.
func obtainedWithin(st *tokenState, now time.Time, d time.Duration) bool {
	return st.Token.held() && !st.Token.ObtainedAt.IsZero() && now.Sub(st.Token.ObtainedAt) < d
}

// refreshRequested honours a new value of the refresh annotation, unless a forced request
// was made less than the gap ago: that one answers it (api.md, "Forcing a refresh").
func refreshRequested(in tokenInput) (decision, bool) {
	if !refreshPending(in) || (in.state.Token.held() && in.state.Token.Forced && obtainedWithin(in.state, in.now, in.gap)) {
		return decision{}, false
	}
	return decision{trigger: triggerRefreshRequested}, true
}

func permanentFailure(in tokenInput) (decision, bool) {
	f := in.state.Failure
	if f == nil || f.Inputs != in.inputs || !f.Permanent {
		return decision{}, false
	}
	return decision{stalled: true, waitUntil: expiryOf(in.state)}, true
}

func backingOff(in tokenInput) (decision, bool) {
	f := in.state.Failure
	if f == nil || f.Inputs != in.inputs || f.Permanent || !in.now.Before(f.RetryAt) {
		return decision{}, false
	}
	return decision{backingOff: true, waitUntil: f.RetryAt}, true
}

// accountAuthorized exchanges a code from the browser at once: codes are short-lived, and
// a person waits on the callback page. A permanent failure before it does not hold it back
// (the code is a new input); a backoff after a request that never left does.
func accountAuthorized(in tokenInput) (decision, bool) {
	if !in.authorized {
		return decision{}, false
	}
	return decision{trigger: triggerAuthorized}, true
}

func tokenLost(in tokenInput) (decision, bool) {
	st := in.state
	if st.Token.held() || st.lostBecause == triggerNone {
		return decision{}, false
	}
	return decision{trigger: st.lostBecause}, true
}

func noToken(in tokenInput) (decision, bool) {
	if in.state.Token.held() {
		return decision{}, false
	}
	return decision{trigger: triggerNoToken}, true
}

func settingsChanged(in tokenInput) (decision, bool) {
	if in.state.Config == in.config {
		return decision{}, false
	}
	return decision{trigger: triggerSettingsChanged}, true
}

func grantChanged(in tokenInput) (decision, bool) {
	if in.grant == "" || in.state.Grant == in.grant {
		return decision{}, false
	}
	return decision{trigger: triggerGrantChanged}, true
}

// tooSoon holds back a request on the connection's own schedule until the gap
// (longer after several short-lived tokens in a row) has passed since the last token: a
// token that arrives expired or nearly so does not turn into a request loop.
func tooSoon(in tokenInput) (decision, bool) {
	tok := in.state.Token
	earliest := tok.ObtainedAt.Add(requestGap(in.gap, tok.ShortLived))
	if !in.now.Before(earliest) {
		return decision{}, false
	}
	at := refreshAt(tok, in.refreshBefore, in.jitterSeed)
	if at.IsZero() {
		return decision{}, true
	}
	return decision{waitUntil: later(at, earliest)}, true
}

func expired(in tokenInput) (decision, bool) {
	exp := in.state.Token.Expiry
	if exp.IsZero() || in.now.Before(exp) {
		return decision{}, false
	}
	return decision{trigger: triggerExpired}, true
}

func refreshDue(in tokenInput) (decision, bool) {
	at := refreshAt(in.state.Token, in.refreshBefore, in.jitterSeed)
	if !at.IsZero() && !in.now.Before(at) {
		return decision{trigger: triggerRefreshDue}, true
	}
	return decision{waitUntil: at}, true
}

// requestGap is the gap, doubled for each further short-lived token in a row, up to
// backoffMax.
func requestGap(gap time.Duration, shortLived int32) time.Duration {
	d := gap
	for i := int32(1); i < shortLived && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// expiryOf is the current token's expiry, zero when there is none or it does not expire.
func expiryOf(st *tokenState) time.Time {
	if st == nil || st.Token == nil {
		return time.Time{}
	}
	return st.Token.Expiry
}

// grantInput is what the choice of a grant looks at.
type grantInput struct {
	traits provider.Traits
	// grant is the grant Secret's content; nil when the connection has none.
	grant *grantSecret
	state *tokenState
	// endpoint is the fingerprint of the provider, endpoint and client now configured.
	endpoint string
	// browser says the connection has spec.authorization: without a grant Secret, its
	// grant is what a sign-in left in state.
	browser bool
}

// grantChoice is the grant to present, with the fingerprint of its single-use credential
// ("" for client credentials).
type grantChoice struct {
	grant      provider.Grant
	credential string
}

// chooseGrant picks what to present: client credentials; the state's refresh token; or,
// when the grant Secret is new to the state, its refresh token or (once, ever) its code.
// A stall says nothing usable is there; it is decided before anything is claimed or sent,
// so a refused code stays usable once the grant Secret is fixed.
func chooseGrant(in grantInput) (grantChoice, *stall) {
	g, st := in.grant, in.state
	if a := pendingCode(st); a != nil {
		// A sign-in has just completed: its code is the newest grant there is.
		return grantChoice{
			grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: a.Code, RedirectURI: a.RedirectURI,
				CodeVerifier: a.CodeVerifier},
			credential: hash("code", a.Code),
		}, nil
	}
	if g == nil && in.browser {
		if st.RefreshToken != "" && st.Endpoint == in.endpoint && in.traits.RefreshToken {
			return refreshWith(st.RefreshToken), nil
		}
		return grantChoice{}, stalled(oauthv1alpha1.ReasonAuthorizationRequired,
			"No account is connected: open the link in status.authorizationURL and sign in "+
				"(or set spec.grantSecretRef and run kubectl tokenwarden authorize)")
	}
	if g == nil {
		return grantChoice{grant: provider.Grant{Type: provider.GrantClientCredentials}}, nil
	}
	if st.Grant == g.fingerprint && st.RefreshToken != "" && st.Endpoint == in.endpoint {
		return refreshWith(st.RefreshToken), nil
	}
	if g.refreshToken != "" && in.traits.RefreshToken {
		return refreshWith(g.refreshToken), nil
	}
	if g.code == "" || !in.traits.Code {
		return grantChoice{}, stalled(oauthv1alpha1.ReasonReauthorizationRequired,
			"grant Secret %s has no usable %s; store a new one", g.name, in.traits.GrantKeys())
	}
	for _, key := range in.traits.CodeRequires {
		if g.value(key) == "" {
			return grantChoice{}, stalled(oauthv1alpha1.ReasonGrantSecretNotFound,
				"grant Secret %s has a code but no %s key, which the code exchange needs; add it "+
					"(the code has not been sent)", g.name, key)
		}
	}
	credential := hash("code", g.code)
	if st.codeUsed(credential) {
		return grantChoice{}, stalled(oauthv1alpha1.ReasonReauthorizationRequired,
			"the code in grant Secret %s was already exchanged and a code is single-use; "+
				"store a new code (or a refresh_token) in it", g.name)
	}
	return grantChoice{
		grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: g.code, RedirectURI: g.redirectURI,
			CodeVerifier: g.codeVerifier},
		credential: credential,
	}, nil
}

// codeTakenAsUsed reports whether the grant Secret's code must be taken as used although
// the state does not record it: the state's record was lost (its Secret deleted or
// unreadable) while the connection had published a token (its owned workload Secret
// exists, or the status records a refresh), so the code may well have been exchanged.
// The caller records it as used, which rebuilds the record: a new code stored afterwards
// is exchanged.
func codeTakenAsUsed(st *tokenState, g *grantSecret, published bool) bool {
	return g != nil && g.code != "" && st.recordLost && published
}

func refreshWith(token string) grantChoice {
	return grantChoice{
		grant:      provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: token},
		credential: hash("refresh_token", token),
	}
}

// claimHeldByOther reports whether another manager's claim on a single-use credential is
// still honoured: it may be presenting it right now.
func claimHeldByOther(c *claim, me string, now time.Time, ttl time.Duration) bool {
	return c != nil && c.Holder != me && now.Sub(c.At) < ttl
}

// retryWithNewerToken reports whether an invalid_grant for a refresh token is explained
// by a rotation someone else stored after this manager read the state: then the newer
// token is tried, instead of a stall. A grant Secret's own token refused is no such case,
// however the state differs from it.
func retryWithNewerToken(presented string, read, live *tokenState) bool {
	return live != nil && live.Seq > read.Seq && live.RefreshToken != "" && live.RefreshToken != presented
}

// failureInput is what the classification of a failed token request looks at.
type failureInput struct {
	err error
	// previous is the last failure since the last success, if any.
	previous *failure
	inputs   string
	// answeredAt is when the failure was known: backoff and Retry-After count from there.
	answeredAt time.Time
	// expiry is the current token's; a last retry is placed before it.
	expiry time.Time
	seed   string
}

// classifyFailure says what a failed token request means and what happens next: a stall
// and RFC 6749 section 5.2 errors the provider sent are permanent (no retry until an
// input changes); everything else is retried with backoff, longer after a 4xx that was
// not an OAuth error (a gateway or WAF page), never sooner than the provider's Retry-After.
func classifyFailure(in failureInput) *failure {
	f := &failure{Inputs: in.inputs, Message: in.err.Error(), Count: 1}
	if in.previous != nil {
		f.Count = in.previous.Count + 1
	}
	s, isStall := errors.AsType[*stall](in.err)
	switch kind := provider.KindOf(in.err); {
	case isStall:
		f.Permanent, f.Reason, f.Message = true, s.reason, s.message
	case kind == provider.InvalidGrant:
		f.Permanent, f.Reason = true, oauthv1alpha1.ReasonReauthorizationRequired
		f.Message = "the provider refused the grant (invalid_grant); store a new refresh_token or code in the grant Secret: " + f.Message
	case kind == provider.InvalidClient:
		f.Permanent, f.Reason = true, oauthv1alpha1.ReasonInvalidClient
		f.Message = "the provider refused the client credentials; fix the client Secret: " + f.Message
	case kind == provider.BadRequest:
		f.Permanent, f.Reason = true, oauthv1alpha1.ReasonTokenRequestFailed
	default:
		f.Reason = oauthv1alpha1.ReasonTokenRequestFailed
		var retryAfter time.Duration
		base := backoffBase
		if pe, ok := errors.AsType[*provider.Error](in.err); ok {
			retryAfter = pe.RetryAfter
			if pe.StatusCode >= 400 && pe.StatusCode < 500 && pe.StatusCode != http.StatusTooManyRequests {
				base = backoffBase4xx
			}
		}
		f.RetryAt = retryTime(retryInput{now: in.answeredAt, failures: f.Count, base: base,
			retryAfter: retryAfter, expiry: in.expiry, seed: in.seed})
	}
	return f
}

// failureEventDue says whether the count-th failure in a row is worth an event: 1, 2, 4,
// 8, ...: rate-limited, not one per retry.
func failureEventDue(count int32) bool {
	return count > 0 && count&(count-1) == 0
}

// stallEventDue says whether a stall found before any token request is worth an event:
// once per change of what the status showed. A failed request has its own event.
func stallEventDue(shown *metav1.Condition, s *stall, requestFailed bool) bool {
	if s == nil || requestFailed {
		return false
	}
	return shown == nil || shown.Status != metav1.ConditionTrue || shown.Reason != s.reason || shown.Message != s.message
}

// cond is a condition's status, reason and message.
type cond struct {
	status  metav1.ConditionStatus
	reason  string
	message string
}

// statusInput is what the conditions are derived from.
type statusInput struct {
	now       time.Time
	gap       time.Duration
	token     *storedToken
	published bool
	stall     *stall
	failure   *failure
}

// conditionRow is one row of the Ready condition's precedence: the first that applies wins.
type conditionRow struct {
	name  string
	when  func(statusInput) bool
	ready func(statusInput) cond
}

// readyRows are the Ready condition's cases, most important first.
var readyRows = []conditionRow{
	{"a Secret name clash", func(in statusInput) bool {
		return in.stall != nil && in.stall.reason == oauthv1alpha1.ReasonSecretConflict
	}, stallCondition},
	{"a valid token is published", func(in statusInput) bool {
		return in.published && in.token.validAt(in.now)
	}, validTokenCondition},
	{"only a human can help", func(in statusInput) bool { return in.stall != nil }, stallCondition},
	{"requests fail and no valid token is published", func(in statusInput) bool { return in.failure != nil },
		func(in statusInput) cond {
			f := in.failure
			return cond{metav1.ConditionFalse, f.Reason, fmt.Sprintf("No valid token; %d token requests failed in a row, retrying at %s: %s",
				f.Count, f.RetryAt.UTC().Format(time.RFC3339), f.Message)}
		}},
	{"the token expired", func(in statusInput) bool { return in.token != nil && !in.token.validAt(in.now) },
		func(statusInput) cond {
			return cond{metav1.ConditionFalse, oauthv1alpha1.ReasonTokenExpired, "The token expired and is being refreshed"}
		}},
	{"a token is being obtained", func(statusInput) bool { return true },
		func(statusInput) cond {
			return cond{metav1.ConditionFalse, oauthv1alpha1.ReasonProgressing, "Obtaining a token"}
		}},
}

func stallCondition(in statusInput) cond {
	return cond{metav1.ConditionFalse, in.stall.reason, in.stall.message}
}

func validTokenCondition(in statusInput) cond {
	tok := in.token
	reason := tok.Reason
	if reason == "" {
		reason = oauthv1alpha1.ReasonTokenValid
	}
	msg := "The Secret holds a token that does not expire"
	if !tok.Expiry.IsZero() {
		msg = "The Secret holds a token valid until " + tok.Expiry.UTC().Format(time.RFC3339)
	}
	if tok.ShortLived > 0 {
		msg += fmt.Sprintf("; the provider issued it with %s of life left, so the next request waits at least %s",
			tok.Expiry.Sub(tok.ObtainedAt).Round(time.Second), requestGap(in.gap, tok.ShortLived))
	}
	if f := in.failure; f != nil {
		msg += fmt.Sprintf("; the last token request failed (%d in a row): %s", f.Count, f.Message)
	}
	return cond{metav1.ConditionTrue, reason, msg}
}

// readyCondition is the first row of readyRows that applies.
func readyCondition(in statusInput) cond {
	i := slices.IndexFunc(readyRows, func(r conditionRow) bool { return r.when(in) })
	return readyRows[i].ready(in)
}

// stalledCondition is True with the stall's reason, or False.
func stalledCondition(in statusInput) cond {
	if in.stall != nil {
		return cond{metav1.ConditionTrue, in.stall.reason, in.stall.message}
	}
	return cond{metav1.ConditionFalse, oauthv1alpha1.ReasonProgressing, "No human action needed"}
}
