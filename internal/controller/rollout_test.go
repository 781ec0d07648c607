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
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// The decision to restart one rollout target, as a table: t0 is the time the published
// token was obtained.

type rolloutOption func(*rolloutInput)

func restartedWith(value string, at time.Time) rolloutOption {
	return func(in *rolloutInput) { in.current, in.restartTime = value, at.Format(time.RFC3339Nano) }
}

func lookingAt(now time.Time) rolloutOption { return func(in *rolloutInput) { in.now = now } }

func rollout(opts ...rolloutOption) rolloutInput {
	in := rolloutInput{now: t0.Add(time.Second), value: "new", obtainedAt: t0, minInterval: time.Minute}
	for _, o := range opts {
		o(&in)
	}
	return in
}

func TestDecideRollout(t *testing.T) {
	tests := map[string]struct {
		in        rolloutInput
		want      rolloutAction
		waitUntil time.Time
	}{
		"restarts a target never restarted": {
			in: rollout(), want: rolloutRestart},
		"leaves a target that holds the token's value (a manager restart, a resync)": {
			in: rollout(restartedWith("new", t0.Add(time.Millisecond))), want: rolloutCurrent},
		"leaves a target that holds the token's value whatever its restart time says (another leader's clock)": {
			in: rollout(restartedWith("new", t0.Add(-time.Second))), want: rolloutCurrent},
		"restarts for a new token once the interval has passed": {
			in: rollout(restartedWith("old", t0.Add(-2*time.Minute))), want: rolloutRestart},
		"holds a restart back until the interval has passed since the last one": {
			in:   rollout(restartedWith("old", t0.Add(-20*time.Second))),
			want: rolloutWait, waitUntil: t0.Add(40 * time.Second)},
		"restarts with the latest token when the held-back restart is due": {
			in:   rollout(restartedWith("old", t0.Add(-20*time.Second)), lookingAt(t0.Add(40*time.Second))),
			want: rolloutRestart},
		"restarts at once a token obtained a tiny interval after the last restart": {
			in: rollout(restartedWith("old", t0.Add(-time.Millisecond)), func(in *rolloutInput) {
				in.minInterval = time.Millisecond
			}),
			want: rolloutRestart},
		"leaves a target restarted after the token was obtained, by another connection or a re-created one": {
			in: rollout(restartedWith("someone-else", t0.Add(500*time.Millisecond))), want: rolloutCurrent},
		"takes a restart time it cannot parse as no record": {
			in: rollout(func(in *rolloutInput) { in.current, in.restartTime = "old", "yesterday" }), want: rolloutRestart},
		"takes a restart time in the future as no record, so a clock that went back holds nothing back": {
			in: rollout(restartedWith("old", t0.Add(time.Hour))), want: rolloutRestart},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			d := decideRollout(tt.in)
			if d.action != tt.want || !d.waitUntil.Equal(tt.waitUntil) {
				t.Errorf("decideRollout() = %+v, want action %v until %s", d, tt.want, tt.waitUntil)
			}
		})
	}
}

func TestRolloutValue(t *testing.T) {
	tests := map[string]struct {
		a, b  func() string
		equal bool
	}{
		"is the same for the same token after a round trip through the state's JSON": {
			a: func() string { return rolloutValue("uid", t0.Add(123456789)) },
			b: func() string {
				raw, _ := json.Marshal(&storedToken{ObtainedAt: t0.Add(123456789).In(time.FixedZone("CET", 3600))})
				var tok storedToken
				_ = json.Unmarshal(raw, &tok)
				return rolloutValue("uid", tok.ObtainedAt)
			},
			equal: true},
		"differs for two tokens obtained within the same second": {
			a: func() string { return rolloutValue("uid", t0.Add(100*time.Millisecond)) },
			b: func() string { return rolloutValue("uid", t0.Add(900*time.Millisecond)) }},
		"differs for tokens a nanosecond apart": {
			a: func() string { return rolloutValue("uid", t0) },
			b: func() string { return rolloutValue("uid", t0.Add(1)) }},
		"differs between connections": {
			a: func() string { return rolloutValue("uid-1", t0) },
			b: func() string { return rolloutValue("uid-2", t0) }},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			a, b := tt.a(), tt.b()
			if (a == b) != tt.equal {
				t.Errorf("values %q and %q: equal = %v, want %v", a, b, a == b, tt.equal)
			}
			if len(a) != 20 || strings.ContainsAny(a, ":. ") {
				t.Errorf("value %q is not a 20-character digest", a)
			}
		})
	}
}

