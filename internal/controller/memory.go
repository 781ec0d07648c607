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
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// The records a manager keeps in memory between reconciles, all here, each saying what it
// holds and when it is forgotten. None is needed for correctness after a restart: the
// state Secrets are the truth, and these only save work or bridge a refused write.
//
//   - written: the last state write and status write of each connection, until the cache
//     shows them (then dropped: at rest it holds nothing).
//   - held: a provider's answer that could not be stored, until it is written (or the
//     connection is deleted).
//   - failures: the last failure of client-credentials connections, which have no state
//     Secret, until the next success (or the connection is deleted).
//   - memo: the user Secrets connections reference, until the metadata watch sees them
//     change (bounded; reset when the watch restarts).

// memory groups the records of one reconciler.
type memory struct {
	written  written
	held     heldAnswers
	failures failures
	memo     *secretMemo
}

// forget drops everything kept about a deleted connection.
func (m *memory) forget(key types.NamespacedName) {
	m.written.forget(key)
	m.held.take(key, "")
	m.failures.set(key, "", nil)
}

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
		w.drop(key)
	}
}

// drop deletes a record, and the map with the last one: a Go map keeps the memory of its
// largest size, and a burst of new connections would leave its records' room (about 100
// bytes each at 10,000) in the heap for good.
func (w *written) drop(key types.NamespacedName) {
	delete(w.records, key)
	if len(w.records) == 0 {
		w.records = nil
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

// forget drops a deleted connection's record.
func (w *written) forget(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.drop(key)
}

// heldAnswer is a provider's answer that could not be written yet (the API server refused
// or was away). It is kept in memory and written before anything else is decided, instead
// of asking the provider again: for a rotating provider it holds the only copy of the new
// refresh token. It keeps the fingerprints it was obtained under, so it is stored as what
// it is, whatever the settings say by the time it is written.
type heldAnswer struct {
	uid        types.UID
	grant      provider.Grant
	token      *provider.Token
	obtainedAt time.Time
	trigger    trigger
	// config, endpoint and grantFP are the fingerprints the answer was obtained under.
	config, endpoint, grantFP string
}

type heldAnswers struct {
	mu      sync.Mutex
	entries map[types.NamespacedName]*heldAnswer
	// busy counts the token requests and answer writes under way, which may yet hold an
	// answer: a stopping manager waits for them too.
	busy atomic.Int32
}

func (p *heldAnswers) put(key types.NamespacedName, a *heldAnswer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.entries == nil {
		p.entries = map[types.NamespacedName]*heldAnswer{}
	}
	p.entries[key] = a
}

// take removes and returns the held answer of this connection (by UID), if any.
func (p *heldAnswers) take(key types.NamespacedName, uid types.UID) *heldAnswer {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.entries[key]
	delete(p.entries, key)
	if a == nil || a.uid != uid {
		return nil
	}
	return a
}

// peekAny returns the held answer of this connection, whatever its UID, without removing it.
func (p *heldAnswers) peekAny(key types.NamespacedName) *heldAnswer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.entries[key]
}

// keys lists the connections with a held answer.
func (p *heldAnswers) keys() []types.NamespacedName {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]types.NamespacedName, 0, len(p.entries))
	for k := range p.entries {
		out = append(out, k)
	}
	return out
}

// failures remembers the last failure of client-credentials connections, which have no
// state Secret to record it in.
type failures struct {
	mu      sync.Mutex
	entries map[types.NamespacedName]uidFailure
}

type uidFailure struct {
	uid types.UID
	f   *failure
}

func (m *failures) get(key types.NamespacedName, uid types.UID) *failure {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[key]; ok && e.uid == uid {
		f := *e.f
		return &f
	}
	return nil
}

// set records f, or forgets the connection's failure when f is nil.
func (m *failures) set(key types.NamespacedName, uid types.UID, f *failure) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f == nil {
		delete(m.entries, key)
		return
	}
	if m.entries == nil {
		m.entries = map[types.NamespacedName]uidFailure{}
	}
	c := *f
	m.entries[key] = uidFailure{uid: uid, f: &c}
}

// secretMemo remembers the user Secrets that connections reference (and only those), so a
// reconcile that changes nothing reads none from the API server. The metadata watch of
// secretWatcher forgets an entry on any change to its Secret; until that watch runs, the
// memo stores nothing, so no change can slip between a read and the watch's start.
type secretMemo struct {
	mu       sync.Mutex
	watching bool
	entries  map[types.NamespacedName]map[string][]byte
	// inflight counts reads under way per key; epoch bumps when such a key changes, so a
	// read that raced a change is not stored.
	inflight map[types.NamespacedName]int
	epoch    uint64
}

// maxMemoEntries bounds the memo; past it, it starts afresh.
const maxMemoEntries = 100_000

func newSecretMemo() *secretMemo {
	return &secretMemo{
		entries:  map[types.NamespacedName]map[string][]byte{},
		inflight: map[types.NamespacedName]int{},
	}
}

// get returns a referenced Secret's data, from the memo or, on a miss, from the API server.
func (m *secretMemo) get(ctx context.Context, reader client.Reader, key types.NamespacedName) (map[string][]byte, error) {
	m.mu.Lock()
	if data, ok := m.entries[key]; ok {
		m.mu.Unlock()
		return data, nil
	}
	m.inflight[key]++
	ticket, watching := m.epoch, m.watching
	m.mu.Unlock()

	s := &corev1.Secret{}
	err := reader.Get(ctx, key, s)

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inflight[key]--; m.inflight[key] == 0 {
		delete(m.inflight, key)
	}
	if err != nil {
		return nil, err
	}
	// A Secret carrying the operator's label is followed by the cache, not by the metadata
	// watch that keeps the memo current: it is read afresh each time.
	if watching && m.watching && ticket == m.epoch && s.Labels[oauthv1alpha1.ManagedByLabel] != oauthv1alpha1.ManagedByValue {
		if len(m.entries) >= maxMemoEntries {
			clear(m.entries)
		}
		m.entries[key] = s.Data
	}
	return s.Data, nil
}

// forget drops a Secret that changed.
func (m *secretMemo) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, known := m.entries[key]
	if known || m.inflight[key] > 0 {
		delete(m.entries, key)
		m.epoch++
	}
}

// reset drops everything; watching says whether changes are being followed from now on.
func (m *secretMemo) reset(watching bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.entries)
	m.epoch++
	m.watching = watching
}
