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

package browser

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/controller"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// actionTimeout bounds one browser action. A callback page waits up to 20 s for the
// code's exchange before it answers, so a click that lands there needs more than that.
const actionTimeout = 45 * time.Second

// ---- the manager replicas ----

// replica is one running manager with its own callback listener; every replica's
// callback URL is the front door's.
type replica struct {
	name   string
	url    *url.URL // where its callback server listens
	cancel context.CancelFunc
	done   chan struct{}
}

// startReplica starts a manager as cmd/main.go builds it, its callback server on a fresh
// loopback port behind the front door.
func startReplica(name string) *replica {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	mgr, err := controller.NewManager(cfg, controller.ManagerOptions{
		Manager: ctrl.Options{
			Metrics:                metricsserver.Options{BindAddress: "0"},
			HealthProbeBindAddress: "0",
			Logger:                 logf.Log.WithName(name),
		},
		Controller:          controller.Options{SkipNameValidation: true},
		TokenRequestTimeout: 5 * time.Second,
		Callback:            controller.CallbackOptions{Listener: ln, URL: front.url()},
		Customize: func(r *controller.OAuthConnectionReconciler) {
			// A forced refresh right after a connection is made is what re-authorization
			// starts from; the shipped 10 s floor would only slow it.
			r.MinRequestGap = time.Second
		},
	})
	Expect(err).NotTo(HaveOccurred())
	mctx, mcancel := context.WithCancel(ctx)
	r := &replica{
		name: name, url: &url.URL{Scheme: "http", Host: ln.Addr().String()},
		cancel: mcancel, done: make(chan struct{}),
	}
	go func() {
		defer GinkgoRecover()
		defer close(r.done)
		Expect(mgr.Start(mctx)).To(Succeed())
	}()
	return r
}

// stop stops the replica as a rollout or a crash would, and waits for it.
func (r *replica) stop() {
	GinkgoHelper()
	r.cancel()
	Eventually(r.done).WithTimeout(60 * time.Second).Should(BeClosed())
}

// ---- the front door: the Ingress in front of the callback servers ----

// frontDoor is a reverse proxy at the one callback URL. It sends links to one replica
// and redirects back to another (or the same), records the URL of every redirect back
// exactly as the provider sent it, and can hold one back instead of forwarding it, so
// that a test can replay it or take it to another browser.
type frontDoor struct {
	srv *httptest.Server

	mu                  sync.Mutex
	connectTo, callback *replica
	hold                bool
	callbacks           []string
	// hits are "path replica" for every request forwarded.
	hits []string
}

func newFrontDoor() *frontDoor {
	f := &frontDoor{}
	f.srv = httptest.NewServer(f)
	return f
}

func (f *frontDoor) close() { f.srv.Close() }

// url is the callback server's external base URL.
func (f *frontDoor) url() string { return f.srv.URL }

// callbackURL is the redirect URI registered with the providers.
func (f *frontDoor) callbackURL() string { return f.srv.URL + "/callback" }

// route sends links to connect and redirects back to callback.
func (f *frontDoor) route(connect, callback *replica) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connectTo, f.callback = connect, callback
}

// holdNextCallback makes the next redirect back stop here: recorded, not forwarded.
func (f *frontDoor) holdNextCallback() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold = true
}

// lastCallback is the URL of the latest redirect back.
func (f *frontDoor) lastCallback() string {
	GinkgoHelper()
	f.mu.Lock()
	defer f.mu.Unlock()
	Expect(f.callbacks).NotTo(BeEmpty(), "no redirect back reached the front door")
	return f.callbacks[len(f.callbacks)-1]
}

// allCallbacks lists the URLs of every redirect back so far.
func (f *frontDoor) allCallbacks() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.callbacks...)
}

// servedBy says which replicas served a path ("/callback", or "/connect/" for links).
func (f *frontDoor) servedBy(pathPrefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, h := range f.hits {
		if path, name, _ := strings.Cut(h, " "); strings.HasPrefix(path, pathPrefix) {
			out = append(out, path[:min(len(path), len(pathPrefix))]+" "+name)
		}
	}
	return out
}

const heldPage = `<!doctype html><html><body><h1 id="held">Held by the test</h1></body></html>`

func (f *frontDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	target := f.connectTo
	if r.URL.Path == "/callback" {
		target = f.callback
		f.callbacks = append(f.callbacks, f.srv.URL+r.URL.RequestURI())
		if f.hold {
			f.hold = false
			f.mu.Unlock()
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = io.WriteString(w, heldPage)
			return
		}
	}
	if target != nil {
		f.hits = append(f.hits, r.URL.Path+" "+target.name)
	}
	f.mu.Unlock()
	if target == nil {
		http.Error(w, "no replica behind the front door", http.StatusBadGateway)
		return
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target.url)
		pr.Out.Host = pr.In.Host
	}}
	proxy.ServeHTTP(w, r)
}