func TestRolloutMinInterval(t *testing.T) {
	tests := map[string]struct {
		set  *metav1.Duration
		want time.Duration
	}{
		"defaults to a minute":  {want: time.Minute},
		"takes the spec's":      {set: &metav1.Duration{Duration: 3 * time.Second}, want: 3 * time.Second},
		"takes a tiny interval": {set: &metav1.Duration{Duration: time.Millisecond}, want: time.Millisecond},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := rolloutMinInterval(&oauthv1alpha1.OAuthConnectionSpec{RolloutMinInterval: tt.set}); got != tt.want {
				t.Errorf("rolloutMinInterval() = %s, want %s", got, tt.want)
			}
		})
	}
}

// Workloads in envtest: no controller runs, so no ReplicaSet or Pod appears; a restart is
// a change of the pod template's restartedAt annotation (and of the workload's generation).

func target(kind oauthv1alpha1.RolloutRestartKind, name string) oauthv1alpha1.RolloutRestartTarget {
	return oauthv1alpha1.RolloutRestartTarget{Kind: kind, Name: name}
}

// createWorkload creates a workload that reads the connection's token from an environment
// variable, as the consumers rolloutRestartTargets is for do.
func createWorkload(ns string, t oauthv1alpha1.RolloutRestartTarget) {
	GinkgoHelper()
	labels := map[string]string{"app": t.Name}
	template := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "registry.example.com/app:1.0",
			Env: []corev1.EnvVar{{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "aurora"}, Key: oauthv1alpha1.KeyAccessToken}}}},
		}}},
	}
	meta := metav1.ObjectMeta{Namespace: ns, Name: t.Name}
	selector := &metav1.LabelSelector{MatchLabels: labels}
	var obj client.Object
	switch t.Kind {
	case oauthv1alpha1.RolloutRestartDeployment:
		obj = &appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Selector: selector, Template: template}}
	case oauthv1alpha1.RolloutRestartStatefulSet:
		obj = &appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Selector: selector, Template: template, ServiceName: t.Name}}
	case oauthv1alpha1.RolloutRestartDaemonSet:
		obj = &appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Selector: selector, Template: template}}
	}
	Expect(k8sClient.Create(ctx, obj)).To(Succeed())
}

// getWorkload reads a workload and returns it with its pod template.
func getWorkload(ns string, t oauthv1alpha1.RolloutRestartTarget) (client.Object, *corev1.PodTemplateSpec) {
	GinkgoHelper()
	obj, template, err := newWorkload(t.Kind)
	Expect(err).NotTo(HaveOccurred())
	Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: t.Name}, obj)).To(Succeed())
	return obj, template
}

func restartedAt(ns string, t oauthv1alpha1.RolloutRestartTarget) string {
	_, template := getWorkload(ns, t)
	return template.Annotations[restartedAtAnnotation]
}

func restartTimeOf(ns string, t oauthv1alpha1.RolloutRestartTarget) time.Time {
	GinkgoHelper()
	_, template := getWorkload(ns, t)
	at, err := time.Parse(time.RFC3339Nano, template.Annotations[restartTimeAnnotation])
	Expect(err).NotTo(HaveOccurred())
	return at
}

// publishedObtainedAt is when the token the connection's state holds was obtained, to the
// nanosecond: from the state Secret, or from a client-credentials connection's inline state.
func publishedObtainedAt(key types.NamespacedName) time.Time {
	GinkgoHelper()
	conn := getConnection(key)
	if inlineState(conn) {
		rec := &inlineRecord{}
		Expect(json.Unmarshal([]byte(getSecret(key.Namespace, key.Name).Annotations[inlineStateAnnotation]), rec)).To(Succeed())
		Expect(rec.Token).NotTo(BeNil())
		return rec.Token.ObtainedAt
	}
	st, err := decodeState(getSecret(key.Namespace, stateSecretName(key.Name)))
	Expect(err).NotTo(HaveOccurred())
	Expect(st.Token).NotTo(BeNil())
	return st.Token.ObtainedAt
}

// publishedValue is the restartedAt value of the connection's current token.
func publishedValue(key types.NamespacedName) string {
	GinkgoHelper()
	return rolloutValue(getConnection(key).UID, publishedObtainedAt(key))
}

// withSlowClock gives the manager a clock that starts at the beginning of the current
// second and runs a thousand times slower than the wall's: a test's tokens all fall in
// that second.
func withSlowClock() managerOption {
	start := time.Now()
	base := start.Truncate(time.Second)
	return func(r *OAuthConnectionReconciler) {
		r.Now = func() time.Time { return base.Add(time.Since(start) / 1000) }
	}
}

