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
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
// and tokenwarden_consecutive_failures from one small record per connection, turned into
// series at each scrape. A GaugeVec series each would keep about 400 bytes of live heap
// per series and connection (their label pairs), which the manager's memory limit is sized
// without (docs/benchmarks.md, docs/scaling.md). One record also makes
// a connection's series change together: a new stall reason or provider replaces the old
// series, with no gap in those that stay.
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
	records: map[types.NamespacedName]connectionRecord{},
}

type connectionCollector struct {
	ready, stalled, nextRefresh, failures, expiry *prometheus.Desc

	mu      sync.RWMutex
	records map[types.NamespacedName]connectionRecord
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

func (c *connectionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.ready
	ch <- c.stalled
	ch <- c.nextRefresh
	ch <- c.failures
	ch <- c.expiry
}

func (c *connectionCollector) Collect(ch chan<- prometheus.Metric) {
	type entry struct {
		key types.NamespacedName
		connectionRecord
	}
	c.mu.RLock()
	entries := make([]entry, 0, len(c.records))
	for key, r := range c.records {
		entries = append(entries, entry{key, r})
	}
	c.mu.RUnlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, e := range entries {
		ns, name, p := e.key.Namespace, e.key.Name, e.provider
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

// set records a connection.
func (c *connectionCollector) set(key types.NamespacedName, r connectionRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.records[key] = r
}

func (c *connectionCollector) forget(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.records, key)
}

// recordConnectionMetrics sets the per-connection gauges from the connection's spec and the
// status just computed for it: what kubectl shows is what Prometheus sees.
func recordConnectionMetrics(conn *oauthv1alpha1.OAuthConnection) {
	key := types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}
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
	connectionGauges.set(key, r)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// forgetConnection removes every series of a deleted connection.
func forgetConnection(key types.NamespacedName) {
	connectionGauges.forget(key)
}
