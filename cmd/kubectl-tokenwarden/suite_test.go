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
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// The plugin's tests run its commands in-process (runEnv) against a real kube-apiserver
// and etcd (envtest) with the CRD installed. No operator runs: the tests write the status
// that the operator would, through the status subresource.

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	ctx = context.Background()

	clusterOnce sync.Once
	clusterErr  error
	testEnv     *envtest.Environment
	// k8s is the tests' own client, as a cluster admin (adminConfig).
	k8s         client.WithWatch
	adminConfig *rest.Config
	// kubeconfig is a kubeconfig file for the plugin: context "envtest" (current) points at
	// the test API server, context "bogus" at a port where nothing listens.
	kubeconfig string
	tmpDir     string
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if testEnv != nil {
		if err := testEnv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping envtest:", err)
		}
	}
	if tmpDir != "" {
		_ = os.RemoveAll(tmpDir)
	}
	os.Exit(code)
}

// cluster starts the API server on first use, so that the tests that need none run
// without one.
func cluster(t testing.TB) client.WithWatch {
	t.Helper()
	clusterOnce.Do(func() { clusterErr = startCluster() })
	if clusterErr != nil {
		t.Fatalf("starting envtest (set KUBEBUILDER_ASSETS, or make envtest): %v", clusterErr)
	}
	return k8s
}

func startCluster() error {
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: filepath.Join("..", "..", "bin", "k8s"),
	}
	if _, err := testEnv.Start(); err != nil {
		return err
	}
	admin, err := testEnv.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	adminConfig = admin.Config()
	if k8s, err = client.NewWithWatch(adminConfig, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	if tmpDir, err = os.MkdirTemp("", "kubectl-tokenwarden-test-"); err != nil {
		return err
	}
	kubeconfig = filepath.Join(tmpDir, "kubeconfig")
	return writeKubeconfig(kubeconfig, "envtest", "team-a")
}

// writeKubeconfig writes a kubeconfig with the contexts "envtest" (namespace ns) and
// "bogus", current the one named.
func writeKubeconfig(path, current, ns string) error {
	rc := adminConfig
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: rc.Host, CertificateAuthorityData: rc.CAData}
	cfg.Clusters["bogus"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1", CertificateAuthorityData: rc.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: rc.CertData, ClientKeyData: rc.KeyData}
	cfg.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin", Namespace: ns}
	cfg.Contexts["bogus"] = &clientcmdapi.Context{Cluster: "bogus", AuthInfo: "admin"}
	cfg.CurrentContext = current
	return clientcmd.WriteToFile(*cfg, path)
}

// result is what one command printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// Clocks of the tests: goldenNow makes relative times in golden files stable.
var goldenNow = time.Date(2026, time.March, 14, 12, 0, 0, 0, time.UTC)

// testEnvAt is a fixed clock and no terminal.
func testEnvAt(now time.Time) env {
	return env{now: func() time.Time { return now }, isTerminal: func(io.Writer) bool { return false }}
}