// createWithTargets creates a connection that lists rollout targets and deletes it after
// the test: no manager of a later spec may find it (the RBAC spec's runs under a role
// without the opt-in rollout grant, and checks that every request it makes is granted).
func createWithTargets(c *oauthv1alpha1.OAuthConnection) types.NamespacedName {
	GinkgoHelper()
	key := create(c)
	DeferCleanup(func() {
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, &oauthv1alpha1.OAuthConnection{
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}))).To(Succeed())
	})
	return key
}

// eventuallyRestartedFor waits until the target holds the value of the connection's
// current token.
func eventuallyRestartedFor(key types.NamespacedName, t oauthv1alpha1.RolloutRestartTarget) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		g.Expect(restartedAt(key.Namespace, t)).To(Equal(publishedValue(key)))
	}).Should(Succeed(), "%s %s restarted for the current token", t.Kind, t.Name)
}

// look makes the manager look at a connection again without asking for a token: a change
// of an annotation of no meaning to it.
func look(key types.NamespacedName) {
	GinkgoHelper()
	updateSpec(key, func(c *oauthv1alpha1.OAuthConnection) {
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations["example.com/look"] = time.Now().UTC().Format(time.RFC3339Nano)
	})
}

// restartHistory is every restartedAt value a workload's pod template took, in order, as a
// watch saw it: a value that came and went between two polls is in it too.
type restartHistory struct {
	mu     sync.Mutex
	values []string
}

func (h *restartHistory) get() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.values)
}

// recordRestarts watches one workload until the end of the test.
func recordRestarts(ns string, t oauthv1alpha1.RolloutRestartTarget) *restartHistory {
	GinkgoHelper()
	lists := map[oauthv1alpha1.RolloutRestartKind]client.ObjectList{
		oauthv1alpha1.RolloutRestartDeployment:  &appsv1.DeploymentList{},
		oauthv1alpha1.RolloutRestartStatefulSet: &appsv1.StatefulSetList{},
		oauthv1alpha1.RolloutRestartDaemonSet:   &appsv1.DaemonSetList{},
	}
	wc, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	w, err := wc.Watch(ctx, lists[t.Kind], client.InNamespace(ns), client.MatchingFields{"metadata.name": t.Name})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(w.Stop)
	h := &restartHistory{}
	go func() {
		defer GinkgoRecover()
		for ev := range w.ResultChan() {
			var template *corev1.PodTemplateSpec
			switch o := ev.Object.(type) {
			case *appsv1.Deployment:
				template = &o.Spec.Template
			case *appsv1.StatefulSet:
				template = &o.Spec.Template
			case *appsv1.DaemonSet:
				template = &o.Spec.Template
			default:
				continue
			}
			v := template.Annotations[restartedAtAnnotation]
			h.mu.Lock()
			if v != "" && (len(h.values) == 0 || h.values[len(h.values)-1] != v) {
				h.values = append(h.values, v)
			}
			h.mu.Unlock()
		}
	}()
	return h
}

// rolloutWarnings counts the RolloutFailed events recorded for a connection.
func rolloutWarnings(ns, name string) func() int {
	return func() int {
		n := 0
		for _, e := range eventsIn(ns) {
			if e.Regarding.Name == name && e.Type == corev1.EventTypeWarning && e.Reason == reasonRolloutFailed {
				n++
			}
		}
		return n
	}
}

