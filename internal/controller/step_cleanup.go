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

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// removeOldSecret deletes the Secret of a previous spec.secretName, if this connection
// owns it, once the Secret of the new name holds the token. Reads the status's secretName;
// a failed delete fails the run, so it is retried.
func removeOldSecret(ctx context.Context, x *run) error {
	old := x.conn.Status.SecretName
	if !x.out.published || old == "" || old == x.in.cfg.secretName {
		return nil
	}
	s, err := x.r.lookupOwnedSecret(ctx, x.conn, old, true)
	if _, theirs := errors.AsType[*errSecretConflict](err); theirs || s == nil {
		return nil // someone else's now, or gone: nothing to remove
	}
	if err != nil {
		return err
	}
	if err := client.IgnoreNotFound(x.r.Delete(ctx, s, client.Preconditions{UID: &s.UID})); err != nil {
		return err
	}
	x.log.Info("Deleted the Secret of the previous secretName", "secret", old)
	return nil
}

// removeLeftoverState deletes a state Secret left from before client-credentials
// connections kept their state inline, once the workload Secret holds the token.
func removeLeftoverState(ctx context.Context, x *run) error {
	if !x.out.published || !inlineState(x.conn) {
		return nil
	}
	s := &corev1.Secret{}
	err := x.r.Get(ctx, types.NamespacedName{Namespace: x.conn.Namespace, Name: stateSecretName(x.conn.Name)}, s)
	if err != nil || !ownedBy(s, x.conn) {
		return client.IgnoreNotFound(err)
	}
	return client.IgnoreNotFound(x.r.Delete(ctx, s, client.Preconditions{UID: &s.UID}))
}
