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
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// Metric label names.
const (
	labelNamespace = "namespace"
	labelName      = "name"
	labelProvider  = "provider"
	labelReason    = "reason"
	labelResult    = "result"
)

// The results of restarting one workload for a new token (tokenwarden_rollouts_total).
const (
	rolloutRestarted = "restarted" // the workload's pod template was annotated
	rolloutSkipped   = "skipped"   // not restarted this time, e.g. within rolloutMinInterval
	rolloutFailed    = "failed"    // the workload could not be restarted
)

// connectionLabels are the labels of every per-connection series. Labels never carry
// token or secret material, and their number is bounded by the connections' (reason is
// one of the few condition reasons).
var connectionLabels = []string{labelNamespace, labelName, labelProvider}

// The metrics of api.md, served on the manager's metrics endpoint; connectionGauges below
// serves the per-connection ones.
var (
	tokenRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokenwarden_token_requests_total",
		Help: "Token requests made, by provider, grant type and result.",
	}, []string{labelProvider, "grant_type", labelResult})
	tokenRequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tokenwarden_token_request_duration_seconds",
		Help:    "Duration of token requests, by provider.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	}, []string{labelProvider})
	rollouts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokenwarden_rollouts_total",
		Help: "Workloads of spec.rolloutRestartTargets handled after a new token, by result: " +
			"restarted, skipped or failed.",
	}, []string{labelResult})
)

func init() {
	metrics.Registry.MustRegister(tokenRequests, tokenRequestDuration, connectionGauges, rollouts)
	// Each result starts at 0, so that rates and dashboards see the counter before the first rollout.
	for _, result := range []string{rolloutRestarted, rolloutSkipped, rolloutFailed} {
		rollouts.WithLabelValues(result)
	}
}

// observeRequest counts a token request and its outcome.
func observeRequest(p oauthv1alpha1.Provider, grant provider.GrantType, d time.Duration, err error) {
	tokenRequestDuration.WithLabelValues(string(p)).Observe(d.Seconds())
	tokenRequests.WithLabelValues(string(p), string(grant), requestResult(err)).Inc()
}

func requestResult(err error) string {
	if err == nil {
		return "success"
	}
	if _, ok := errors.AsType[*provider.Error](err); !ok {
		return "error"
	}
	switch provider.KindOf(err) {
	case provider.InvalidGrant:
		return "invalid_grant"
	case provider.InvalidClient:
		return "invalid_client"
	case provider.BadRequest:
		return "bad_request"
	}
	return "transient"
}

// observeRollout counts one workload of spec.rolloutRestartTargets handled after a new
// token: result is rolloutRestarted, rolloutSkipped or rolloutFailed.
func observeRollout(result string) {
	rollouts.WithLabelValues(result).Inc()
}

// connectionGauges serves tokenwarden_connection_ready, tokenwarden_connection_stalled,
// tokenwarden_next_refresh_timestamp_seconds, tokenwarden_token_expiry_timestamp_seconds
// and tokenwarden_consecutive_failures from the connections in the manager's cache, read
// at each scrape: the status kubectl shows is what Prometheus sees, a deleted connection's
// series go with it, and the gauges hold no memory of their own per connection (a GaugeVec
// series each kept about 400 bytes per series and connection, and a record per connection
// 150 to 225 in the bench's heap profiles). A connection's series change together: a new
// stall reason or provider replaces the old series, with no gap in those that stay.
var connectionGauges = &connectionCollector{
	ready: prometheus.NewDesc("tokenwarden_connection_ready",
		"1 while a connection's Ready condition is True, else 0.", connectionLabels, nil),
	stalled: prometheus.NewDesc("tokenwarden_connection_stalled",
		"1 while a connection's Stalled condition is True, with its reason; absent while it is not stalled.",
		append(slices.Clone(connectionLabels), labelReason), nil),
	nextRefresh: prometheus.NewDesc("tokenwarden_next_refresh_timestamp_seconds",
		"When the operator will next request a token for a connection (status.nextRefreshTime), "+
			"in Unix seconds; absent: never.", connectionLabels, nil),
	failures: prometheus.NewDesc("tokenwarden_consecutive_failures",
		"Failed token requests of a connection since its last success (status.consecutiveFailures).",
		connectionLabels, nil),
	expiry: prometheus.NewDesc("tokenwarden_token_expiry_timestamp_seconds",
		"When the published token of a connection expires (status.expiresAt), in Unix seconds; "+
			"absent: it does not expire.", connectionLabels, nil),
}

