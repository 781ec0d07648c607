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

// Package alerts checks what tokenwarden ships for monitoring: the alert rules
// (config/prometheus/alerts, copied into the chart) with promtool's rule checks and unit
// tests, their runbooks in docs/alerts.md, the Grafana dashboard of the chart, and that
// both query only metrics the manager serves.
package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
)

const (
	// root is the repository root, seen from this package's directory.
	root           = "../.."
	rulesFile      = "config/prometheus/alerts/prometheusrule.yaml"
	chartRulesFile = "charts/tokenwarden/files/prometheusrule.yaml"
	dashboardFile  = "charts/tokenwarden/dashboards/tokenwarden.json"
	runbookFile    = "docs/alerts.md"
	unitTestFile   = "testdata/rules_test.yaml"
	runbookBase    = "https://github.com/tokenwarden/tokenwarden/blob/main/docs/alerts.md#"
)

// connectionWide are the alerts about the manager or a provider as a whole, which name no
// connection.
var connectionWide = []string{"TokenwardenTokenRequestErrorsHigh", "TokenwardenManagerDown", "TokenwardenNoLeader"}

type prometheusRule struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []rule `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

type rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// alerts returns the rules of the shipped PrometheusRule.
func alerts(t *testing.T) []rule {
	t.Helper()
	var pr prometheusRule
	unmarshal(t, rulesFile, readFile(t, rulesFile), &pr)
	var out []rule
	for _, g := range pr.Spec.Groups {
		out = append(out, g.Rules...)
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no rules", rulesFile)
	}
	return out
}

// rulesSpec returns the spec of the shipped PrometheusRule: a Prometheus rule file
// (groups:).
func rulesSpec(t *testing.T) any {
	t.Helper()
	objs := parseObjects(t, readFile(t, rulesFile))
	if len(objs) != 1 || objs[0].GetKind() != "PrometheusRule" || objs[0].Object["spec"] == nil {
		t.Fatalf("%s is not one PrometheusRule with a spec", rulesFile)
	}
	return objs[0].Object["spec"]
}

func TestPromtool(t *testing.T) {
	promtool := requireTool(t, "promtool", "make promtool")
	dir := t.TempDir()
	// The spec of a PrometheusRule is a Prometheus rule file; JSON is YAML.
	spec, err := json.MarshalIndent(rulesSpec(t), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "rules.yaml"), spec)
	tests, err := os.ReadFile(unitTestFile)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "rules_test.yaml"), tests)

	t.Run("CheckRules", func(t *testing.T) { runIn(t, dir, promtool, "check", "rules", "rules.yaml") })
	t.Run("TestRules", func(t *testing.T) { runIn(t, dir, promtool, "test", "rules", "rules_test.yaml") })
}

// TestEveryAlertIsUnitTested checks that promtool's unit tests make every alert fire at
// least once and stay quiet at least once.
func TestEveryAlertIsUnitTested(t *testing.T) {
	var file struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string           `json:"alertname"`
				ExpAlerts []map[string]any `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	data, err := os.ReadFile(unitTestFile)
	if err != nil {
		t.Fatal(err)
	}
	unmarshal(t, unitTestFile, data, &file)
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, test := range file.Tests {
		for _, c := range test.AlertRuleTest {
			if len(c.ExpAlerts) > 0 {
				fires[c.Alertname] = true
			} else {
				quiet[c.Alertname] = true
			}
		}
	}
	for _, a := range alerts(t) {
		if !fires[a.Alert] {
			t.Errorf("%s: no unit test in %s where it fires", a.Alert, unitTestFile)
		}
		if !quiet[a.Alert] {
			t.Errorf("%s: no unit test in %s where it stays quiet (exp_alerts: [])", a.Alert, unitTestFile)
		}
	}
}

// TestAnnotations checks that every alert says what happened, to which connection, and
// where its runbook is.
func TestAnnotations(t *testing.T) {
	headings := runbookHeadings(t)
	for _, a := range alerts(t) {
		if !strings.HasPrefix(a.Alert, "Tokenwarden") {
			t.Errorf("%s: alert names start with Tokenwarden", a.Alert)
		}
		if s := a.Labels["severity"]; s != "critical" && s != "warning" {
			t.Errorf("%s: severity %q, want critical or warning", a.Alert, s)
		}
		if a.Annotations["summary"] == "" || a.Annotations["description"] == "" {
			t.Errorf("%s: needs a summary and a description", a.Alert)
		}
		if !slices.Contains(connectionWide, a.Alert) &&
			!strings.Contains(a.Annotations["description"], "{{ $labels.namespace }}/{{ $labels.name }}") {
			t.Errorf("%s: the description does not name the connection as {{ $labels.namespace }}/{{ $labels.name }}",
				a.Alert)
		}
		anchor, ok := strings.CutPrefix(a.Annotations["runbook_url"], runbookBase)
		switch {
		case !ok:
			t.Errorf("%s: runbook_url %q is not a section of %s", a.Alert, a.Annotations["runbook_url"], runbookBase)
		case anchor != strings.ToLower(a.Alert):
			t.Errorf("%s: runbook_url points at #%s, want #%s", a.Alert, anchor, strings.ToLower(a.Alert))
		case !headings[anchor]:
			t.Errorf("%s: %s has no section %q for its runbook_url", a.Alert, runbookFile, a.Alert)
		}
	}
}

// runbookHeadings returns the anchors GitHub gives the headings of docs/alerts.md.
func runbookHeadings(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	punctuation := regexp.MustCompile(`[^a-z0-9 _-]`)
	for line := range strings.Lines(string(readFile(t, runbookFile))) {
		if title, ok := strings.CutPrefix(line, "## "); ok {
			slug := punctuation.ReplaceAllString(strings.ToLower(strings.TrimSpace(title)), "")
			out[strings.ReplaceAll(slug, " ", "-")] = true
		}
	}
	return out
}

func TestChartShipsTheSameRules(t *testing.T) {
	if !bytes.Equal(readFile(t, chartRulesFile), readFile(t, rulesFile)) {
		t.Errorf("%s differs from %s, the rules' one source: cp %s %s", chartRulesFile, rulesFile, rulesFile, chartRulesFile)
	}
}

// requireTool returns the absolute path of a tool built into bin/. Where it is missing the
// test is skipped, unless CI is set: there it fails.
func requireTool(t *testing.T, name, how string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join(root, "bin", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("SKIPPED: %s is missing; build it with `%s` (with CI set, this fails)", path, how)
		}
		t.Fatalf("%s is missing: build it with `%s` (%v)", path, how, err)
	}
	return path
}

// runIn runs a tool in dir and returns its standard output; it fails the test, with the
// tool's output, if the tool fails.
func runIn(t *testing.T, dir, tool string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = dir
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(tool), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}

// readFile reads a file given relative to the repository root.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func unmarshal(t *testing.T, what string, data []byte, v any) {
	t.Helper()
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("parsing %s: %v", what, err)
	}
}

// parseObjects splits a multi-document YAML stream into objects, skipping empty documents.
func parseObjects(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("parsing objects: %v", err)
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}