// ---- people and their browsers ----

// person is someone with a browser of their own: a separate browser context (cookie jar)
// and a tab in the suite's Chromium.
type person struct {
	ctx context.Context
}

// newPerson opens a fresh browser (an incognito-like context) for one person; it is
// closed after the spec.
func newPerson() *person {
	GinkgoHelper()
	pctx, pcancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	DeferCleanup(pcancel)
	// The first action binds the tab's life to its context: run it on pctx and bound it
	// here.
	opened := make(chan error, 1)
	go func() { opened <- chromedp.Do(pctx) }()
	Eventually(opened).WithTimeout(actionTimeout).Should(Receive(BeNil()), "no new browser tab")
	return &person{ctx: pctx}
}

// newTab opens another tab of the same browser: the same cookie jar, the page of this
// tab left as it is.
func (p *person) newTab() *person {
	GinkgoHelper()
	tctx, tcancel := chromedp.NewContext(p.ctx)
	DeferCleanup(tcancel)
	opened := make(chan error, 1)
	go func() { opened <- chromedp.Do(tctx) }()
	Eventually(opened).WithTimeout(actionTimeout).Should(Receive(BeNil()), "no new browser tab")
	return &person{ctx: tctx}
}

// page is what a page showed.
type page struct {
	status              int64
	url                 string
	title, lead, detail string
	html                string
}

// pagesSeen are the callback server's pages the browser showed, for the leak scan.
var pagesSeen struct {
	sync.Mutex
	html []string
}

// timeout bounds one browser action.
func (p *person) timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, actionTimeout)
}

// open navigates to u and returns the page it ends on after any redirects.
func (p *person) open(u string) page {
	GinkgoHelper()
	tctx, tcancel := p.timeout()
	defer tcancel()
	resp, err := chromedp.Run(tctx, chromedp.NavigateResponse(u))
	Expect(err).NotTo(HaveOccurred(), "navigating")
	return p.read(resp.Status)
}

// click clicks sel and returns the page the navigation it starts ends on.
func (p *person) click(sel string) page {
	GinkgoHelper()
	tctx, tcancel := p.timeout()
	defer tcancel()
	resp, err := chromedp.RunResponse(tctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	Expect(err).NotTo(HaveOccurred(), "clicking %s", sel)
	return p.read(resp.Status)
}

// textOf reads an element's text, "" when the page has none.
const textOf = `(function(id){var e=document.getElementById(id);return e?e.textContent.trim():""})`

// read reads the page now shown; a page of the callback server is kept for the leak scan.
func (p *person) read(status int64) page {
	GinkgoHelper()
	tctx, tcancel := p.timeout()
	defer tcancel()
	pg := page{status: status}
	var err error
	pg.url, err = chromedp.Run(tctx, chromedp.Location())
	Expect(err).NotTo(HaveOccurred())
	pg.html, err = chromedp.Run(tctx, chromedp.OuterHTML(chromedp.CSS("html")))
	Expect(err).NotTo(HaveOccurred())
	for id, to := range map[string]*string{"title": &pg.title, "lead": &pg.lead, "detail": &pg.detail} {
		*to, err = chromedp.Run(tctx, chromedp.Evaluate[string](textOf+`("`+id+`")`))
		Expect(err).NotTo(HaveOccurred())
	}
	if strings.HasPrefix(pg.url, front.url()+"/") {
		pagesSeen.Lock()
		pagesSeen.html = append(pagesSeen.html, pg.html)
		pagesSeen.Unlock()
	}
	return pg
}

// logIn types the account into the login form of a fake provider's page and submits it.
func (p *person) logIn() page {
	GinkgoHelper()
	tctx, tcancel := p.timeout()
	defer tcancel()
	Expect(chromedp.Do(tctx,
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), providertest.LoginUsername),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), providertest.LoginPassword),
	)).To(Succeed())
	return p.click(`button[type="submit"]`)
}

