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
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// heldAnswerWriter writes, when the manager stops (a shutdown or a lost leader lease), the
// provider answers still held in memory because the API server refused them: such an
// answer may hold the only copy of a rotated refresh token. The manager waits for it
// within its graceful shutdown; only the leader holds answers, so it runs on the leader.
type heldAnswerWriter struct {
	r   *OAuthConnectionReconciler
	log logr.Logger
}

// NeedLeaderElection: answers are held by the leader's reconciles.
func (w *heldAnswerWriter) NeedLeaderElection() bool { return true }

// Start waits for the manager to stop, then, while requests under way may still hold an
// answer, tries to write every held answer until none is left or the time to store
// answers runs out.
func (w *heldAnswerWriter) Start(ctx context.Context) error {
	<-ctx.Done()
	wctx, cancel := context.WithTimeout(context.Background(), w.r.obtainTimeout())
	defer cancel()
	for {
		keys := w.r.mem.held.keys()
		if len(keys) == 0 && w.r.mem.held.busy.Load() == 0 {
			return nil
		}
		for _, key := range keys {
			w.write(wctx, key)
		}
		if !sleep(wctx, 500*time.Millisecond) {
			if n := len(w.r.mem.held.keys()); n > 0 {
				w.log.Info("Stopped with answers that could not be written", "connections", n)
			}
			return nil
		}
	}
}

// write stores one connection's held answer in its state Secret, read live; it is held
// again if that fails. A client-credentials connection's answer is dropped: nothing in it
// is single-use, and the next manager asks again.
func (w *heldAnswerWriter) write(ctx context.Context, key types.NamespacedName) {
	conn := &oauthv1alpha1.OAuthConnection{}
	if err := w.r.APIReader.Get(ctx, key, conn); err != nil {
		return
	}
	a := w.r.mem.held.peekAny(key)
	if a == nil || a.uid != conn.UID || inlineState(conn) {
		w.r.mem.held.take(key, "")
		return
	}
	x := w.r.newRun(logr.NewContext(ctx, w.log), conn)
	st, err := w.r.loadStateLive(ctx, conn)
	if err != nil {
		return
	}
	x.st = st
	if w.r.mem.held.take(key, conn.UID) == nil {
		return // a reconcile took it meanwhile
	}
	if err := x.storeAnswer(ctx, a); err == nil {
		w.log.Info("Wrote a held answer before stopping", "connection", key.String())
	}
}
