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
	"errors"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// crash makes a hook that kills the manager the first time it runs, at that step of a
// refresh, as a crash would: nothing after it happens.
type crash struct {
	once    sync.Once
	crashed chan struct{}
	mgr     **testManager
}

func newCrash(mgr **testManager) *crash { return &crash{crashed: make(chan struct{}), mgr: mgr} }

func (c *crash) hook(types.NamespacedName) error {
	fired := false
	c.once.Do(func() {
		fired = true
		close(c.crashed)
		go (*c.mgr).cancel()
	})
	if fired {
		return errors.New("crashed")
	}
	return nil
}

func withHooks(h *Hooks) managerOption {
	return func(r *OAuthConnectionReconciler) {
		r.Hooks = h
		r.ClaimTTL = time.Second
	}
}

func withShortClaims() managerOption {
	return func(r *OAuthConnectionReconciler) { r.ClaimTTL = time.Second }
}

var _ = Describe("Crashes in the middle of a refresh", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	// crashAt runs one connection with a manager that dies at a step of its first refresh
	// of a rotating provider (Aura), then starts a fresh manager over the same cluster.
	crashAt := func(p oauthv1alpha1.Provider, step func(*Hooks, func(types.NamespacedName) error)) (
		fake interface {
			Requests(provider.GrantType) int
			Rejections() []string
			ValidAccessToken(string) bool
		}, key types.NamespacedName, name string, restarted *testManager) {
		GinkgoHelper()
		f, conn := providerCases[p].setup(ns, time.Hour)
		var mgr *testManager
		c := newCrash(&mgr)
		hooks := &Hooks{}
		step(hooks, c.hook)
		mgr = startManager(withHooks(hooks))
		key = create(conn)
		Eventually(c.crashed).WithTimeout(30 * time.Second).Should(BeClosed())
		Eventually(mgr.done).WithTimeout(30 * time.Second).Should(BeClosed())
		restarted = startManager(withShortClaims())
		DeferCleanup(restarted.stop)
		return f, key, conn.Name, restarted
	}

	It("after the token response and before the state write: a lost code says ReauthorizationRequired, never sent twice", func() {
		fake, key, _, _ := crashAt(oauthv1alpha1.ProviderAurinko, func(h *Hooks, f func(types.NamespacedName) error) {
			h.AfterTokenResponse = f
		})
		Eventually(func(g Gomega) {
			expectCondition(g, getConnection(key), oauthv1alpha1.ConditionStalled, metav1.ConditionTrue,
				oauthv1alpha1.ReasonReauthorizationRequired)
		}).WithTimeout(20 * time.Second).Should(Succeed())
		settlesAt(func() int { return fake.Requests(provider.GrantAuthorizationCode) }, 1, "the code is exchanged once, ever")
	})

	It("after the token response and before the state write: a rotated refresh token lost says ReauthorizationRequired", func() {
		fake, key, _, _ := crashAt(oauthv1alpha1.ProviderAura, func(h *Hooks, f func(types.NamespacedName) error) {
			h.AfterTokenResponse = f
		})
		// The answer to the code exchange was lost with the crash: the code was used, and
		// only a new one can bring the connection back.
		Eventually(func(g Gomega) {
			expectCondition(g, getConnection(key), oauthv1alpha1.ConditionStalled, metav1.ConditionTrue,
				oauthv1alpha1.ReasonReauthorizationRequired)
		}).WithTimeout(20 * time.Second).Should(Succeed())
		Expect(fake.Requests(provider.GrantAuthorizationCode)).To(Equal(1))
	})

	It("after the state write and before the workload Secret write: publishes from state without a request", func() {
		fake, key, name, _ := crashAt(oauthv1alpha1.ProviderAura, func(h *Hooks, f func(types.NamespacedName) error) {
			h.AfterStateSaved = f
		})
		eventuallyReady(key)
		Expect(fake.Requests(provider.GrantAuthorizationCode)).To(Equal(1))
		Expect(fake.Requests(provider.GrantRefreshToken)).To(Equal(0))
		Expect(fake.ValidAccessToken(string(getSecret(ns, name).Data[oauthv1alpha1.KeyAccessToken]))).To(BeTrue())
	})

	It("client credentials, after the token response and before the Secret write: one new token", func() {
		fake, key, name, _ := crashAt(oauthv1alpha1.ProviderAurora, func(h *Hooks, f func(types.NamespacedName) error) {
			h.AfterTokenResponse = f
		})
		// Nothing single-use was lost: the token that died with the manager is replaced.
		eventuallyReady(key)
		settlesAt(func() int { return fake.Requests(provider.GrantClientCredentials) }, 2)
		Expect(fake.ValidAccessToken(string(getSecret(ns, name).Data[oauthv1alpha1.KeyAccessToken]))).To(BeTrue())
	})

	It("client credentials, after the Secret write: the restarted manager makes no request", func() {
		fake, key, name, _ := crashAt(oauthv1alpha1.ProviderAurora, func(h *Hooks, f func(types.NamespacedName) error) {
			h.AfterSecretWritten = f
		})
		eventuallyReady(key)
		settlesAt(func() int { return fake.Requests(provider.GrantClientCredentials) }, 1)
		Expect(fake.ValidAccessToken(string(getSecret(ns, name).Data[oauthv1alpha1.KeyAccessToken]))).To(BeTrue())
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: stateSecretName(name)}, &corev1.Secret{})).
			To(Satisfy(apierrors.IsNotFound), "a client-credentials connection has no state Secret")
	})

	It("after both writes: the restarted manager makes no request", func() {
		fake, key, name, _ := crashAt(oauthv1alpha1.ProviderAura, func(h *Hooks, f func(types.NamespacedName) error) {
			h.AfterSecretWritten = f
		})
		eventuallyReady(key)
		settlesAt(func() int {
			return fake.Requests(provider.GrantRefreshToken) + fake.Requests(provider.GrantAuthorizationCode)
		}, 1)
		Expect(fake.ValidAccessToken(string(getSecret(ns, name).Data[oauthv1alpha1.KeyAccessToken]))).To(BeTrue())
		Expect(fake.Rejections()).To(BeEmpty())
	})

	It("keeps Aura's chain through a crash after a refresh's state write", func() {
		f, conn := providerCases[oauthv1alpha1.ProviderAura].setup(ns, 3*time.Second)
		var mgr *testManager
		c := newCrash(&mgr)
		var refreshes sync.Once
		hooks := &Hooks{AfterStateSaved: func(k types.NamespacedName) error {
			// Crash at the first refresh, not at the code exchange.
			if f.Requests(provider.GrantRefreshToken) == 0 {
				return nil
			}
			var err error
			refreshes.Do(func() { err = c.hook(k) })
			return err
		}}
		mgr = startManager(withHooks(hooks))
		key := create(conn)
		Eventually(c.crashed).WithTimeout(30 * time.Second).Should(BeClosed())
		Eventually(mgr.done).WithTimeout(30 * time.Second).Should(BeClosed())
		restarted := startManager(withShortClaims())
		DeferCleanup(restarted.stop)
		before := f.Requests(provider.GrantRefreshToken)
		Eventually(func() int { return f.Requests(provider.GrantRefreshToken) }).
			WithTimeout(20 * time.Second).Should(BeNumerically(">=", before+2))
		eventuallyReady(key)
		Expect(f.Rejections()).To(BeEmpty())
		Expect(eventReasons(ns, conn.Name)).NotTo(ContainElement(oauthv1alpha1.ReasonReauthorizationRequired))
	})
})

