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
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// written remembers, per connection, the last state sequence number and status this
// manager wrote, until the cache shows them. The cache lags the manager's own writes: a
// reconcile that sees older state than it wrote waits for the cache instead of acting on it
// (which could flap the status or make a request it does not need), and a status equal to
// the last one written is not written again however stale the cached connection is. Once
// the cache has caught up, the record is dropped: at rest it holds nothing.
type written struct {
	mu      sync.Mutex
	records map[types.NamespacedName]*writtenRecord
}

type writtenRecord struct {
	uid      types.UID
	stateSeq int64
	stateAt  time.Time
	status   *oauthv1alpha1.OAuthConnectionStatus
	// statusVersion is the connection's resourceVersion after the status write.
	statusVersion string
}

// get returns what was written for this connection (by UID: a recreated connection
// starts afresh).
func (w *written) get(key types.NamespacedName, uid types.UID) writtenRecord {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r := w.records[key]; r != nil && r.uid == uid {
		return *r
	}
	return writtenRecord{uid: uid}
}

func (w *written) update(key types.NamespacedName, uid types.UID, f func(*writtenRecord)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.records == nil {
		w.records = map[types.NamespacedName]*writtenRecord{}
	}
	r := w.records[key]
	if r == nil || r.uid != uid {
		r = &writtenRecord{uid: uid}
		w.records[key] = r
	}
	f(r)
	if r.stateSeq == 0 && r.status == nil {
		delete(w.records, key)
	}
}

func (w *written) stateSaved(key types.NamespacedName, uid types.UID, seq int64, at time.Time) {
	w.update(key, uid, func(r *writtenRecord) {
		if seq > r.stateSeq {
			r.stateSeq, r.stateAt = seq, at
		}
	})
}

// stateCaughtUp drops the state write seq: the cache (or a live read) has shown it.
func (w *written) stateCaughtUp(key types.NamespacedName, uid types.UID, seq int64) {
	w.update(key, uid, func(r *writtenRecord) {
		if r.stateSeq == seq {
			r.stateSeq, r.stateAt = 0, time.Time{}
		}
	})
}

func (w *written) statusPatched(key types.NamespacedName, uid types.UID, status *oauthv1alpha1.OAuthConnectionStatus, version string) {
	w.update(key, uid, func(r *writtenRecord) { r.status, r.statusVersion = status.DeepCopy(), version })
}

// statusCaughtUp drops the status written at version: the cache shows that version.
func (w *written) statusCaughtUp(key types.NamespacedName, uid types.UID, version string) {
	w.update(key, uid, func(r *writtenRecord) {
		if r.statusVersion == version {
			r.status, r.statusVersion = nil, ""
		}
	})
}

// pendingToken is a provider's answer that could not be written to state yet (the API
// server refused or was away). It is kept in memory and written on the next attempt
// instead of asking the provider again: for a rotating provider it holds the only copy of
// the new refresh token.
type pendingToken struct {
	uid        types.UID
	grant      provider.Grant
	token      *provider.Token
	obtainedAt time.Time
}

type pendingTokens struct {
	mu      sync.Mutex
	entries map[types.NamespacedName]*pendingToken
}

func (p *pendingTokens) put(key types.NamespacedName, t *pendingToken) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.entries == nil {
		p.entries = map[types.NamespacedName]*pendingToken{}
	}
	p.entries[key] = t
}

// take removes and returns the pending answer of this connection (by UID), if any.
func (p *pendingTokens) take(key types.NamespacedName, uid types.UID) *pendingToken {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.entries[key]
	delete(p.entries, key)
	if t == nil || t.uid != uid {
		return nil
	}
	return t
}

// forget drops a deleted connection's record.
func (w *written) forget(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.records, key)
}
