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
	"encoding/json"
	"net/http"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// The paths an independent review found (docs/reliability.md, "Paths a review found"):
// each spec failed on the code before its fix.
var _ = Describe("Review scenarios", func() {
	var (
		ns  string
		mgr *testManager
	)
	BeforeEach(func() {
		ns = newNamespace()
		mgr = startManager(withProductionRequestGap())
		DeferCleanup(func() { mgr.stop() })
	})

	It("stalls on a bad refresh token pasted into the grant Secret of a rotated connection, and asks no more", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAura].setup(ns, time.Hour)
		key := create(conn)
		eventuallyReady(key)
		requests := fake.TotalRequests()

		grant := getSecret(ns, "grant")
		grant.Data = map[string][]byte{"refresh_token": []byte("a-used-or-foreign-token\n")}
		Expect(k8sClient.Update(ctx, grant)).To(Succeed())
		Eventually(func(g Gomega) {
			expectCondition(g, getConnection(key), oauthv1alpha1.ConditionStalled, metav1.ConditionTrue,
				oauthv1alpha1.ReasonReauthorizationRequired)
		}).Should(Succeed())
		settlesAt(fake.TotalRequests, requests+1, "one refused request, then nothing until an input changes")
	})

	It("makes no more than one request per 10 seconds for tokens that come nearly expired, and says so", func() {
		fake := track(providertest.NewAurora(providertest.Options{Lifetime: 5 * time.Second}))
		clientSecretFor(ns, fake)
		key := create(newConnection(ns, "aurora", oauthv1alpha1.ProviderAurora, withIssuerURL(fake.IssuerURL())))
		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionTrue, "")
			g.Expect(condition(c, oauthv1alpha1.ConditionReady).Message).To(ContainSubstring("5s of life left"))
		}).Should(Succeed())
		Expect(getSecret(ns, key.Name).Data).To(HaveKey(oauthv1alpha1.KeyAccessToken), "the short-lived token is published")
		Consistently(func() int { return fake.Requests(provider.GrantClientCredentials) }).
			WithTimeout(8*time.Second).Should(Equal(1), "the next request waits 10 seconds, not a third of 5")
		Eventually(func() int { return fake.Requests(provider.GrantClientCredentials) }).WithTimeout(20 * time.Second).Should(Equal(2))
	})

	It("retries a WAF's HTML 403 with backoff instead of stalling, and says what came back", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, time.Hour)
		key := create(conn)
		eventuallyReady(key)
		fake.FailNextWith(1, providertest.Failure{Status: http.StatusForbidden,
			Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html><body>Request blocked</body></html>"})
		requestRefresh(key, "waf")
		Eventually(func(g Gomega) {
			c := getConnection(key)
			g.Expect(c.Status.ConsecutiveFailures).To(BeEquivalentTo(1))
			g.Expect(c.Status.NextRefreshTime).NotTo(BeNil(), "a retry is scheduled")
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionFalse, "")
			expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionTrue, "")
			g.Expect(condition(c, oauthv1alpha1.ConditionReady).Message).To(ContainSubstring("403"))
		}).Should(Succeed())
	})

	It("refuses a code without the redirect_uri its exchange needs before sending it, and exchanges it once that is added", func() {
		fake := track(providertest.NewAura(providertest.Options{}))
		clientSecretFor(ns, fake)
		code := fake.IssueCode()
		createSecret(ns, "grant", map[string]string{"code": code})
		key := create(newConnection(ns, "aura", oauthv1alpha1.ProviderAura, withTokenURL(fake.TokenURL()), withGrantRef("grant")))
		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonGrantSecretNotFound)
			g.Expect(condition(c, oauthv1alpha1.ConditionStalled).Message).To(ContainSubstring("redirect_uri"))
		}).Should(Succeed())
		settlesAt(fake.TotalRequests, 0, "nothing is sent without redirect_uri")

		grant := getSecret(ns, "grant")
		grant.Data["redirect_uri"] = []byte(fake.RedirectURI())
		Expect(k8sClient.Update(ctx, grant)).To(Succeed())
		eventuallyReady(key)
		Expect(fake.Requests(provider.GrantAuthorizationCode)).To(Equal(1))
		Expect(fake.Rejections()).To(BeEmpty())
	})

	It("keeps a code usable when its request was refused before it left the process", func() {
		fake := track(providertest.NewAurinko(providertest.Options{}))
		clientSecretFor(ns, fake)
		createSecret(ns, "grant", map[string]string{"code": fake.IssueCode()})
		// Aurinko appends the code to the token URL's path: one with a query is refused
		// before anything is sent. (A blocked address or a refused connection, refused at
		// dial time, were kept usable before too; TestNotSentSaysWhetherTheRequestLeft.)
		key := create(newConnection(ns, "aurinko", oauthv1alpha1.ProviderAurinko,
			withTokenURL(fake.TokenURL()+"?tenant=a"), withGrantRef("grant")))
		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonTokenRequestFailed)
			g.Expect(condition(c, oauthv1alpha1.ConditionStalled).Message).To(ContainSubstring("no query"))
		}).Should(Succeed())
		Expect(fake.TotalRequests()).To(BeZero())

		By("pointing the connection at the real endpoint: the code was never sent, so it is exchanged")
		updateSpec(key, func(c *oauthv1alpha1.OAuthConnection) { c.Spec.TokenURL = oauthv1alpha1.URL(fake.TokenURL()) })
		eventuallyReady(key)
		Expect(fake.Requests(provider.GrantAuthorizationCode)).To(Equal(1))
	})

	It("writes a held answer first, however long writes were refused, and presents no refresh token twice", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAura].setup(ns, 6*time.Second)
		By("refusing writes from the moment a refresh's answer arrives, after its claim was written")
		mgr.stop()
		allowed := make(chan func(), 1)
		var refused sync.Once
		mgr = startManager(withProductionRequestGap(), func(r *OAuthConnectionReconciler) {
			r.Hooks = &Hooks{AfterTokenResponse: func(types.NamespacedName) error {
				if fake.Requests(provider.GrantRefreshToken) > 0 {
					refused.Do(func() {
						defer GinkgoRecover()
						allowed <- refuseSecretWrites(ns)
					})
				}
				return nil
			}}
		})
		key := create(conn)
		eventuallyReady(key)
		Expect(fake.Requests(provider.GrantAuthorizationCode)).To(Equal(1))
		var allow func()
		Eventually(allowed).WithTimeout(30 * time.Second).Should(Receive(&allow))
		Consistently(func() int { return fake.Requests(provider.GrantRefreshToken) }).
			WithTimeout(8*time.Second).Should(Equal(1), "no request while the answer waits to be written, past its token's expiry")

		By("accepting writes again: the held answer's rotated refresh token carries the chain on")
		allow()
		Eventually(func() int { return fake.Requests(provider.GrantRefreshToken) }).WithTimeout(30 * time.Second).Should(BeNumerically(">=", 2))
		eventuallyReady(key)
		Expect(fake.Rejections()).To(BeEmpty(), "no refresh token was presented twice")
	})

	It("writes a held answer while the manager stops, and the next manager carries the chain on", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAura].setup(ns, 6*time.Second)
		mgr.stop()
		allowed := make(chan func(), 1)
		var refused sync.Once
		stopping := startManager(withProductionRequestGap(), func(r *OAuthConnectionReconciler) {
			r.Hooks = &Hooks{AfterTokenResponse: func(types.NamespacedName) error {
				if fake.Requests(provider.GrantRefreshToken) > 0 {
					refused.Do(func() {
						defer GinkgoRecover()
						allowed <- refuseSecretWrites(ns)
					})
				}
				return nil
			}}
		})
		key := create(conn)
		eventuallyReady(key)
		var allow func()
		Eventually(allowed).WithTimeout(30 * time.Second).Should(Receive(&allow))
		Consistently(func() int { return fake.Requests(provider.GrantRefreshToken) }).
			WithTimeout(2*time.Second).Should(Equal(1), "the answer is held")

		By("stopping the manager, and accepting writes while it stops")
		stopping.cancel()
		allow()
		Eventually(stopping.done).WithTimeout(60 * time.Second).Should(BeClosed())

		By("starting the next manager: it refreshes with the rotated refresh token the stopping one wrote")
		mgr = startManager(withProductionRequestGap())
		Eventually(func() int { return fake.Requests(provider.GrantRefreshToken) }).WithTimeout(40 * time.Second).Should(BeNumerically(">=", 2))
		eventuallyReady(key)
		Expect(fake.Rejections()).To(BeEmpty(), "no refresh token was presented twice")
	})

	It("takes the code as used when the state Secret of a connection that published is lost", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAurinko].setup(ns, time.Hour)
		key := create(conn)
		eventuallyReady(key)
		Expect(k8sClient.Delete(ctx, getSecret(ns, stateSecretName(key.Name)))).To(Succeed())
		Eventually(func(g Gomega) {
			expectCondition(g, getConnection(key), oauthv1alpha1.ConditionStalled, metav1.ConditionTrue,
				oauthv1alpha1.ReasonReauthorizationRequired)
		}).Should(Succeed())
		settlesAt(func() int { return fake.Requests(provider.GrantAuthorizationCode) }, 1, "the code is exchanged once, ever")

		By("exchanging a new code stored afterwards")
		grant := getSecret(ns, "grant")
		grant.Data["code"] = []byte(fake.IssueCode())
		Expect(k8sClient.Update(ctx, grant)).To(Succeed())
		eventuallyReady(key)
		settlesAt(func() int { return fake.Requests(provider.GrantAuthorizationCode) }, 2)
	})

	It("continues the rotation chain when a Retain connection is deleted and applied again", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAura].setup(ns, time.Hour)
		conn.Spec.DeletionPolicy = oauthv1alpha1.DeletionPolicyRetain
		key := create(conn)
		eventuallyReady(key)
		first := string(getSecret(ns, key.Name).Data[oauthv1alpha1.KeyAccessToken])
		requestRefresh(key, "rotate")
		Eventually(func() int { return fake.Requests(provider.GrantRefreshToken) }).Should(Equal(1))
		var token string
		Eventually(func() string {
			token = string(getSecret(ns, key.Name).Data[oauthv1alpha1.KeyAccessToken])
			return token
		}).ShouldNot(Equal(first), "the refreshed token is published")

		By("deleting the connection: its Secrets stay, released")
		Expect(k8sClient.Delete(ctx, getConnection(key))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key, &oauthv1alpha1.OAuthConnection{}))
		}).Should(BeTrue())
		for _, name := range []string{key.Name, stateSecretName(key.Name)} {
			Consistently(func(g Gomega) {
				g.Expect(getSecret(ns, name).OwnerReferences).To(BeEmpty())
			}).WithTimeout(2 * time.Second).Should(Succeed())
		}

		By("applying it again: the new connection adopts them and refreshes with the rotated token")
		again := newConnection(ns, key.Name, oauthv1alpha1.ProviderAura, withTokenURL(fake.TokenURL()), withGrantRef("grant"))
		again.Spec.DeletionPolicy = oauthv1alpha1.DeletionPolicyRetain
		create(again)
		eventuallyReady(key)
		Expect(string(getSecret(ns, key.Name).Data[oauthv1alpha1.KeyAccessToken])).To(Equal(token), "no request on adoption")
		// A forced request within 10 seconds of the last forced one is answered by it.
		Eventually(func() time.Duration { return time.Since(getConnection(key).Status.LastRefreshTime.Time) }).
			WithTimeout(15 * time.Second).Should(BeNumerically(">", DefaultMinRequestGap+time.Second))
		requestRefresh(key, "after-restore")
		Eventually(func() int { return fake.Requests(provider.GrantRefreshToken) }).Should(Equal(2))
		eventuallyReady(key)
		Expect(fake.Requests(provider.GrantAuthorizationCode)).To(Equal(1))
		Expect(fake.Rejections()).To(BeEmpty(), "the live refresh token was presented, not the used code or an old token")
		Expect(ownedBy(getSecret(ns, stateSecretName(key.Name)), getConnection(key))).To(BeTrue())
	})

	It("names the Secret actually written when a rename clashes, and removes the old one once the new exists", func() {
		_, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, time.Hour)
		key := create(conn)
		eventuallyReady(key)
		theirs := createSecret(ns, "theirs", map[string]string{"keep": "me"})
		updateSpec(key, func(c *oauthv1alpha1.OAuthConnection) { c.Spec.SecretName = "theirs" })
		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionFalse, oauthv1alpha1.ReasonSecretConflict)
			g.Expect(c.Status.SecretName).To(Equal(key.Name), "the status names the Secret still holding the token")
		}).Should(Succeed())
		Expect(getSecret(ns, "theirs").Data).To(HaveKeyWithValue("keep", []byte("me")))

		By("freeing the name")
		Expect(k8sClient.Delete(ctx, theirs)).To(Succeed())
		requestRefresh(key, "after-rename") // the user Secret is not watched once deleted by name
		Eventually(func(g Gomega) {
			c := getConnection(key)
			g.Expect(c.Status.SecretName).To(Equal("theirs"))
			g.Expect(ownedBy(getSecret(ns, "theirs"), c)).To(BeTrue())
			g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, key, &corev1.Secret{}))).To(BeTrue(), "the old Secret is removed")
		}).Should(Succeed())
	})

	It("keeps the old Secret when the API server refuses the new type, and says why", func() {
		_, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, time.Hour)
		key := create(conn)
		eventuallyReady(key)
		token := string(getSecret(ns, key.Name).Data[oauthv1alpha1.KeyAccessToken])
		updateSpec(key, func(c *oauthv1alpha1.OAuthConnection) {
			c.Spec.SecretTemplate = &oauthv1alpha1.SecretTemplate{Type: string(corev1.SecretTypeBasicAuth)}
		})
		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonInvalidSpec)
			g.Expect(condition(c, oauthv1alpha1.ConditionStalled).Message).To(ContainSubstring("kubernetes.io/basic-auth"))
		}).Should(Succeed())
		Consistently(func() string {
			return string(getSecret(ns, key.Name).Data[oauthv1alpha1.KeyAccessToken])
		}).WithTimeout(2*time.Second).Should(Equal(token), "the workload keeps its Secret")
		Expect(eventReasons(ns, key.Name)).To(ContainElement(oauthv1alpha1.ReasonInvalidSpec))
	})

	It("keeps Ready and the expiry gauge while a run stops early for another manager's claim", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAura].setup(ns, time.Hour)
		key := create(conn)
		eventuallyReady(key)
		requests := fake.TotalRequests()

		By("leaving a fresh claim of another manager in the state, then storing a new grant")
		state := getSecret(ns, stateSecretName(key.Name))
		var st map[string]any
		Expect(json.Unmarshal(state.Data[stateKey], &st)).To(Succeed())
		st["claim"] = map[string]any{"holder": "crashed-predecessor", "at": time.Now().UTC().Format(time.RFC3339Nano),
			"grant": "refresh_token", "credential": "x"}
		st["seq"] = st["seq"].(float64) + 1
		raw, err := json.Marshal(st)
		Expect(err).NotTo(HaveOccurred())
		state.Data[stateKey] = raw
		Expect(k8sClient.Update(ctx, state)).To(Succeed())
		grant := getSecret(ns, "grant")
		grant.Data["code"] = []byte(fake.IssueCode()) // a new grant: a request, which the claim holds back
		Expect(k8sClient.Update(ctx, grant)).To(Succeed())
		Consistently(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionTrue, "")
			g.Expect(servedFor(key)["tokenwarden_token_expiry_timestamp_seconds"]["provider=Aura"]).To(BeNumerically(">", 0))
		}).WithTimeout(3 * time.Second).Should(Succeed())
		Expect(fake.TotalRequests()).To(Equal(requests), "the claimed refresh token is not presented")
	})

	It("removes template labels and annotations dropped from the spec, and leaves others' alone", func() {
		_, conn := providerCases[oauthv1alpha1.ProviderGeneric].setup(ns, time.Hour)
		key := create(conn)
		eventuallyReady(key)
		Eventually(func() map[string]string { return getSecret(ns, key.Name).Labels }).Should(HaveKeyWithValue("team", "payments"))
		s := getSecret(ns, key.Name)
		s.Labels["added-by"] = "someone-else"
		Expect(k8sClient.Update(ctx, s)).To(Succeed())

		updateSpec(key, func(c *oauthv1alpha1.OAuthConnection) { c.Spec.SecretTemplate.Labels = nil })
		Eventually(func(g Gomega) {
			labels := getSecret(ns, key.Name).Labels
			g.Expect(labels).NotTo(HaveKey("team"))
			g.Expect(labels).To(HaveKeyWithValue("added-by", "someone-else"))
			g.Expect(labels).To(HaveKeyWithValue(oauthv1alpha1.ManagedByLabel, oauthv1alpha1.ManagedByValue))
		}).Should(Succeed())
	})

	It("stalls with SecretConflict on someone else's Secret under the state Secret's name", func() {
		fake := track(providertest.NewAstonClub(providertest.Options{}))
		clientSecretFor(ns, fake)
		createSecret(ns, "grant", map[string]string{"refresh_token": fake.IssueRefreshToken()})
		createSecret(ns, stateSecretName("astonclub"), map[string]string{"mine": "yes"})
		key := create(newConnection(ns, "astonclub", oauthv1alpha1.ProviderAstonClub, withTokenURL(fake.TokenURL()), withGrantRef("grant")))
		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonSecretConflict)
			g.Expect(condition(c, oauthv1alpha1.ConditionStalled).Message).To(ContainSubstring("state Secret"))
		}).Should(Succeed())
		settlesAt(fake.TotalRequests, 0)
		Expect(getSecret(ns, stateSecretName("astonclub")).Data).To(Equal(map[string][]byte{"mine": []byte("yes")}))
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "astonclub"}, &corev1.Secret{})).
			To(Satisfy(apierrors.IsNotFound))
	})
})