var _ = Describe("Restarting rollout targets", func() {
	var (
		ns  string
		mgr *testManager
	)
	BeforeEach(func() {
		ns = newNamespace()
		mgr = startManager()
		DeferCleanup(func() { mgr.stop() })
	})

	It("restarts each rollout target once per new token, and not on a manager restart or a resync", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, time.Hour)
		targets := []oauthv1alpha1.RolloutRestartTarget{
			target(oauthv1alpha1.RolloutRestartDeployment, "billing"),
			target(oauthv1alpha1.RolloutRestartStatefulSet, "ledger"),
			target(oauthv1alpha1.RolloutRestartDaemonSet, "agent"),
		}
		histories := make([]*restartHistory, len(targets))
		for i, t := range targets {
			createWorkload(ns, t)
			histories[i] = recordRestarts(ns, t)
		}
		conn.Spec.RolloutRestartTargets = targets
		conn.Spec.RolloutMinInterval = &metav1.Duration{Duration: time.Millisecond}
		key := createWithTargets(conn)
		eventuallyReady(key)
		v1 := publishedValue(key)
		for i, t := range targets {
			Eventually(histories[i].get).Should(Equal([]string{v1}), "%s %s restarted for the first token", t.Kind, t.Name)
		}
		Eventually(func() []string { return eventReasons(ns, key.Name) }).Should(ContainElement(reasonRolloutRestarted))

		By("a new token")
		requestRefresh(key, "second")
		Eventually(func() int { return fake.Requests(provider.GrantClientCredentials) }).Should(Equal(2))
		Eventually(func() string { return publishedValue(key) }).ShouldNot(Equal(v1))
		v2 := publishedValue(key)
		for i, t := range targets {
			Eventually(histories[i].get).Should(Equal([]string{v1, v2}), "%s %s restarted once for the second token", t.Kind, t.Name)
		}
		deployment, _ := getWorkload(ns, targets[0])
		Expect(deployment.GetGeneration()).To(BeEquivalentTo(3), "created, then one template change per token")

		By("restarting the manager")
		mgr.stop()
		mgr = startManager()
		for i := range targets {
			Consistently(histories[i].get).WithTimeout(3 * time.Second).Should(Equal([]string{v1, v2}))
		}

		By("a resync, and a target added to the list: only the new one is restarted")
		look(key)
		added := target(oauthv1alpha1.RolloutRestartDeployment, "reporting")
		createWorkload(ns, added)
		updateSpec(key, func(c *oauthv1alpha1.OAuthConnection) {
			c.Spec.RolloutRestartTargets = append(c.Spec.RolloutRestartTargets, added)
		})
		Eventually(func() string { return restartedAt(ns, added) }).Should(Equal(v2))
		for i := range targets {
			Consistently(histories[i].get).WithTimeout(2 * time.Second).Should(Equal([]string{v1, v2}))
		}
		settlesAt(func() int { return fake.Requests(provider.GrantClientCredentials) }, 2)
		deployment, _ = getWorkload(ns, targets[0])
		Expect(deployment.GetGeneration()).To(BeEquivalentTo(3))
	})

	It("gives two tokens obtained within one second two distinct values", func() {
		By("running the manager on a clock a thousand times slower than the wall's, from the start of a second")
		mgr.stop()
		mgr = startManager(withSlowClock())
		fake, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, time.Hour)
		billing := target(oauthv1alpha1.RolloutRestartDeployment, "billing")
		createWorkload(ns, billing)
		history := recordRestarts(ns, billing)
		conn.Spec.RolloutRestartTargets = []oauthv1alpha1.RolloutRestartTarget{billing}
		conn.Spec.RolloutMinInterval = &metav1.Duration{Duration: time.Nanosecond}
		key := createWithTargets(conn)
		eventuallyReady(key)
		first := publishedObtainedAt(key)
		Eventually(history.get).Should(HaveLen(1))
		requestRefresh(key, "at-once")
		Eventually(func() int { return fake.Requests(provider.GrantClientCredentials) }).Should(Equal(2))
		Eventually(history.get).Should(HaveLen(2))
		second := publishedObtainedAt(key)
		Expect(second.Truncate(time.Second)).To(Equal(first.Truncate(time.Second)), "the premise: both tokens in one second")
		Expect(second).To(BeTemporally(">", first))
		uid := getConnection(key).UID
		Expect(history.get()).To(Equal([]string{rolloutValue(uid, first), rolloutValue(uid, second)}))
		Consistently(history.get).WithTimeout(2 * time.Second).Should(HaveLen(2))
	})

	It("holds restarts back for rolloutMinInterval, then restarts once with the latest token", func() {
		const interval = 8 * time.Second
		fake, conn := providerCases[oauthv1alpha1.ProviderAura].setup(ns, time.Hour)
		billing := target(oauthv1alpha1.RolloutRestartDeployment, "billing")
		createWorkload(ns, billing)
		history := recordRestarts(ns, billing)
		conn.Spec.RolloutRestartTargets = []oauthv1alpha1.RolloutRestartTarget{billing}
		conn.Spec.RolloutMinInterval = &metav1.Duration{Duration: interval}
		key := createWithTargets(conn)
		eventuallyReady(key)
		Eventually(history.get).Should(HaveLen(1))
		v1, restarted := history.get()[0], restartTimeOf(ns, billing)
		skipped := testutil.ToFloat64(rollouts.WithLabelValues(rolloutSkipped))

		By("two more tokens within the interval: a forced refresh, then a new code")
		first := publishedObtainedAt(key)
		requestRefresh(key, "within-interval")
		Eventually(func() int { return fake.Requests(provider.GrantRefreshToken) }).Should(Equal(1))
		Eventually(func() time.Time { return publishedObtainedAt(key) }).Should(BeTemporally(">", first))
		second := publishedObtainedAt(key)
		grant := getSecret(ns, "grant")
		grant.Data["code"] = []byte(fake.IssueCode())
		Expect(k8sClient.Update(ctx, grant)).To(Succeed())
		Eventually(func() int { return fake.Requests(provider.GrantAuthorizationCode) }).Should(Equal(2))
		Eventually(func() time.Time { return publishedObtainedAt(key) }).Should(BeTemporally(">", second))
		third := publishedObtainedAt(key)
		Expect(third).To(BeTemporally("<", restarted.Add(interval)), "the premise: both tokens within the interval")
		latest := rolloutValue(getConnection(key).UID, third)
		Eventually(func() float64 { return testutil.ToFloat64(rollouts.WithLabelValues(rolloutSkipped)) }).
			Should(BeNumerically(">", skipped))

		By("the interval passing: one restart, with the latest token's value")
		Eventually(history.get).WithTimeout(interval + 10*time.Second).Should(Equal([]string{v1, latest}))
		Expect(restartTimeOf(ns, billing).Sub(restarted)).To(BeNumerically(">=", interval))
		Consistently(history.get).WithTimeout(2 * time.Second).Should(Equal([]string{v1, latest}))
	})

	It("restarts a workload two connections list once per new token of either, never in turn", func() {
		fake := track(providertest.NewAurora(providertest.Options{Lifetime: time.Hour}))
		clientSecretFor(ns, fake)
		billing := target(oauthv1alpha1.RolloutRestartDeployment, "billing")
		createWorkload(ns, billing)
		history := recordRestarts(ns, billing)
		names := []string{"aurora-api", "aurora-reports"}
		keys := make([]types.NamespacedName, 0, len(names))
		for _, name := range names {
			c := newConnection(ns, name, oauthv1alpha1.ProviderAurora, withIssuerURL(fake.IssuerURL()))
			c.Spec.RolloutRestartTargets = []oauthv1alpha1.RolloutRestartTarget{billing}
			c.Spec.RolloutMinInterval = &metav1.Duration{Duration: time.Millisecond}
			keys = append(keys, createWithTargets(c))
		}
		for _, key := range keys {
			eventuallyReady(key)
		}
		Eventually(history.get).ShouldNot(BeEmpty())
		Consistently(history.get).WithTimeout(2 * time.Second).Should(Equal(history.get()))
		settled := history.get()

		By("looking at both connections again, several times")
		for range 3 {
			look(keys[0])
			look(keys[1])
		}
		Consistently(history.get).WithTimeout(3*time.Second).Should(Equal(settled), "no restarts in turn")

		By("a new token of one of them: one restart, which the other leaves alone")
		before := publishedValue(keys[0])
		requestRefresh(keys[0], "second")
		Eventually(func() string { return publishedValue(keys[0]) }).ShouldNot(Equal(before))
		Eventually(history.get).Should(Equal(append(settled, publishedValue(keys[0]))))
		look(keys[1])
		Consistently(history.get).WithTimeout(3 * time.Second).Should(HaveLen(len(settled) + 1))
	})

	It("restarts no rollout target for a token the workload Secret does not hold yet", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, time.Hour)
		billing := target(oauthv1alpha1.RolloutRestartDeployment, "billing")
		createWorkload(ns, billing)
		history := recordRestarts(ns, billing)
		conn.Spec.RolloutRestartTargets = []oauthv1alpha1.RolloutRestartTarget{billing}
		conn.Spec.RolloutMinInterval = &metav1.Duration{Duration: time.Millisecond}
		key := createWithTargets(conn)
		eventuallyReady(key)
		v1 := publishedValue(key)
		Eventually(history.get).Should(Equal([]string{v1}))

		By("refusing Secret writes: the new token is obtained, and held, not published")
		allow := refuseSecretWrites(ns)
		requestRefresh(key, "while-refused")
		Eventually(func() int { return fake.Requests(provider.GrantClientCredentials) }).Should(Equal(2))
		Consistently(history.get).WithTimeout(3*time.Second).Should(Equal([]string{v1}), "no restart for an unpublished token")
		Expect(publishedValue(key)).To(Equal(v1), "the Secret still holds the first token")

		By("accepting writes again: the held token is published, then the target restarted for it")
		allow()
		Eventually(func() string { return publishedValue(key) }).WithTimeout(30 * time.Second).ShouldNot(Equal(v1))
		Eventually(history.get).WithTimeout(30 * time.Second).Should(Equal([]string{v1, publishedValue(key)}))
		settlesAt(func() int { return fake.Requests(provider.GrantClientCredentials) }, 2, "the held token, not a new one")
	})

	It("warns once about a missing rollout target and keeps the connection Ready", func() {
		fake, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, time.Hour)
		missing := target(oauthv1alpha1.RolloutRestartDeployment, "absent")
		billing := target(oauthv1alpha1.RolloutRestartDeployment, "billing")
		createWorkload(ns, billing)
		conn.Spec.RolloutRestartTargets = []oauthv1alpha1.RolloutRestartTarget{missing, billing}
		conn.Spec.RolloutMinInterval = &metav1.Duration{Duration: time.Millisecond}
		key := createWithTargets(conn)
		eventuallyReady(key)
		Eventually(func(g Gomega) {
			c := getConnection(key)
			g.Expect(c.Status.RolloutFailure).To(Equal("Deployment absent not found"))
			expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionTrue, oauthv1alpha1.ReasonTokenIssued)
			expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionFalse, "")
		}).Should(Succeed())
		eventuallyRestartedFor(key, billing)
		settlesAt(rolloutWarnings(ns, key.Name), 1)

		By("a new token: the present target is restarted, the missing one not warned about again")
		first := publishedValue(key)
		requestRefresh(key, "second")
		Eventually(func() int { return fake.Requests(provider.GrantClientCredentials) }).Should(Equal(2))
		Eventually(func() string { return publishedValue(key) }).ShouldNot(Equal(first))
		eventuallyRestartedFor(key, billing)
		eventuallyReady(key)
		settlesAt(rolloutWarnings(ns, key.Name), 1)

		By("creating the missing target: restarted at the next look, and the failure cleared")
		createWorkload(ns, missing)
		look(key)
		eventuallyRestartedFor(key, missing)
		Eventually(func() string { return getConnection(key).Status.RolloutFailure }).Should(BeEmpty())
		eventuallyReady(key)
	})

	It("refuses rollout targets and intervals the API does not allow, naming the field", func() {
		many := make([]oauthv1alpha1.RolloutRestartTarget, 17)
		for i := range many {
			many[i] = target(oauthv1alpha1.RolloutRestartDeployment, fmt.Sprintf("app-%d", i))
		}
		refused := map[string]struct {
			spec func(*oauthv1alpha1.OAuthConnectionSpec)
			want []string
		}{
			"a kind other than Deployment, StatefulSet, DaemonSet": {
				spec: func(s *oauthv1alpha1.OAuthConnectionSpec) {
					s.RolloutRestartTargets = []oauthv1alpha1.RolloutRestartTarget{target("Job", "billing")}
				},
				want: []string{"spec.rolloutRestartTargets[0].kind", `"Deployment"`}},
			"a name that is no DNS-1123 name": {
				spec: func(s *oauthv1alpha1.OAuthConnectionSpec) {
					s.RolloutRestartTargets = []oauthv1alpha1.RolloutRestartTarget{target(oauthv1alpha1.RolloutRestartDeployment, "Billing_1")}
				},
				want: []string{"spec.rolloutRestartTargets[0].name"}},
			"more than 16 targets": {
				spec: func(s *oauthv1alpha1.OAuthConnectionSpec) { s.RolloutRestartTargets = many },
				want: []string{"spec.rolloutRestartTargets", "at most 16"}},
			"the same target twice": {
				spec: func(s *oauthv1alpha1.OAuthConnectionSpec) {
					s.RolloutRestartTargets = []oauthv1alpha1.RolloutRestartTarget{
						target(oauthv1alpha1.RolloutRestartDeployment, "billing"), target(oauthv1alpha1.RolloutRestartDeployment, "billing")}
				},
				want: []string{"spec.rolloutRestartTargets[1]", "Duplicate value"}},
			"a zero interval": {
				spec: func(s *oauthv1alpha1.OAuthConnectionSpec) { s.RolloutMinInterval = &metav1.Duration{} },
				want: []string{"spec.rolloutMinInterval must be a positive duration"}},
			"a negative interval": {
				spec: func(s *oauthv1alpha1.OAuthConnectionSpec) {
					s.RolloutMinInterval = &metav1.Duration{Duration: -time.Minute}
				},
				want: []string{"spec.rolloutMinInterval must be a positive duration"}},
		}
		for what, tt := range refused {
			c := newConnection(ns, "refused", oauthv1alpha1.ProviderAurora, withIssuerURL("https://auth.example.com/"))
			tt.spec(&c.Spec)
			err := k8sClient.Create(ctx, c, client.DryRunAll)
			for _, w := range tt.want {
				Expect(err).To(MatchError(ContainSubstring(w)), what)
			}
		}

		By("accepting 16 targets of each kind and a tiny interval")
		c := newConnection(ns, "accepted", oauthv1alpha1.ProviderAurora, withIssuerURL("https://auth.example.com/"))
		c.Spec.RolloutRestartTargets = many[:16]
		c.Spec.RolloutRestartTargets[1].Kind = oauthv1alpha1.RolloutRestartStatefulSet
		c.Spec.RolloutRestartTargets[2].Kind = oauthv1alpha1.RolloutRestartDaemonSet
		c.Spec.RolloutMinInterval = &metav1.Duration{Duration: time.Millisecond}
		Expect(k8sClient.Create(ctx, c, client.DryRunAll)).To(Succeed())
	})
})

