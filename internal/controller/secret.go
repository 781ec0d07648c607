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
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// maxRenderedBytes bounds what one secretTemplate.data template may render.
const maxRenderedBytes = 64 << 10

// parseTemplates parses secretTemplate.data. Templates get no functions beyond
// text/template's builtins, so they cannot read files, the environment or the network.
func parseTemplates(data map[string]oauthv1alpha1.TemplateText) (map[string]*template.Template, error) {
	if len(data) == 0 {
		return nil, nil
	}
	out := make(map[string]*template.Template, len(data))
	for key, text := range data {
		t, err := template.New(key).Option("missingkey=zero").Parse(string(text))
		if err != nil {
			return nil, fmt.Errorf("spec.secretTemplate.data[%s]: %w", key, err)
		}
		out[key] = t
	}
	return out, nil
}

// errRenderTooLarge is returned when a template renders more than maxRenderedBytes.
var errRenderTooLarge = fmt.Errorf("rendered value exceeds %d bytes", maxRenderedBytes)

// limitedBuffer is a strings.Builder that refuses to grow past maxRenderedBytes, which
// also stops a runaway template (say {{range 1000000000}}) at its first refused write.
type limitedBuffer struct{ strings.Builder }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxRenderedBytes {
		return 0, errRenderTooLarge
	}
	return b.Builder.Write(p)
}

// workloadData renders the workload Secret's data: the default keys of the current token
// and the secretTemplate keys. A key whose value the token lacks is absent.
func workloadData(cfg *connectionConfig, tok *storedToken) (map[string][]byte, error) {
	values := map[string]string{
		oauthv1alpha1.KeyAccessToken: tok.AccessToken,
		oauthv1alpha1.KeyTokenType:   tok.TokenType,
	}
	if !tok.Expiry.IsZero() {
		values[oauthv1alpha1.KeyExpiry] = tok.Expiry.UTC().Format(time.RFC3339)
	}
	if tok.Scope != "" {
		values[oauthv1alpha1.KeyScope] = tok.Scope
	}
	for k, v := range tok.Extra {
		if v != "" {
			values[k] = v
		}
	}
	data := make(map[string][]byte, len(values)+len(cfg.templates))
	for k, v := range values {
		data[k] = []byte(v)
	}
	for key, t := range cfg.templates {
		var buf limitedBuffer
		if err := t.Execute(&buf, values); err != nil {
			// The error text of text/template can quote the data; say only where it failed.
			if errors.Is(err, errRenderTooLarge) {
				return nil, fmt.Errorf("spec.secretTemplate.data[%s]: %w", key, errRenderTooLarge)
			}
			return nil, fmt.Errorf("spec.secretTemplate.data[%s] could not be rendered", key)
		}
		data[key] = []byte(buf.String())
	}
	return data, nil
}

// connectionLabelValue is the connection's name as a label value: names longer than a label
// value may be are shortened with a hash suffix.
func connectionLabelValue(name string) string {
	if len(name) <= 63 {
		return name
	}
	return strings.TrimRight(name[:50], "-.") + "-" + hash(name)[:12]
}

// templateKeysAnnotation lists the labels and annotations the workload Secret carries
// from spec.secretTemplate, so that those removed from the spec are removed from the
// Secret, and those others put there are left alone.
const templateKeysAnnotation = "oauth.tokenwarden.io/template-keys"

// reserved reports whether a label or annotation key is the operator's (api.md, "Reserved
// names"): spec.secretTemplate cannot set it. The API server refuses such a connection;
// this keeps the operator's own keys its own on a cluster that skipped that validation.
func reserved(key string) bool {
	return strings.HasPrefix(key, "oauth.tokenwarden.io/") || key == oauthv1alpha1.ManagedByLabel
}

// desiredWorkloadSecret is the Secret workloads mount, as api.md says.
func desiredWorkloadSecret(conn *oauthv1alpha1.OAuthConnection, cfg *connectionConfig,
	data map[string][]byte) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:        cfg.secretName,
			Namespace:   conn.Namespace,
			Labels:      map[string]string{},
			Annotations: map[string]string{},
		},
		Type: corev1.SecretType(cfg.secretType),
		Data: data,
	}
	var fromTemplate []string
	if t := conn.Spec.SecretTemplate; t != nil {
		for k, v := range t.Labels {
			if !reserved(k) {
				s.Labels[k] = string(v)
				fromTemplate = append(fromTemplate, "label:"+k)
			}
		}
		for k, v := range t.Annotations {
			if !reserved(k) {
				s.Annotations[k] = string(v)
				fromTemplate = append(fromTemplate, "annotation:"+k)
			}
		}
	}
	if len(fromTemplate) > 0 {
		slices.Sort(fromTemplate)
		s.Annotations[templateKeysAnnotation] = strings.Join(fromTemplate, ",")
	}
	s.Labels[oauthv1alpha1.ManagedByLabel] = oauthv1alpha1.ManagedByValue
	s.Labels[oauthv1alpha1.ConnectionLabel] = connectionLabelValue(conn.Name)
	return s
}

