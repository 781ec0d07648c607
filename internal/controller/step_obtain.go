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
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// obtainToken makes the token request the decision asked for. Reads decision, inputs and
// state; sets st (the new token, or the failure). A single-use credential is claimed in
// state before it is presented, and the answer (a rotated refresh token above all) is
// stored before anything else.
func obtainToken(ctx context.Context, x *run) error {
	if x.decision.trigger == triggerNone {
		return nil
	}
	// Once a credential is claimed, the request and the write of its answer run to the
	// end even if the manager is shutting down: abandoning them halfway could lose a
	// rotated refresh token. The bound keeps a stuck API server from holding shutdown.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), x.r.obtainTimeout())
	defer cancel()
	x.r.mem.held.busy.Add(1)
	defer x.r.mem.held.busy.Add(-1)
	// Obtain nothing that could not be published.
	if _, err := x.workloadSecret(ctx, x.knownConflict()); err != nil {
		return asStall(err)
	}
	if c := x.st.Claim; claimHeldByOther(c, x.r.Identity, x.now, x.r.claimTTL()) {
		// Another manager is presenting a credential right now: what it presents is
		// marked used, which must not read as a code used up (a stall) here.
		x.log.Info("Waited for another manager's token request", "holder", c.Holder)
		return errRequeue
	}
	if codeTakenAsUsed(x.st, x.in.grant, x.everPublished(ctx)) {
		x.st.markCodeUsed(hash("code", x.in.grant.code))
	}
	choice, refusal := chooseGrant(grantInput{traits: x.in.traits, grant: x.in.grant, state: x.st, endpoint: x.in.endpoint,
		browser: x.conn.Spec.Authorization != nil})
	if refusal != nil { // nothing usable to present: a failure without a request
		x.handledRefreshRequest()
		return x.recordFailure(ctx, refusal, provider.Grant{}, x.r.now())
	}
	if err := x.claim(ctx, choice); err != nil {
		return err
	}
	req := x.in.cfg.request
	req.ClientID, req.ClientSecret = x.in.creds.id, x.in.creds.secret
	req.Grant = choice.grant
	start := time.Now()
	tok, err := x.r.Tokens.Token(ctx, &req)
	observeRequest(x.conn.Spec.Provider, choice.grant.Type, time.Since(start), err)
	answeredAt := x.r.now()
	x.handledRefreshRequest()
	if err != nil {
		return x.recordFailure(ctx, err, choice.grant, answeredAt)
	}
	if err := x.r.hook(func(h *Hooks) func(k client.ObjectKey) error { return h.AfterTokenResponse }, x.conn); err != nil {
		return err
	}
	return x.storeAnswer(ctx, &heldAnswer{
		uid: x.conn.UID, grant: choice.grant, token: tok, obtainedAt: answeredAt, trigger: x.decision.trigger,
		config: x.in.config, endpoint: x.in.endpoint, grantFP: x.grantFingerprint(),
	})
}

func (x *run) grantFingerprint() string {
	if x.in.grant == nil {
		return ""
	}
	return x.in.grant.fingerprint
}

// claim records, resourceVersion-checked, that this manager is presenting a single-use
// credential; a code is marked used from then on. A state written since it was read (by
// another manager's claim, say) sends the run away to look again.
func (x *run) claim(ctx context.Context, choice grantChoice) error {
	if choice.grant.Type == provider.GrantClientCredentials {
		return nil
	}
	st := x.st
	st.Claim = &claim{Holder: x.r.Identity, At: x.now, Grant: choice.grant.Type, Credential: choice.credential}
	if choice.grant.Type == provider.GrantAuthorizationCode {
		st.markCodeUsed(choice.credential)
	}
	return raceAsRequeue(asStall(x.r.saveState(ctx, x.conn, st)))
}

// knownConflict reports whether the last status showed a Secret name clash: then the
// name is checked with the API server before any token request.
func (x *run) knownConflict() bool {
	c := meta.FindStatusCondition(x.prev.Conditions, oauthv1alpha1.ConditionReady)
	return c != nil && c.Reason == oauthv1alpha1.ReasonSecretConflict
}

