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
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const (
	chartDir  = "charts/tokenwarden"
	namespace = "tokenwarden-system"
)

// monitoring are the values that turn on everything the chart ships for monitoring.
var monitoring = []string{"--set", "serviceMonitor.enabled=true", "--set", "prometheusRule.enabled=true",
	"--set", "dashboards.enabled=true"}

// TestChart renders the chart with its monitoring values on, and checks that it ships the
// rules and the dashboard as they are in the repository, and a ServiceMonitor that selects
// the metrics Service and scrapes it as config/prometheus does; and, with its defaults,
// none of them.
func TestChart(t *testing.T) {
	helm := requireTool(t, "helm", "make helm")
	repo := repoRoot(t)
	runIn(t, repo, helm, append([]string{"lint", "--strict", chartDir}, monitoring...)...)

	defaults := parseObjects(t, runIn(t, repo, helm, "template", "tokenwarden", chartDir, "--namespace", namespace))
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule", "ConfigMap"} {
		if o := findKind(defaults, kind); o != nil {
			t.Errorf("the chart renders %s %s with its default values; monitoring is off by default", kind, o.GetName())
		}
	}

	objs := parseObjects(t, runIn(t, repo, helm, append([]string{"template", "tokenwarden", chartDir,
		"--namespace", namespace, "--set", "prometheusRule.labels.release=prometheus"}, monitoring...)...))

	promRule := find(t, objs, "PrometheusRule", "tokenwarden-alerts")
	if promRule != nil {
		if !reflect.DeepEqual(promRule.Object["spec"], rulesSpec(t)) {
			t.Errorf("the chart's PrometheusRule spec differs from %s", rulesFile)
		}
		if promRule.GetNamespace() != namespace || promRule.GetLabels()["release"] != "prometheus" {
			t.Errorf("PrometheusRule in namespace %q with labels %v, want %s and prometheusRule.labels",
				promRule.GetNamespace(), promRule.GetLabels(), namespace)
		}
	}

	dashboard := find(t, objs, "ConfigMap", "tokenwarden-dashboard")
	if dashboard != nil {
		data, _, _ := unstructured.NestedString(dashboard.Object, "data", "tokenwarden.json")
		if data != string(readFile(t, dashboardFile)) {
			t.Errorf("ConfigMap tokenwarden-dashboard does not hold %s as it is", dashboardFile)
		}
		if dashboard.GetLabels()["grafana_dashboard"] != "1" {
			t.Errorf("ConfigMap tokenwarden-dashboard has labels %v, want grafana_dashboard: \"1\" for Grafana's sidecar",
				dashboard.GetLabels())
		}
	}

	monitor := find(t, objs, "ServiceMonitor", "tokenwarden-controller-manager-metrics-monitor")
	service := find(t, objs, "Service", "tokenwarden-controller-manager-metrics-service")
	if monitor != nil && service != nil {
		selector, _, _ := unstructured.NestedStringMap(monitor.Object, "spec", "selector", "matchLabels")
		for k, v := range selector {
			if service.GetLabels()[k] != v {
				t.Errorf("the ServiceMonitor selects %s=%s, which the metrics Service does not have (%v)",
					k, v, service.GetLabels())
			}
		}
		kustomized := parseObjects(t, readFile(t, "config/prometheus/monitor.yaml"))
		got, _, _ := unstructured.NestedSlice(monitor.Object, "spec", "endpoints")
		want, _, _ := unstructured.NestedSlice(kustomized[0].Object, "spec", "endpoints")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("the chart's ServiceMonitor endpoints differ from config/prometheus/monitor.yaml's:\n%v\n%v", got, want)
		}
	}
}

