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
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

func withTokenTimeout(d time.Duration) managerOption {
	return func(r *OAuthConnectionReconciler) { r.Tokens = &provider.Client{Timeout: d} }
}

// refreshSoon creates an Aurora connection whose token lives 24s and is refreshed about
// 11s after it is issued (refreshBefore is half the lifetime, the most it may be), leaving
// time for a retry before it expires; it waits until the connection is Ready and returns
// its key and first token.
func refreshSoon(ns string) (*providertest.Server, types.NamespacedName, string) {
	GinkgoHelper()
	fake, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, 24*time.Second)
	conn.Spec.RefreshBefore = &metav1.Duration{Duration: 12 * time.Second}
	key := create(conn)
	eventuallyReady(key)
	return fake, key, string(getSecret(ns, conn.Name).Data[oauthv1alpha1.KeyAccessToken])
}

// expectSurvived checks that a failing refresh kept the last good token and Ready, and
// that the connection recovered by itself.
func expectSurvived(fake *providertest.Server, key types.NamespacedName, token string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		c := getConnection(key)
		g.Expect(c.Status.ConsecutiveFailures).To(BeNumerically(">=", 1))
		expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionTrue, "")
		expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionFalse, "")
		g.Expect(string(getSecret(key.Namespace, key.Name).Data[oauthv1alpha1.KeyAccessToken])).To(Equal(token))
	}).WithTimeout(20 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
	Eventually(func(g Gomega) {
		c := getConnection(key)
		g.Expect(c.Status.ConsecutiveFailures).To(BeZero())
		s := getSecret(key.Namespace, key.Name)
		g.Expect(string(s.Data[oauthv1alpha1.KeyAccessToken])).NotTo(Equal(token))
		g.Expect(fake.ValidAccessToken(string(s.Data[oauthv1alpha1.KeyAccessToken]))).To(BeTrue())
	}).WithTimeout(30 * time.Second).Should(Succeed())
}

