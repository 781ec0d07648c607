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
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// run is one reconcile of one connection. The steps fill it in order: each says in its doc
// line what it reads and what it sets.
type run struct {
	r    *OAuthConnectionReconciler
	conn *oauthv1alpha1.OAuthConnection
	// base is the connection as read, for the status patch; prev the status as last
	// written by this manager, or as cached.
	base *oauthv1alpha1.OAuthConnection
	prev *oauthv1alpha1.OAuthConnectionStatus
	now  time.Time
	log  logr.Logger

	in       *inputs     // readInputs
	st       *tokenState // readState, then obtainToken
	decision decision    // decideRequest
	workload lookup      // the workload Secret, looked up at most once
	out      outcome
}

// outcome is what the run did, for the status, the events and the schedule.
type outcome struct {
	stall     *stall      // only a human can fix what was found
	obtained  trigger     // why a token was obtained in this run; "" when none was
	failed    error       // this run's failed (or impossible) token request
	fresh     *heldAnswer // the answer obtained in this run, until published (inline state)
	published bool        // the workload Secret holds the state's token
	// early says the run stopped for a harmless reason (a claim by another manager, a
	// lost race, a transient API error): the status stays as it was.
	early  bool
	events []runEvent

	// rolloutDue is when a target restart held back by rolloutMinInterval is due.
	rolloutDue time.Time
	// wakeAt is when to look again for another reason (the offered link expires).
	wakeAt time.Time
}

type runEvent struct {
	eventType, reason, note string
}

func (x *run) event(eventType, reason, format string, args ...any) {
	x.out.events = append(x.out.events, runEvent{eventType: eventType, reason: reason, note: fmt.Sprintf(format, args...)})
}

// step is one job of a reconcile. A step that finds something only a human can fix
// returns a *stall: the steps marked afterStall still run (the last good token stays
// published, Ready stays True while it is valid), the others are skipped.
type step struct {
	name       string
	do         func(context.Context, *run) error
	afterStall bool
}

// steps are the reconcile, in order.
var steps = []step{
	{name: "read inputs", do: readInputs},
	{name: "claim Secrets from another shard", do: claimSecrets},
	{name: "adopt released Secrets", do: adoptReleased},
	{name: "read state", do: readState},
	{name: "store a held answer", do: storeHeldAnswer},
	{name: "decide", do: decideRequest},
	{name: "obtain a token", do: obtainToken},
	{name: "publish", do: publish, afterStall: true},
	{name: "offer an authorization link", do: offerAuthorization, afterStall: true},
	{name: "restart rollout targets", do: restartTargets, afterStall: true},
	{name: "remove the old Secret", do: removeOldSecret, afterStall: true},
	{name: "remove a leftover state Secret", do: removeLeftoverState, afterStall: true},
}