// consent answers a consent page: "approve" or "deny", picking the first of any list.
func (p *person) consent(decision string) page {
	GinkgoHelper()
	tctx, tcancel := p.timeout()
	defer tcancel()
	Expect(chromedp.Do(tctx, chromedp.WaitVisible(chromedp.CSS(`button[value="`+decision+`"]`)))).To(Succeed())
	radios, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('input[type="radio"]').length`))
	Expect(err).NotTo(HaveOccurred())
	if radios > 0 {
		Expect(chromedp.Do(tctx, chromedp.Click(chromedp.CSS(`input[type="radio"]`), chromedp.NodeVisible))).To(Succeed())
	}
	return p.click(`button[value="` + decision + `"]`)
}

// ---- providers and connections ----

// kind is how one provider's onboarding goes in the browser.
type kind struct {
	provider oauthv1alpha1.Provider
	// consent: a consent page follows the login (Aston Club also asks for a merchant).
	consent bool
}

var kinds = []kind{
	{oauthv1alpha1.ProviderAura, false},
	{oauthv1alpha1.ProviderAstonClub, true},
	{oauthv1alpha1.ProviderAurinko, true},
	{oauthv1alpha1.ProviderGeneric, true},
}

func kindOf(p oauthv1alpha1.Provider) kind {
	for _, k := range kinds {
		if k.provider == p {
			return k
		}
	}
	Fail("no such provider " + string(p))
	return kind{}
}

// signIn logs in at the provider page the person is on and approves where asked; it
// returns the page the provider's redirect back ends on.
func (p *person) signIn(k kind) page {
	GinkgoHelper()
	pg := p.logIn()
	if k.consent {
		pg = p.consent("approve")
	}
	return pg
}

// newNamespace creates a namespace for one spec.
func newNamespace() string {
	GinkgoHelper()
	ns := &corev1.Namespace{}
	ns.GenerateName = "tw-browser-"
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// createOnboarding creates the client Secret and a connection with spec.authorization
// and no grant, for fake.
func createOnboarding(ns, name string, p oauthv1alpha1.Provider, fake *providertest.Server) types.NamespacedName {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-client"},
		StringData: map[string]string{"client_id": fake.ClientID(), "client_secret": fake.ClientSecret()},
	})).To(Succeed())
	c := &oauthv1alpha1.OAuthConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: oauthv1alpha1.OAuthConnectionSpec{
			Provider:        p,
			ClientSecretRef: oauthv1alpha1.ClientSecretReference{Name: oauthv1alpha1.SecretName(name + "-client")},
			SecretName:      oauthv1alpha1.SecretName(name + "-token"),
			Authorization:   &oauthv1alpha1.Authorization{RedirectURI: oauthv1alpha1.URL(front.callbackURL())},
		},
	}
	switch p {
	case oauthv1alpha1.ProviderGeneric:
		// The token and authorization endpoints come from discovery; PKCE S256 by default.
		c.Spec.IssuerURL = oauthv1alpha1.URL(fake.IssuerURL())
	case oauthv1alpha1.ProviderAurinko:
		c.Spec.TokenURL = oauthv1alpha1.URL(fake.TokenURL())
		c.Spec.Authorization.Parameters = map[string]oauthv1alpha1.ParameterValue{"serviceType": "Google"}
	default:
		c.Spec.TokenURL = oauthv1alpha1.URL(fake.TokenURL())
	}
	Expect(k8sClient.Create(ctx, c)).To(Succeed())
	return client.ObjectKeyFromObject(c)
}

func getConnection(key types.NamespacedName) *oauthv1alpha1.OAuthConnection {
	GinkgoHelper()
	c := &oauthv1alpha1.OAuthConnection{}
	Expect(k8sClient.Get(ctx, key, c)).To(Succeed())
	return c
}

// expectCondition checks a connection's condition t.
func expectCondition(g Gomega, c *oauthv1alpha1.OAuthConnection, t string,
	status metav1.ConditionStatus, reason string) *metav1.Condition {
	cond := meta.FindStatusCondition(c.Status.Conditions, t)
	g.Expect(cond).NotTo(BeNil(), "no %s condition", t)
	g.Expect(cond.Status).To(Equal(status), "%s: %s", cond.Reason, cond.Message)
	if reason != "" {
		g.Expect(cond.Reason).To(Equal(reason), cond.Message)
	}
	g.Expect(cond.ObservedGeneration).To(Equal(c.Generation))
	return cond
}

// awaitLink waits until the connection waits for someone to connect the account, with a
// link in its status, and returns the connection.
func awaitLink(key types.NamespacedName, reason string) *oauthv1alpha1.OAuthConnection {
	GinkgoHelper()
	var c *oauthv1alpha1.OAuthConnection
	Eventually(func(g Gomega) {
		c = &oauthv1alpha1.OAuthConnection{}
		g.Expect(k8sClient.Get(ctx, key, c)).To(Succeed())
		expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, reason)
		if reason == oauthv1alpha1.ReasonAuthorizationRequired {
			expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionFalse, reason)
		}
		g.Expect(c.Status.AuthorizationURL).To(HavePrefix(front.url() + "/connect/" + key.Namespace + "/" + key.Name + "/"))
	}).Should(Succeed())
	return c
}

// awaitReady waits until the connection is Ready, no longer stalled, with no link.
func awaitReady(key types.NamespacedName) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		c := &oauthv1alpha1.OAuthConnection{}
		g.Expect(k8sClient.Get(ctx, key, c)).To(Succeed())
		expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionTrue, "")
		expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionFalse, "")
		g.Expect(c.Status.AuthorizationURL).To(BeEmpty())
	}).Should(Succeed())
}

// exchanges counts a fake's code exchanges (Aurinko's too).
func exchanges(fake *providertest.Server) func() int {
	return func() int { return fake.Requests(provider.GrantAuthorizationCode) }
}

// rejections lists what a fake refused as not following its document, less the favicon
// requests a browser makes of every site.
func rejections(fake *providertest.Server) []string {
	var out []string
	for _, r := range fake.Rejections() {
		if !strings.Contains(r, "/favicon.ico") {
			out = append(out, r)
		}
	}
	return out
}

// settlesAt asserts that a count reaches n and then stays there.
func settlesAt(count func() int, n int, why ...any) {
	GinkgoHelper()
	Eventually(count).Should(Equal(n), why...)
	Consistently(count).WithTimeout(2*time.Second).Should(Equal(n), why...)
}

// ---- the state Secret, read as a person never could: for the leak scan ----

// stateOf reads the connection's state Secret: its resourceVersion and its content.
func stateOf(key types.NamespacedName) (string, map[string]any) {
	GinkgoHelper()
	s := &corev1.Secret{}
	name := types.NamespacedName{Namespace: key.Namespace, Name: key.Name + "-tokenwarden-state"}
	Expect(k8sClient.Get(ctx, name, s)).To(Succeed())
	st := map[string]any{}
	if raw, ok := s.Data["state.json"]; ok {
		Expect(json.Unmarshal(raw, &st)).To(Succeed())
	}
	return s.ResourceVersion, st
}

// refreshTokenOf is the refresh token the state holds.
func refreshTokenOf(key types.NamespacedName) string {
	GinkgoHelper()
	_, st := stateOf(key)
	rt, _ := st["refreshToken"].(string)
	return rt
}

// material is what must never show: the states and PKCE verifiers of the flows (the
// fakes list their own codes, tokens and client secrets).
var material struct {
	sync.Mutex
	values []string
}

func remember(values ...string) {
	material.Lock()
	defer material.Unlock()
	for _, v := range values {
		if v != "" {
			material.values = append(material.values, v)
		}
	}
}

// rememberFlows records the verifiers of the connection's pending flows.
func rememberFlows(key types.NamespacedName) {
	GinkgoHelper()
	_, st := stateOf(key)
	flows, _ := st["flows"].([]any)
	for _, f := range flows {
		if m, ok := f.(map[string]any); ok {
			v, _ := m["verifier"].(string)
			remember(v)
		}
	}
}

// stateParam is the state a URL carries.
func stateParam(u string) string {
	GinkgoHelper()
	parsed, err := url.Parse(u)
	Expect(err).NotTo(HaveOccurred())
	return parsed.Query().Get("state")
}

// allFakes are every fake of the suite, for the leak scan.
var allFakes struct {
	sync.Mutex
	list []*providertest.Server
}

// track registers a fake for the leak scan.
func track(s *providertest.Server) *providertest.Server {
	allFakes.Lock()
	defer allFakes.Unlock()
	allFakes.list = append(allFakes.list, s)
	DeferCleanup(s.Close)
	return s
}

// secretMaterial is everything that must never show in logs, events, status or pages.
func secretMaterial() []string {
	allFakes.Lock()
	var out []string
	for _, s := range allFakes.list {
		out = append(out, s.SecretMaterial()...)
	}
	allFakes.Unlock()
	material.Lock()
	out = append(out, material.values...)
	material.Unlock()
	for _, cb := range front.allCallbacks() {
		if u, err := url.Parse(cb); err == nil {
			out = append(out, u.Query().Get("state"), u.Query().Get("code"))
		}
	}
	return out
}

// containsAny returns the first of secrets (8 characters or more) found in text.
func containsAny(text string, secrets []string) (string, bool) {
	for _, s := range secrets {
		if len(s) >= 8 && strings.Contains(text, s) {
			return s, true
		}
	}
	return "", false
}
