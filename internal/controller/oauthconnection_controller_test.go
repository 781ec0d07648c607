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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// providerCase sets up one provider's fake and connection.
type providerCase struct {
	grant provider.GrantType
	// setup starts the fake, creates the Secrets and returns the connection to create.
	setup func(ns string, lifetime time.Duration) (*providertest.Server, *oauthv1alpha1.OAuthConnection)
	// extraKeys are the provider-specific keys of the workload Secret.
	extraKeys []string
	// expires is false for a provider whose tokens do not expire.
	expires bool
}

var providerCases = map[oauthv1alpha1.Provider]providerCase{
	oauthv1alpha1.ProviderAurora: {
		grant: provider.GrantClientCredentials, expires: true,
		setup: func(ns string, lifetime time.Duration) (*providertest.Server, *oauthv1alpha1.OAuthConnection) {
			fake := track(providertest.NewAurora(providertest.Options{Lifetime: lifetime}))
			clientSecretFor(ns, fake)
			// The token endpoint comes from OIDC discovery, as for Aurora's own issuers.
			return fake, newConnection(ns, "aurora", oauthv1alpha1.ProviderAurora, withIssuerURL(fake.IssuerURL()))
		},
	},
	oauthv1alpha1.ProviderAura: {
		grant: provider.GrantRefreshToken, expires: true,
		setup: func(ns string, lifetime time.Duration) (*providertest.Server, *oauthv1alpha1.OAuthConnection) {
			fake := track(providertest.NewAura(providertest.Options{Lifetime: lifetime}))
			clientSecretFor(ns, fake)
			createSecret(ns, "grant", map[string]string{"code": fake.IssueCode(), "redirect_uri": fake.RedirectURI()})
			return fake, newConnection(ns, "aura", oauthv1alpha1.ProviderAura,
				withTokenURL(fake.TokenURL()), withGrantRef("grant"))
		},
	},
	oauthv1alpha1.ProviderAstonClub: {
		grant: provider.GrantRefreshToken, expires: true, extraKeys: []string{oauthv1alpha1.KeyScope},
		setup: func(ns string, lifetime time.Duration) (*providertest.Server, *oauthv1alpha1.OAuthConnection) {
			fake := track(providertest.NewAstonClub(providertest.Options{Lifetime: lifetime}))
			clientSecretFor(ns, fake)
			createSecret(ns, "grant", map[string]string{"refresh_token": fake.IssueRefreshToken()})
			return fake, newConnection(ns, "astonclub", oauthv1alpha1.ProviderAstonClub,
				withTokenURL(fake.TokenURL()), withGrantRef("grant"))
		},
	},
	oauthv1alpha1.ProviderAurinko: {
		grant: provider.GrantAuthorizationCode, expires: false,
		extraKeys: []string{oauthv1alpha1.KeyUserSession, oauthv1alpha1.KeyAccountID, oauthv1alpha1.KeyUserID},
		setup: func(ns string, lifetime time.Duration) (*providertest.Server, *oauthv1alpha1.OAuthConnection) {
			fake := track(providertest.NewAurinko(providertest.Options{Lifetime: lifetime}))
			clientSecretFor(ns, fake)
			createSecret(ns, "grant", map[string]string{"code": fake.IssueCode()})
			return fake, newConnection(ns, "aurinko", oauthv1alpha1.ProviderAurinko,
				withTokenURL(fake.TokenURL()), withGrantRef("grant"))
		},
	},
	oauthv1alpha1.ProviderGeneric: {
		grant: provider.GrantClientCredentials, expires: true,
		setup: func(ns string, lifetime time.Duration) (*providertest.Server, *oauthv1alpha1.OAuthConnection) {
			fake := track(providertest.NewGeneric(providertest.Options{Lifetime: lifetime},
				oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm))
			clientSecretFor(ns, fake)
			return fake, newConnection(ns, "generic", oauthv1alpha1.ProviderGeneric,
				withTokenURL(fake.TokenURL()), withSpec(func(s *oauthv1alpha1.OAuthConnectionSpec) {
					s.Scopes = []oauthv1alpha1.Scope{"orders.read"}
					s.SecretTemplate = &oauthv1alpha1.SecretTemplate{
						Labels: map[string]oauthv1alpha1.MetadataValue{"team": "payments"},
						Data:   map[string]oauthv1alpha1.TemplateText{"Authorization": "{{ .token_type }} {{ .access_token }}"},
					}
				}))
		},
	},
}

