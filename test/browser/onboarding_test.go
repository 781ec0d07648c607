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
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

const titleConnected = "Account connected"

// connect runs one whole onboarding in a fresh browser: open the connection's link, sign
// in at the provider, land on the callback page. It returns the page.
func connect(key types.NamespacedName, k kind, fake *providertest.Server) page {
	GinkgoHelper()
	link := awaitLink(key, oauthv1alpha1.ReasonAuthorizationRequired).Status.AuthorizationURL
	p := newPerson()
	login := p.open(link)
	Expect(login.status).To(BeEquivalentTo(http.StatusOK), login.html)
	Expect(login.url).To(HavePrefix(fake.URL()), "the link leads to the provider's login page")
	remember(stateParam(login.url))
	rememberFlows(key)
	return p.signIn(k)
}

var _ = Describe("Browser onboarding", func() {
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
	})

	for _, k := range kinds {
		It("connects a "+string(k.provider)+" account through the link, the provider's login and the callback page", func() {
			fake := fakes[k.provider]
			before := exchanges(fake)()
			key := createOnboarding(ns, strings.ToLower(string(k.provider)), k.provider, fake)

			pg := connect(key, k, fake)
			Expect(pg.url).To(HavePrefix(front.callbackURL()+"?"), "the provider sent the browser back to the callback")
			Expect(pg.status).To(BeEquivalentTo(http.StatusOK))
			Expect(pg.title).To(Equal(titleConnected), "%s: %s %s", pg.title, pg.lead, pg.detail)

			awaitReady(key)
			settlesAt(exchanges(fake), before+1, "exactly one code exchange")
			Expect(rejections(fake)).To(BeEmpty())
		})
	}

	It("refuses a forged state with an error page and changes nothing", func() {
		fake := fakes[oauthv1alpha1.ProviderAstonClub]
		before := exchanges(fake)()
		key := createOnboarding(ns, "forged", oauthv1alpha1.ProviderAstonClub, fake)
		link := awaitLink(key, oauthv1alpha1.ReasonAuthorizationRequired).Status.AuthorizationURL
		alice := newPerson()
		login := alice.open(link)
		genuine := stateParam(login.url)
		remember(genuine)
		rememberFlows(key)
		// Well-formed: it names the connection and has 256 bits of its own.
		prefix, random, ok := strings.Cut(genuine, ".")
		Expect(ok).To(BeTrue(), "a state names its connection before a dot")
		forged := prefix + "." + strings.Repeat("A", len(random))
		Expect(forged).NotTo(Equal(genuine))
		// Let the reconcile that follows the link's use (a new link) settle first.
		Eventually(func() string { return getConnection(key).Status.AuthorizationURL }).ShouldNot(Equal(link))
		rv, _ := stateOf(key)
		Consistently(func() string { now, _ := stateOf(key); return now }).WithTimeout(time.Second).Should(Equal(rv))
		waiting := getConnection(key)

		// In the browser that started the flow (another tab: the login page stays) and in
		// another one.
		for _, p := range []*person{alice.newTab(), newPerson()} {
			pg := p.open(front.callbackURL() + "?code=x&state=" + url.QueryEscape(forged))
			Expect(pg.status).To(BeNumerically(">=", 400))
			Expect(pg.status).To(BeNumerically("<", 500))
			Expect(pg.title).To(Equal("Sign-in refused"))
			Expect(pg.detail).To(ContainSubstring("unknown or was already completed"))
		}
		// Nor does a state that names no connection, or is no state at all.
		mallory := newPerson()
		nowhere := strings.Replace(forged, prefix, "bm8vc3VjaA", 1) // "no/such"
		pg := mallory.open(front.callbackURL() + "?code=x&state=" + url.QueryEscape(nowhere))
		Expect(pg.status).To(BeEquivalentTo(http.StatusForbidden), "as for one that exists: which exist is not told")
		Expect(pg.detail).To(ContainSubstring("unknown or was already completed"))
		pg = mallory.open(front.callbackURL() + "?code=x&state=garbage")
		Expect(pg.status).To(BeEquivalentTo(http.StatusBadRequest))

		after, _ := stateOf(key)
		Expect(after).To(Equal(rv), "the state Secret was not written")
		now := getConnection(key)
		Expect(now.Status).To(Equal(waiting.Status), "the status did not change")
		Consistently(exchanges(fake)).WithTimeout(2 * time.Second).Should(Equal(before))

		// The real flow is untouched and still completes.
		pg = alice.signIn(kindOf(oauthv1alpha1.ProviderAstonClub))
		Expect(pg.title).To(Equal(titleConnected), "%s: %s", pg.lead, pg.detail)
		awaitReady(key)
		settlesAt(exchanges(fake), before+1)
	})

	It("refuses a replayed redirect back, and exchanges the code once", func() {
		fake := fakes[oauthv1alpha1.ProviderAura]
		before := exchanges(fake)()
		key := createOnboarding(ns, "replay", oauthv1alpha1.ProviderAura, fake)
		link := awaitLink(key, oauthv1alpha1.ReasonAuthorizationRequired).Status.AuthorizationURL
		alice := newPerson()
		alice.open(link)
		rememberFlows(key)
		pg := alice.signIn(kindOf(oauthv1alpha1.ProviderAura))
		Expect(pg.title).To(Equal(titleConnected))
		back := front.lastCallback()
		Expect(pg.url).To(Equal(back), "the page is the one the provider sent the browser back to")
		awaitReady(key)
		settlesAt(exchanges(fake), before+1)

		for _, p := range []*person{alice, newPerson()} {
			pg = p.open(back)
			Expect(pg.status).To(BeEquivalentTo(http.StatusForbidden))
			Expect(pg.title).To(Equal("Sign-in refused"))
			Expect(pg.detail).To(ContainSubstring("unknown or was already completed"))
		}
		settlesAt(exchanges(fake), before+1, "a replay exchanges nothing")
		awaitReady(key)
	})

	It("refuses a redirect back in another browser than the one that started the flow, and completes in that one", func() {
		fake := fakes[oauthv1alpha1.ProviderAura]
		before := exchanges(fake)()
		key := createOnboarding(ns, "other-browser", oauthv1alpha1.ProviderAura, fake)
		link := awaitLink(key, oauthv1alpha1.ReasonAuthorizationRequired).Status.AuthorizationURL
		alice, bob := newPerson(), newPerson()
		alice.open(link)
		rememberFlows(key)
		front.holdNextCallback()
		held := alice.logIn()
		Expect(held.html).To(ContainSubstring("Held by the test"), "the redirect back stopped at the front door")
		back := front.lastCallback()

		pg := bob.open(back)
		Expect(pg.status).To(BeEquivalentTo(http.StatusForbidden))
		Expect(pg.title).To(Equal("Sign-in refused"))
		Expect(pg.detail).To(ContainSubstring("started in another browser"))
		Consistently(exchanges(fake)).WithTimeout(2 * time.Second).Should(Equal(before))
		awaitLink(key, oauthv1alpha1.ReasonAuthorizationRequired)

		pg = alice.open(back)
		Expect(pg.status).To(BeEquivalentTo(http.StatusOK))
		Expect(pg.title).To(Equal(titleConnected), "%s: %s", pg.lead, pg.detail)
		awaitReady(key)
		settlesAt(exchanges(fake), before+1)
	})

	It("refuses a used link, and offers a new one while the connection still waits", func() {
		fake := fakes[oauthv1alpha1.ProviderAura]
		before := exchanges(fake)()
		key := createOnboarding(ns, "used-link", oauthv1alpha1.ProviderAura, fake)
		link := awaitLink(key, oauthv1alpha1.ReasonAuthorizationRequired).Status.AuthorizationURL
		alice := newPerson()
		alice.open(link)
		rememberFlows(key)

		for _, p := range []*person{alice.newTab(), newPerson()} {
			pg := p.open(link)
			Expect(pg.status).To(BeEquivalentTo(http.StatusGone))
			Expect(pg.title).To(Equal("Sign-in refused"))
			// The message says "already used" only until the reconcile replaces the link,
			// then "not valid": see the pending spec below.
			Expect(pg.detail).To(Or(ContainSubstring("already used"), ContainSubstring("not valid")))
		}
		var fresh string
		Eventually(func(g Gomega) {
			c := awaitLink(key, oauthv1alpha1.ReasonAuthorizationRequired)
			g.Expect(c.Status.AuthorizationURL).NotTo(Equal(link))
			fresh = c.Status.AuthorizationURL
		}).Should(Succeed())
		Consistently(exchanges(fake)).WithTimeout(time.Second).Should(Equal(before))

		// The new link starts a flow of its own, in another browser, and completes.
		bob := newPerson()
		login := bob.open(fresh)
		Expect(login.url).To(HavePrefix(fake.URL()))
		rememberFlows(key)
		pg := bob.signIn(kindOf(oauthv1alpha1.ProviderAura))
		Expect(pg.title).To(Equal(titleConnected), "%s: %s", pg.lead, pg.detail)
		awaitReady(key)
		settlesAt(exchanges(fake), before+1)
		// Once connected, the used links start nothing.
		pg = alice.open(fresh)
		Expect(pg.status).To(BeNumerically(">=", 400))
	})

	// Found by this suite: the reconcile that a link's use wakes replaces the link at once,
	// and checkLink, knowing only the current link, called the used one "not valid". The
	// state now keeps the hash of the link a new one replaced (authLink.Previous).
	It("says a used link was already used, after the connection offers a new one", func() {
		fake := fakes[oauthv1alpha1.ProviderAura]
		key := createOnboarding(ns, "used-link-message", oauthv1alpha1.ProviderAura, fake)
		link := awaitLink(key, oauthv1alpha1.ReasonAuthorizationRequired).Status.AuthorizationURL
		newPerson().open(link)
		rememberFlows(key)
		Eventually(func() string { return getConnection(key).Status.AuthorizationURL }).ShouldNot(Equal(link))
		pg := newPerson().open(link)
		Expect(pg.status).To(BeEquivalentTo(http.StatusGone))
		Expect(pg.detail).To(ContainSubstring("already used"))
	})

	It("shows a denial at the provider and records it in the condition", func() {
		fake := fakes[oauthv1alpha1.ProviderAstonClub]
		before, denials := exchanges(fake)(), fake.Denials()
		key := createOnboarding(ns, "denied", oauthv1alpha1.ProviderAstonClub, fake)
		link := awaitLink(key, oauthv1alpha1.ReasonAuthorizationRequired).Status.AuthorizationURL
		alice := newPerson()
		alice.open(link)
		rememberFlows(key)
		alice.logIn()
		pg := alice.consent("deny")
		Expect(pg.url).To(HavePrefix(front.callbackURL() + "?"))
		Expect(pg.status).To(BeNumerically(">=", 400))
		Expect(pg.status).To(BeNumerically("<", 500))
		Expect(pg.title).To(Equal("Account not connected"))
		Expect(pg.detail).To(ContainSubstring("access_denied"))
		Expect(fake.Denials()).To(Equal(denials + 1))

		Eventually(func(g Gomega) {
			c := getConnection(key)
			const reason = oauthv1alpha1.ReasonAuthorizationRequired
			stalled := expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, reason)
			g.Expect(stalled.Message).To(ContainSubstring("access_denied"))
			ready := expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionFalse, reason)
			g.Expect(ready.Message).To(ContainSubstring("access_denied"))
			g.Expect(c.Status.AuthorizationURL).NotTo(BeEmpty())
		}).Should(Succeed())
		Consistently(exchanges(fake)).WithTimeout(2 * time.Second).Should(Equal(before))
	})

	It("re-authorizes a connection whose grant the provider revoked", func() {
		// A fake of its own: revoking its grants touches no other spec's connection.
		fake := track(providertest.NewAura(providertest.Options{RedirectURI: front.callbackURL()}))
		key := createOnboarding(ns, "reauthorize", oauthv1alpha1.ProviderAura, fake)
		k := kindOf(oauthv1alpha1.ProviderAura)
		Expect(connect(key, k, fake).title).To(Equal(titleConnected))
		awaitReady(key)
		settlesAt(exchanges(fake), 1)
		first := refreshTokenOf(key)
		Expect(first).NotTo(BeEmpty())

		fake.RevokeGrants()
		c := getConnection(key)
		patch := client.MergeFrom(c.DeepCopy())
		c.Annotations = map[string]string{oauthv1alpha1.RefreshRequestedAnnotation: "reauthorize-1"}
		Expect(k8sClient.Patch(ctx, c, patch)).To(Succeed())
		Eventually(func() int { return fake.Requests(provider.GrantRefreshToken) }).Should(BeNumerically(">=", 1))
		link := awaitLink(key, oauthv1alpha1.ReasonReauthorizationRequired).Status.AuthorizationURL

		alice := newPerson()
		login := alice.open(link)
		Expect(login.url).To(HavePrefix(fake.URL()))
		rememberFlows(key)
		pg := alice.signIn(k)
		Expect(pg.title).To(Equal(titleConnected), "%s: %s", pg.lead, pg.detail)
		awaitReady(key)
		settlesAt(exchanges(fake), 2)
		Expect(refreshTokenOf(key)).NotTo(BeEmpty())
		Expect(refreshTokenOf(key)).NotTo(Equal(first), "a new refresh token")
		Expect(rejections(fake)).To(BeEmpty())
	})

	It("completes on another replica than the one that started the flow, with one exchange", func() {
		// Generic: the PKCE verifier the first replica made must reach the second.
		fake := fakes[oauthv1alpha1.ProviderGeneric]
		before := exchanges(fake)()
		other := startReplica("replica-b")
		DeferCleanup(func() {
			front.route(primary, primary)
			other.stop()
		})
		front.route(primary, other)
		key := createOnboarding(ns, "two-replicas", oauthv1alpha1.ProviderGeneric, fake)
		link := awaitLink(key, oauthv1alpha1.ReasonAuthorizationRequired).Status.AuthorizationURL
		// Both replicas show the one link the state keeps; neither replaces the other's.
		Consistently(func() string { return getConnection(key).Status.AuthorizationURL }).
			WithTimeout(2*time.Second).Should(Equal(link), "the two replicas replace each other's link")
		alice := newPerson()
		Expect(alice.open(link).url).To(HavePrefix(fake.URL()))
		rememberFlows(key)
		pg := alice.signIn(kindOf(oauthv1alpha1.ProviderGeneric))
		Expect(pg.title).To(Equal(titleConnected), "%s: %s", pg.lead, pg.detail)
		Expect(front.servedBy("/connect/")).To(ContainElement("/connect/ " + primary.name))
		Expect(front.servedBy("/callback")[len(front.servedBy("/callback"))-1]).To(Equal("/callback " + other.name))

		awaitReady(key)
		// Both replicas reconcile (no leader election in the tests): the claim before the
		// request lets only one present the code.
		settlesAt(exchanges(fake), before+1, "exactly one code exchange across two replicas")
		Expect(rejections(fake)).To(BeEmpty())
	})

	It("finishes a sign-in started before the manager restarted", func() {
		fake := fakes[oauthv1alpha1.ProviderAstonClub]
		before := exchanges(fake)()
		key := createOnboarding(ns, "restart", oauthv1alpha1.ProviderAstonClub, fake)
		link := awaitLink(key, oauthv1alpha1.ReasonAuthorizationRequired).Status.AuthorizationURL
		alice := newPerson()
		Expect(alice.open(link).url).To(HavePrefix(fake.URL()))
		rememberFlows(key)

		primary.stop()
		primary = startReplica(primary.name + "-restarted")
		front.route(primary, primary)

		pg := alice.signIn(kindOf(oauthv1alpha1.ProviderAstonClub))
		Expect(pg.title).To(Equal(titleConnected), "%s: %s", pg.lead, pg.detail)
		Expect(front.servedBy("/callback")[len(front.servedBy("/callback"))-1]).To(Equal("/callback " + primary.name))
		awaitReady(key)
		settlesAt(exchanges(fake), before+1)
		Expect(rejections(fake)).To(BeEmpty())
	})

	// Last: it scans what every spec before it left.
	It("shows no code, state, verifier, refresh token or client secret in logs, events, status or pages", func() {
		secrets := secretMaterial()
		Expect(len(secrets)).To(BeNumerically(">", 10), "the scan has material to look for")
		leak := func(where, text string) {
			GinkgoHelper()
			if s, found := containsAny(text, secrets); found {
				Fail(fmt.Sprintf("%s holds a secret (%.12s...)", where, s))
			}
		}

		Expect(logs.String()).To(ContainSubstring("Received a code from the provider"), "the logs were captured")
		leak("the manager logs", logs.String())

		events := &eventsv1.EventList{}
		Expect(k8sClient.List(ctx, events)).To(Succeed())
		Expect(events.Items).NotTo(BeEmpty())
		for _, e := range events.Items {
			leak("event "+e.Name, e.Reason+" "+e.Note)
		}
		coreEvents := &corev1.EventList{}
		Expect(k8sClient.List(ctx, coreEvents)).To(Succeed())
		for _, e := range coreEvents.Items {
			leak("event "+e.Name, e.Reason+" "+e.Message)
		}

		conns := &oauthv1alpha1.OAuthConnectionList{}
		Expect(k8sClient.List(ctx, conns)).To(Succeed())
		Expect(conns.Items).NotTo(BeEmpty())
		for _, c := range conns.Items {
			raw, err := json.Marshal(c.Status)
			Expect(err).NotTo(HaveOccurred())
			leak("the status of "+c.Namespace+"/"+c.Name, string(raw))
		}

		pagesSeen.Lock()
		html := append([]string(nil), pagesSeen.html...)
		pagesSeen.Unlock()
		Expect(html).NotTo(BeEmpty())
		for _, h := range html {
			leak("a callback page", h)
		}
	})
})
