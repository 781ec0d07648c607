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
	t.Run("CallbackObjects", func(t *testing.T) { createCallbackObjects(t, c, helm) })
}

// createCallbackObjects creates the objects that callback.enabled changes or adds (the
// Deployment, the callback Service and Ingress), rendered for a third release in its own
// namespace, with strict field validation.
func createCallbackObjects(t *testing.T, c client.Client, helm string) {
	const callbackRelease, callbackNamespace = "callback", "callback-system"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": callbackNamespace},
	}}
	create(ctx, t, c, ns)
	args := append([]string{"template", callbackRelease, chartDir, "--namespace", callbackNamespace}, callbackValues...)
	var created int
	for _, o := range parse(t, "helm template", run(t, helm, args...)) {
		switch o.GetKind() {
		case "Deployment", "Service", "Ingress":
			create(ctx, t, c, o)
			created++
		}
	}
	if created != 4 { // the Deployment, the metrics and callback Services, the Ingress
		t.Errorf("created %d Deployments, Services and Ingresses of the callback release, want 4", created)
	}
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
	out, err := runErr(t, tool, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runErr is run that returns the tool's failure, with its output, instead of failing.
func runErr(t *testing.T, tool string, args ...string) ([]byte, error) {
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
		return nil, fmt.Errorf("%s %s: %w\n%s%s", tool, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes(), nil
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

// callbackValues turn on the callback server and its Ingress, with the placeholder URL of
// config/components/callback.
var callbackValues = []string{
	"--set", "callback.enabled=true",
	"--set", "callback.url=https://connect.example.com",
	"--set", "callback.ingress.enabled=true",
}

// TestCallbackOffByDefault checks that the default values render no callback server: no
// flag, no port, no Service, no Ingress.
func TestCallbackOffByDefault(t *testing.T) {
	helm := requireFile(t, filepath.Join(root, "bin", "helm"), "build it with `make helm`")
	rendered := parse(t, "helm template", run(t, helm, "template", release, chartDir, "--namespace", namespace))
	for _, o := range rendered {
		if o.GetKind() == "Ingress" || o.GetKind() == "NetworkPolicy" || strings.Contains(o.GetName(), "callback") {
			t.Errorf("the default values render %s", key(o))
		}
	}
	deployment := find(t, rendered, "Deployment", release+"-controller-manager")
	if deployment == nil {
		return
	}
	container := managerContainer(t, deployment)
	if container == nil {
		return
	}
	args, _, _ := unstructured.NestedStringSlice(container, "args")
	for _, arg := range args {
		if strings.HasPrefix(arg, "--callback-") {
			t.Errorf("the default values pass %s", arg)
		}
	}
	if port := containerPort(container, "callback"); port != nil {
		t.Errorf("the default values open the container port %v", port)
	}
}

// TestCallbackEnabled renders callbackValues and checks them against the kustomize
// component config/components/callback, enabled in a copy of config/ as its comment in
// config/default/kustomization.yaml says: the same flags and port, the same Service, and an
// Ingress with the same two paths and nothing else.
func TestCallbackEnabled(t *testing.T) {
	helm := requireFile(t, filepath.Join(root, "bin", "helm"), "build it with `make helm`")
	kustomize := requireFile(t, filepath.Join(root, "bin", "kustomize"), "install it with `make kustomize`")
	rendered := parse(t, "helm template", run(t, helm, append([]string{"template", release, chartDir,
		"--namespace", namespace}, callbackValues...)...))
	kustomized := parse(t, "kustomize build", run(t, kustomize, "build", kustomizeWithCallback(t)))

	deployment := find(t, rendered, "Deployment", release+"-controller-manager")
	kustomizedDeployment := find(t, kustomized, "Deployment", release+"-controller-manager")
	if deployment == nil || kustomizedDeployment == nil {
		return
	}
	container := managerContainer(t, deployment)
	if container == nil {
		return
	}
	args, _, _ := unstructured.NestedStringSlice(container, "args")
	for _, want := range []string{"--callback-bind-address=:8082", "--callback-url=https://connect.example.com"} {
		if !slices.Contains(args, want) {
			t.Errorf("manager args %v lack %s", args, want)
		}
	}
	if port := containerPort(container, "callback"); port == nil || fmt.Sprint(port["containerPort"]) != "8082" {
		t.Errorf("the container port named callback is %v, want 8082", port)
	}
	if kc := managerContainer(t, kustomizedDeployment); kc != nil {
		expectSame(t, "manager container .args with the callback component", container["args"], kc["args"])
		expectSame(t, "manager container .ports with the callback component", container["ports"], kc["ports"])
	}

	name := release + "-callback"
	service := find(t, rendered, "Service", name)
	if service == nil {
		return
	}
	if k := find(t, kustomized, "Service", name); k != nil {
		got, _, _ := unstructured.NestedFieldNoCopy(service.Object, "spec", "ports")
		want, _, _ := unstructured.NestedFieldNoCopy(k.Object, "spec", "ports")
		expectSame(t, "Service "+name+" .spec.ports, want config/components/callback's", got, want)
	}
	podLabels, _, _ := unstructured.NestedStringMap(deployment.Object, "spec", "template", "metadata", "labels")
	selector, _, _ := unstructured.NestedStringMap(service.Object, "spec", "selector")
	if len(selector) == 0 {
		t.Errorf("the callback Service's selector is empty")
	}
	for k, v := range selector {
		if podLabels[k] != v {
			t.Errorf("the callback Service selects %s=%s, which the manager Pod does not have", k, v)
		}
	}

	ingress := find(t, rendered, "Ingress", name)
	if ingress == nil {
		return
	}
	type route struct{ host, path, pathType, service, port string }
	var routes []route
	rules, _, _ := unstructured.NestedSlice(ingress.Object, "spec", "rules")
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		paths, _, _ := unstructured.NestedSlice(rule, "http", "paths")
		for _, p := range paths {
			path, _ := p.(map[string]any)
			svc, _, _ := unstructured.NestedString(path, "backend", "service", "name")
			port, _, _ := unstructured.NestedString(path, "backend", "service", "port", "name")
			routes = append(routes, route{
				fmt.Sprint(rule["host"]), fmt.Sprint(path["path"]), fmt.Sprint(path["pathType"]), svc, port,
			})
		}
	}
	expectSame(t, "Ingress "+name+" routes, want only the callback server's two paths", routes, []route{
		{"connect.example.com", "/connect/", "Prefix", name, "http"},
		{"connect.example.com", "/callback", "Exact", name, "http"},
	})
	tls, _, _ := unstructured.NestedSlice(ingress.Object, "spec", "tls")
	expectSame(t, "Ingress "+name+" .spec.tls", tls, []any{map[string]any{
		"hosts": []any{"connect.example.com"}, "secretName": release + "-callback-tls",
	}})
	if k := find(t, kustomized, "Ingress", name); k != nil {
		expectSame(t, "Ingress "+name+" .spec, want config/components/callback's", ingress.Object["spec"], k.Object["spec"])
	}
}

// TestCallbackURLChecked checks that helm refuses a callback server without a usable URL,
// with a message that says what to set.
func TestCallbackURLChecked(t *testing.T) {
	helm := requireFile(t, filepath.Join(root, "bin", "helm"), "build it with `make helm`")
	for _, tc := range []struct {
		name   string
		values []string
		err    string // empty: renders, and passes want
		want   string
	}{
		{name: "enabled without url fails", values: []string{"callback.enabled=true"},
			err: "callback.enabled is true but callback.url is empty: set callback.url to the external https URL"},
		{name: "http to a public host fails",
			values: []string{"callback.enabled=true", "callback.url=http://connect.example.com"},
			err: `callback.url "http://connect.example.com" must be an https URL ` +
				`(http only to localhost, 127.0.0.1 or [::1])`},
		{name: "a URL with a path fails",
			values: []string{"callback.enabled=true", "callback.url=https://example.com/tokenwarden"},
			err:    `callback.url "https://example.com/tokenwarden" must be a base URL with a host and no path`},
		{name: "an Ingress for a loopback URL fails", values: []string{"callback.enabled=true",
			"callback.url=http://127.0.0.1:8082", "callback.ingress.enabled=true"},
			err: "callback.ingress.enabled needs an https callback.url"},
		{name: "http to 127.0.0.1 renders", values: []string{"callback.enabled=true", "callback.url=http://127.0.0.1:8082"},
			want: "--callback-url=http://127.0.0.1:8082"},
		{name: "http to localhost renders", values: []string{"callback.enabled=true", "callback.url=http://localhost:8082"},
			want: "--callback-url=http://localhost:8082"},
		{name: "a trailing slash is dropped",
			values: []string{"callback.enabled=true", "callback.url=https://connect.example.com/"},
			want:   "--callback-url=https://connect.example.com\n"},
		{name: "a url without enabled renders nothing", values: []string{"callback.url=https://connect.example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"template", release, chartDir, "--namespace", namespace}
			for _, v := range tc.values {
				args = append(args, "--set", v)
			}
			out, err := runErr(t, helm, args...)
			switch {
			case tc.err != "" && err == nil:
				t.Errorf("helm template %v rendered, want the error %q", tc.values, tc.err)
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Errorf("helm template %v failed with\n%v\nwant %q", tc.values, err, tc.err)
			case tc.err == "" && err != nil:
				t.Errorf("helm template %v: %v", tc.values, err)
			case tc.want == "" && strings.Contains(string(out), "--callback"):
				t.Errorf("helm template %v renders --callback flags, want none", tc.values)
			case tc.want != "" && !strings.Contains(string(out), tc.want):
				t.Errorf("helm template %v does not render %q", tc.values, tc.want)
			}
		})
	}
}

// kustomizeWithCallback copies config/ into a temporary directory, enables the component
// config/components/callback there by uncommenting `components:` and its line in
// config/default/kustomization.yaml, and returns that config/default.
func kustomizeWithCallback(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "config"), os.DirFS(filepath.Join(root, "config"))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config", "default", "kustomization.yaml")
	kustomization := readFile(t, path)
	for _, line := range []string{"components:\n", "- ../components/callback\n"} {
		if !bytes.Contains(kustomization, []byte("\n#"+line)) {
			t.Fatalf("config/default/kustomization.yaml has no line %q to uncomment", "#"+line)
		}
		kustomization = bytes.Replace(kustomization, []byte("\n#"+line), []byte("\n"+line), 1)
	}
	if err := os.WriteFile(path, kustomization, 0o600); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "config", "default")
}

// containerPort returns the port of container c with that name, or nil.
func containerPort(c map[string]any, name string) map[string]any {
	ports, _, _ := unstructured.NestedSlice(c, "ports")
	for _, p := range ports {
		if m, ok := p.(map[string]any); ok && m["name"] == name {
			return m
		}
	}
	return nil
}
