/*
Copyright 2026.

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

// Package chart checks the Helm chart in charts/tokenwarden against the kustomize install
// (config/default): it renders both, compares the objects that matter, and creates the
// rendered objects in a real API server (envtest), which validates each of them.
package chart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

const (
	// root is the repository root, seen from this package's directory.
	root      = "../.."
	release   = "tokenwarden"
	namespace = "tokenwarden-system"
	imageRepo = "registry.example.com/tokenwarden"
	imageTag  = "v0.1.0"
	chartDir  = "charts/tokenwarden"
	crdFile   = "oauth.tokenwarden.io_oauthconnections.yaml"
)

// compared lists, for each kind that the kustomize install holds, the fields of an object
// that the chart must render exactly as kustomize does; an empty path is the whole object.
// Names, labels and (for the manager container) the image are compared separately. A kind
// missing here fails the test, so that a new kind in config/default gets a decision.
var compared = map[string][][]string{
	"CustomResourceDefinition":       {{}},
	"ClusterRole":                    {{"rules"}},
	"Role":                           {{"rules"}},
	"ClusterRoleBinding":             {{"roleRef"}, {"subjects"}},
	"RoleBinding":                    {{"roleRef"}, {"subjects"}},
	"MutatingAdmissionPolicy":        {{"spec"}},
	"MutatingAdmissionPolicyBinding": {{"spec"}},
	"ServiceAccount":                 nil,
	"Service":                        {{"spec", "ports"}, {"spec", "type"}},
	"Deployment": {
		{"spec", "replicas"},
		{"spec", "template", "metadata", "annotations"},
		{"spec", "template", "spec", "securityContext"},
		{"spec", "template", "spec", "serviceAccountName"},
		{"spec", "template", "spec", "terminationGracePeriodSeconds"},
		{"spec", "template", "spec", "volumes"},
		{"spec", "template", "spec", "initContainers"},
	},
}

func TestChart(t *testing.T) {
	helm := requireFile(t, filepath.Join(root, "bin", "helm"),
		"build it with `make helm` (cd hack/helm && go build -trimpath -o ../../bin/helm helm.sh/helm/v4/cmd/helm)")
	kustomize := requireFile(t, filepath.Join(root, "bin", "kustomize"), "install it with `make kustomize`")

	run(t, helm, "lint", "--strict", chartDir)
	rendered := parse(t, "helm template", run(t, helm, "template", release, chartDir,
		"--namespace", namespace, "--include-crds",
		"--set", "image.repository="+imageRepo, "--set", "image.tag="+imageTag))
	kustomized := parse(t, "kustomize build", run(t, kustomize, "build", "config/default"))

	t.Run("CRDIsACopy", func(t *testing.T) {
		want := readFile(t, filepath.Join(root, "config", "crd", "bases", crdFile))
		got := readFile(t, filepath.Join(root, chartDir, "crds", crdFile))
		if !bytes.Equal(got, want) {
			t.Errorf("%s/crds/%s differs from config/crd/bases/%s: copy it again after `make manifests`",
				chartDir, crdFile, crdFile)
		}
	})
	t.Run("ManagerRoleIsGenerated", func(t *testing.T) {
		role := parse(t, "config/rbac/role.yaml", readFile(t, filepath.Join(root, "config", "rbac", "role.yaml")))
		if len(role) != 1 {
			t.Fatalf("config/rbac/role.yaml holds %d objects, want 1", len(role))
		}
		got := find(t, rendered, "ClusterRole", release+"-manager-role")
		expectSame(t, "ClusterRole "+got.GetName()+" rules, want config/rbac/role.yaml's",
			got.Object["rules"], role[0].Object["rules"])
	})
	t.Run("MatchesKustomize", func(t *testing.T) { compareWithKustomize(t, rendered, kustomized) })
	t.Run("Deployment", func(t *testing.T) { checkDeployment(t, rendered, kustomized) })
	t.Run("AppliesToAPIServer", func(t *testing.T) { applyToAPIServer(t, helm, rendered) })
	t.Run("Shards", func(t *testing.T) { checkShards(t, helm, rendered) })
}

// checkShards renders two shards: one Deployment each, named after the shard, each passing
// its selector to --connection-selector and selecting only its own Pods, with the rest as
// the one Deployment renders it; the metrics Service selects the Pods of both.
func checkShards(t *testing.T, helm string, unsharded []*unstructured.Unstructured) {
	shards := map[string]string{"a": "tokenwarden.io/shard=a", "rest": "tokenwarden.io/shard!=a"}
	rendered := parse(t, "helm template with shards", run(t, helm, "template", release, chartDir,
		"--namespace", namespace, "--set", "image.repository="+imageRepo, "--set", "image.tag="+imageTag,
		"--set-json", `shards=[{"name":"a","selector":"tokenwarden.io/shard=a"},`+
			`{"name":"rest","selector":"tokenwarden.io/shard!=a"}]`))
	one := find(t, unsharded, "Deployment", release+"-controller-manager")
	svc := find(t, rendered, "Service", release+"-controller-manager-metrics-service")
	if one == nil || svc == nil {
		return
	}
	var deployments []string
	for _, o := range rendered {
		if o.GetKind() == "Deployment" {
			deployments = append(deployments, o.GetName())
		}
	}
	slices.Sort(deployments)
	expectSame(t, "the Deployments", deployments,
		[]string{release + "-controller-manager-a", release + "-controller-manager-rest"})
	svcSelector, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
	oneContainer := managerContainer(t, one)
	for name, selector := range shards {
		d := find(t, rendered, "Deployment", release+"-controller-manager-"+name)
		if d == nil {
			continue
		}
		c := managerContainer(t, d)
		if c == nil || oneContainer == nil {
			continue
		}
		args, _ := c["args"].([]any)
		wantArgs := append(slices.Clone(oneContainer["args"].([]any)), "--connection-selector="+selector)
		expectSame(t, "shard "+name+" args", args, wantArgs)
		podLabels, _, _ := unstructured.NestedStringMap(d.Object, "spec", "template", "metadata", "labels")
		matchLabels, _, _ := unstructured.NestedStringMap(d.Object, "spec", "selector", "matchLabels")
		if matchLabels["tokenwarden.io/shard"] != name {
			t.Errorf("shard %s's Deployment selects %v: it would adopt another shard's Pods", name, matchLabels)
		}
		for k, v := range svcSelector {
			if podLabels[k] != v {
				t.Errorf("the metrics Service selects %s=%s, which shard %s's Pods do not have", k, v, name)
			}
		}
		for _, field := range []string{"resources", "env", "securityContext", "livenessProbe", "readinessProbe"} {
			expectSame(t, "shard "+name+" container ."+field+", want the one Deployment's", c[field], oneContainer[field])
		}
	}
}

// compareWithKustomize checks that the chart renders the kustomize install's objects, but
// its Namespace, with the same contents.
func compareWithKustomize(t *testing.T, rendered, kustomized []*unstructured.Unstructured) {
	want := make([]string, 0, len(kustomized))
	got := make([]string, 0, len(rendered))
	for _, o := range kustomized {
		if o.GetKind() != "Namespace" {
			want = append(want, key(o))
		}
	}
	for _, o := range rendered {
		got = append(got, key(o))
	}
	slices.Sort(want)
	slices.Sort(got)
	expectSame(t, "kind/name of the objects, want kustomize's but its Namespace", got, want)

	for _, k := range kustomized {
		if k.GetKind() == "Namespace" {
			continue
		}
		paths, ok := compared[k.GetKind()]
		if !ok {
			t.Errorf("kustomize renders a %s, which this test does not compare yet: add it to `compared`", k.GetKind())
			continue
		}
		h := find(t, rendered, k.GetKind(), k.GetName())
		if h == nil {
			continue
		}
		for _, path := range paths {
			g, _, _ := unstructured.NestedFieldNoCopy(h.Object, path...)
			w, _, _ := unstructured.NestedFieldNoCopy(k.Object, path...)
			if len(path) == 0 {
				g, w = h.Object, k.Object
			}
			expectSame(t, fmt.Sprintf("%s .%s, want kustomize's", key(k), strings.Join(path, ".")), g, w)
		}
	}
}

// checkDeployment compares the manager container and checks that the Service selects
// the manager's Pods.
func checkDeployment(t *testing.T, rendered, kustomized []*unstructured.Unstructured) {
	name := release + "-controller-manager"
	h := find(t, rendered, "Deployment", name)
	k := find(t, kustomized, "Deployment", name)
	if h == nil || k == nil {
		return
	}
	hc, kc := managerContainer(t, h), managerContainer(t, k)
	if hc == nil || kc == nil {
		return
	}
	if got, want := hc["image"], imageRepo+":"+imageTag; got != want {
		t.Errorf("manager image = %v, want %s", got, want)
	}
	for _, field := range []string{"command", "args", "securityContext", "livenessProbe", "readinessProbe",
		"startupProbe", "resources", "ports", "env", "volumeMounts"} {
		expectSame(t, "manager container ."+field+", want kustomize's", hc[field], kc[field])
	}
	if err := checkFields(hc, []string{"name", "image", "imagePullPolicy", "command", "args", "securityContext",
		"livenessProbe", "readinessProbe", "startupProbe", "resources", "ports", "env", "volumeMounts"}); err != nil {
		t.Errorf("manager container: %v", err)
	}

	sa, _, _ := unstructured.NestedString(h.Object, "spec", "template", "spec", "serviceAccountName")
	find(t, rendered, "ServiceAccount", sa)

	podLabels, _, _ := unstructured.NestedStringMap(h.Object, "spec", "template", "metadata", "labels")
	selector, _, _ := unstructured.NestedStringMap(h.Object, "spec", "selector", "matchLabels")
	svc := find(t, rendered, "Service", release+"-controller-manager-metrics-service")
	if svc == nil {
		return
	}
	svcSelector, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
	for what, sel := range map[string]map[string]string{"Deployment": selector, "metrics Service": svcSelector} {
		if len(sel) == 0 {
			t.Errorf("the %s's selector is empty", what)
		}
		for k, v := range sel {
			if podLabels[k] != v {
				t.Errorf("the %s selects %s=%s, which the manager Pod does not have (its labels: %v)",
					what, k, v, podLabels)
			}
		}
	}
}

// applyToAPIServer creates every rendered object in a real API server, CRDs first, with
// strict field validation, checks that the admission policy fills provider defaults, and
// then installs and uninstalls the chart with helm under another release name.
func applyToAPIServer(t *testing.T, helm string, rendered []*unstructured.Unstructured) {
	g := NewWithT(t)
	logf.SetLogger(logr.Discard())
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(root, "bin", "k8s")
	}
	requireFile(t, filepath.Join(assets, "kube-apiserver"), "build it with `make envtest`")
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting envtest: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping envtest: %v", err)
		}
	})
	c, err := client.New(cfg, client.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": namespace},
	}}
	g.Expect(c.Create(ctx, ns)).To(Succeed())

	// CRDs first, established before anything else.
	for _, o := range rendered {
		if o.GetKind() == "CustomResourceDefinition" {
			create(ctx, t, c, o)
		}
	}
	for _, o := range rendered {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(o.GroupVersionKind())
		g.Eventually(func(g Gomega) {
			g.Expect(c.Get(ctx, client.ObjectKeyFromObject(o), crd)).To(Succeed())
			conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
			g.Expect(conditions).To(ContainElement(And(
				HaveKeyWithValue("type", "Established"), HaveKeyWithValue("status", "True"))))
		}).WithContext(ctx).WithTimeout(30*time.Second).Should(Succeed(), "CRD %s is not Established", o.GetName())
	}
	for _, o := range rendered {
		if o.GetKind() == "CustomResourceDefinition" {
			continue
		}
		namespaced, err := c.IsObjectNamespaced(o)
		g.Expect(err).NotTo(HaveOccurred(), "%s: unknown to the API server", key(o))
		switch {
		case namespaced && o.GetNamespace() != namespace:
			t.Errorf("%s is namespaced but rendered in namespace %q, want %q", key(o), o.GetNamespace(), namespace)
		case !namespaced && o.GetNamespace() != "":
			t.Errorf("%s is cluster-scoped but rendered with namespace %q", key(o), o.GetNamespace())
		}
		create(ctx, t, c, o)
	}

	// The MutatingAdmissionPolicy is in force once the API server has loaded it: then an
	// Aurora connection created without an environment gets Live.
	if find(t, rendered, "MutatingAdmissionPolicy", release+"-provider-defaults") == nil {
		return
	}
	g.Eventually(func(g Gomega) {
		conn := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "oauth.tokenwarden.io/v1alpha1",
			"kind":       "OAuthConnection",
			"metadata":   map[string]any{"name": "aurora", "namespace": namespace},
			"spec": map[string]any{
				"provider":        "Aurora",
				"clientSecretRef": map[string]any{"name": "aurora-client"},
			},
		}}
		g.Expect(c.Create(ctx, conn, client.DryRunAll)).To(Succeed())
		environment, _, _ := unstructured.NestedString(conn.Object, "spec", "environment")
		g.Expect(environment).To(Equal("Live"))
	}).WithContext(ctx).WithTimeout(30*time.Second).WithPolling(200*time.Millisecond).Should(Succeed(),
		"the MutatingAdmissionPolicy did not default an Aurora connection's environment to Live")

	t.Run("HelmInstall", func(t *testing.T) { helmInstall(ctx, t, env, c, helm) })
}

// helmInstall runs `helm install` and `helm uninstall` of a second release, "other", in
// its own namespace beside the first: its objects are named other-tokenwarden-..., and
// helm leaves the CRD, which is already there, alone.
func helmInstall(ctx context.Context, t *testing.T, env *envtest.Environment, c client.Client, helm string) {
	g := NewWithT(t)
	user, err := env.AddUser(envtest.User{Name: "helm", Groups: []string{"system:masters"}}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	kubeconfig, err := user.KubeConfig()
	g.Expect(err).NotTo(HaveOccurred())
	kubeconfigFile := filepath.Join(t.TempDir(), "kubeconfig")
	g.Expect(os.WriteFile(kubeconfigFile, kubeconfig, 0o600)).To(Succeed())

	const otherRelease, otherNamespace = "other", "other-system"
	run(t, helm, "install", otherRelease, chartDir, "--kubeconfig", kubeconfigFile,
		"--namespace", otherNamespace, "--create-namespace",
		"--set", "image.repository="+imageRepo, "--set", "image.tag="+imageTag)
	deployment := &unstructured.Unstructured{}
	deployment.SetAPIVersion("apps/v1")
	deployment.SetKind("Deployment")
	name := client.ObjectKey{Namespace: otherNamespace, Name: otherRelease + "-tokenwarden-controller-manager"}
	g.Expect(c.Get(ctx, name, deployment)).To(Succeed(), "helm install created no Deployment %s", name)
	sa, _, _ := unstructured.NestedString(deployment.Object, "spec", "template", "spec", "serviceAccountName")
	g.Expect(sa).To(Equal(otherRelease + "-tokenwarden-controller-manager"))

	run(t, helm, "uninstall", otherRelease, "--kubeconfig", kubeconfigFile, "--namespace", otherNamespace)
	g.Eventually(func() bool { return apierrors.IsNotFound(c.Get(ctx, name, deployment)) }).
		WithContext(ctx).WithTimeout(30*time.Second).Should(BeTrue(), "helm uninstall left the Deployment %s", name)
}

// create creates o with strict field validation: an unknown or duplicate field fails.
func create(ctx context.Context, t *testing.T, c client.Client, o *unstructured.Unstructured) {
	t.Helper()
	if err := c.Create(ctx, o.DeepCopy(), client.FieldValidation("Strict")); err != nil {
		t.Errorf("the API server rejects %s: %v", key(o), err)
	}
}

// managerContainer returns the Deployment's container named manager.
func managerContainer(t *testing.T, d *unstructured.Unstructured) map[string]any {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Errorf("%s has %d containers, want 1", key(d), len(containers))
	}
	for _, c := range containers {
		if m, ok := c.(map[string]any); ok && m["name"] == "manager" {
			return m
		}
	}
	t.Errorf("%s has no container named manager", key(d))
	return nil
}

// checkFields fails on a field of m that is not in known, so that a new field in the
// chart's container is compared (or knowingly left out) rather than missed.
func checkFields(m map[string]any, known []string) error {
	var unknown []string
	for f := range m {
		if !slices.Contains(known, f) {
			unknown = append(unknown, f)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("fields %v are not compared with kustomize's: compare them in checkDeployment", unknown)
	}
	return nil
}

func key(o *unstructured.Unstructured) string { return o.GetKind() + "/" + o.GetName() }

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

// expectSame fails if the chart's got differs from want (kustomize's unless said otherwise
// in what), printing both as JSON.
func expectSame(t *testing.T, what string, got, want any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	gj, _ := json.MarshalIndent(got, "", "  ")
	wj, _ := json.MarshalIndent(want, "", "  ")
	t.Errorf("%s: the chart differs\nchart:\n%s\nwant:\n%s", what, gj, wj)
}

// requireFile fails the test at once if path does not exist, saying how to make it.
func requireFile(t *testing.T, path, how string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing: %s (%v)", path, how, err)
	}
	return path
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// run runs a tool from the repository root, with Helm's directories in a temporary
// directory, and returns its standard output.
func run(t *testing.T, tool string, args ...string) []byte {
	t.Helper()
	bin, err := filepath.Abs(tool)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = root
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", tool, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}

// parse splits a multi-document YAML stream into objects, skipping empty documents.
func parse(t *testing.T, what string, data []byte) []*unstructured.Unstructured {
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
			t.Fatalf("parsing the output of %s: %v", what, err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}