var _ = Describe("Restarting rollout targets without the opt-in RBAC", func() {
	It("does not restart a rollout target the manager may not patch, says how to allow it, and restarts it once allowed", func() {
		By("running the manager as a user bound to the generated ClusterRole only")
		raw, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", "role.yaml"))
		Expect(err).NotTo(HaveOccurred())
		role := &rbacv1.ClusterRole{}
		Expect(yaml.Unmarshal(raw, role)).To(Succeed())
		role.Name = "tokenwarden-manager-role-rollout-test"
		Expect(k8sClient.Create(ctx, role)).To(Succeed())
		const userName = "tokenwarden-rollout-manager"
		user, err := testEnv.AddUser(envtest.User{Name: userName}, cfg)
		Expect(err).NotTo(HaveOccurred())
		bind := func(roleName string) {
			GinkgoHelper()
			Expect(k8sClient.Create(ctx, &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: roleName},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleName},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: userName}},
			})).To(Succeed())
		}
		bind(role.Name)
		mgr := startManagerWithConfig(user.Config())
		DeferCleanup(mgr.stop)

		ns := newNamespace()
		_, conn := providerCases[oauthv1alpha1.ProviderAurora].setup(ns, time.Hour)
		billing := target(oauthv1alpha1.RolloutRestartDeployment, "billing")
		createWorkload(ns, billing)
		conn.Spec.RolloutRestartTargets = []oauthv1alpha1.RolloutRestartTarget{billing}
		key := createWithTargets(conn)
		eventuallyReady(key)
		Eventually(func() string { return getConnection(key).Status.RolloutFailure }).
			Should(ContainSubstring("config/components/rollout-rbac"))
		settlesAt(rolloutWarnings(ns, key.Name), 1)
		deployment, template := getWorkload(ns, billing)
		Expect(template.Annotations).NotTo(HaveKey(restartedAtAnnotation))
		Expect(deployment.GetGeneration()).To(BeEquivalentTo(1))
		eventuallyReady(key)

		By("installing the ClusterRole of config/components/rollout-rbac")
		raw, err = os.ReadFile(filepath.Join("..", "..", "config", "components", "rollout-rbac", "role.yaml"))
		Expect(err).NotTo(HaveOccurred())
		rolloutRole := &rbacv1.ClusterRole{}
		Expect(yaml.Unmarshal(raw, rolloutRole)).To(Succeed())
		rolloutRole.Name = "tokenwarden-rollout-restarter-role-under-test"
		Expect(k8sClient.Create(ctx, rolloutRole)).To(Succeed())
		bind(rolloutRole.Name)
		Eventually(func(g Gomega) {
			look(key) // RBAC takes a moment to reach the authorizer: look until it has
			g.Expect(restartedAt(ns, billing)).To(Equal(publishedValue(key)))
		}).WithTimeout(20 * time.Second).WithPolling(time.Second).Should(Succeed())
		Eventually(func() string { return getConnection(key).Status.RolloutFailure }).Should(BeEmpty())
	})
})

