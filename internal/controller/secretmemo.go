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

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

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
