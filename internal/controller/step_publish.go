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

	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// publish writes the state's token to the workload Secret when it differs (with the
// inline state of a client-credentials connection). Reads inputs and state; sets
// out.published. It runs after a stall too, so the last good token stays published, but
// never over someone else's Secret.
func publish(ctx context.Context, x *run) error {
	if x.in == nil || x.st == nil || !x.st.Token.held() {
		return nil
	}
	if s := x.out.stall; s != nil && s.reason == oauthv1alpha1.ReasonSecretConflict {
		return nil
	}
	if x.st.Token.AccessToken == "" {
		// Inline state read from the workload Secret, which holds this very token: only
		// its labels and annotations may need catching up with the spec.
		if err := x.patchSecretMetadata(ctx); err != nil {
			return err
		}
		x.out.published = true
		return nil
	}
	err := x.writeSecret(ctx)
	if err != nil && x.out.fresh != nil {
		// The workload Secret is the only place this token can go: keep it for the next
		// attempt rather than ask again.
		x.r.mem.held.put(client.ObjectKeyFromObject(x.conn), x.out.fresh)
	}
	return err
}

// writeSecret renders the state's token and creates or updates the workload Secret.
func (x *run) writeSecret(ctx context.Context) error {
	existing, err := x.workloadSecret(ctx, false)
	if err != nil {
		return asStall(err)
	}
	data, err := workloadData(x.in.cfg, x.st.Token)
	if err != nil {
		return &stall{reason: oauthv1alpha1.ReasonInvalidSpec, message: err.Error()}
	}
	desired := desiredWorkloadSecret(x.conn, x.in.cfg, data)
	x.r.shard.labelSecret(x.conn, desired)
	inline := inlineState(x.conn)
	if inline {
		ann, err := x.inlineAnnotation(x.st, data)
		if err != nil {
			return err
		}
		desired.Annotations[inlineStateAnnotation] = ann
	}
	written, err := x.r.applyWorkloadSecret(ctx, x.conn, existing, desired)
	if err != nil {
		return asStall(err)
	}
	x.out.published = true
	x.out.fresh = nil
	if written {
		x.log.Info("Wrote Secret", "secret", desired.Name)
		if inline {
			x.st.Seq++
			x.r.mem.written.stateSaved(client.ObjectKeyFromObject(x.conn), x.conn.UID, x.st.Seq, x.r.now())
		}
		return x.r.hook(func(h *Hooks) func(k client.ObjectKey) error { return h.AfterSecretWritten }, x.conn)
	}
	return nil
}
