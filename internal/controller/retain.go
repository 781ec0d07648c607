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
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// deletionPolicy Retain: a connection deleted and applied again (Argo CD Replace=true,
// kubectl replace --force, a backup restore) continues from its live refresh token. While
// the policy is Retain the connection carries a finalizer; when it is deleted, its state
// and workload Secrets are released (their owner reference removed, so the garbage
// collector leaves them) before the finalizer goes. A connection created later with the
// same name adopts released Secrets of its name whose state was obtained at the same
// provider endpoint with the same client.

// syncRetainFinalizer adds the finalizer to a Retain connection, and removes it from one
// that is Delete again.
func (r *OAuthConnectionReconciler) syncRetainFinalizer(ctx context.Context, conn *oauthv1alpha1.OAuthConnection) error {
	retain := conn.Spec.DeletionPolicy == oauthv1alpha1.DeletionPolicyRetain
	if retain == controllerutil.ContainsFinalizer(conn, oauthv1alpha1.RetainFinalizer) {
		return nil
	}
	patch := client.MergeFromWithOptions(conn.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if retain {
		controllerutil.AddFinalizer(conn, oauthv1alpha1.RetainFinalizer)
	} else {
		controllerutil.RemoveFinalizer(conn, oauthv1alpha1.RetainFinalizer)
	}
	return r.Patch(ctx, conn, patch)
}

// releaseSecrets removes the deleted connection's owner reference from its state and
// workload Secrets, then its finalizer.
func (r *OAuthConnectionReconciler) releaseSecrets(ctx context.Context, conn *oauthv1alpha1.OAuthConnection) error {
	if !controllerutil.ContainsFinalizer(conn, oauthv1alpha1.RetainFinalizer) {
		return nil
	}
	names := []string{stateSecretName(conn.Name), conn.Name}
	if conn.Status.SecretName != "" {
		names = append(names, conn.Status.SecretName)
	}
	if conn.Spec.SecretName != "" {
		names = append(names, string(conn.Spec.SecretName))
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		s := &corev1.Secret{}
		err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: name}, s)
		if apierrors.IsNotFound(err) || (err == nil && !ownedBy(s, conn)) {
			continue
		}
		if err != nil {
			return err
		}
		patch := client.MergeFromWithOptions(s.DeepCopy(), client.MergeFromWithOptimisticLock{})
		s.OwnerReferences = slices.DeleteFunc(s.OwnerReferences, func(o metav1.OwnerReference) bool { return o.UID == conn.UID })
		if err := r.Patch(ctx, s, patch); err != nil {
			return err
		}
		r.log(ctx).Info("Released Secret of a retained connection", "secret", name)
	}
	patch := client.MergeFromWithOptions(conn.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(conn, oauthv1alpha1.RetainFinalizer)
	return client.IgnoreNotFound(r.Patch(ctx, conn, patch))
}

// adoptReleased takes over a released Secret of the connection's state or workload
// Secret name: one the operator wrote for a connection of this name (by its labels), owned
// by nobody, whose recorded endpoint fingerprint is this connection's, as long as the
// connection has published no token. Reads inputs.
func adoptReleased(ctx context.Context, x *run) error {
	if x.conn.Status.LastRefreshTime != nil {
		// It has published a token of its own: its Secrets are its own (a released one
		// under its names would have stopped it first), and a no-op reconcile looks no more.
		return nil
	}
	stateOurs := false
	for _, name := range []string{stateSecretName(x.conn.Name), x.in.cfg.secretName} {
		s := &corev1.Secret{}
		err := x.r.Get(ctx, types.NamespacedName{Namespace: x.conn.Namespace, Name: name}, s)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if ownedBy(s, x.conn) {
			stateOurs = stateOurs || name == stateSecretName(x.conn.Name)
			continue
		}
		endpoint := recordedEndpoint(s)
		if !released(s, x.conn) || (endpoint != x.in.endpoint && (endpoint != "" || !stateOurs)) {
			continue
		}
		patch := client.MergeFromWithOptions(s.DeepCopy(), client.MergeFromWithOptimisticLock{})
		if err := controllerutil.SetControllerReference(x.conn, s, x.r.Scheme()); err != nil {
			return err
		}
		if err := x.r.Patch(ctx, s, patch); err != nil {
			return raceAsRequeue(err)
		}
		x.log.Info("Adopted a Secret released by an earlier connection of this name", "secret", name)
		// The cache shows the adoption shortly: look again then.
		return errRequeue
	}
	return nil
}

// released reports whether s is an operator-written Secret of a connection named like
// conn, owned by no one.
func released(s *corev1.Secret, conn *oauthv1alpha1.OAuthConnection) bool {
	return metav1.GetControllerOf(s) == nil &&
		s.Labels[oauthv1alpha1.ManagedByLabel] == oauthv1alpha1.ManagedByValue &&
		s.Labels[oauthv1alpha1.ConnectionLabel] == connectionLabelValue(conn.Name)
}

// recordedEndpoint is the endpoint fingerprint a released Secret's state was obtained
// under: in the state Secret's record, or in a workload Secret's inline state; "" when
// it has none (a workload Secret whose state lives in the state Secret).
func recordedEndpoint(s *corev1.Secret) string {
	var rec struct {
		Endpoint string `json:"endpoint"`
	}
	raw := s.Data[stateKey]
	if raw == nil {
		raw = []byte(s.Annotations[inlineStateAnnotation])
	}
	if json.Unmarshal(raw, &rec) != nil {
		return ""
	}
	return rec.Endpoint
}
