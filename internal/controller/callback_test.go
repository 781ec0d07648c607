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
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// These specs walk browser onboarding over HTTP with a cookie jar (providertest.Browser);
// test/browser walks the same pages in a real browser.

// callbackEndpoint is a listener for a callback server and the URL browsers reach it at.
type callbackEndpoint struct {
	ln   net.Listener
	base string
}

func newCallbackEndpoint() callbackEndpoint {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	return callbackEndpoint{ln: ln, base: "http://" + ln.Addr().String()}
}

// startCallbackManager starts a manager whose callback server listens on ln and is
// reached at base.
func startCallbackManager(ln net.Listener, base string) *testManager {
	GinkgoHelper()
	m := startManagerWith(cfg, CallbackOptions{Listener: ln, URL: base}, "")
	DeferCleanup(m.stop)
	return m
}

// withAuthorization adds spec.authorization with the callback's redirect URI.
func withAuthorization(redirectURI string, f func(*oauthv1alpha1.Authorization)) connOption {
	return func(c *oauthv1alpha1.OAuthConnection) {
		c.Spec.Authorization = &oauthv1alpha1.Authorization{RedirectURI: oauthv1alpha1.URL(redirectURI)}
		if f != nil {
			f(c.Spec.Authorization)
		}
	}
}

// awaitLink waits for the connection to ask for a sign-in and returns its link.
func awaitLink(key types.NamespacedName, other string) string {
	GinkgoHelper()
	var link string
	Eventually(func(g Gomega) {
		c := getConnection(key)
		expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonAuthorizationRequired)
		g.Expect(c.Status.AuthorizationURL).NotTo(BeEmpty())
		g.Expect(c.Status.AuthorizationURL).NotTo(Equal(other))
		link = c.Status.AuthorizationURL
	}).Should(Succeed())
	return link
}

// get fetches u in browser b, no redirect followed; it returns the status, the page and
// the redirect's target.
func get(b *providertest.Browser, u string) (int, string, string) {
	GinkgoHelper()
	resp, err := b.Client().Get(u)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, string(body), resp.Header.Get("Location")
}

// signIn opens link in b and logs in and approves at the provider; it returns the URL the
// provider sent the browser back to, not yet opened.
func signIn(b *providertest.Browser, link string) string {
	GinkgoHelper()
	status, _, location := get(b, link)
	Expect(status).To(Equal(http.StatusSeeOther))
	back, err := b.Approve(ctx, location)
	Expect(err).NotTo(HaveOccurred())
	return back.String()
}

// onServer points u at another callback server (a replica behind the same URL).
func onServer(u, base string) string {
	GinkgoHelper()
	parsed, err := url.Parse(u)
	Expect(err).NotTo(HaveOccurred())
	b, err := url.Parse(base)
	Expect(err).NotTo(HaveOccurred())
	parsed.Host = b.Host
	return parsed.String()
}

