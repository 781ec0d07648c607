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

// Package browser holds the end-to-end tests of browser onboarding (spec.authorization):
// a real headless Chromium opens the links in status.authorizationURL, logs in at the
// strict fake providers' pages and lands on the operator's callback pages, against a
// real kube-apiserver (envtest) and the manager exactly as production builds it.
package browser

import (
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/controller"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
	"github.com/tokenwarden/tokenwarden/internal/testsupport"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

var (
	ctx       context.Context
	cancel    context.CancelFunc
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	// logs captures every manager's log output, for the leak scan.
	logs = &testsupport.Buffer{}
	// front is the callback URL every connection's redirectURI names: the Ingress in
	// front of the replicas' callback servers.
	front *frontDoor
	// primary is the manager replica the specs run against; a restart replaces it.
	primary *replica
	// fakes are the suite's four providers, registered with {front}/callback.
	fakes map[oauthv1alpha1.Provider]*providertest.Server
	// browserCtx is the one Chromium of the suite; each person gets a browser context
	// (a separate cookie jar) in it.
	browserCtx context.Context
)

func TestBrowserOnboarding(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Browser onboarding Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(GinkgoWriter, logs)), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())
	// A 2-core CI machine under load takes longer than Gomega's 1 s default to show a
	// write; waiting longer only slows a failing test, never passes a wrong one.
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)

	startBrowser()

	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: filepath.Join("..", "..", "bin", "k8s"),
	}
	var err error
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cfg, client.Options{Scheme: controller.Scheme})
	Expect(err).NotTo(HaveOccurred())

	front = newFrontDoor()
	DeferCleanup(front.close)
	redirect := providertest.Options{RedirectURI: front.callbackURL()}
	fakes = map[oauthv1alpha1.Provider]*providertest.Server{
		oauthv1alpha1.ProviderAura:      track(providertest.NewAura(redirect)),
		oauthv1alpha1.ProviderAstonClub: track(providertest.NewAstonClub(redirect)),
		oauthv1alpha1.ProviderAurinko:   track(providertest.NewAurinko(redirect)),
		oauthv1alpha1.ProviderGeneric: track(providertest.NewGeneric(redirect,
			oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm)),
	}

	primary = startReplica("replica-a")
	front.route(primary, primary)
})

var _ = AfterSuite(func() {
	if primary != nil {
		primary.stop()
	}
	cancel()
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// startBrowser starts the suite's one headless Chromium. CI installs it (Debian's
// chromium package); a machine without it fails the suite rather than skip it.
func startBrowser() {
	GinkgoHelper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		path, err = exec.LookPath("chromium-browser")
	}
	Expect(err).NotTo(HaveOccurred(),
		"the browser onboarding tests need Chromium: install Debian's chromium package (apt-get install chromium)")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(allocCtx)
	DeferCleanup(func() {
		bcancel()
		allocCancel()
	})
	// The first action binds the browser's life to its context, so it runs on bctx itself
	// and is bounded here instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	Eventually(started).WithTimeout(60*time.Second).Should(Receive(BeNil()), "Chromium did not start")
	browserCtx = bctx
}