var _ = Describe("Faults of the token endpoint", Label("reliability"), func() {
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
		mgr := startManager(withTokenTimeout(2 * time.Second))
		DeferCleanup(mgr.stop)
	})

	DescribeTable("are survived: the last good token stays, Ready stays True, the refresh is retried",
		func(fault func() providertest.Failure) {
			fake, key, token := refreshSoon(ns)
			fake.FailNextWith(1, fault())
			expectSurvived(fake, key, token)
		},
		Entry("500", func() providertest.Failure {
			return providertest.Failure{Status: 500, Body: `{"error":"server_error"}`}
		}),
		Entry("502", func() providertest.Failure {
			return providertest.Failure{Status: 502, Body: `<html>Bad Gateway</html>`}
		}),
		Entry("503", func() providertest.Failure {
			return providertest.Failure{Status: 503, Body: `{"error":"temporarily_unavailable"}`}
		}),
		Entry("429 with Retry-After in seconds", func() providertest.Failure {
			return providertest.Failure{Status: 429,
				Header: http.Header{"Retry-After": []string{"2"}}, Body: `{"error":"slow_down"}`}
		}),
		Entry("429 with Retry-After as an HTTP-date", func() providertest.Failure {
			return providertest.Failure{Status: 429,
				Header: http.Header{"Retry-After": []string{time.Now().Add(8 * time.Second).UTC().Format(http.TimeFormat)}}}
		}),
		Entry("a 200 with malformed JSON", func() providertest.Failure { return providertest.Failure{Status: 200, Body: `{"access_token": "at-`} }),
		Entry("a 200 without access_token", func() providertest.Failure {
			return providertest.Failure{Status: 200, Body: `{"token_type":"Bearer","expires_in":3600}`}
		}),
		Entry("a body over the 1 MiB cap", func() providertest.Failure {
			return providertest.Failure{Status: 200, Body: `{"access_token":"` + strings.Repeat("x", 1<<20) + `"}`}
		}),
	)

	It("survives a timeout, and a slow answer within the timeout is taken", func() {
		fake, key, token := refreshSoon(ns)
		fake.SetDelay(time.Second) // half the request timeout
		Eventually(func() string {
			return string(getSecret(ns, key.Name).Data[oauthv1alpha1.KeyAccessToken])
		}).WithTimeout(30 * time.Second).ShouldNot(Equal(token))
		Expect(getConnection(key).Status.ConsecutiveFailures).To(BeZero())

		token = string(getSecret(ns, key.Name).Data[oauthv1alpha1.KeyAccessToken])
		fake.SetDelay(5 * time.Second)
		Eventually(func() int32 { return getConnection(key).Status.ConsecutiveFailures }).
			WithTimeout(20 * time.Second).Should(BeNumerically(">=", 1))
		Expect(string(getSecret(ns, key.Name).Data[oauthv1alpha1.KeyAccessToken])).To(Equal(token))
		expectCondition(Default, getConnection(key), oauthv1alpha1.ConditionReady, metav1.ConditionTrue, "")
		fake.SetDelay(0)
		expectSurvived(fake, key, token)
	})

	It("survives a refused connection, and recovers when the endpoint answers", func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		deadURL := "http://" + l.Addr().String() + "/oauth/token"
		Expect(l.Close()).To(Succeed())
		fake, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, time.Hour)
		conn.Spec.IssuerURL = ""
		conn.Spec.TokenURL = oauthv1alpha1.URL(deadURL)
		key := create(conn)
		Eventually(func(g Gomega) {
			c := getConnection(key)
			g.Expect(c.Status.ConsecutiveFailures).To(BeNumerically(">=", 1))
			expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionFalse, oauthv1alpha1.ReasonTokenRequestFailed)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionFalse, "")
		}).Should(Succeed())
		updateSpec(key, func(c *oauthv1alpha1.OAuthConnection) { c.Spec.TokenURL = oauthv1alpha1.URL(fake.TokenURL()) })
		eventuallyReady(key)
	})

	It("follows no redirect to another host", func() {
		var elsewhere atomic.Int32
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			elsewhere.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"stolen","token_type":"Bearer"}`))
		}))
		DeferCleanup(other.Close)
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/token", http.StatusTemporaryRedirect)
		}))
		DeferCleanup(redirector.Close)
		fake, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, time.Hour)
		_ = fake
		conn.Spec.IssuerURL = ""
		conn.Spec.TokenURL = oauthv1alpha1.URL(redirector.URL + "/oauth/token")
		key := create(conn)
		Eventually(func(g Gomega) {
			c := getConnection(key)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, oauthv1alpha1.ReasonTokenRequestFailed)
			g.Expect(condition(c, oauthv1alpha1.ConditionStalled).Message).To(ContainSubstring("redirect"))
		}).Should(Succeed())
		Expect(elsewhere.Load()).To(BeZero(), "the credentials never reached the other host")
	})
})

var _ = Describe("An API server that refuses writes for a while", Label("reliability"), func() {
	It("is survived without a token request the operator did not need", func() {
		ns := newNamespace()
		mgr := startManager()
		DeferCleanup(mgr.stop)
		fake, key, token := refreshSoon(ns)

		By("refusing every write to the operator's Secrets in the namespace")
		allow := refuseSecretWrites(ns)
		requests := fake.Requests(provider.GrantClientCredentials)

		By("letting the refresh come due while writes are refused")
		Eventually(func() int { return fake.Requests(provider.GrantClientCredentials) }).
			WithTimeout(20 * time.Second).Should(Equal(requests + 1))
		Consistently(func() int { return fake.Requests(provider.GrantClientCredentials) }).
			WithTimeout(3*time.Second).Should(Equal(requests+1), "no new request while the answer waits to be written")
		Expect(string(getSecret(ns, key.Name).Data[oauthv1alpha1.KeyAccessToken])).To(Equal(token))

		By("accepting writes again")
		allow()
		Eventually(func(g Gomega) {
			s := getSecret(ns, key.Name)
			g.Expect(string(s.Data[oauthv1alpha1.KeyAccessToken])).NotTo(Equal(token))
			g.Expect(fake.ValidAccessToken(string(s.Data[oauthv1alpha1.KeyAccessToken]))).To(BeTrue())
		}).WithTimeout(60 * time.Second).Should(Succeed())
		Expect(fake.Requests(provider.GrantClientCredentials)).To(Equal(requests+1), "the answer obtained during the outage was used")
		eventuallyReady(key)
	})
})
