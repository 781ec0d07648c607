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
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// fakes remembers every fake provider of the suite, for the final leak scan.
var fakes struct {
	sync.Mutex
	all []*providertest.Server
}

// track registers a fake for the leak scan and closes it after the test.
func track(s *providertest.Server) *providertest.Server {
	fakes.Lock()
	fakes.all = append(fakes.all, s)
	fakes.Unlock()
	DeferCleanup(s.Close)
	return s
}

// allSecretMaterial is every token, refresh token, code and client secret the fakes issued.
func allSecretMaterial() []string {
	fakes.Lock()
	defer fakes.Unlock()
	var out []string
	for _, s := range fakes.all {
		out = append(out, s.SecretMaterial()...)
	}
	return out
}

func createSecret(ns, name string, data map[string]string) *corev1.Secret {
	GinkgoHelper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: data}
	Expect(k8sClient.Create(ctx, s)).To(Succeed())
	return s
}

// clientSecretFor creates the client Secret "client" holding a fake's client credentials.
func clientSecretFor(ns string, fake *providertest.Server) {
	GinkgoHelper()
	createSecret(ns, "client", map[string]string{"client_id": fake.ClientID(), "client_secret": fake.ClientSecret()})
}

type connOption func(*oauthv1alpha1.OAuthConnection)

func newConnection(ns, name string, p oauthv1alpha1.Provider, opts ...connOption) *oauthv1alpha1.OAuthConnection {
	c := &oauthv1alpha1.OAuthConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: oauthv1alpha1.OAuthConnectionSpec{
			Provider:        p,
			ClientSecretRef: oauthv1alpha1.ClientSecretReference{Name: "client"},
		},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func withTokenURL(u string) connOption {
	return func(c *oauthv1alpha1.OAuthConnection) { c.Spec.TokenURL = oauthv1alpha1.URL(u) }
}

func withIssuerURL(u string) connOption {
	return func(c *oauthv1alpha1.OAuthConnection) { c.Spec.IssuerURL = oauthv1alpha1.URL(u) }
}

func withGrantRef(name string) connOption {
	return func(c *oauthv1alpha1.OAuthConnection) {
		c.Spec.GrantSecretRef = &oauthv1alpha1.GrantSecretReference{Name: oauthv1alpha1.SecretName(name)}
	}
}

func withSpec(f func(*oauthv1alpha1.OAuthConnectionSpec)) connOption {
	return func(c *oauthv1alpha1.OAuthConnection) { f(&c.Spec) }
}

func create(c *oauthv1alpha1.OAuthConnection) types.NamespacedName {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, c)).To(Succeed())
	return client.ObjectKeyFromObject(c)
}

func getConnection(key types.NamespacedName) *oauthv1alpha1.OAuthConnection {
	GinkgoHelper()
	c := &oauthv1alpha1.OAuthConnection{}
	Expect(k8sClient.Get(ctx, key, c)).To(Succeed())
	return c
}

func condition(c *oauthv1alpha1.OAuthConnection, t string) *metav1.Condition {
	return meta.FindStatusCondition(c.Status.Conditions, t)
}

// haveCondition matches a connection whose condition t has the status and reason.
func expectCondition(g Gomega, c *oauthv1alpha1.OAuthConnection, t string, status metav1.ConditionStatus, reason string) {
	cond := condition(c, t)
	g.Expect(cond).NotTo(BeNil(), "no %s condition", t)
	g.Expect(cond.Status).To(Equal(status), "%s: %s", cond.Reason, cond.Message)
	if reason != "" {
		g.Expect(cond.Reason).To(Equal(reason), cond.Message)
	}
	g.Expect(cond.ObservedGeneration).To(Equal(c.Generation))
}

