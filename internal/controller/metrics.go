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

// The metrics of api.md, served on the manager's metrics endpoint.
var (
	tokenExpiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tokenwarden_token_expiry_timestamp_seconds",
		Help: "When the published token of a connection expires (status.expiresAt), in Unix seconds; " +
			"absent: it does not expire.",
	}, connectionLabels)
	tokenRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokenwarden_token_requests_total",
		Help: "Token requests made, by provider, grant type and result.",
	}, []string{labelProvider, "grant_type", labelResult})
	tokenRequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tokenwarden_token_request_duration_seconds",
		Help:    "Duration of token requests, by provider.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	}, []string{labelProvider})
	connectionReady = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tokenwarden_connection_ready",
		Help: "1 while a connection's Ready condition is True, else 0.",
	}, connectionLabels)
	connectionStalled = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tokenwarden_connection_stalled",
		Help: "1 while a connection's Stalled condition is True, with its reason; " +
			"absent while it is not stalled.",
	}, append(slices.Clone(connectionLabels), labelReason))
	nextRefresh = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tokenwarden_next_refresh_timestamp_seconds",
		Help: "When the operator will next request a token for a connection (status.nextRefreshTime), " +
			"in Unix seconds; absent: never.",
	}, connectionLabels)
	consecutiveFailures = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tokenwarden_consecutive_failures",
		Help: "Failed token requests of a connection since its last success (status.consecutiveFailures).",
	}, connectionLabels)
	rollouts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokenwarden_rollouts_total",
		Help: "Workloads of spec.rolloutRestartTargets handled after a new token, by result: " +
			"restarted, skipped or failed.",
	}, []string{labelResult})

	// perConnection are the vectors with a series per connection.
	perConnection = []*prometheus.GaugeVec{
		tokenExpiry, connectionReady, connectionStalled, nextRefresh, consecutiveFailures,
	}
)

func init() {
	metrics.Registry.MustRegister(tokenExpiry, tokenRequests, tokenRequestDuration,
		connectionReady, connectionStalled, nextRefresh, consecutiveFailures, rollouts)
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

// recorded remembers the labels of the series each connection has, so that a change of
// provider or stall reason replaces the old series instead of leaving it behind, without
// removing a series that stays (a scrape in between would see a gap).
var recorded = struct {
	sync.Mutex
	series map[types.NamespacedName]connectionSeries
}{series: map[types.NamespacedName]connectionSeries{}}

type connectionSeries struct {
	provider      string
	stalledReason string // "" while not stalled
}

// recordConnectionMetrics sets the per-connection gauges from the connection's spec and the
// status just computed for it: what kubectl shows is what Prometheus sees.
func recordConnectionMetrics(conn *oauthv1alpha1.OAuthConnection) {
	key := types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}
	now := connectionSeries{provider: string(conn.Spec.Provider)}
	if stalled := meta.FindStatusCondition(conn.Status.Conditions, oauthv1alpha1.ConditionStalled); stalled != nil &&
		stalled.Status == metav1.ConditionTrue {
		now.stalledReason = stalled.Reason
	}

	recorded.Lock()
	defer recorded.Unlock()
	if before, ok := recorded.series[key]; ok {
		if before.provider != now.provider {
			deleteConnectionSeries(key)
		} else if before.stalledReason != "" && before.stalledReason != now.stalledReason {
			connectionStalled.DeleteLabelValues(key.Namespace, key.Name, before.provider, before.stalledReason)
		}
	}
	recorded.series[key] = now

	labels := []string{key.Namespace, key.Name, now.provider}
	setTimestamp(tokenExpiry, labels, conn.Status.ExpiresAt)
	setTimestamp(nextRefresh, labels, conn.Status.NextRefreshTime)
	ready := meta.IsStatusConditionTrue(conn.Status.Conditions, oauthv1alpha1.ConditionReady)
	connectionReady.WithLabelValues(labels...).Set(boolValue(ready))
	consecutiveFailures.WithLabelValues(labels...).Set(float64(conn.Status.ConsecutiveFailures))
	if now.stalledReason != "" {
		connectionStalled.WithLabelValues(append(labels, now.stalledReason)...).Set(1)
	}
}

// setTimestamp sets a timestamp gauge, or removes its series when the time is absent.
func setTimestamp(g *prometheus.GaugeVec, labels []string, t *metav1.Time) {
	if t == nil || t.IsZero() {
		g.DeleteLabelValues(labels...)
		return
	}
	g.WithLabelValues(labels...).Set(float64(t.Unix()))
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// forgetConnection removes every series of a deleted connection.
func forgetConnection(key types.NamespacedName) {
	recorded.Lock()
	defer recorded.Unlock()
	delete(recorded.series, key)
	deleteConnectionSeries(key)
}

func deleteConnectionSeries(key types.NamespacedName) {
	labels := prometheus.Labels{labelNamespace: key.Namespace, labelName: key.Name}
	for _, vec := range perConnection {
		vec.DeletePartialMatch(labels)
	}
}