// storeAnswer writes a provider's answer to state, resourceVersion-checked, under the
// fingerprints it was obtained under. A conflict after the provider answered is not a
// reason to drop the answer: it holds the newest refresh token. So the state is read again
// and the answer written over it, a few times if need be; failing that, the answer is held
// in memory and written first thing on the next attempt.
func (x *run) storeAnswer(ctx context.Context, a *heldAnswer) error {
	first := x.st.Token == nil || a.trigger == triggerGrantChanged || a.trigger == triggerSettingsChanged
	reason := oauthv1alpha1.ReasonTokenRefreshed
	if first {
		reason = oauthv1alpha1.ReasonTokenIssued
	}
	st := x.st
	var err error
	for attempt := range 5 {
		applyAnswer(st, a, reason, x.r.minRequestGap())
		if err = x.r.saveState(ctx, x.conn, st); err == nil {
			break
		}
		x.log.Info("Retrying to save the new token", "attempt", attempt+1, "error", err.Error())
		if !sleep(ctx, time.Duration(attempt+1)*200*time.Millisecond) {
			break
		}
		fresh, rerr := x.r.loadStateLive(ctx, x.conn)
		if rerr != nil {
			err = rerr
			continue
		}
		st = fresh
	}
	if err != nil {
		x.r.mem.held.put(client.ObjectKeyFromObject(x.conn), a)
		return fmt.Errorf("saving the new token: %w", err)
	}
	x.st = st
	x.out.obtained = a.trigger
	if inlineState(x.conn) {
		x.out.fresh = a
	}
	tok := a.token
	if first {
		x.event(corev1.EventTypeNormal, oauthv1alpha1.ReasonTokenIssued, "Obtained a token (%s)%s", a.trigger, expiryNote(tok.Expiry))
	} else {
		x.event(corev1.EventTypeNormal, oauthv1alpha1.ReasonTokenRefreshed, "Refreshed the token (%s)%s", a.trigger, expiryNote(tok.Expiry))
	}
	x.log.Info("Obtained token", "trigger", string(a.trigger), "expiresAt", tok.Expiry, "grantType", string(a.grant.Type))
	return x.r.hook(func(h *Hooks) func(k client.ObjectKey) error { return h.AfterStateSaved }, x.conn)
}

// applyAnswer puts an answer into st: the rotated refresh token (or the presented one,
// still live, when none came back), the token, and the fingerprints it was obtained under.
func applyAnswer(st *tokenState, a *heldAnswer, reason string, gap time.Duration) {
	tok, grant := a.token, a.grant
	switch {
	case tok.RefreshToken != "":
		st.RefreshToken = tok.RefreshToken
	case grant.Type == provider.GrantRefreshToken:
		st.RefreshToken = grant.RefreshToken
	default:
		st.RefreshToken = ""
	}
	shortLived := int32(0)
	if !tok.Expiry.IsZero() && tok.Expiry.Sub(a.obtainedAt) < gap {
		shortLived = 1
		if st.Token != nil {
			shortLived = st.Token.ShortLived + 1
		}
	}
	st.Token = &storedToken{
		AccessToken: tok.AccessToken,
		TokenType:   tok.TokenType,
		Expiry:      tok.Expiry,
		Scope:       tok.Scope,
		Extra:       tok.Extra,
		ObtainedAt:  a.obtainedAt,
		Reason:      reason,
		ShortLived:  shortLived,
		Forced:      a.trigger == triggerRefreshRequested,
	}
	st.Config, st.Endpoint = a.config, a.endpoint
	if a.grantFP != "" {
		st.Grant = a.grantFP
	}
	if grant.Type == provider.GrantAuthorizationCode {
		st.markCodeUsed(hash("code", grant.Code))
		if st.Authorized != nil && st.Authorized.Code == grant.Code {
			st.Authorized, st.Refusal = nil, nil
		}
	}
	st.Claim = nil
	st.Failure = nil
}

func expiryNote(expiry time.Time) string {
	if expiry.IsZero() {
		return "; it does not expire"
	}
	return "; valid until " + expiry.UTC().Format(time.RFC3339)
}

// recordFailure classifies a failed (or impossible) token request and records it in state,
// with the inputs it failed for, so that a permanent failure is not retried until an input
// changes and a transient one waits for its backoff, counted from when the answer came.
func (x *run) recordFailure(ctx context.Context, err error, grant provider.Grant, answeredAt time.Time) error {
	if provider.KindOf(err) == provider.InvalidGrant && grant.Type == provider.GrantRefreshToken {
		if live, lerr := x.r.loadStateLive(ctx, x.conn); lerr == nil && retryWithNewerToken(grant.RefreshToken, x.st, live) {
			x.log.Info("Found a newer refresh token after invalid_grant; retrying with it")
			return errRequeue
		}
	}
	if grant.Type == provider.GrantAuthorizationCode && provider.NotSent(err) {
		// The code never left this process: it may still be used once.
		x.st.UsedCodes = slices.DeleteFunc(x.st.UsedCodes, func(fp string) bool { return fp == hash("code", grant.Code) })
	}
	f := classifyFailure(failureInput{err: err, previous: x.st.Failure, inputs: x.inputs(),
		answeredAt: answeredAt, expiry: expiryOf(x.st), seed: string(x.conn.UID)})
	if a := x.st.Authorized; a != nil && grant.Type == provider.GrantAuthorizationCode && a.Code == grant.Code {
		a.Outcome = f.Message // for the page the person waits on; no secret in it
	}
	x.st.Claim = nil
	x.st.Failure = f
	x.out.failed = err
	if serr := x.r.saveState(ctx, x.conn, x.st); serr != nil {
		return raceAsRequeue(asStall(serr))
	}
	if f.Permanent {
		x.event(corev1.EventTypeWarning, f.Reason, "%s", f.Message)
		return &stall{reason: f.Reason, message: f.Message}
	}
	if failureEventDue(f.Count) {
		x.event(corev1.EventTypeWarning, oauthv1alpha1.ReasonTokenRequestFailed,
			"Token request failed (%d in a row), retrying at %s: %s", f.Count, f.RetryAt.UTC().Format(time.RFC3339), f.Message)
	}
	x.log.Info("Token request failed; will retry", "failures", f.Count, "retryAt", f.RetryAt, "error", f.Message)
	return nil
}