// eventuallyReady waits until the connection is Ready and returns it.
func eventuallyReady(key types.NamespacedName) *oauthv1alpha1.OAuthConnection {
	GinkgoHelper()
	var c *oauthv1alpha1.OAuthConnection
	Eventually(func(g Gomega) {
		c = &oauthv1alpha1.OAuthConnection{}
		g.Expect(k8sClient.Get(ctx, key, c)).To(Succeed())
		expectCondition(g, c, oauthv1alpha1.ConditionReady, metav1.ConditionTrue, "")
		expectCondition(g, c, oauthv1alpha1.ConditionStalled, metav1.ConditionFalse, "")
	}).WithTimeout(30 * time.Second).Should(Succeed())
	return c
}

func getSecret(ns, name string) *corev1.Secret {
	GinkgoHelper()
	s := &corev1.Secret{}
	Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, s)).To(Succeed())
	return s
}

// keys lists a Secret's data keys.
func keys(s *corev1.Secret) []string {
	out := make([]string, 0, len(s.Data))
	for k := range s.Data {
		out = append(out, k)
	}
	return out
}

// updateSpec changes a connection's spec with a merge patch (the manager writes its
// status meanwhile).
func updateSpec(key types.NamespacedName, change func(*oauthv1alpha1.OAuthConnection)) {
	GinkgoHelper()
	c := getConnection(key)
	patch := client.MergeFrom(c.DeepCopy())
	change(c)
	Expect(k8sClient.Patch(ctx, c, patch)).To(Succeed())
}

// annotate sets the refresh annotation.
func requestRefresh(key types.NamespacedName, value string) {
	GinkgoHelper()
	c := getConnection(key)
	patch := client.MergeFrom(c.DeepCopy())
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[oauthv1alpha1.RefreshRequestedAnnotation] = value
	Expect(k8sClient.Patch(ctx, c, patch)).To(Succeed())
}

// eventsIn lists the events recorded in a namespace.
func eventsIn(ns string) []eventsv1.Event {
	GinkgoHelper()
	list := &eventsv1.EventList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	return list.Items
}

// eventReasons lists the reasons of the events recorded for a connection.
func eventReasons(ns, name string) []string {
	var out []string
	for _, e := range eventsIn(ns) {
		if e.Regarding.Name == name {
			out = append(out, e.Reason)
		}
	}
	return out
}

// containsAny returns the first of secrets found in text.
func containsAny(text string, secrets []string) (string, bool) {
	for _, s := range secrets {
		if len(s) >= 8 && strings.Contains(text, s) {
			return s, true
		}
	}
	return "", false
}

// settlesAt asserts that a count reaches n and then stays there. A count of requests is
// first reached with Eventually (a claim or a Secret write can show before the request it
// precedes has finished), then held with Consistently: a Consistently alone flakes under load.
func settlesAt(count func() int, n int, why ...any) {
	GinkgoHelper()
	Eventually(count).Should(Equal(n), why...)
	Consistently(count).WithTimeout(2*time.Second).Should(Equal(n), why...)
}

// refuseSecretWrites makes the API server refuse every create and update of a Secret in
// ns (a ValidatingAdmissionPolicy), as an outage of writes would; allow lifts it.
func refuseSecretWrites(ns string) (allow func()) {
	GinkgoHelper()
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "refuse-" + ns},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
					Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"secrets"}},
				},
			}}},
			Validations: []admissionv1.Validation{{Expression: "false", Message: "writes refused for the test"}},
		},
	}
	Expect(k8sClient.Create(ctx, policy)).To(Succeed())
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "refuse-" + ns},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        policy.Name,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}},
		},
	}
	Expect(k8sClient.Create(ctx, binding)).To(Succeed())
	Eventually(func() error {
		return k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "probe-"}}, client.DryRunAll)
	}).ShouldNot(Succeed())
	return func() {
		GinkgoHelper()
		Expect(k8sClient.Delete(ctx, binding)).To(Succeed())
		Expect(k8sClient.Delete(ctx, policy)).To(Succeed())
		Eventually(func() error {
			return k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "probe-"}}, client.DryRunAll)
		}).Should(Succeed())
	}
}