// reconcile runs the steps and schedules the next look. A stall ends the token work; any
// other error ends the run early, leaving the status as it was.
func (x *run) reconcile(ctx context.Context) (ctrl.Result, error) {
	for _, s := range steps {
		if x.out.stall != nil && !s.afterStall {
			continue
		}
		err := s.do(ctx, x)
		if err == nil {
			continue
		}
		if st, ok := errors.AsType[*stall](err); ok {
			x.out.stall = st
			continue
		}
		x.out.early = true
		if errors.Is(err, errRequeue) {
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, err
	}
	return x.schedule(), nil
}

// schedule is when to look again: the same decision asked again over the final state
// (a refresh due, a backoff, the earliest next request after a short-lived token), or,
// when stalled, the expiry of a still valid token, to turn Ready False when it passes.
func (x *run) schedule() ctrl.Result {
	if s := x.out.stall; s != nil {
		next := x.out.wakeAt
		if x.st != nil && x.st.Token.validAt(x.now) && !x.st.Token.Expiry.IsZero() {
			next = earliest(next, x.st.Token.Expiry)
		}
		if next.IsZero() {
			x.log.Info("Stalled until an input changes", "reason", s.reason, "message", s.message)
			return ctrl.Result{}
		}
		return ctrl.Result{RequeueAfter: max(next.Sub(x.now), time.Second)}
	}
	next := earliest(earliest(x.nextLook(), x.out.rolloutDue), x.out.wakeAt)
	if next.IsZero() {
		return ctrl.Result{}
	}
	return ctrl.Result{RequeueAfter: max(next.Sub(x.now), time.Second)}
}

// nextLook asks the decision again over the state as the run leaves it.
func (x *run) nextLook() time.Time {
	if x.in == nil || x.st == nil {
		return time.Time{}
	}
	d := decide(x.tokenInput())
	if d.trigger != triggerNone {
		return x.now.Add(time.Second)
	}
	return d.waitUntil
}

// setStatus derives the whole status from the run's outcome: the conditions in one place,
// with observedGeneration, so that kstatus, `kubectl wait` and GitOps health checks read
// them right. A run that stopped early changes only lastHandledRefreshRequest. Nothing here
// holds token or secret material.
func (x *run) setStatus() {
	s := &x.conn.Status
	if x.out.early {
		handled := s.LastHandledRefreshRequest
		*s = *x.prev.DeepCopy()
		s.LastHandledRefreshRequest = handled
		return
	}
	s.ObservedGeneration = x.conn.Generation
	if x.in != nil && (x.out.published || s.SecretName == "") {
		// The Secret actually written: a new name that clashes is not claimed here.
		s.SecretName = x.in.cfg.secretName
	}
	in := statusInput{now: x.now, gap: x.r.minRequestGap(), published: x.out.published, stall: x.out.stall}
	if x.st != nil {
		in.token, in.failure = x.st.Token, x.st.Failure
	}
	if tok := in.token; tok != nil {
		s.TokenType, s.Scope = tok.TokenType, tok.Scope
		s.ExpiresAt = timeOrNil(tok.Expiry)
		s.LastRefreshTime = timeOrNil(tok.ObtainedAt)
	}
	s.ConsecutiveFailures = 0
	if in.failure != nil {
		s.ConsecutiveFailures = in.failure.Count
	}
	s.NextRefreshTime = nil
	if x.out.stall == nil {
		s.NextRefreshTime = timeOrNil(x.nextLook())
	}
	x.setCondition(oauthv1alpha1.ConditionReady, readyCondition(in))
	shown := meta.FindStatusCondition(x.prev.Conditions, oauthv1alpha1.ConditionStalled)
	if stallEventDue(shown, x.out.stall, x.out.failed != nil) {
		x.event(corev1.EventTypeWarning, x.out.stall.reason, "%s", x.out.stall.message)
	}
	x.setCondition(oauthv1alpha1.ConditionStalled, stalledCondition(in))
}

func (x *run) setCondition(t string, c cond) {
	meta.SetStatusCondition(&x.conn.Status.Conditions, metav1.Condition{
		Type: t, Status: c.status, Reason: c.reason, Message: c.message, ObservedGeneration: x.conn.Generation})
}

// emitEvents records the run's events, after the status patch.
func (x *run) emitEvents() {
	if x.r.Recorder == nil {
		return
	}
	for _, e := range x.out.events {
		x.r.Recorder.Eventf(x.conn, nil, e.eventType, e.reason, e.reason, "%s", e.note)
	}
}

// tokenInput is the decision's input for this run.
func (x *run) tokenInput() tokenInput {
	grantFP := ""
	if x.in.grant != nil {
		grantFP = x.in.grant.fingerprint
	}
	return tokenInput{
		now:            x.now,
		state:          x.st,
		config:         x.in.config,
		grant:          grantFP,
		inputs:         x.inputs(),
		authorized:     pendingCode(x.st) != nil,
		refreshRequest: x.conn.Annotations[oauthv1alpha1.RefreshRequestedAnnotation],
		lastHandled:    x.conn.Status.LastHandledRefreshRequest,
		refreshBefore:  x.in.cfg.refreshBefore,
		jitterSeed:     string(x.conn.UID),
		gap:            x.r.minRequestGap(),
	}
}

// inputs fingerprints every input of a token request, a code from the browser included:
// a permanent failure waits for it to change.
func (x *run) inputs() string {
	if a := x.st.Authorized; a != nil {
		return hash("inputs", x.in.inputs, hash("code", a.Code))
	}
	return x.in.inputs
}

// decideRequest asks whether a token request is needed. Reads inputs and state; sets
// decision. A permanent failure whose inputs are unchanged is a stall.
func decideRequest(_ context.Context, x *run) error {
	x.decision = decide(x.tokenInput())
	if x.decision.answersRefreshRequest {
		x.handledRefreshRequest()
		x.event(corev1.EventTypeNormal, oauthv1alpha1.ReasonTokenRefreshed,
			"Refresh request %q answered by the token obtained at %s (at most one forced request per %s)",
			x.conn.Status.LastHandledRefreshRequest, x.st.Token.ObtainedAt.UTC().Format(time.RFC3339), x.r.minRequestGap())
	}
	if x.decision.stalled {
		f := x.st.Failure
		return &stall{reason: f.Reason, message: f.Message}
	}
	return nil
}

// handledRefreshRequest records the refresh annotation as acted on: its token request
// has been made (or found impossible, or answered by a token of moments ago).
func (x *run) handledRefreshRequest() {
	if v := x.conn.Annotations[oauthv1alpha1.RefreshRequestedAnnotation]; v != "" {
		x.conn.Status.LastHandledRefreshRequest = v
	}
}
