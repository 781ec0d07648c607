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
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// Restarting consumers (api.md, "Restarting consumers"). A workload that reads the token
// from an environment variable keeps the token it started with; the connection's
// rolloutRestartTargets are restarted once per new token, the way `kubectl rollout
// restart` does it: by a change to an annotation of the pod template.
//
// The work is level-based, so that a restart, a resync or a crash between two patches
// neither repeats nor loses a rollout: each look compares the target's annotation, read
// live, with the value of the token the workload Secret holds, and patches only when they
// differ. The time of the last restart is recorded on the target itself, in the same
// patch, so rolloutMinInterval survives a restart of the manager too.
const (
	// restartedAtAnnotation carries, on a target's pod template, a value unique to the
	// token the target was last restarted for (a digest of the connection's UID and the
	// token's obtainedAt: no token material, and distinct for tokens a nanosecond apart).
	restartedAtAnnotation = "oauth.tokenwarden.io/restartedAt"
	// restartTimeAnnotation carries, beside it, when that restart was made (RFC 3339 with
	// nanoseconds): rolloutMinInterval counts from it.
	restartTimeAnnotation = "oauth.tokenwarden.io/restartTime"

	// defaultRolloutMinInterval is spec.rolloutMinInterval's default.
	defaultRolloutMinInterval = time.Minute

	reasonRolloutRestarted = "RolloutRestarted"
	reasonRolloutFailed    = "RolloutFailed"

	// maxRolloutFailure bounds status.rolloutFailure (the CRD allows 4096).
	maxRolloutFailure = 1024
)

// restartTargets restarts the rollout targets that do not yet run the published token.
// Reads spec, state and out.published; sets out.rolloutDue and status.rolloutFailure.
// Targets are read live (the manager caches no workloads), only for connections that list
// them. A missing target or a refused patch is reported, never a failure of the run: the
// token is published whatever happens to its consumers.
func restartTargets(ctx context.Context, x *run) error {
	targets := x.conn.Spec.RolloutRestartTargets
	if len(targets) == 0 {
		x.conn.Status.RolloutFailure = ""
		return nil
	}
	// Never for a token that the workload Secret does not hold.
	if !x.out.published || x.st == nil || !x.st.Token.held() {
		return nil
	}
	tok := x.st.Token
	in := rolloutInput{
		now:         x.r.now(),
		value:       rolloutValue(x.conn.UID, tok.ObtainedAt),
		obtainedAt:  tok.ObtainedAt,
		minInterval: rolloutMinInterval(&x.conn.Spec),
	}
	restarted, failures := make([]string, 0, len(targets)), make([]string, 0, len(targets))
	for _, t := range targets {
		name := string(t.Kind) + " " + t.Name
		done, err := x.restartTarget(ctx, t, in)
		switch {
		case err != nil && ctx.Err() != nil:
			// The manager is stopping: no failure of the target's to report.
			return ctx.Err()
		case err != nil:
			observeRollout(rolloutFailed)
			failures = append(failures, rolloutFailureMessage(t, err))
			x.log.Info("Failed to restart a rollout target", "kind", t.Kind, "name", t.Name, "error", err.Error())
		case done:
			observeRollout(rolloutRestarted)
			restarted = append(restarted, name)
		}
	}
	if len(restarted) > 0 {
		x.event(corev1.EventTypeNormal, reasonRolloutRestarted, "Restarted %s for the token obtained at %s",
			strings.Join(restarted, ", "), tok.ObtainedAt.UTC().Format(time.RFC3339))
	}
	failure := clipRolloutFailure(strings.Join(failures, "; "))
	if failure != "" && failure != x.prev.RolloutFailure {
		// Once per change, not on every look: the status remembers what was reported.
		x.event(corev1.EventTypeWarning, reasonRolloutFailed, "%s", failure)
	}
	x.conn.Status.RolloutFailure = failure
	return nil
}

// restartTarget reads one target and restarts it if the decision says so; done reports a
// restart. A restart held back by rolloutMinInterval is scheduled in out.rolloutDue.
func (x *run) restartTarget(ctx context.Context, t oauthv1alpha1.RolloutRestartTarget, in rolloutInput) (done bool, err error) {
	obj, template, err := newWorkload(t.Kind)
	if err != nil {
		return false, err
	}
	if err := x.r.APIReader.Get(ctx, types.NamespacedName{Namespace: x.conn.Namespace, Name: t.Name}, obj); err != nil {
		return false, err
	}
	in.current = template.Annotations[restartedAtAnnotation]
	in.restartTime = template.Annotations[restartTimeAnnotation]
	d := decideRollout(in)
	switch d.action {
	case rolloutCurrent:
		return false, nil
	case rolloutWait:
		observeRollout(rolloutSkipped)
		x.out.rolloutDue = earliest(x.out.rolloutDue, d.waitUntil)
		x.log.Info("Deferred a rollout restart until rolloutMinInterval has passed",
			"kind", t.Kind, "name", t.Name, "until", d.waitUntil)
		return false, nil
	}
	patch, err := restartPatch(in.value, in.now)
	if err != nil {
		return false, err
	}
	// A merge patch of the pod template's annotations alone: nothing else of the workload
	// is touched, and no resourceVersion is needed.
	if err := x.r.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return false, err
	}
	x.log.Info("Restarted rollout target", "kind", t.Kind, "name", t.Name, "value", in.value,
		"tokenObtainedAt", in.obtainedAt)
	return true, nil
}