type connectionCollector struct {
	ready, stalled, nextRefresh, failures, expiry *prometheus.Desc

	mu sync.Mutex
	// sources list the cached connections of each elected manager of this process (one in
	// production; a test runs several).
	sources []*connectionSource
}

// connectionSource lists the cached connections, as pointers into the cache: read only.
type connectionSource struct {
	list func() []any
}

// add makes the connections list returns part of every scrape, until remove.
func (c *connectionCollector) add(list func() []any) *connectionSource {
	src := &connectionSource{list: list}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sources = append(c.sources, src)
	return src
}

func (c *connectionCollector) remove(src *connectionSource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sources = slices.DeleteFunc(c.sources, func(s *connectionSource) bool { return s == src })
}

// connectionRecord is what the gauges say about one connection.
type connectionRecord struct {
	provider      string
	stalledReason string // "" while not stalled
	nextRefresh   int64  // Unix seconds; 0: none
	expiry        int64  // Unix seconds; 0: the token does not expire, or none is published
	failures      int32
	ready         bool
}

// recordOf is what the gauges say about conn, from its spec and status.
func recordOf(conn *oauthv1alpha1.OAuthConnection) connectionRecord {
	r := connectionRecord{
		provider: string(conn.Spec.Provider),
		failures: conn.Status.ConsecutiveFailures,
		ready:    meta.IsStatusConditionTrue(conn.Status.Conditions, oauthv1alpha1.ConditionReady),
	}
	if t := conn.Status.NextRefreshTime; t != nil && !t.IsZero() {
		r.nextRefresh = t.Unix()
	}
	if stalled := meta.FindStatusCondition(conn.Status.Conditions, oauthv1alpha1.ConditionStalled); stalled != nil &&
		stalled.Status == metav1.ConditionTrue {
		r.stalledReason = stalled.Reason
	}
	if t := conn.Status.ExpiresAt; t != nil && !t.IsZero() {
		r.expiry = t.Unix()
	}
	return r
}

func (c *connectionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.ready
	ch <- c.stalled
	ch <- c.nextRefresh
	ch <- c.failures
	ch <- c.expiry
}

func (c *connectionCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	sources := slices.Clone(c.sources)
	c.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	// Two managers of one process (tests) may cache the same connection: serve it once.
	var seen map[types.NamespacedName]bool
	if len(sources) > 1 {
		seen = map[types.NamespacedName]bool{}
	}
	for _, src := range sources {
		for _, obj := range src.list() {
			conn, ok := obj.(*oauthv1alpha1.OAuthConnection)
			if !ok {
				continue
			}
			if seen != nil {
				key := types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}
				if seen[key] {
					continue
				}
				seen[key] = true
			}
			e := recordOf(conn)
			ns, name, p := conn.Namespace, conn.Name, e.provider
			gauge(c.ready, boolValue(e.ready), ns, name, p)
			gauge(c.failures, float64(e.failures), ns, name, p)
			if e.nextRefresh != 0 {
				gauge(c.nextRefresh, float64(e.nextRefresh), ns, name, p)
			}
			if e.expiry != 0 {
				gauge(c.expiry, float64(e.expiry), ns, name, p)
			}
			if e.stalledReason != "" {
				gauge(c.stalled, 1, ns, name, p, e.stalledReason)
			}
		}
	}
}

// gaugeSource makes the manager's cached connections part of every scrape while the
// manager is elected. A standby replica caches the same connections and serves none of
// their series: two replicas' series would double every sum and every alert.
type gaugeSource struct {
	cache cache.Cache
}

func (g *gaugeSource) NeedLeaderElection() bool { return true }

func (g *gaugeSource) Start(ctx context.Context) error {
	inf, err := g.cache.GetInformer(ctx, &oauthv1alpha1.OAuthConnection{})
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while the cache was starting
		}
		return fmt.Errorf("the connections' informer, for the per-connection metrics: %w", err)
	}
	st, ok := inf.(interface{ GetStore() toolscache.Store })
	if !ok {
		return fmt.Errorf("the connections' informer (%T) has no store, for the per-connection metrics", inf)
	}
	src := connectionGauges.add(st.GetStore().List)
	<-ctx.Done()
	connectionGauges.remove(src)
	return nil
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