// runWith runs the plugin in-process with e, against the test cluster unless args name
// a --kubeconfig of their own.
func runWith(e env, args ...string) result {
	if !hasFlag(args, "--kubeconfig") {
		args = append(args, "--kubeconfig", kubeconfig)
	}
	args = append(args, "--request-timeout", "20s")
	var stdout, stderr bytes.Buffer
	code := runEnv(e, args, &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// runAt runs the plugin with the golden clock.
func runAt(args ...string) result { return runWith(testEnvAt(goldenNow), args...) }

// runNow runs the plugin with the real clock (refresh compares with the operator's times).
func runNow(args ...string) result {
	return runWith(env{now: time.Now, isTerminal: func(io.Writer) bool { return false }}, args...)
}

// expectGolden compares got with testdata/name, or rewrites it with -update.
func expectGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

// namespace creates the namespace if it does not exist yet.
func namespace(t *testing.T, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := cluster(t).Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	return name
}

// connOption shapes a connection fixture: its spec, or the status the operator would write.
type connOption func(*oauthv1alpha1.OAuthConnection)

// connection is a valid connection of provider p.
func connection(ns, name string, p oauthv1alpha1.Provider, opts ...connOption) *oauthv1alpha1.OAuthConnection {
	c := &oauthv1alpha1.OAuthConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: oauthv1alpha1.OAuthConnectionSpec{
			Provider:        p,
			ClientSecretRef: oauthv1alpha1.ClientSecretReference{Name: "client"},
		},
	}
	switch p {
	case oauthv1alpha1.ProviderAura, oauthv1alpha1.ProviderGeneric:
		c.Spec.TokenURL = "https://auth.example.com/oauth/token"
	}
	switch p {
	case oauthv1alpha1.ProviderAura, oauthv1alpha1.ProviderAstonClub, oauthv1alpha1.ProviderAurinko:
		c.Spec.GrantSecretRef = &oauthv1alpha1.GrantSecretReference{Name: oauthv1alpha1.SecretName(name + "-grant")}
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func condition(typ string, status metav1.ConditionStatus, reason, message string, since time.Time) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message,
		LastTransitionTime: metav1.NewTime(since), ObservedGeneration: 1}
}

// ready sets Ready as the operator does for a valid token, and Stalled False.
func ready(reason, message string, since time.Time) connOption {
	return withConditions(
		condition(oauthv1alpha1.ConditionReady, metav1.ConditionTrue, reason, message, since),
		condition(oauthv1alpha1.ConditionStalled, metav1.ConditionFalse, oauthv1alpha1.ReasonProgressing,
			"No human action needed", since))
}

// notReady sets Ready False with the reason, and Stalled False.
func notReady(reason, message string, since time.Time) connOption {
	return withConditions(
		condition(oauthv1alpha1.ConditionReady, metav1.ConditionFalse, reason, message, since),
		condition(oauthv1alpha1.ConditionStalled, metav1.ConditionFalse, oauthv1alpha1.ReasonProgressing,
			"No human action needed", since))
}

// stalled sets Ready False and Stalled True, both with the reason.
func stalled(reason, message string, since time.Time) connOption {
	return withConditions(
		condition(oauthv1alpha1.ConditionReady, metav1.ConditionFalse, reason, message, since),
		condition(oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, reason, message, since))
}

func withConditions(conds ...metav1.Condition) connOption {
	return func(c *oauthv1alpha1.OAuthConnection) {
		c.Status.Conditions = conds
		c.Status.ObservedGeneration = 1
		if c.Status.SecretName == "" {
			c.Status.SecretName = c.Name
		}
	}
}

func withStatus(f func(*oauthv1alpha1.OAuthConnectionStatus)) connOption {
	return func(c *oauthv1alpha1.OAuthConnection) { f(&c.Status) }
}

// token sets the status of a current token: obtained at, expiring at (zero: never),
// next refresh at (zero: none).
func token(obtained, expires, next time.Time) connOption {
	opt := func(t time.Time) *metav1.Time {
		if t.IsZero() {
			return nil
		}
		mt := metav1.NewTime(t)
		return &mt
	}
	return withStatus(func(s *oauthv1alpha1.OAuthConnectionStatus) {
		s.TokenType = "Bearer"
		s.LastRefreshTime, s.ExpiresAt, s.NextRefreshTime = opt(obtained), opt(expires), opt(next)
	})
}

// create creates the connection and writes its status, as the operator would; the test
// deletes it when it ends, so that -A sees only the current test's connections.
func create(t *testing.T, c *oauthv1alpha1.OAuthConnection) *oauthv1alpha1.OAuthConnection {
	t.Helper()
	k := cluster(t)
	status := *c.Status.DeepCopy()
	if err := k.Create(ctx, c); err != nil {
		t.Fatalf("creating %s/%s: %v", c.Namespace, c.Name, err)
	}
	t.Cleanup(func() {
		if err := k.Delete(ctx, c); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting %s/%s: %v", c.Namespace, c.Name, err)
		}
	})
	if status.Conditions != nil || status.LastRefreshTime != nil {
		c.Status = status
		if err := k.Status().Update(ctx, c); err != nil {
			t.Fatalf("writing the status of %s/%s: %v", c.Namespace, c.Name, err)
		}
	}
	return c
}

// createSecret creates a workload Secret of the connection, labelled as the operator does.
func createSecret(t *testing.T, ns, connName string, data map[string]string) {
	t.Helper()
	k := cluster(t)
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: connName, Labels: map[string]string{
			oauthv1alpha1.ManagedByLabel: oauthv1alpha1.ManagedByValue, oauthv1alpha1.ConnectionLabel: connName}},
		StringData: data,
	}
	if err := k.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := k.Delete(ctx, s); err != nil && !apierrors.IsNotFound(err) {
			t.Error(err)
		}
	})
}
