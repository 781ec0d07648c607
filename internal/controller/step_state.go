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

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// readState reads what the operator knows of the connection's token: its state Secret,
// or, for a client-credentials connection, the annotation on its workload Secret, checked
// against this manager's last write. Reads inputs; sets st. Someone else's Secret under
// the state Secret's name is a stall.
func readState(ctx context.Context, x *run) error {
	var st *tokenState
	var err error
	if inlineState(x.conn) {
		st, err = x.readInlineState(ctx, x.r.Client)
		if err == nil {
			st, err = x.r.currentState(x.conn, st, func() (*tokenState, error) { return x.readInlineState(ctx, x.r.APIReader) })
		}
	} else {
		st, err = x.r.loadState(ctx, x.conn)
		if err == nil {
			st, err = x.r.currentState(x.conn, st, func() (*tokenState, error) { return x.r.loadStateLive(ctx, x.conn) })
		}
	}
	if err != nil {
		return asStall(err)
	}
	x.st = st
	return nil
}

// storeHeldAnswer writes a provider's answer that an earlier run could not store, before
// anything else is decided and whatever its access token's age: it may hold the only copy
// of a rotated refresh token. Reads state; sets st.
func storeHeldAnswer(ctx context.Context, x *run) error {
	a := x.r.mem.held.take(client.ObjectKeyFromObject(x.conn), x.conn.UID)
	if a == nil {
		return nil
	}
	x.log.Info("Writing a token obtained earlier that could not be stored then", "obtainedAt", a.obtainedAt)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), x.r.obtainTimeout())
	defer cancel()
	x.r.mem.held.busy.Add(1)
	defer x.r.mem.held.busy.Add(-1)
	return x.storeAnswer(ctx, a)
}

// lookup memoises the look-up of the workload Secret within one run.
type lookup struct {
	done   bool
	secret *corev1.Secret
	err    error
}

// workloadSecret returns the connection's workload Secret (nil when there is none), or
// errSecretConflict when the name is someone else's. It is looked up once per run; with
// live, a miss in the cache is confirmed with the API server.
func (x *run) workloadSecret(ctx context.Context, live bool) (*corev1.Secret, error) {
	if !x.workload.done {
		s, err := x.r.lookupOwnedSecret(ctx, x.conn, x.in.cfg.secretName, live)
		x.workload = lookup{done: true, secret: s, err: err}
	}
	return x.workload.secret, x.workload.err
}

// everPublished reports whether the connection has published a token before: its owned
// workload Secret exists, or its status records a refresh.
func (x *run) everPublished(ctx context.Context) bool {
	if x.conn.Status.LastRefreshTime != nil {
		return true
	}
	s, _ := x.workloadSecret(ctx, false) // looked up (and its error handled) before any request
	return s != nil
}
