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
	"context"
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// A grant Secret the plugin creates is labelled as the user's: the operator's labels
// (app.kubernetes.io/managed-by, oauth.tokenwarden.io/...) would claim it for the operator,
// which never writes grant Secrets.
const (
	createdByLabel = "app.kubernetes.io/created-by"
	createdByValue = "kubectl-tokenwarden"
)

// grantOf is what the grant Secret receives for code: a value per key, nil for a key to
// remove. A refresh_token goes: the operator prefers it to a code, so a stale one would
// shadow the new code. So does a code_verifier without PKCE, which would be sent with a
// code issued without a challenge.
func grantOf(f *flow, code string) map[string][]byte {
	g := map[string][]byte{
		provider.GrantKeyCode:         []byte(code),
		provider.GrantKeyRedirectURI:  []byte(f.conn.Spec.Authorization.RedirectURI),
		provider.GrantKeyCodeVerifier: nil,
		provider.GrantKeyRefreshToken: nil,
	}
	if f.verifier != "" {
		g[provider.GrantKeyCodeVerifier] = []byte(f.verifier)
	}
	return g
}

// writeGrant sets grant's keys in the Secret key names, and leaves its other keys alone:
// a JSON merge patch of those keys alone, answered with metadata only, so that what the
// Secret already holds is never read. A missing Secret is created.
func writeGrant(ctx context.Context, c client.Client, key client.ObjectKey, grant map[string][]byte) error {
	data := make(map[string]any, len(grant))
	for k, v := range grant {
		if v == nil {
			data[k] = nil // a merge patch's null removes the key
		} else {
			data[k] = v // base64, as Secret data is
		}
	}
	patch, err := json.Marshal(map[string]any{"data": data})
	if err != nil {
		return err
	}
	for range 2 { // a Secret created meanwhile is patched the second time round
		err = c.Patch(ctx, secretMetadata(key), client.RawPatch(types.MergePatchType, patch))
		if !apierrors.IsNotFound(err) {
			return err
		}
		err = c.Create(ctx, newGrantSecret(key, grant))
		if !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return err
}

func secretMetadata(key client.ObjectKey) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name},
	}
}

func newGrantSecret(key client.ObjectKey, grant map[string][]byte) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
			Labels: map[string]string{createdByLabel: createdByValue}},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{},
	}
	for k, v := range grant {
		if v != nil {
			s.Data[k] = v
		}
	}
	return s
}