var _ = Describe("Two managers without leader election", func() {
	It("lose no rotation and exchange no code twice", func() {
		ns := newNamespace()
		f, conn := providerCases[oauthv1alpha1.ProviderAura].setup(ns, 3*time.Second)
		first := startManager(withShortClaims())
		DeferCleanup(first.stop)
		second := startManager(withShortClaims())
		DeferCleanup(second.stop)
		key := create(conn)
		eventuallyReady(key)
		Eventually(func() int { return f.Requests(provider.GrantRefreshToken) }).
			WithTimeout(30 * time.Second).Should(BeNumerically(">=", 4))
		c := eventuallyReady(key)
		Expect(c.Status.ConsecutiveFailures).To(BeZero())
		Expect(f.Requests(provider.GrantAuthorizationCode)).To(Equal(1))
		Expect(f.Rejections()).To(BeEmpty())
		Expect(eventReasons(ns, conn.Name)).NotTo(ContainElement(oauthv1alpha1.ReasonReauthorizationRequired))
		Expect(f.ValidAccessToken(string(getSecret(ns, conn.Name).Data[oauthv1alpha1.KeyAccessToken]))).To(BeTrue())
	})
})

var _ = Describe("Another manager's claim on a code", func() {
	// Found by the two-manager spec above, which failed now and then: the second manager
	// read the first one's claim (which marks the code used) and took the code for used up,
	// stalling the connection with ReauthorizationRequired while the exchange was in flight.
	It("is waited for, not taken for a code used up", func() {
		ns := newNamespace()
		fake := track(providertest.NewAura(providertest.Options{}))
		clientSecretFor(ns, fake)
		code := fake.IssueCode()
		createSecret(ns, "grant", map[string]string{"code": code, "redirect_uri": fake.RedirectURI()})
		key := create(newConnection(ns, "aura", oauthv1alpha1.ProviderAura, withTokenURL(fake.TokenURL()), withGrantRef("grant")))
		conn := getConnection(key)

		By("leaving the state as a manager that is presenting the code right now leaves it")
		st := &tokenState{Seq: 1, Claim: &claim{Holder: "another-manager", At: time.Now(), Grant: provider.GrantAuthorizationCode,
			Credential: hash("code", code)}}
		st.markCodeUsed(hash("code", code))
		raw, err := json.Marshal(st)
		Expect(err).NotTo(HaveOccurred())
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: stateSecretName(conn.Name), Labels: map[string]string{
				oauthv1alpha1.ManagedByLabel: oauthv1alpha1.ManagedByValue, oauthv1alpha1.ConnectionLabel: connectionLabelValue(conn.Name),
				stateRoleLabel: stateRoleValue}},
			Data: map[string][]byte{stateKey: raw},
		}
		Expect(controllerutil.SetControllerReference(conn, s, scheme)).To(Succeed())
		Expect(k8sClient.Create(ctx, s)).To(Succeed())

		m := startManager()
		DeferCleanup(m.stop)
		Consistently(func(g Gomega) {
			c := getConnection(key)
			g.Expect(meta.IsStatusConditionTrue(c.Status.Conditions, oauthv1alpha1.ConditionStalled)).To(BeFalse())
			g.Expect(eventReasons(ns, key.Name)).NotTo(ContainElement(oauthv1alpha1.ReasonReauthorizationRequired))
		}).WithTimeout(3 * time.Second).Should(Succeed())
		Expect(logs.String()).To(ContainSubstring(`"holder": "another-manager"`), "it waited for the claim")
		Expect(fake.TotalRequests()).To(BeZero(), "the code is not presented while another manager presents it")
	})
})
