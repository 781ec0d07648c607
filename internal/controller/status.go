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
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// setStatus derives the whole status from the run's outcome: the conditions in one place,
// with observedGeneration, so that kstatus, `kubectl wait` and GitOps health checks read
// them right. Nothing here holds token or secret material.
func (x *run) setStatus() {
	s := &x.conn.Status
	s.ObservedGeneration = x.conn.Generation
	if x.cfg != nil {
		s.SecretName = x.cfg.secretName
	}
	var tok *storedToken
	var f *failure
	if x.st != nil {
		tok, f = x.st.Token, x.st.Failure
	}
	if tok != nil {
		s.TokenType, s.Scope = tok.TokenType, tok.Scope
		s.ExpiresAt = timeOrNil(tok.Expiry)
		s.LastRefreshTime = timeOrNil(tok.ObtainedAt)
	}
	s.ConsecutiveFailures = 0
	if f != nil {
		s.ConsecutiveFailures = f.Count
	}
	s.NextRefreshTime = nil
	if x.stall == nil {
		s.NextRefreshTime = timeOrNil(x.next)
	}

	valid := tok.validAt(x.now)
	ready := metav1.Condition{Type: oauthv1alpha1.ConditionReady, ObservedGeneration: x.conn.Generation}
	switch {
	case x.stall != nil && x.stall.reason == oauthv1alpha1.ReasonSecretConflict:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, x.stall.reason, x.stall.message
	case valid && x.published:
		ready.Status, ready.Reason = metav1.ConditionTrue, x.readyReason()
		ready.Message = validityMessage(tok)
		if f != nil {
			ready.Message += fmt.Sprintf("; the last token request failed (%d in a row): %s", f.Count, f.Message)
		}
	case x.stall != nil:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, x.stall.reason, x.stall.message
	case f != nil:
		ready.Status, ready.Reason = metav1.ConditionFalse, f.Reason
		ready.Message = fmt.Sprintf("No valid token; %d token requests failed in a row, retrying at %s: %s",
			f.Count, f.RetryAt.UTC().Format(time.RFC3339), f.Message)
	case tok != nil && !valid:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, oauthv1alpha1.ReasonTokenExpired, "The token expired and is being refreshed"
	default:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, oauthv1alpha1.ReasonProgressing, "Obtaining a token"
	}
	meta.SetStatusCondition(&s.Conditions, ready)

	stalled := metav1.Condition{Type: oauthv1alpha1.ConditionStalled, ObservedGeneration: x.conn.Generation}
	if x.stall != nil {
		stalled.Status, stalled.Reason, stalled.Message = metav1.ConditionTrue, x.stall.reason, x.stall.message
	} else {
		stalled.Status, stalled.Reason, stalled.Message = metav1.ConditionFalse, oauthv1alpha1.ReasonProgressing, "No human action needed"
	}
	if x.stall != nil && x.stallChanged() && x.failed == nil {
		// Failures of token requests have their own events; these are the stalls found
		// before one, announced once per change.
		x.event("Warning", x.stall.reason, "%s", x.stall.message)
	}
	meta.SetStatusCondition(&s.Conditions, stalled)
}

// stallChanged reports whether the stall differs from the one the status already showed.
func (x *run) stallChanged() bool {
	old := meta.FindStatusCondition(x.prev.Conditions, oauthv1alpha1.ConditionStalled)
	return old == nil || old.Status != metav1.ConditionTrue || old.Reason != x.stall.reason || old.Message != x.stall.message
}

// readyReason says how the current token came (TokenIssued or TokenRefreshed), as state
// records it, so that a no-op reconcile changes nothing.
func (x *run) readyReason() string {
	if r := x.st.Token.Reason; r != "" {
		return r
	}
	return oauthv1alpha1.ReasonTokenValid
}

func validityMessage(tok *storedToken) string {
	if tok.Expiry.IsZero() {
		return "The Secret holds a token that does not expire"
	}
	return "The Secret holds a token valid until " + tok.Expiry.UTC().Format(time.RFC3339)
}

func timeOrNil(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t.Truncate(time.Second))
	return &mt
}

// statusEqual compares statuses as they serialise (times at second precision).
func statusEqual(a, b *oauthv1alpha1.OAuthConnectionStatus) bool {
	return equality.Semantic.DeepEqual(a, b)
}

// emitEvents records the run's events, after the status patch.
func (x *run) emitEvents() {
	if x.r.Recorder == nil {
		return
	}
	for _, e := range x.events {
		x.r.Recorder.Eventf(x.conn, nil, e.eventType, e.reason, e.reason, "%s", e.note)
	}
}