var _ = Describe("Browser onboarding", func() {
	var (
		ns   string
		cb   callbackEndpoint
		fake *providertest.Server
	)

	BeforeEach(func() {
		ns = newNamespace()
		cb = newCallbackEndpoint()
	})

	auraConnection := func(name string) types.NamespacedName {
		GinkgoHelper()
		fake = track(providertest.NewAura(providertest.Options{RedirectURI: cb.base + "/callback"}))
		clientSecretFor(ns, fake)
		return create(newConnection(ns, name, oauthv1alpha1.ProviderAura, withTokenURL(fake.TokenURL()),
			withAuthorization(cb.base+"/callback", nil)))
	}

	It("connects an account from the link in status, exchanging its code once", func() {
		startCallbackManager(cb.ln, cb.base)
		key := auraConnection("aura")
		link := awaitLink(key, "")
		Expect(link).To(HavePrefix(cb.base + "/connect/" + ns + "/aura/"))

		b := providertest.NewBrowser()
		status, _, location := get(b, link)
		Expect(status).To(Equal(http.StatusSeeOther))
		Expect(location).To(HavePrefix(fake.URL() + "/oauth/authorize?"))
		cookie := b.Client().Jar.Cookies(mustParse(cb.base + "/callback"))
		Expect(cookie).To(HaveLen(1), "one browser-binding cookie, sent to the callback")
		back, err := b.Approve(ctx, location)
		Expect(err).NotTo(HaveOccurred())
		state := back.Query().Get("state")

		status, page, _ := get(b, back.String())
		Expect(status).To(Equal(http.StatusOK))
		Expect(page).To(ContainSubstring("Account connected"))
		c := eventuallyReady(key)
		Expect(c.Status.AuthorizationURL).To(BeEmpty(), "the link is withdrawn once the account is connected")
		Expect(fake.Requests(provider.GrantAuthorizationCode)).To(Equal(1))

		By("refusing the same redirect back again")
		status, page, _ = get(b, back.String())
		Expect(status).To(Equal(http.StatusForbidden))
		Expect(page).To(ContainSubstring("unknown or was already completed"))
		By("refusing the used link")
		status, page, _ = get(b, link)
		Expect(status).To(Equal(http.StatusGone))
		Expect(page).NotTo(ContainSubstring(fake.URL()))
		settlesAt(func() int { return fake.Requests(provider.GrantAuthorizationCode) }, 1)

		By("keeping the code, state and flow out of everything a user reads")
		material := append(allSecretMaterial(), state, link[strings.LastIndex(link, "/")+1:])
		st := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: stateSecretName("aura")}, st)).To(Succeed())
		Expect(string(st.Data[stateKey])).NotTo(ContainSubstring(back.Query().Get("code")), "the code is gone from state once exchanged")
		assertNoLeak(key, material, page)
	})

	It("refuses a forged state, a redirect back in another browser, and an expired or used link", func() {
		startCallbackManager(cb.ln, cb.base)
		key := auraConnection("aura")
		link := awaitLink(key, "")

		owner, other := providertest.NewBrowser(), providertest.NewBrowser()
		back := signIn(owner, link)

		By("a forged state naming the connection")
		forged := cb.base + "/callback?code=forged&state=" + url.QueryEscape(stateParameter(key))
		status, page, _ := get(owner, forged)
		Expect(status).To(Equal(http.StatusForbidden))
		Expect(page).To(ContainSubstring("unknown"))

		By("the real redirect back, opened in a browser that did not start the flow")
		status, page, _ = get(other, back)
		Expect(status).To(Equal(http.StatusForbidden))
		Expect(page).To(ContainSubstring("started in another browser"))
		settlesAt(func() int { return fake.Requests(provider.GrantAuthorizationCode) }, 0)

		By("a second look at a used link, while a new link is offered")
		status, page, _ = get(other, link)
		Expect(status).To(Equal(http.StatusGone))
		Expect(page).To(ContainSubstring("already used"))
		awaitLink(key, link)

		By("the owner's own redirect back still completing the flow")
		status, page, _ = get(owner, back)
		Expect(status).To(Equal(http.StatusOK), page)
		eventuallyReady(key)
		Expect(fake.Requests(provider.GrantAuthorizationCode)).To(Equal(1))
	})

	It("shows and records the provider's refusal, and offers a new link", func() {
		fake = track(providertest.NewAstonClub(providertest.Options{RedirectURI: cb.base + "/callback"}))
		clientSecretFor(ns, fake)
		startCallbackManager(cb.ln, cb.base)
		key := create(newConnection(ns, "aston", oauthv1alpha1.ProviderAstonClub, withTokenURL(fake.TokenURL()),
			withAuthorization(cb.base+"/callback", func(a *oauthv1alpha1.Authorization) {
				a.AuthorizeURL = oauthv1alpha1.URL(fake.AuthorizeURL())
			})))
		link := awaitLink(key, "")

		b := providertest.NewBrowser()
		status, _, location := get(b, link)
		Expect(status).To(Equal(http.StatusSeeOther))
		back, err := b.Deny(ctx, location)
		Expect(err).NotTo(HaveOccurred())
		status, page, _ := get(b, back.String())
		Expect(status).To(Equal(http.StatusForbidden))
		Expect(page).To(ContainSubstring("access_denied"))

		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonAuthorizationRequired)
			g.Expect(condition(c, oauthv1alpha1.ConditionStalled).Message).To(ContainSubstring("access_denied"))
			g.Expect(c.Status.AuthorizationURL).NotTo(Equal(link))
		}).Should(Succeed())
		Expect(fake.TotalRequests()).To(BeZero(), "no token request for a refused sign-in")

		By("connecting through the new link")
		b2 := providertest.NewBrowser()
		back2 := signIn(b2, awaitLink(key, link))
		Expect(back2).To(ContainSubstring("grant_type=authorization_code"), "Aston Club's redirect back says its grant")
		status, page, _ = get(b2, back2)
		Expect(status).To(Equal(http.StatusOK), page)
		eventuallyReady(key)
		Expect(fake.Requests(provider.GrantAuthorizationCode)).To(Equal(1))
	})

	It("finishes a flow on another replica, and after a restart, with one exchange", func() {
		first := startCallbackManager(cb.ln, cb.base)
		key := auraConnection("aura")
		link := awaitLink(key, "")
		b := providertest.NewBrowser()
		back := signIn(b, link)

		By("restarting the manager between the start and the redirect back")
		first.stop()
		replica := newCallbackEndpoint()
		startCallbackManager(replica.ln, cb.base)
		second := newCallbackEndpoint()
		startCallbackManager(second.ln, cb.base)

		By("landing on one of two replicas that share the callback URL")
		status, page, _ := get(b, onServer(back, replica.base))
		Expect(status).To(Equal(http.StatusOK), page)
		Expect(page).To(ContainSubstring("Account connected"))
		eventuallyReady(key)
		settlesAt(func() int { return fake.Requests(provider.GrantAuthorizationCode) }, 1)
		status, _, _ = get(b, onServer(back, second.base))
		Expect(status).To(Equal(http.StatusForbidden), "the other replica knows the state was used")
	})

	It("asks for a sign-in again when the provider refuses the grant, keeping the token valid meanwhile", func() {
		startCallbackManager(cb.ln, cb.base)
		key := auraConnection("aura")
		b := providertest.NewBrowser()
		status, page, _ := get(b, signIn(b, awaitLink(key, "")))
		Expect(status).To(Equal(http.StatusOK), page)
		eventuallyReady(key)

		fake.RevokeGrants()
		requestRefresh(key, "after-revocation")
		var link string
		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonReauthorizationRequired)
			expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionTrue, oauthv1alpha1.ReasonTokenIssued)
			g.Expect(c.Status.AuthorizationURL).NotTo(BeEmpty())
			link = c.Status.AuthorizationURL
		}).Should(Succeed())

		b2 := providertest.NewBrowser()
		status, page, _ = get(b2, signIn(b2, link))
		Expect(status).To(Equal(http.StatusOK), page)
		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionFalse, oauthv1alpha1.ReasonProgressing)
			g.Expect(c.Status.AuthorizationURL).To(BeEmpty())
		}).Should(Succeed())
		Expect(fake.Requests(provider.GrantAuthorizationCode)).To(Equal(2))
	})

	It("exchanges a Generic code that kubectl tokenwarden authorize left in the grant Secret, with its verifier", func() {
		fake = track(providertest.NewGeneric(providertest.Options{RedirectURI: "http://127.0.0.1:8400/callback"},
			oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm))
		clientSecretFor(ns, fake)
		verifier := provider.NewVerifier()
		createSecret(ns, "grant", map[string]string{
			"code": fake.IssueCodeWithVerifier(verifier), "redirect_uri": fake.RedirectURI(), "code_verifier": verifier})
		DeferCleanup(startManager().stop)
		key := create(newConnection(ns, "generic", oauthv1alpha1.ProviderGeneric, withIssuerURL(fake.IssuerURL()),
			withGrantRef("grant"), withAuthorization(fake.RedirectURI(), nil)))
		c := eventuallyReady(key)
		Expect(c.Status.AuthorizationURL).To(BeEmpty(), "a manager without a callback server offers no link")
		Expect(fake.Requests(provider.GrantAuthorizationCode)).To(Equal(1))
	})
})

func mustParse(raw string) *url.URL {
	GinkgoHelper()
	u, err := url.Parse(raw)
	Expect(err).NotTo(HaveOccurred())
	return u
}

// assertNoLeak checks that no secret material is in the connection's status, the
// namespace's events, the manager's logs or the page.
func assertNoLeak(key types.NamespacedName, material []string, page string) {
	GinkgoHelper()
	c := getConnection(key)
	status := c.Status.AuthorizationURL + " " + c.Status.LastHandledRefreshRequest
	for _, cond := range c.Status.Conditions {
		status += " " + cond.Message
	}
	var events string
	for _, e := range eventsIn(key.Namespace) {
		events += " " + e.Note
	}
	for what, text := range map[string]string{"status": status, "events": events, "logs": logs.String(), "page": page} {
		if s, found := containsAny(text, material); found {
			Fail("secret material in " + what + ": " + s[:min(len(s), 12)] + "...")
		}
	}
}
