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
	"bytes"
	"context"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// apiServerLoad is what the API server's own metrics say of a time window: whether the
// operator, without a client-side rate limit, overwhelmed it.
type apiServerLoad struct {
	requests    float64       // requests answered (apiserver_request_total), all clients
	throttled   float64       // answered 429 Too Many Requests
	apfRejected float64       // rejected by API Priority and Fairness (apiserver_flowcontrol_rejected_requests_total)
	apfPresent  bool          // the API server exposes the APF metrics
	p99         time.Duration // upper bound of the bucket holding the 99th percentile of non-long-running requests
	mean        time.Duration
}

// apiServerMetrics reads the API server's /metrics.
func (b *bench) apiServerMetrics(ctx context.Context) (map[string]float64, error) {
	raw, err := b.apiserver.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	return parseMetrics(bytes.NewReader(raw))
}

var leLabel = regexp.MustCompile(`le="([^"]*)"`)

// longRunning are the verbs the API server's latency SLO leaves out.
func longRunning(series string) bool {
	return strings.Contains(series, `verb="WATCH"`) || strings.Contains(series, `verb="CONNECT"`)
}

// apiServerLoadBetween compares two readings of the API server's metrics.
func apiServerLoadBetween(before, after map[string]float64) apiServerLoad {
	delta := func(name string, keep func(string) bool) float64 {
		var d float64
		for k, v := range after {
			if (k == name || strings.HasPrefix(k, name+"{")) && (keep == nil || keep(k)) {
				d += v - before[k]
			}
		}
		return d
	}
	short := func(k string) bool { return !longRunning(k) }
	l := apiServerLoad{}
	l.requests = delta("apiserver_request_total", nil)
	l.throttled = delta("apiserver_request_total", func(k string) bool { return strings.Contains(k, `code="429"`) })
	l.apfRejected = delta("apiserver_flowcontrol_rejected_requests_total", nil)
	for k := range after {
		if strings.HasPrefix(k, "apiserver_flowcontrol_") {
			l.apfPresent = true
			break
		}
	}
	count := delta("apiserver_request_duration_seconds_count", short)
	if count > 0 {
		l.mean = time.Duration(delta("apiserver_request_duration_seconds_sum", short) / count * float64(time.Second))
	}
	// Cumulative bucket counts by upper bound, summed over every resource and verb.
	buckets := map[float64]float64{}
	for k, v := range after {
		if !strings.HasPrefix(k, "apiserver_request_duration_seconds_bucket{") || longRunning(k) {
			continue
		}
		m := leLabel.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		le, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			continue
		}
		buckets[le] += v - before[k]
	}
	bounds := make([]float64, 0, len(buckets))
	for le := range buckets {
		bounds = append(bounds, le)
	}
	slices.Sort(bounds)
	for _, le := range bounds {
		if count > 0 && buckets[le] >= 0.99*count {
			if !math.IsInf(le, 1) {
				l.p99 = time.Duration(le * float64(time.Second))
			} else {
				l.p99 = -1 // beyond the largest bucket
			}
			break
		}
	}
	return l
}