// TestKustomizeComponent turns on the ServiceMonitor and the alerts component in a copy of
// config/ as the README says, uncommenting their lines in config/default, and checks what
// kustomize builds.
func TestKustomizeComponent(t *testing.T) {
	kustomize := requireTool(t, "kustomize", "make kustomize")
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "config"), os.DirFS(filepath.Join(root, "config"))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config", "default", "kustomization.yaml")
	kustomization, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"- ../prometheus\n", "components:\n", "- ../prometheus/alerts\n"} {
		if !bytes.Contains(kustomization, []byte("\n#"+line)) {
			t.Fatalf("config/default/kustomization.yaml has no line %q to uncomment, as the README says", "#"+line)
		}
		kustomization = bytes.Replace(kustomization, []byte("\n#"+line), []byte("\n"+line), 1)
	}
	writeFile(t, path, kustomization)

	objs := parseObjects(t, runIn(t, dir, kustomize, "build", "config/default"))
	promRule := find(t, objs, "PrometheusRule", "tokenwarden-alerts")
	if promRule != nil {
		if promRule.GetNamespace() != namespace {
			t.Errorf("PrometheusRule in namespace %q, want %q", promRule.GetNamespace(), namespace)
		}
		if !reflect.DeepEqual(promRule.Object["spec"], rulesSpec(t)) {
			t.Errorf("the component's PrometheusRule spec differs from %s", rulesFile)
		}
	}
	monitor := find(t, objs, "ServiceMonitor", "tokenwarden-controller-manager-metrics-monitor")
	service := find(t, objs, "Service", "tokenwarden-controller-manager-metrics-service")
	if monitor != nil && service != nil {
		selector, _, _ := unstructured.NestedStringMap(monitor.Object, "spec", "selector", "matchLabels")
		for k, v := range selector {
			if service.GetLabels()[k] != v {
				t.Errorf("the ServiceMonitor selects %s=%s, which the metrics Service does not have (%v)",
					k, v, service.GetLabels())
			}
		}
	}
}

// TestManagerDownMatchesTheJobs checks that TokenwardenManagerDown, and the dashboard,
// match the job that the shipped ServiceMonitors give the manager: the metrics Service's
// name, from make deploy and from the chart under several release names.
func TestManagerDownMatchesTheJobs(t *testing.T) {
	helm := requireTool(t, "helm", "make helm")
	kustomize := requireTool(t, "kustomize", "make kustomize")
	repo := repoRoot(t)

	var jobRegex string
	for _, a := range alerts(t) {
		if a.Alert == "TokenwardenManagerDown" {
			m := regexp.MustCompile(`job=~"([^"]+)"`).FindStringSubmatch(a.Expr)
			if m == nil {
				t.Fatalf("TokenwardenManagerDown matches no job: %s", a.Expr)
			}
			jobRegex = m[1]
		}
	}
	job := regexp.MustCompile("^(?:" + jobRegex + ")$")
	exprs, _ := dashboardQueries(t)
	for _, e := range exprs {
		for _, m := range regexp.MustCompile(`job=~"([^"]+)"`).FindAllStringSubmatch(e, -1) {
			if m[1] != jobRegex {
				t.Errorf("%s matches the job %q, TokenwardenManagerDown %q", dashboardFile, m[1], jobRegex)
			}
		}
	}

	services := map[string][]*unstructured.Unstructured{
		"make deploy": parseObjects(t, runIn(t, repo, kustomize, "build", "config/default")),
	}
	for _, release := range []string{"tokenwarden", "payments", "tokenwarden-prod"} {
		services["helm release "+release] = parseObjects(t, runIn(t, repo, helm, "template", release, chartDir,
			"--namespace", namespace))
	}
	for install, objs := range services {
		found := false
		for _, o := range objs {
			if o.GetKind() == "Service" && o.GetLabels()["control-plane"] == "controller-manager" {
				found = true
				if !job.MatchString(o.GetName()) {
					t.Errorf("%s: the metrics Service %s (the job's name) does not match %q", install, o.GetName(), jobRegex)
				}
			}
		}
		if !found {
			t.Errorf("%s renders no metrics Service", install)
		}
	}
	for _, other := range []string{"controller-manager-metrics-service", "other-controller-manager-metrics-service"} {
		if job.MatchString(other) {
			t.Errorf("%q matches another operator's job %s", jobRegex, other)
		}
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func findKind(objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	return nil
}

// find returns the object of that kind and name, failing the test if there is none.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Errorf("no %s/%s rendered", kind, name)
	return nil
}