// staleTemplateKeys lists the labels and annotations existing carries from an earlier
// spec.secretTemplate that desired no longer has.
func staleTemplateKeys(existing, desired *corev1.Secret) (labels, annotations []string) {
	for entry := range strings.SplitSeq(existing.Annotations[templateKeysAnnotation], ",") {
		kind, key, ok := strings.Cut(entry, ":")
		switch {
		case !ok || reserved(key):
		case kind == "label":
			if _, keep := desired.Labels[key]; !keep {
				labels = append(labels, key)
			}
		case kind == "annotation":
			if _, keep := desired.Annotations[key]; !keep {
				annotations = append(annotations, key)
			}
		}
	}
	return labels, annotations
}

// ownedBy reports whether obj's controller is the connection.
func ownedBy(obj metav1.Object, conn *oauthv1alpha1.OAuthConnection) bool {
	ref := metav1.GetControllerOf(obj)
	return ref != nil && ref.UID == conn.UID
}

// lookupOwnedSecret returns the Secret name if it is the connection's, nil if there is none,
// and errSecretConflict if another owner has it. The cache holds only the operator's
// Secrets: with live, a miss is confirmed by a read from the API server. Without, a user's
// Secret of that name shows only when creating ours fails, which never overwrites it.
func (r *OAuthConnectionReconciler) lookupOwnedSecret(ctx context.Context,
	conn *oauthv1alpha1.OAuthConnection, name string, live bool) (*corev1.Secret, error) {
	key := types.NamespacedName{Namespace: conn.Namespace, Name: name}
	s := &corev1.Secret{}
	err := r.Get(ctx, key, s)
	if apierrors.IsNotFound(err) && live {
		err = r.APIReader.Get(ctx, key, s)
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, err
	case !ownedBy(s, conn):
		return nil, &errSecretConflict{name: name}
	}
	return s, nil
}

// applyWorkloadSecret creates or updates the workload Secret, writing only when something
// differs. existing is the current Secret, nil when there is none.
func (r *OAuthConnectionReconciler) applyWorkloadSecret(ctx context.Context,
	conn *oauthv1alpha1.OAuthConnection, existing, desired *corev1.Secret) (bool, error) {
	if existing == nil {
		if err := controllerutil.SetControllerReference(conn, desired, r.Scheme()); err != nil {
			return false, err
		}
		err := r.Create(ctx, desired)
		if apierrors.IsAlreadyExists(err) {
			// Someone else's Secret of that name, or ours not yet in the cache: ask the API
			// server which.
			current, lerr := r.lookupOwnedSecret(ctx, conn, desired.Name, true)
			if lerr != nil {
				return false, lerr
			}
			if current == nil {
				return false, fmt.Errorf("secret %s appeared and went while being created: %w", desired.Name, err)
			}
			desired.OwnerReferences = nil
			return r.applyWorkloadSecret(ctx, conn, current, desired)
		}
		if apierrors.IsInvalid(err) {
			return false, invalidSecret(desired, err)
		}
		return err == nil, err
	}
	if existing.Type != desired.Type {
		// A Secret's type is immutable: replace the Secret, but only once the API server
		// has said the new one is valid (a dry run validates before it finds the name
		// taken), so that a workload never loses its Secret to a type it cannot have.
		if err := r.Create(ctx, desired.DeepCopy(), client.DryRunAll); apierrors.IsInvalid(err) {
			return false, invalidSecret(desired, err)
		}
		if err := r.Delete(ctx, existing, client.Preconditions{UID: &existing.UID}); client.IgnoreNotFound(err) != nil {
			return false, err
		}
		return r.applyWorkloadSecret(ctx, conn, nil, desired)
	}
	if dataEqual(existing, desired.Data) && metadataCurrent(existing, desired) {
		return false, nil
	}
	updated := withMetadataOf(existing, desired)
	updated.Data = desired.Data
	return true, r.Update(ctx, updated)
}