// A workload's own request for a new token (README, "A workload that forces a refresh
// itself"): the Role of config/samples/workload_refresh_role.yaml, the ServiceAccount's
// token, and the README's two ways of sending the request.
var _ = Describe("A workload that forces a refresh itself", func() {
	It("may set the refresh annotation of its own connection only, and twenty requests in a burst make one token request", func() {
		ns := newNamespace()
		mgr := startManager(withProductionRequestGap())
		DeferCleanup(mgr.stop)
		fake := track(providertest.NewAurora(providertest.Options{Lifetime: time.Hour}))
		clientSecretFor(ns, fake)
		own := create(newConnection(ns, "aurora-api", oauthv1alpha1.ProviderAurora, withIssuerURL(fake.IssuerURL())))
		other := create(newConnection(ns, "other-api", oauthv1alpha1.ProviderAurora, withIssuerURL(fake.IssuerURL())))
		eventuallyReady(own)
		eventuallyReady(other)
		requests := func() int { return fake.Requests(provider.GrantClientCredentials) }
		settlesAt(requests, 2)

		By("applying the sample Role and RoleBinding for the workload's ServiceAccount")
		applySample(ns, "workload_refresh_role.yaml")
		token := serviceAccountToken(ns, "billing")
		workload := &rest.Config{Host: cfg.Host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: cfg.CAData}}

		By("checking what the ServiceAccount may do, with dry-run requests")
		Eventually(func() int { return curlRefresh(workload, ns, own.Name, "allowed?", true) }).Should(Equal(http.StatusOK))
		Expect(curlRefresh(workload, ns, other.Name, "allowed?", true)).To(Equal(http.StatusForbidden), "another connection")
		dyn, err := dynamic.NewForConfig(workload)
		Expect(err).NotTo(HaveOccurred())
		_, err = dyn.Resource(oauthConnections).Namespace(ns).Get(ctx, own.Name, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred(), "it may read its connection's status")
		_, err = dyn.Resource(oauthConnections).Namespace(ns).Get(ctx, other.Name, metav1.GetOptions{})
		Expect(err).To(HaveOccurred(), "but not another's")
		settlesAt(requests, 2)

		By("twenty requests with distinct values: the README's curl, then nineteen with the Go snippet's client")
		start := time.Now()
		Expect(curlRefresh(workload, ns, own.Name, "burst-00", false)).To(Equal(http.StatusOK))
		last := ""
		for i := 1; i < 20; i++ {
			last = fmt.Sprintf("burst-%02d", i)
			Expect(setRefreshAnnotation(ctx, workload, ns, own.Name, last)).To(Succeed())
		}
		Expect(time.Since(start)).To(BeNumerically("<", DefaultMinRequestGap), "the premise: all within the coalescing window")
		settlesAt(requests, 3, "one token request answers the whole burst")
		Eventually(func() string { return getConnection(own).Status.LastHandledRefreshRequest }).Should(Equal(last))
		eventuallyReady(own)
		Expect(getConnection(other).Status.LastHandledRefreshRequest).To(BeEmpty())
	})
})

