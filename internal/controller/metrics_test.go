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
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// served is what the metrics endpoint serves for one connection: for each metric name, its
// series by their labels other than namespace and name ("provider=Aura,reason=...").
type served map[string]map[string]float64

// servedFor gathers the manager's registry, as a scrape would, and keeps the series of one
// connection.
func servedFor(key types.NamespacedName) served {
	GinkgoHelper()
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	out := served{}
	for _, family := range families {
		for _, m := range family.GetMetric() {
			var namespace, name string
			var rest []string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case labelNamespace:
					namespace = l.GetValue()
				case labelName:
					name = l.GetValue()
				default:
					rest = append(rest, l.GetName()+"="+l.GetValue())
				}
			}
			if namespace != key.Namespace || name != key.Name {
				continue
			}
			if out[family.GetName()] == nil {
				out[family.GetName()] = map[string]float64{}
			}
			slices.Sort(rest)
			out[family.GetName()][strings.Join(rest, ",")] = m.GetGauge().GetValue()
		}
	}
	return out
}

// seconds is a status timestamp as its gauge holds it.
func seconds(t *metav1.Time) float64 { return float64(t.Unix()) }

var _ = Describe("Connection metrics", func() {
	It("replace a connection's series when its stall reason or provider changes, and forget them all", func() {
		key := types.NamespacedName{Namespace: "metrics-unit", Name: "changing"}
		conn := newConnection(key.Namespace, key.Name, oauthv1alpha1.ProviderAura)
		// A cache's store, as an elected manager's informer holds the connections.
		store := toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)
		src := connectionGauges.add(store.List)
		DeferCleanup(func() { connectionGauges.remove(src) })
		recordConnectionMetrics := func(conn *oauthv1alpha1.OAuthConnection) {
			GinkgoHelper()
			Expect(store.Update(conn.DeepCopy())).To(Succeed())
		}
		setConditions := func(ready bool, stalledReason string) {
			readyCond := metav1.Condition{Type: oauthv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "X"}
			if ready {
				readyCond.Status = metav1.ConditionTrue
			}
			stalled := metav1.Condition{Type: oauthv1alpha1.ConditionStalled, Status: metav1.ConditionFalse, Reason: "X"}
			if stalledReason != "" {
				stalled.Status, stalled.Reason = metav1.ConditionTrue, stalledReason
			}
			meta.SetStatusCondition(&conn.Status.Conditions, readyCond)
			meta.SetStatusCondition(&conn.Status.Conditions, stalled)
		}

		setConditions(false, oauthv1alpha1.ReasonGrantSecretNotFound)
		recordConnectionMetrics(conn)
		Expect(servedFor(key)).To(Equal(served{
			"tokenwarden_connection_ready":     {"provider=Aura": 0},
			"tokenwarden_connection_stalled":   {"provider=Aura,reason=GrantSecretNotFound": 1},
			"tokenwarden_consecutive_failures": {"provider=Aura": 0},
		}))

		By("changing the stall reason")
		setConditions(false, oauthv1alpha1.ReasonReauthorizationRequired)
		conn.Status.ConsecutiveFailures = 1
		recordConnectionMetrics(conn)
		Expect(servedFor(key)).To(Equal(served{
			"tokenwarden_connection_ready":     {"provider=Aura": 0},
			"tokenwarden_connection_stalled":   {"provider=Aura,reason=ReauthorizationRequired": 1},
			"tokenwarden_consecutive_failures": {"provider=Aura": 1},
		}))

		By("changing the provider, with a token and no stall")
		conn.Spec.Provider = oauthv1alpha1.ProviderGeneric
		setConditions(true, "")
		expires, next := metav1.Unix(2000000000, 0), metav1.Unix(1999999000, 0)
		conn.Status.ExpiresAt, conn.Status.NextRefreshTime, conn.Status.ConsecutiveFailures = &expires, &next, 0
		recordConnectionMetrics(conn)
		Expect(servedFor(key)).To(Equal(served{
			"tokenwarden_connection_ready":               {"provider=Generic": 1},
			"tokenwarden_consecutive_failures":           {"provider=Generic": 0},
			"tokenwarden_token_expiry_timestamp_seconds": {"provider=Generic": 2000000000},
			"tokenwarden_next_refresh_timestamp_seconds": {"provider=Generic": 1999999000},
		}))

		By("losing the expiry and the next refresh")
		conn.Status.ExpiresAt, conn.Status.NextRefreshTime = nil, nil
		recordConnectionMetrics(conn)
		Expect(servedFor(key)).To(Equal(served{
			"tokenwarden_connection_ready":     {"provider=Generic": 1},
			"tokenwarden_consecutive_failures": {"provider=Generic": 0},
		}))

		By("serving a connection two managers of one process cache once")
		other := toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)
		Expect(other.Add(conn.DeepCopy())).To(Succeed())
		second := connectionGauges.add(other.List)
		Expect(servedFor(key)).To(HaveKeyWithValue("tokenwarden_connection_ready", map[string]float64{"provider=Generic": 1}))
		connectionGauges.remove(second)

		By("forgetting it once the cache has deleted it")
		Expect(store.Delete(conn)).To(Succeed())
		Expect(servedFor(key)).To(BeEmpty())
		Expect((&gaugeSource{}).NeedLeaderElection()).To(BeTrue(), "a standby replica would double every series")
	})

	It("count rollouts by result, each result served from the start", func() {
		for _, result := range []string{rolloutRestarted, rolloutSkipped, rolloutFailed} {
			before := testutil.ToFloat64(rollouts.WithLabelValues(result))
			observeRollout(result)
			Expect(testutil.ToFloat64(rollouts.WithLabelValues(result))).To(Equal(before + 1))
		}
		Expect(testutil.CollectAndCount(rollouts)).To(Equal(3))
	})

	Context("with a manager", func() {
		var ns string
		BeforeEach(func() {
			ns = newNamespace()
			mgr := startManager()
			DeferCleanup(func() { mgr.stop() })
		})

		It("follow a connection's status, and disappear when it is deleted", func() {
			fake, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, time.Hour)
			key := create(conn)
			eventuallyReady(key)
			Eventually(func(g Gomega) {
				c := getConnection(key)
				g.Expect(c.Status.ExpiresAt).NotTo(BeNil())
				g.Expect(c.Status.NextRefreshTime).NotTo(BeNil())
				g.Expect(servedFor(key)).To(Equal(served{
					"tokenwarden_connection_ready":               {"provider=Aurora": 1},
					"tokenwarden_consecutive_failures":           {"provider=Aurora": 0},
					"tokenwarden_token_expiry_timestamp_seconds": {"provider=Aurora": seconds(c.Status.ExpiresAt)},
					"tokenwarden_next_refresh_timestamp_seconds": {"provider=Aurora": seconds(c.Status.NextRefreshTime)},
				}))
			}).Should(Succeed())

			By("counting failed refreshes, with the published token's expiry kept")
			fake.FailNext(1000, 503)
			requestRefresh(key, "fail")
			Eventually(func(g Gomega) {
				c := getConnection(key)
				g.Expect(c.Status.ConsecutiveFailures).To(BeNumerically(">=", 1))
				g.Expect(servedFor(key)).To(Equal(served{
					"tokenwarden_connection_ready":               {"provider=Aurora": 1},
					"tokenwarden_consecutive_failures":           {"provider=Aurora": float64(c.Status.ConsecutiveFailures)},
					"tokenwarden_token_expiry_timestamp_seconds": {"provider=Aurora": seconds(c.Status.ExpiresAt)},
					"tokenwarden_next_refresh_timestamp_seconds": {"provider=Aurora": seconds(c.Status.NextRefreshTime)},
				}))
			}).WithTimeout(20 * time.Second).Should(Succeed())

			Expect(k8sClient.Delete(ctx, conn)).To(Succeed())
			Eventually(func() served { return servedFor(key) }).Should(BeEmpty())
		})

		It("show a stalled connection's reason, one series at a time, and drop it on recovery", func() {
			fake := track(providertest.NewAstonClub(providertest.Options{Lifetime: time.Hour}))
			clientSecretFor(ns, fake)
			key := create(newConnection(ns, "astonclub", oauthv1alpha1.ProviderAstonClub,
				withTokenURL(fake.TokenURL()), withGrantRef("astonclub-grant")))
			Eventually(func() served { return servedFor(key) }).Should(Equal(served{
				"tokenwarden_connection_ready":     {"provider=AstonClub": 0},
				"tokenwarden_connection_stalled":   {"provider=AstonClub,reason=GrantSecretNotFound": 1},
				"tokenwarden_consecutive_failures": {"provider=AstonClub": 0},
			}))

			By("giving it a revoked refresh token")
			revoked := fake.IssueRefreshToken()
			fake.RevokeGrants()
			createSecret(ns, "astonclub-grant", map[string]string{"refresh_token": revoked})
			Eventually(func(g Gomega) {
				c := getConnection(key)
				expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionTrue,
					oauthv1alpha1.ReasonReauthorizationRequired)
				g.Expect(servedFor(key)).To(Equal(served{
					"tokenwarden_connection_ready":     {"provider=AstonClub": 0},
					"tokenwarden_connection_stalled":   {"provider=AstonClub,reason=ReauthorizationRequired": 1},
					"tokenwarden_consecutive_failures": {"provider=AstonClub": float64(c.Status.ConsecutiveFailures)},
				}))
			}).Should(Succeed())

			By("giving it a valid refresh token")
			grant := getSecret(ns, "astonclub-grant")
			grant.Data["refresh_token"] = []byte(fake.IssueRefreshToken())
			Expect(k8sClient.Update(ctx, grant)).To(Succeed())
			eventuallyReady(key)
			Eventually(func(g Gomega) {
				c := getConnection(key)
				g.Expect(servedFor(key)).To(Equal(served{
					"tokenwarden_connection_ready":               {"provider=AstonClub": 1},
					"tokenwarden_consecutive_failures":           {"provider=AstonClub": 0},
					"tokenwarden_token_expiry_timestamp_seconds": {"provider=AstonClub": seconds(c.Status.ExpiresAt)},
					"tokenwarden_next_refresh_timestamp_seconds": {"provider=AstonClub": seconds(c.Status.NextRefreshTime)},
				}))
			}).Should(Succeed())
		})
	})
})
