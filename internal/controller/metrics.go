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
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
)

// The metrics of api.md, served on the manager's metrics endpoint. Labels never carry
// token or secret material.
var (
	tokenExpiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tokenwarden_token_expiry_timestamp_seconds",
		Help: "When the current token of a connection expires, in Unix seconds (absent: it does not expire).",
	}, []string{labelNamespace, labelName, labelProvider})
	tokenRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokenwarden_token_requests_total",
		Help: "Token requests made, by provider, grant type and result.",
	}, []string{labelProvider, "grant_type", "result"})
	tokenRequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tokenwarden_token_request_duration_seconds",
		Help:    "Duration of token requests, by provider.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	}, []string{labelProvider})
	rolloutsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokenwarden_rollouts_total",
		Help: "Restarts of rolloutRestartTargets that a new token needed, by result: restarted, skipped (rolloutMinInterval not passed yet) or failed.",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(tokenExpiry, tokenRequests, tokenRequestDuration, rolloutsTotal)
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

// recordConnectionMetrics sets the connection's gauges from its status: they follow the
// published token, not what one reconcile happened to read.
func recordConnectionMetrics(conn *oauthv1alpha1.OAuthConnection) {
	labels := prometheus.Labels{labelNamespace: conn.Namespace, labelName: conn.Name}
	if conn.Status.ExpiresAt == nil {
		tokenExpiry.DeletePartialMatch(labels)
		return
	}
	tokenExpiry.WithLabelValues(conn.Namespace, conn.Name, string(conn.Spec.Provider)).
		Set(float64(conn.Status.ExpiresAt.Unix()))
}

// forgetConnection drops the metrics of a deleted connection.
func forgetConnection(key types.NamespacedName) {
	tokenExpiry.DeletePartialMatch(prometheus.Labels{labelNamespace: key.Namespace, labelName: key.Name})
}
