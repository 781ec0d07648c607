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
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/testsupport"
)

// The controller's integration tests: a real kube-apiserver and etcd (envtest), the
// strict fake providers (httptest), real Secrets, and a manager started, stopped and
// restarted as in production.

var (
	ctx       context.Context
	cancel    context.CancelFunc
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    = Scheme
	// logs captures every manager's log output, for the leak scan.
	logs = &testsupport.Buffer{}
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controller Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(GinkgoWriter, logs)), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())
	// A 2-core CI machine under load takes longer than Gomega's 1 s default to show a
	// write; waiting longer only slows a failing test, never passes a wrong one.
	SetDefaultEventuallyTimeout(15 * time.Second)

	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: filepath.Join("..", "..", "bin", "k8s"),
	}
	// As OpenShift does by default: creating a Secret whose owner reference blocks the
	// owner's deletion needs update on oauthconnections/finalizers (the RBAC spec).
	testEnv.ControlPlane.GetAPIServer().Configure().Append("enable-admission-plugins", "OwnerReferencesPermissionEnforcement")
	var err error
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	cancel()
	Expect(testEnv.Stop()).To(Succeed())
})

// Every spec's connections are deleted when it ends, while its managers and fakes still run.
// Each spec starts its own manager, and a manager watches every namespace: a connection left
// behind went on asking its closed fake for tokens under every later spec's manager, and
// once the kernel handed that fake's port to a later spec's fake, the later spec counted a
// request it never caused ("reports a missing client Secret or key" failed so, in CI).
var _ = AfterEach(func() {
	Eventually(func(g Gomega) {
		all := &oauthv1alpha1.OAuthConnectionList{}
		g.Expect(k8sClient.List(ctx, all)).To(Succeed())
		for i := range all.Items {
			c := &all.Items[i]
			if c.DeletionTimestamp == nil {
				g.Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, c))).To(Succeed())
			}
			if len(c.Finalizers) > 0 {
				// A Retain connection whose manager was stopped keeps its finalizer.
				patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))
				g.Expect(client.IgnoreNotFound(k8sClient.Patch(ctx, c, patch))).To(Succeed())
			}
		}
		g.Expect(all.Items).To(BeEmpty())
	}).Should(Succeed())
})

// testManager is one running manager with the controller, as cmd/main.go wires it.
type testManager struct {
	cancel context.CancelFunc
	done   chan struct{}
}

type managerOption func(*OAuthConnectionReconciler)

// startManager starts a manager; stop it with stop(), as a restart or a crash would.
func startManager(opts ...managerOption) *testManager {
	GinkgoHelper()
	return startManagerWithConfig(cfg, opts...)
}

// startManagerWithConfig starts a manager that talks to the API server with restCfg.
func startManagerWithConfig(restCfg *rest.Config, opts ...managerOption) *testManager {
	GinkgoHelper()
	return startManagerWith(restCfg, CallbackOptions{}, "", opts...)
}

// startShard starts a manager serving the connections selector matches (all: "").
func startShard(restCfg *rest.Config, selector string, opts ...managerOption) *testManager {
	GinkgoHelper()
	return startManagerWith(restCfg, CallbackOptions{}, selector, opts...)
}

// startManagerWith starts a manager with the callback server callback configures, serving
// the connections selector matches (all: "").
func startManagerWith(restCfg *rest.Config, callback CallbackOptions, selector string, opts ...managerOption) *testManager {
	GinkgoHelper()
	mgr, err := NewManager(restCfg, ManagerOptions{
		Callback:            callback,
		Manager:             ctrl.Options{Metrics: metricsserver.Options{BindAddress: "0"}, Logger: logf.Log},
		Controller:          Options{MaxConcurrentReconciles: 4, SkipNameValidation: true},
		TokenRequestTimeout: 5 * time.Second,
		ConnectionSelector:  selector,
		Customize: func(r *OAuthConnectionReconciler) {
			// The specs see refreshes of tokens living a few seconds; the review's specs of
			// the 10-second floor itself run withProductionRequestGap.
			r.MinRequestGap = time.Second
			for _, o := range opts {
				o(r)
			}
		},
	})
	Expect(err).NotTo(HaveOccurred())
	mctx, mcancel := context.WithCancel(ctx)
	m := &testManager{cancel: mcancel, done: make(chan struct{})}
	go func() {
		defer GinkgoRecover()
		defer close(m.done)
		Expect(mgr.Start(mctx)).To(Succeed())
	}()
	return m
}

// withProductionRequestGap runs the manager with DefaultMinRequestGap, as shipped.
func withProductionRequestGap() managerOption {
	return func(r *OAuthConnectionReconciler) { r.MinRequestGap = 0 }
}

func (m *testManager) stop() {
	m.cancel()
	Eventually(m.done).WithTimeout(30 * time.Second).Should(BeClosed())
}

// newNamespace creates a namespace for one test.
func newNamespace() string {
	GinkgoHelper()
	ns := &corev1.Namespace{}
	ns.GenerateName = "tw-"
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}
