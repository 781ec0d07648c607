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
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

const shardLabel = "bench.tokenwarden.io/shard"

// shardResult is what two managers with disjoint selectors measured over n connections.
type shardResult struct {
	n             int
	ready         time.Duration
	tokenRequests int
	held          [2]map[string]bool // the connections each manager holds (its per-connection series)
	peakRSS       [2]uint64
	liveHeap      [2]uint64
	moved         int
	moveTime      time.Duration
	moveRequests  int
	heldAfter     [2]int
}

var seriesName = regexp.MustCompile(`(?:^|[{,])name="([^"]*)"`)

// holds lists the connections whose series a manager serves.
func (m *managerProcess) holds() (map[string]bool, error) {
	metrics, err := m.scrape()
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for k := range metrics {
		if strings.HasPrefix(k, "tokenwarden_connection_ready{") {
			if match := seriesName.FindStringSubmatch(k); match != nil {
				out[match[1]] = true
			}
		}
	}
	return out, nil
}

// twoShards runs two managers, shard=0 and shard=1, over n connections labelled
// alternately; then relabels a tenth of shard 0's connections for shard 1.
func (b *bench) twoShards(ctx context.Context, n int) (shardResult, error) {
	r := shardResult{n: n}
	ns := fmt.Sprintf("shards-%d", n)
	if err := b.namespace(ctx, ns); err != nil {
		return r, err
	}
	if err := client.IgnoreAlreadyExists(b.harness.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: clientSecretName},
		StringData: map[string]string{"client_id": b.fake.ClientID(), "client_secret": b.fake.ClientSecret()},
	})); err != nil {
		return r, err
	}
	watcher, err := newReadyWatcher(ctx, b.cfg, ns)
	if err != nil {
		return r, err
	}
	defer watcher.stop()
	var managers [2]*managerProcess
	for i := range managers {
		m, err := b.startManager(ctx, fmt.Sprintf("manager-shard-%d.log", i),
			fmt.Sprintf("--connection-selector=%s=%d", shardLabel, i))
		if err != nil {
			return r, err
		}
		defer m.stop()
		managers[i] = m
	}
	before := b.fake.Requests(provider.GrantClientCredentials)
	start := time.Now()
	if err := parallel(n, 32, func(i int) error {
		conn := b.connection(ns, i)
		conn.Labels = map[string]string{shardLabel: fmt.Sprint(i % 2)}
		return b.harness.Create(ctx, conn)
	}); err != nil {
		return r, err
	}
	if _, err := watcher.waitAll(ctx, n, readyTimeout(n)); err != nil {
		return r, err
	}
	r.ready = time.Since(start)
	for i, m := range managers {
		if err := m.caughtUp(ctx, (n+1-i)/2); err != nil {
			return r, err
		}
	}
	r.tokenRequests = b.fake.Requests(provider.GrantClientCredentials) - before
	for i, m := range managers {
		if r.held[i], err = m.holds(); err != nil {
			return r, err
		}
		r.peakRSS[i], _ = m.usage()
		if _, err := m.saveHeapProfile(filepath.Join(b.dir, fmt.Sprintf("heap-shard-%d.pprof", i))); err == nil {
			if after, err := m.scrape(); err == nil {
				r.liveHeap[i] = uint64(after["go_memstats_heap_alloc_bytes"])
			}
		}
	}

	fmt.Fprintf(os.Stderr, "bench: N=%d: moving a tenth of shard 0 to shard 1...\n", n)
	before = b.fake.TotalRequests()
	r.moved = n / 20 // a tenth of shard 0's n/2
	start = time.Now()
	if err := parallel(r.moved, 32, func(j int) error {
		conn := &oauthv1alpha1.OAuthConnection{}
		if err := b.harness.Get(ctx, client.ObjectKey{Namespace: ns, Name: fmt.Sprintf("conn-%05d", 2*j)}, conn); err != nil {
			return err
		}
		patch := client.MergeFrom(conn.DeepCopy())
		conn.Labels[shardLabel] = "1"
		return b.harness.Patch(ctx, conn, patch)
	}); err != nil {
		return r, err
	}
	// Moved once shard 1 holds them, with their Secrets relabelled.
	want := n/2 + r.moved
	for {
		held, err := managers[1].holds()
		secrets := &corev1.SecretList{}
		lerr := b.harness.List(ctx, secrets, client.InNamespace(ns), client.MatchingLabels{shardLabel: "1"})
		if err == nil && lerr == nil && len(held) >= want && len(secrets.Items) >= want {
			break
		}
		if ctx.Err() != nil || time.Since(start) > 10*time.Minute {
			return r, fmt.Errorf("shard 1 holds %d connections and %d Secrets, want %d", len(held), len(secrets.Items), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.moveTime = time.Since(start)
	r.moveRequests = b.fake.TotalRequests() - before
	for i, m := range managers {
		held, err := m.holds()
		if err != nil {
			return r, err
		}
		r.heldAfter[i] = len(held)
	}
	return r, nil
}

func (r shardResult) report() string {
	var s strings.Builder
	both, none := 0, 0
	for i := range r.n {
		name := fmt.Sprintf("conn-%05d", i)
		switch {
		case r.held[0][name] && r.held[1][name]:
			both++
		case !r.held[0][name] && !r.held[1][name]:
			none++
		}
	}
	fmt.Fprintf(&s, "\nTwo managers, --connection-selector=%s=0 and =1, over %d connections labelled alternately: all Ready in %s; "+
		"%d token requests (%.2f per connection); shard 0 holds %d, shard 1 holds %d, both %d, none %d; "+
		"peak RSS %s and %s, live heap %s and %s.\n",
		shardLabel, r.n, r.ready.Round(time.Millisecond), r.tokenRequests, float64(r.tokenRequests)/float64(r.n),
		len(r.held[0]), len(r.held[1]), both, none, mib(r.peakRSS[0]), mib(r.peakRSS[1]), mib(r.liveHeap[0]), mib(r.liveHeap[1]))
	fmt.Fprintf(&s, "\nMoving %d connections from shard 0 to shard 1 (relabelling them): shard 1 held them and their Secrets in %s, "+
		"with %d token requests; afterwards shard 0 holds %d and shard 1 holds %d.\n",
		r.moved, r.moveTime.Round(time.Millisecond), r.moveRequests, r.heldAfter[0], r.heldAfter[1])
	return s.String()
}