// invalidSecret is the stall of a workload Secret the API server refuses: the spec asks
// for something it cannot be (say type kubernetes.io/basic-auth without a username key).
// The API server's message names fields and never a value of the Secret's data.
func invalidSecret(desired *corev1.Secret, err error) error {
	return stalled(oauthv1alpha1.ReasonInvalidSpec, "the API server refused the Secret %s of type %s: %s",
		desired.Name, desired.Type, apiCauses(err))
}

// apiCauses lists the field paths and reasons of an Invalid error, without values.
func apiCauses(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return "invalid"
	}
	var parts []string
	for _, c := range status.Status().Details.Causes {
		parts = append(parts, fmt.Sprintf("%s: %s", c.Field, strings.TrimPrefix(string(c.Type), "FieldValue")))
	}
	return strings.Join(parts, "; ")
}

// metadataCurrent reports whether existing carries desired's labels and annotations, and
// none that an earlier secretTemplate put there and the current one dropped.
func metadataCurrent(existing, desired *corev1.Secret) bool {
	staleLabels, staleAnnotations := staleTemplateKeys(existing, desired)
	_, recorded := existing.Annotations[templateKeysAnnotation]
	_, wanted := desired.Annotations[templateKeysAnnotation]
	return subset(desired.Labels, existing.Labels) && subset(desired.Annotations, existing.Annotations) &&
		len(staleLabels) == 0 && len(staleAnnotations) == 0 && (recorded == wanted)
}

// withMetadataOf returns a copy of existing with desired's labels and annotations, less
// those an earlier secretTemplate put there and the current one dropped.
func withMetadataOf(existing, desired *corev1.Secret) *corev1.Secret {
	updated := withoutDigest(existing)
	if updated.Labels == nil {
		updated.Labels = map[string]string{}
	}
	if updated.Annotations == nil {
		updated.Annotations = map[string]string{}
	}
	staleLabels, staleAnnotations := staleTemplateKeys(existing, desired)
	for _, k := range staleLabels {
		delete(updated.Labels, k)
	}
	for _, k := range staleAnnotations {
		delete(updated.Annotations, k)
	}
	if _, wanted := desired.Annotations[templateKeysAnnotation]; !wanted {
		delete(updated.Annotations, templateKeysAnnotation)
	}
	maps.Copy(updated.Labels, desired.Labels)
	maps.Copy(updated.Annotations, desired.Annotations)
	return updated
}

// digestAnnotation holds, in the cache, the digest of a workload Secret's data in place of
// the data: the controller only compares it, and the tokens of 10,000 Secrets need not stay
// in memory. It is kept among the annotations, a map the cached Secret has anyway (a map of
// its own cost 344 bytes per Secret), and its two '/' make it a key the API server refuses:
// no real Secret has it, and no write can carry it there.
const digestAnnotation = "tokenwarden/cache/data-sha256"

// digestData replaces a Secret's data with its digest.
func digestData(s *corev1.Secret) {
	if _, done := s.Annotations[digestAnnotation]; done {
		return
	}
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[digestAnnotation] = string(dataDigest(s.Data))
	s.Data = nil
}

// secretDigest is the digest of a Secret's data, as cached or computed from the data.
func secretDigest(s *corev1.Secret) []byte {
	if d, ok := s.Annotations[digestAnnotation]; ok {
		return []byte(d)
	}
	return dataDigest(s.Data)
}

// withoutDigest returns a copy of s without the cache's digest, to write or to diff from.
func withoutDigest(s *corev1.Secret) *corev1.Secret {
	out := s.DeepCopy()
	delete(out.Annotations, digestAnnotation)
	return out
}

// dataDigest hashes a Secret's data, keys in order.
func dataDigest(data map[string][]byte) []byte {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(data)) {
		_, _ = fmt.Fprintf(h, "%d:%s%d:", len(k), k, len(data[k]))
		h.Write(data[k])
	}
	return h.Sum(nil)
}

// dataEqual compares a Secret's data, whole or as cached (a digest), with the desired data.
func dataEqual(existing *corev1.Secret, desired map[string][]byte) bool {
	if _, cached := existing.Annotations[digestAnnotation]; cached {
		return string(secretDigest(existing)) == string(dataDigest(desired))
	}
	return maps.EqualFunc(existing.Data, desired, func(a, b []byte) bool { return string(a) == string(b) })
}

// subset reports whether every entry of want is in have.
func subset(want, have map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}