var oauthConnections = schema.GroupVersionResource{Group: "oauth.tokenwarden.io", Version: "v1alpha1", Resource: "oauthconnections"}

// setRefreshAnnotation is the README's Go snippet, less the in-cluster configuration: one
// merge patch of the connection's refresh annotation.
func setRefreshAnnotation(ctx context.Context, cfg *rest.Config, namespace, name, value string) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		oauthv1alpha1.RefreshRequestedAnnotation: value,
	}}})
	if err != nil {
		return err
	}
	_, err = dyn.Resource(oauthConnections).Namespace(namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

// curlRefresh sends the README's curl request (the same method, path, headers and body),
// with the ServiceAccount's token, and returns the status code.
func curlRefresh(workload *rest.Config, namespace, name, value string, dryRun bool) int {
	GinkgoHelper()
	pool := x509.NewCertPool()
	Expect(pool.AppendCertsFromPEM(workload.CAData)).To(BeTrue())
	httpClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	url := fmt.Sprintf("%s/apis/oauth.tokenwarden.io/v1alpha1/namespaces/%s/oauthconnections/%s",
		strings.TrimSuffix(workload.Host, "/"), namespace, name)
	if dryRun {
		url += "?dryRun=All"
	}
	body := fmt.Sprintf(`{"metadata":{"annotations":{"oauth.tokenwarden.io/refresh-requested-at":%q}}}`, value)
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, url, strings.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", "Bearer "+workload.BearerToken)
	req.Header.Set("Content-Type", "application/merge-patch+json")
	resp, err := httpClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// applySample creates the objects of a file of config/samples in ns.
func applySample(ns, file string) {
	GinkgoHelper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", file))
	Expect(err).NotTo(HaveOccurred())
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := decoder.Decode(&obj.Object); err != nil {
			Expect(err).To(MatchError(io.EOF), "decoding %s", file)
			return
		}
		if len(obj.Object) == 0 {
			continue
		}
		obj.SetNamespace(ns)
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	}
}

// serviceAccountToken is a token of the ServiceAccount, as the kubelet mounts in its Pods.
func serviceAccountToken(ns, name string) string {
	GinkgoHelper()
	sa := &corev1.ServiceAccount{}
	Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, sa)).To(Succeed())
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}
	Expect(k8sClient.SubResource("token").Create(ctx, sa, tr)).To(Succeed())
	Expect(tr.Status.Token).NotTo(BeEmpty())
	return tr.Status.Token
}