var _ = Describe("OAuthConnection controller", func() {
	var (
		ns  string
		mgr *testManager
	)
	BeforeEach(func() {
		ns = newNamespace()
		mgr = startManager()
		DeferCleanup(func() { mgr.stop() })
	})

	DescribeTable("obtains a token, writes the Secret and refreshes before expiry",
		func(p oauthv1alpha1.Provider) {
			pc := providerCases[p]
			fake, conn := pc.setup(ns, 4*time.Second)
			key := create(conn)
			ready := eventuallyReady(key)
			Expect(condition(ready, oauthv1alpha1.ConditionReady).Reason).To(Equal(oauthv1alpha1.ReasonTokenIssued))

			By("writing the default keys, and no others")
			secret := getSecret(ns, conn.Name)
			token := string(secret.Data[oauthv1alpha1.KeyAccessToken])
			Expect(fake.ValidAccessToken(token)).To(BeTrue())
			Expect(string(secret.Data[oauthv1alpha1.KeyTokenType])).To(Equal("Bearer"))
			want := append([]string{oauthv1alpha1.KeyAccessToken, oauthv1alpha1.KeyTokenType}, pc.extraKeys...)
			if pc.expires {
				want = append(want, oauthv1alpha1.KeyExpiry)
				expiry, err := time.Parse(time.RFC3339, string(secret.Data[oauthv1alpha1.KeyExpiry]))
				Expect(err).NotTo(HaveOccurred())
				Expect(ready.Status.ExpiresAt.Time).To(BeTemporally("~", expiry, time.Second))
			}
			if p == oauthv1alpha1.ProviderGeneric {
				want = append(want, oauthv1alpha1.KeyScope, "Authorization")
				Expect(string(secret.Data["Authorization"])).To(Equal("Bearer " + token))
				Expect(secret.Labels).To(HaveKeyWithValue("team", "payments"))
			}
			Expect(keys(secret)).To(ConsistOf(want))
			Expect(secret.Labels).To(HaveKeyWithValue(oauthv1alpha1.ManagedByLabel, oauthv1alpha1.ManagedByValue))
			Expect(secret.Labels).To(HaveKeyWithValue(oauthv1alpha1.ConnectionLabel, conn.Name))
			Expect(metav1.IsControlledBy(secret, ready)).To(BeTrue())
			Expect(ready.Status.SecretName).To(Equal(conn.Name))
			Expect(ready.Status.TokenType).To(Equal("Bearer"))

			if !pc.expires {
				By("scheduling no refresh for a token that does not expire")
				Expect(ready.Status.ExpiresAt).To(BeNil())
				Expect(ready.Status.NextRefreshTime).To(BeNil())
				Consistently(func() int { return fake.TotalRequests() }).WithTimeout(3 * time.Second).Should(Equal(1))
				return
			}

			By("refreshing before the token expires")
			Expect(ready.Status.NextRefreshTime.Time).To(BeTemporally("<", ready.Status.ExpiresAt.Time))
			oldExpiry, firstObtained := ready.Status.ExpiresAt.Time, ready.Status.LastRefreshTime.Time
			var refreshed *oauthv1alpha1.OAuthConnection
			Eventually(func(g Gomega) {
				refreshed = getConnection(key)
				g.Expect(refreshed.Status.LastRefreshTime.Time).To(BeTemporally(">", firstObtained))
			}).WithTimeout(20 * time.Second).WithPolling(10 * time.Millisecond).Should(Succeed())
			// The first refresh seen: it was made while the first token was still valid.
			Expect(refreshed.Status.LastRefreshTime.Time).To(BeTemporally("<", oldExpiry))
			Expect(condition(refreshed, oauthv1alpha1.ConditionReady).Reason).To(Equal(oauthv1alpha1.ReasonTokenRefreshed))
			Eventually(func(g Gomega) {
				s := getSecret(ns, conn.Name)
				g.Expect(string(s.Data[oauthv1alpha1.KeyAccessToken])).NotTo(Equal(token))
				g.Expect(fake.ValidAccessToken(string(s.Data[oauthv1alpha1.KeyAccessToken]))).To(BeTrue())
			}).Should(Succeed())
			Expect(fake.Rejections()).To(BeEmpty())
			Eventually(func() []string { return eventReasons(ns, conn.Name) }).Should(ContainElements(oauthv1alpha1.ReasonTokenIssued, oauthv1alpha1.ReasonTokenRefreshed))
		},
		Entry("Aurora (client credentials, discovered endpoint)", oauthv1alpha1.ProviderAurora),
		Entry("Aura (code, then rotating refresh tokens)", oauthv1alpha1.ProviderAura),
		Entry("AstonClub (refresh token)", oauthv1alpha1.ProviderAstonClub),
		Entry("Aurinko (code exchanged once; no expiry)", oauthv1alpha1.ProviderAurinko),
		Entry("Generic (client credentials, Basic, form, template)", oauthv1alpha1.ProviderGeneric),
	)

	It("keeps Aura's rotation chain unbroken over refreshes and a manager restart", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAura].setup(ns, 3*time.Second)
		key := create(conn)
		eventuallyReady(key)
		Eventually(func() int { return fake.Requests(provider.GrantRefreshToken) }).
			WithTimeout(20 * time.Second).Should(BeNumerically(">=", 2))

		By("restarting the manager")
		mgr.stop()
		mgr = startManager(withShortClaims())
		before := fake.Requests(provider.GrantRefreshToken)
		Eventually(func() int { return fake.Requests(provider.GrantRefreshToken) }).
			WithTimeout(20 * time.Second).Should(BeNumerically(">=", before+2))

		c := eventuallyReady(key)
		Expect(c.Status.ConsecutiveFailures).To(BeZero())
		Expect(fake.Requests(provider.GrantAuthorizationCode)).To(Equal(1))
		Expect(fake.Rejections()).To(BeEmpty(), "no refresh token was presented twice")
		Expect(fake.ValidAccessToken(string(getSecret(ns, conn.Name).Data[oauthv1alpha1.KeyAccessToken]))).To(BeTrue())
		Expect(eventReasons(ns, conn.Name)).NotTo(ContainElement(oauthv1alpha1.ReasonReauthorizationRequired))
	})

	It("keeps AstonClub's refresh token when a refresh returns none", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAstonClub].setup(ns, 3*time.Second)
		fake.SetOmitRefreshToken(true)
		key := create(conn)
		eventuallyReady(key)
		Eventually(func() int { return fake.Requests(provider.GrantRefreshToken) }).
			WithTimeout(20 * time.Second).Should(BeNumerically(">=", 3))
		c := eventuallyReady(key)
		Expect(c.Status.ConsecutiveFailures).To(BeZero())
		Expect(fake.Rejections()).To(BeEmpty())
	})

	It("exchanges Aurinko's code once, even across a restart", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAurinko].setup(ns, 0)
		key := create(conn)
		eventuallyReady(key)
		Expect(fake.Requests(provider.GrantAuthorizationCode)).To(Equal(1))

		By("restarting the manager and touching the connection")
		mgr.stop()
		mgr = startManager()
		c := getConnection(key)
		patch := client.MergeFrom(c.DeepCopy())
		c.Labels = map[string]string{"touched": "yes"}
		Expect(k8sClient.Patch(ctx, c, patch)).To(Succeed())
		// The restarted manager restores a deleted workload Secret: proof that it reconciled.
		Expect(k8sClient.Delete(ctx, getSecret(ns, conn.Name))).To(Succeed())
		Eventually(func() error {
			return k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: conn.Name}, &corev1.Secret{})
		}).Should(Succeed())
		settlesAt(func() int { return fake.TotalRequests() }, 1)
		eventuallyReady(key)
	})

	It("makes exactly one forced refresh per annotation value", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, time.Hour)
		key := create(conn)
		eventuallyReady(key)
		Expect(fake.Requests(provider.GrantClientCredentials)).To(Equal(1))

		requestRefresh(key, "2026-11-23T10:00:00Z")
		Eventually(func() string { return getConnection(key).Status.LastHandledRefreshRequest }).
			Should(Equal("2026-11-23T10:00:00Z"))
		Expect(fake.Requests(provider.GrantClientCredentials)).To(Equal(2))

		By("not refreshing again for the same value")
		c := getConnection(key)
		patch := client.MergeFrom(c.DeepCopy())
		c.Annotations["unrelated"] = "change"
		Expect(k8sClient.Patch(ctx, c, patch)).To(Succeed())
		settlesAt(func() int { return fake.Requests(provider.GrantClientCredentials) }, 2)

		requestRefresh(key, "2026-11-23T11:00:00Z")
		Eventually(func() int { return fake.Requests(provider.GrantClientCredentials) }).Should(Equal(3))
		settlesAt(func() int { return fake.Requests(provider.GrantClientCredentials) }, 3)
		c = eventuallyReady(key)
		Expect(condition(c, oauthv1alpha1.ConditionReady).Reason).To(Equal(oauthv1alpha1.ReasonTokenRefreshed))

		By("exporting the metrics of api.md")
		Expect(testutil.ToFloat64(tokenRequests.WithLabelValues("Aurora", "client_credentials", "success"))).
			To(BeNumerically(">=", 3))
		Expect(servedFor(key)["tokenwarden_token_expiry_timestamp_seconds"]).
			To(Equal(map[string]float64{"provider=Aurora": float64(c.Status.ExpiresAt.Unix())}))
		Expect(testutil.CollectAndCount(tokenRequestDuration)).To(BeNumerically(">=", 1))
	})

	It("makes no token request from a fresh manager over valid tokens, and restores edited Secrets from state", func() {
		// Aurora (client credentials) keeps its state on its workload Secret: deleting that
		// Secret is answered with a new token. Aura and AstonClub restore theirs from the
		// state Secret without a request.
		servers := make([]*providertest.Server, 0, 3)
		keys := make([]types.NamespacedName, 0, 3)
		for _, p := range []oauthv1alpha1.Provider{oauthv1alpha1.ProviderAurora, oauthv1alpha1.ProviderAura, oauthv1alpha1.ProviderAstonClub} {
			sub := newNamespace()
			fake, conn := providerCases[p].setup(sub, time.Hour)
			servers = append(servers, fake)
			keys = append(keys, create(conn))
		}
		tokens := map[types.NamespacedName]string{}
		for _, key := range keys {
			eventuallyReady(key)
			tokens[key] = string(getSecret(key.Namespace, key.Name).Data[oauthv1alpha1.KeyAccessToken])
		}
		requests := func() (n int) {
			for _, s := range servers {
				n += s.TotalRequests()
			}
			return n
		}
		Expect(requests()).To(Equal(3))

		By("starting a fresh manager over them: no request")
		mgr.stop()
		mgr = startManager()
		for _, key := range keys {
			Eventually(func(g Gomega) {
				c := getConnection(key)
				g.Expect(c.Status.NextRefreshTime).NotTo(BeNil())
				g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
			}).Should(Succeed())
		}
		settlesAt(requests, 3)

		By("stopping the manager, deleting Aurora's and Aura's workload Secrets and editing AstonClub's")
		mgr.stop()
		Expect(k8sClient.Delete(ctx, getSecret(keys[0].Namespace, keys[0].Name))).To(Succeed())
		Expect(k8sClient.Delete(ctx, getSecret(keys[1].Namespace, keys[1].Name))).To(Succeed())
		edited := getSecret(keys[2].Namespace, keys[2].Name)
		edited.Data[oauthv1alpha1.KeyAccessToken] = []byte("tampered")
		edited.Data["extra"] = []byte("x")
		Expect(k8sClient.Update(ctx, edited)).To(Succeed())

		By("starting a fresh manager")
		mgr = startManager()
		for i, key := range keys {
			Eventually(func(g Gomega) {
				s := &corev1.Secret{}
				g.Expect(k8sClient.Get(ctx, key, s)).To(Succeed())
				token := string(s.Data[oauthv1alpha1.KeyAccessToken])
				if i == 0 {
					g.Expect(token).NotTo(Equal(tokens[key]))
					g.Expect(servers[0].ValidAccessToken(token)).To(BeTrue())
				} else {
					g.Expect(token).To(Equal(tokens[key]))
				}
				g.Expect(s.Data).NotTo(HaveKey("extra"))
			}).Should(Succeed())
		}
		settlesAt(requests, 4, "one new token, for Aurora's deleted Secret")
		Expect(eventReasons(keys[0].Namespace, keys[0].Name)).To(ContainElement(oauthv1alpha1.ReasonTokenIssued))
	})

	It("starts its state afresh when the state Secret is deleted under a running manager", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAstonClub].setup(ns, time.Hour)
		key := create(conn)
		eventuallyReady(key)
		state := getSecret(ns, stateSecretName(key.Name))
		Expect(fake.TotalRequests()).To(Equal(1))

		Expect(k8sClient.Delete(ctx, state)).To(Succeed())
		Eventually(func(g Gomega) {
			s := &corev1.Secret{}
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: state.Name}, s)).To(Succeed())
			g.Expect(s.UID).NotTo(Equal(state.UID))
		}).Should(Succeed())
		// The grant Secret's refresh token was presented once more: no loop.
		settlesAt(fake.TotalRequests, 2)
		eventuallyReady(key)
		Expect(fake.ValidAccessToken(string(getSecret(ns, key.Name).Data[oauthv1alpha1.KeyAccessToken]))).To(BeTrue())
	})

	It("adds secretTemplate labels to a client-credentials Secret without a token request", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, time.Hour)
		key := create(conn)
		eventuallyReady(key)
		token := string(getSecret(ns, key.Name).Data[oauthv1alpha1.KeyAccessToken])
		updateSpec(key, func(c *oauthv1alpha1.OAuthConnection) {
			c.Spec.SecretTemplate = &oauthv1alpha1.SecretTemplate{
				Labels:      map[string]oauthv1alpha1.MetadataValue{"team": "payments"},
				Annotations: map[string]oauthv1alpha1.MetadataValue{"example.com/owner": "payments"},
			}
		})
		Eventually(func(g Gomega) {
			s := getSecret(ns, key.Name)
			g.Expect(s.Labels).To(HaveKeyWithValue("team", "payments"))
			g.Expect(s.Annotations).To(HaveKeyWithValue("example.com/owner", "payments"))
			g.Expect(string(s.Data[oauthv1alpha1.KeyAccessToken])).To(Equal(token))
		}).Should(Succeed())
		Expect(fake.TotalRequests()).To(Equal(1))
	})

	It("survives a burst of 503s without emptying the Secret", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, 40*time.Second)
		conn.Spec.RefreshBefore = &metav1.Duration{Duration: 34 * time.Second}
		key := create(conn)
		eventuallyReady(key)
		token := string(getSecret(ns, conn.Name).Data[oauthv1alpha1.KeyAccessToken])
		fake.FailNext(2, 503)

		By("keeping the last good token and Ready while it is valid")
		Eventually(func(g Gomega) {
			c := getConnection(key)
			g.Expect(c.Status.ConsecutiveFailures).To(BeNumerically(">=", 1))
			expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionTrue, "")
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionFalse, "")
			g.Expect(string(getSecret(ns, conn.Name).Data[oauthv1alpha1.KeyAccessToken])).To(Equal(token))
		}).WithTimeout(20 * time.Second).Should(Succeed())

		By("recovering once the provider answers")
		Eventually(func(g Gomega) {
			c := getConnection(key)
			g.Expect(c.Status.ConsecutiveFailures).To(BeZero())
			s := getSecret(ns, conn.Name)
			g.Expect(string(s.Data[oauthv1alpha1.KeyAccessToken])).NotTo(Equal(token))
			g.Expect(fake.ValidAccessToken(string(s.Data[oauthv1alpha1.KeyAccessToken]))).To(BeTrue())
		}).WithTimeout(40 * time.Second).Should(Succeed())
		Expect(fake.Requests(provider.GrantClientCredentials)).To(Equal(4))
		Eventually(func() []string { return eventReasons(ns, conn.Name) }).Should(ContainElement(oauthv1alpha1.ReasonTokenRequestFailed))
	})

	It("stalls on invalid_grant, and recovers when the grant Secret is updated", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAstonClub].setup(ns, time.Hour)
		key := create(conn)
		eventuallyReady(key)

		fake.RevokeGrants()
		requestRefresh(key, "after-revocation")
		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonReauthorizationRequired)
			// The current token is still valid, so Ready stays True until it expires.
			expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionTrue, "")
		}).Should(Succeed())
		requests := fake.TotalRequests()
		Consistently(func() int { return fake.TotalRequests() }).WithTimeout(3*time.Second).Should(Equal(requests),
			"no retry loop on a permanent error")
		Eventually(func() []string { return eventReasons(ns, conn.Name) }).Should(ContainElement(oauthv1alpha1.ReasonReauthorizationRequired))

		By("adopting a new refresh token stored in the grant Secret")
		grant := getSecret(ns, "grant")
		grant.Data["refresh_token"] = []byte(fake.IssueRefreshToken())
		Expect(k8sClient.Update(ctx, grant)).To(Succeed())
		c := eventuallyReady(key)
		Expect(condition(c, oauthv1alpha1.ConditionReady).Reason).To(Equal(oauthv1alpha1.ReasonTokenIssued))
		Expect(fake.ValidAccessToken(string(getSecret(ns, conn.Name).Data[oauthv1alpha1.KeyAccessToken]))).To(BeTrue())
	})

	It("never touches a Secret it does not own", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, time.Hour)
		theirs := createSecret(ns, "taken", map[string]string{"mine": "keep me"})
		conn.Spec.SecretName = "taken"
		key := create(conn)
		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionFalse, oauthv1alpha1.ReasonSecretConflict)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonSecretConflict)
		}).Should(Succeed())
		after := getSecret(ns, "taken")
		Expect(after.ResourceVersion).To(Equal(theirs.ResourceVersion))
		Expect(after.OwnerReferences).To(BeEmpty())
		// The clash shows when the Secret is created: the one token obtained before it waits in
		// state, and no other request follows while the clash lasts.
		Consistently(func() int { return fake.TotalRequests() }).WithTimeout(2 * time.Second).Should(BeNumerically("<=", 1))
		requests := fake.TotalRequests()

		By("recovering when the name is changed")
		updateSpec(key, func(c *oauthv1alpha1.OAuthConnection) { c.Spec.SecretName = "mine" })
		eventuallyReady(key)
		Expect(getSecret(ns, "mine").Data).To(HaveKey(oauthv1alpha1.KeyAccessToken))
		Expect(getSecret(ns, "taken").ResourceVersion).To(Equal(theirs.ResourceVersion))
		Expect(fake.TotalRequests()).To(Equal(requests), "the token obtained before is published, not a new one")
	})

	It("reports a missing client Secret or key, and starts when it appears", func() {
		fake := track(providertest.NewAurora(providertest.Options{}))
		key := create(newConnection(ns, "waiting", oauthv1alpha1.ProviderAurora, withTokenURL(fake.TokenURL())))
		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonClientSecretNotFound)
			expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionFalse, oauthv1alpha1.ReasonClientSecretNotFound)
		}).Should(Succeed())
		By("naming a missing key")
		incomplete := createSecret(ns, "client", map[string]string{"client_id": fake.ClientID()})
		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonClientSecretNotFound)
			g.Expect(condition(c, oauthv1alpha1.ConditionStalled).Message).To(ContainSubstring(`no key "client_secret"`))
		}).Should(Succeed())
		Expect(fake.TotalRequests()).To(BeZero())
		Expect(k8sClient.Delete(ctx, incomplete)).To(Succeed())
		clientSecretFor(ns, fake)
		eventuallyReady(key)
	})

	It("follows a client Secret that carries the operator's label, which the metadata watch leaves out", func() {
		fake := track(providertest.NewAurora(providertest.Options{}))
		labelled := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "client",
				Labels: map[string]string{oauthv1alpha1.ManagedByLabel: oauthv1alpha1.ManagedByValue}},
			StringData: map[string]string{"client_id": fake.ClientID()},
		}
		Expect(k8sClient.Create(ctx, labelled)).To(Succeed())
		key := create(newConnection(ns, "labelled-client", oauthv1alpha1.ProviderAurora, withTokenURL(fake.TokenURL())))
		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonClientSecretNotFound)
			g.Expect(condition(c, oauthv1alpha1.ConditionStalled).Message).To(ContainSubstring(`no key "client_secret"`))
		}).Should(Succeed())

		By("adding the missing key")
		labelled = getSecret(ns, "client")
		labelled.Data["client_secret"] = []byte(fake.ClientSecret())
		Expect(k8sClient.Update(ctx, labelled)).To(Succeed())
		eventuallyReady(key)
		Expect(fake.TotalRequests()).To(Equal(1))
	})

	It("leaks no token, refresh token, code or client secret into logs, events or status", func() {
		for p := range providerCases {
			_, conn := providerCases[p].setup(newNamespace(), 3*time.Second)
			eventuallyReady(create(conn))
		}
		By("provoking failures: a wrong client secret and a revoked grant")
		bad := track(providertest.NewGeneric(providertest.Options{}, oauthv1alpha1.ClientAuthenticationBody, oauthv1alpha1.RequestEncodingJSON))
		createSecret(ns, "client", map[string]string{"client_id": bad.ClientID(), "client_secret": bad.ClientSecret() + "-wrong"})
		badKey := create(newConnection(ns, "bad-client", oauthv1alpha1.ProviderGeneric, withTokenURL(bad.TokenURL()),
			withSpec(func(s *oauthv1alpha1.OAuthConnectionSpec) {
				s.ClientAuthentication = oauthv1alpha1.ClientAuthenticationBody
				s.RequestEncoding = oauthv1alpha1.RequestEncodingJSON
			})))
		Eventually(func(g Gomega) {
			expectCondition(g, getConnection(badKey), oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonInvalidClient)
		}).Should(Succeed())

		// Events are written asynchronously: wait for the failure's before scanning them.
		Eventually(func() []string { return eventReasons(ns, "bad-client") }).Should(ContainElement(oauthv1alpha1.ReasonInvalidClient))
		secrets := append(allSecretMaterial(), bad.ClientSecret()+"-wrong")
		Expect(len(secrets)).To(BeNumerically(">", 10))

		By("scanning the manager logs")
		if s, found := containsAny(logs.String(), secrets); found {
			Fail("a secret value appears in the manager logs: " + s[:6] + "…")
		}
		By("scanning events and statuses in every namespace")
		nsList := &corev1.NamespaceList{}
		Expect(k8sClient.List(ctx, nsList)).To(Succeed())
		for _, n := range nsList.Items {
			for _, e := range eventsIn(n.Name) {
				_, found := containsAny(e.Note+e.Reason+e.Action, secrets)
				Expect(found).To(BeFalse(), "event %s/%s", e.Namespace, e.Name)
			}
		}
		conns := &oauthv1alpha1.OAuthConnectionList{}
		Expect(k8sClient.List(ctx, conns)).To(Succeed())
		for _, c := range conns.Items {
			raw, err := json.Marshal(c.Status)
			Expect(err).NotTo(HaveOccurred())
			_, found := containsAny(string(raw)+c.Annotations[oauthv1alpha1.RefreshRequestedAnnotation], secrets)
			Expect(found).To(BeFalse(), "status of %s/%s", c.Namespace, c.Name)
		}
		By("scanning the labels and annotations of every Secret (kubectl describe shows them)")
		all := &corev1.SecretList{}
		Expect(k8sClient.List(ctx, all)).To(Succeed())
		inline := 0
		for _, sec := range all.Items {
			if _, ok := sec.Annotations[inlineStateAnnotation]; ok {
				inline++
			}
			raw, err := json.Marshal([]map[string]string{sec.Labels, sec.Annotations})
			Expect(err).NotTo(HaveOccurred())
			_, found := containsAny(string(raw), secrets)
			Expect(found).To(BeFalse(), "metadata of Secret %s/%s", sec.Namespace, sec.Name)
		}
		Expect(inline).To(BeNumerically(">=", 2), "the client-credentials connections' inline state was scanned")
	})
})