// newWorkload returns an empty object of a target's kind and its pod template.
func newWorkload(kind oauthv1alpha1.RolloutRestartKind) (client.Object, *corev1.PodTemplateSpec, error) {
	switch kind {
	case oauthv1alpha1.RolloutRestartDeployment:
		o := &appsv1.Deployment{}
		return o, &o.Spec.Template, nil
	case oauthv1alpha1.RolloutRestartStatefulSet:
		o := &appsv1.StatefulSet{}
		return o, &o.Spec.Template, nil
	case oauthv1alpha1.RolloutRestartDaemonSet:
		o := &appsv1.DaemonSet{}
		return o, &o.Spec.Template, nil
	}
	return nil, nil, fmt.Errorf("unsupported kind %q", kind)
}

// restartPatch is the merge patch that restarts a target for the token of value.
func restartPatch(value string, now time.Time) ([]byte, error) {
	return json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{
			restartedAtAnnotation: value,
			restartTimeAnnotation: now.UTC().Format(time.RFC3339Nano),
		},
	}}}})
}

// rolloutFailureMessage says what went wrong with a target and what to do about it.
func rolloutFailureMessage(t oauthv1alpha1.RolloutRestartTarget, err error) string {
	name := string(t.Kind) + " " + t.Name
	switch {
	case apierrors.IsNotFound(err):
		return name + " not found"
	case apierrors.IsForbidden(err):
		return name + ": the manager may not get or patch it; install the opt-in rollout RBAC " +
			"(config/components/rollout-rbac, or the chart's rolloutRBAC.enabled)"
	}
	return name + ": " + err.Error()
}

// rolloutMinInterval is spec.rolloutMinInterval, or its default.
func rolloutMinInterval(spec *oauthv1alpha1.OAuthConnectionSpec) time.Duration {
	if spec.RolloutMinInterval != nil && spec.RolloutMinInterval.Duration > 0 {
		return spec.RolloutMinInterval.Duration
	}
	return defaultRolloutMinInterval
}

// rolloutValue is the restartedAt value of a connection's token: unique to the token (its
// obtainedAt to the nanosecond, as the state keeps it), the same after any number of
// restarts and resyncs, and no token material.
func rolloutValue(uid types.UID, obtainedAt time.Time) string {
	return hash("rollout", string(uid), obtainedAt.UTC().Format(time.RFC3339Nano))[:20]
}

// rolloutInput is what the decision to restart one target looks at.
type rolloutInput struct {
	now time.Time
	// value is the published token's rolloutValue; obtainedAt when the token was obtained.
	value      string
	obtainedAt time.Time
	// current and restartTime are the target's restartedAt and restartTime annotations,
	// "" when absent.
	current, restartTime string
	minInterval          time.Duration
}

type rolloutAction int

const (
	// rolloutCurrent: the target runs the token already; nothing to do.
	rolloutCurrent rolloutAction = iota
	// rolloutRestart: restart the target now.
	rolloutRestart
	// rolloutWait: restart it at waitUntil, when rolloutMinInterval has passed.
	rolloutWait
)

// rolloutDecision is the outcome of decideRollout.
type rolloutDecision struct {
	action    rolloutAction
	waitUntil time.Time
}

// decideRollout says whether a target is restarted for the published token, now or once
// rolloutMinInterval has passed since its last restart. A target restarted after the token
// was obtained runs it already, whatever value that restart left: so two connections that
// restart one workload do not restart it in turn forever, and a connection re-created over
// a retained token (a new UID, so a new value) does not restart it again.
func decideRollout(in rolloutInput) rolloutDecision {
	if in.current == in.value {
		return rolloutDecision{action: rolloutCurrent}
	}
	last, known := lastRestart(in.restartTime, in.now)
	if known && last.After(in.obtainedAt) {
		return rolloutDecision{action: rolloutCurrent}
	}
	if known && in.now.Before(last.Add(in.minInterval)) {
		return rolloutDecision{action: rolloutWait, waitUntil: last.Add(in.minInterval)}
	}
	return rolloutDecision{action: rolloutRestart}
}

// lastRestart parses a target's restartTime annotation. A value that does not parse, or
// lies in the future (a clock that went back, a hand edit), is no record: it can neither
// hold restarts back nor stand for one.
func lastRestart(raw string, now time.Time) (time.Time, bool) {
	if raw == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil || t.After(now) {
		return time.Time{}, false
	}
	return t, true
}

// earliest is the earlier of two times, a zero time standing for none.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// clipRolloutFailure cuts s to at most maxRolloutFailure bytes, at a rune boundary.
func clipRolloutFailure(s string) string {
	if len(s) <= maxRolloutFailure {
		return s
	}
	cut := maxRolloutFailure - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
