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

package alerts

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	// The controller registers tokenwarden's metrics in controller-runtime's registry, which
	// the manager serves, beside controller-runtime's own.
	_ "github.com/tokenwarden/tokenwarden/internal/controller"
)

// prometheusOwn are the series Prometheus makes itself for each scrape.
var prometheusOwn = []string{"up"}

// servedMetrics returns the names of the metrics the manager serves: every metric
// registered in controller-runtime's registry, with or without series yet.
func servedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	registry, ok := metrics.Registry.(prometheus.Collector)
	if !ok {
		t.Fatalf("controller-runtime's metrics registry is a %T, which cannot describe its metrics", metrics.Registry)
	}
	descs := make(chan *prometheus.Desc)
	go func() {
		registry.Describe(descs)
		close(descs)
	}()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := map[string]bool{}
	for d := range descs {
		m := fqName.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no metric name in %s", d)
		}
		names[m[1]] = true
	}
	for _, n := range prometheusOwn {
		names[n] = true
	}
	return names
}

// served reports whether name is a served metric, or one of the series of a histogram or
// summary.
func served(names map[string]bool, name string) bool {
	if names[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && names[base] {
			return true
		}
	}
	return false
}

// PromQL keywords and operators that read like identifiers; functions are told apart by
// the parenthesis that follows them.
var promqlWords = []string{
	"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
	"offset", "atan2", "inf", "nan", "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
	"count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio",
}

var (
	promqlStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promqlMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promqlGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promqlRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	grafanaVars    = regexp.MustCompile(`\$\{?\w+\}?`)
	promqlTokens   = regexp.MustCompile(`[0-9][0-9a-zA-Z.]*|[a-zA-Z_:][a-zA-Z0-9_:]*`)
	labelValues    = regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,`)
)

// metricNames returns the metric names a PromQL expression (with Grafana's variables)
// selects: what is left of it without strings, label matchers, grouping labels, ranges,
// numbers, keywords and function names.
func metricNames(expr string) []string {
	expr = promqlStrings.ReplaceAllString(expr, `""`)
	expr = promqlMatchers.ReplaceAllString(expr, "{}")
	expr = promqlGrouping.ReplaceAllString(expr, "$1")
	expr = promqlRanges.ReplaceAllString(expr, "")
	expr = grafanaVars.ReplaceAllString(expr, "")
	var out []string
	for _, loc := range promqlTokens.FindAllStringIndex(expr, -1) {
		token := expr[loc[0]:loc[1]]
		rest := strings.TrimLeft(expr[loc[1]:], " \t\n")
		if token[0] >= '0' && token[0] <= '9' || slices.Contains(promqlWords, token) || strings.HasPrefix(rest, "(") {
			continue
		}
		if !slices.Contains(out, token) {
			out = append(out, token)
		}
	}
	return out
}

func TestMetricNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`tokenwarden_connection_ready`, []string{"tokenwarden_connection_ready"}},
		{`max by (namespace, name) (a_b{job=~".*x.*", name="y"}) - time() < 900`, []string{"a_b"}},
		{`sum by (provider) (rate(c_total{result!="success"}[15m])) / sum(rate(c_total[5m]))`, []string{"c_total"}},
		{`x unless on (namespace, name) (y > time() and on (namespace) z == 0)`, []string{"x", "y", "z"}},
		{`histogram_quantile(0.95, sum by (le) (rate(h_bucket{p=~"$provider"}[$__rate_interval])))`, []string{"h_bucket"}},
		{`absent(up{job=~"a"} == 1)`, []string{"up"}},
		{`count(m{a="b"} == 0) or vector(0)`, []string{"m"}},
		{`m offset 5m > 1e3`, []string{"m"}},
		{`sort(e{namespace=~"${namespace}"})`, []string{"e"}},
		{`max by (name) (leader{name="a.b"})`, []string{"leader"}},
		{`sum without (pod) (rate(r[1m])) > 0`, []string{"r"}},
	} {
		if got := metricNames(c.expr); !slices.Equal(got, c.want) {
			t.Errorf("metricNames(%s) = %v, want %v", c.expr, got, c.want)
		}
	}
}

// dashboardQueries returns every PromQL expression of the dashboard (the targets' expr) and
// the metrics its variables list label values of.
func dashboardQueries(t *testing.T) (exprs, variableMetrics []string) {
	t.Helper()
	var dashboard map[string]any
	if err := json.Unmarshal(readFile(t, dashboardFile), &dashboard); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				if s, ok := v[k].(string); ok && k == "expr" {
					exprs = append(exprs, s)
				}
				if s, ok := v[k].(string); ok && k == "definition" {
					for _, m := range labelValues.FindAllStringSubmatch(s, -1) {
						variableMetrics = append(variableMetrics, m[1])
					}
				}
				walk(v[k])
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(dashboard)
	if len(exprs) == 0 {
		t.Fatalf("%s has no queries", dashboardFile)
	}
	return exprs, variableMetrics
}

// TestQueriesUseServedMetrics checks that every expression of the alerts and the dashboard
// selects only metrics the manager serves (or Prometheus' up), and that the dashboard shows
// every tokenwarden metric.
func TestQueriesUseServedMetrics(t *testing.T) {
	names := servedMetrics(t)
	check := func(where, expr string) []string {
		found := metricNames(expr)
		if len(found) == 0 {
			t.Errorf("%s: no metric found in %q", where, expr)
		}
		for _, n := range found {
			if !served(names, n) {
				t.Errorf("%s: %q selects %s, which the manager does not serve", where, expr, n)
			}
		}
		return found
	}
	for _, a := range alerts(t) {
		check(rulesFile+" "+a.Alert, a.Expr)
	}

	exprs, variableMetrics := dashboardQueries(t)
	shown := map[string]bool{}
	for _, e := range exprs {
		for _, n := range check(dashboardFile, e) {
			shown[strings.TrimSuffix(n, "_bucket")] = true
		}
	}
	if len(variableMetrics) == 0 {
		t.Errorf("%s: no variable lists label_values of a metric", dashboardFile)
	}
	for _, n := range variableMetrics {
		if !served(names, n) {
			t.Errorf("%s: a variable lists label values of %s, which the manager does not serve", dashboardFile, n)
		}
	}
	for n := range names {
		if strings.HasPrefix(n, "tokenwarden_") && !shown[n] {
			t.Errorf("%s shows no panel of %s", dashboardFile, n)
		}
	}
}
