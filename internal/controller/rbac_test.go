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
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// requestLog records the (verb, group/resource) pairs a client sends.
type requestLog struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if verb, resource, ok := classifyRequest(req); ok {
			l.mu.Lock()
			l.seen[verb+" "+resource] = true
			l.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

func (l *requestLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.seen))
	for k := range l.seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// classifyRequest maps an API request to its RBAC verb and group/resource[/subresource].
func classifyRequest(req *http.Request) (string, string, bool) {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	var group string
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		group, parts = parts[1], parts[3:]
	default:
		return "", "", false // discovery and other non-resource requests
	}
	if len(parts) >= 2 && parts[0] == "namespaces" {
		parts = parts[2:]
	}
	if len(parts) == 0 {
		return "", "", false
	}
	resource := group + "/" + parts[0]
	named := len(parts) >= 2
	if len(parts) >= 3 {
		resource += "/" + parts[2]
	}
	var verb string
	switch req.Method {
	case http.MethodGet:
		switch {
		case named:
			verb = "get"
		case req.URL.Query().Get("watch") == "true":
			verb = "watch"
		default:
			verb = "list"
		}
	case http.MethodPost:
		verb = "create"
	case http.MethodPut:
		verb = "update"
	case http.MethodPatch:
		verb = "patch"
	case http.MethodDelete:
		verb = "delete"
	}
	return verb, resource, true
}

// granted lists the (verb, group/resource) pairs of the generated ClusterRole.
func granted(role *rbacv1.ClusterRole) []string {
	var out []string
	for _, rule := range role.Rules {
		for _, g := range rule.APIGroups {
			for _, r := range rule.Resources {
				for _, v := range rule.Verbs {
					out = append(out, v+" "+g+"/"+r)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// notExercised are grants the scenario below cannot provoke, with the reason they stay.
var notExercised = map[string]string{
	// The events recorder patches an event to count a repeat (an event series).
	"patch events.k8s.io/events": "event series",
	// Informers stream their initial list through a watch (watch-list); they fall back to
	// a plain list on API servers that do not serve watch-list.
	"list oauth.tokenwarden.io/oauthconnections": "informer fallback without watch-list",
	// Checked by the OwnerReferencesPermissionEnforcement admission plugin (enabled in this
	// suite, as on OpenShift) on each Secret create with an owner reference: without it,
	// every create below is refused.
	"update oauth.tokenwarden.io/oauthconnections/finalizers": "owner references that block deletion",
}

var _ = Describe("RBAC", func() {
	It("grants the manager exactly what its code uses", func() {
		raw, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", "role.yaml"))
		Expect(err).NotTo(HaveOccurred())
		role := &rbacv1.ClusterRole{}
		Expect(yaml.Unmarshal(raw, role)).To(Succeed())

		By("running the manager as a user bound to the generated ClusterRole only")
		role.Name = "tokenwarden-manager-role-under-test"
		Expect(k8sClient.Create(ctx, role)).To(Succeed())
		user, err := testEnv.AddUser(envtest.User{Name: "tokenwarden-manager"}, cfg)
		Expect(err).NotTo(HaveOccurred())
		Expect(k8sClient.Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "tokenwarden-manager-under-test"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "tokenwarden-manager"}},
		})).To(Succeed())
		log := &requestLog{seen: map[string]bool{}}
		limited := rest.CopyConfig(user.Config())
		limited.WrapTransport = log.wrap
		cb := newCallbackEndpoint()
		mgr := startManagerWith(limited, CallbackOptions{Listener: cb.ln, URL: cb.base}, "")
		DeferCleanup(mgr.stop)

		By("exercising every path: issue, refresh, rename the Secret, a missing Secret")
		ns := newNamespace()
		fake, conn := providerCases[oauthv1alpha1.ProviderAura].setup(ns, 3*time.Second)
		key := create(conn)
		eventuallyReady(key)
		Eventually(func() int { return fake.TotalRequests() }).WithTimeout(20 * time.Second).Should(BeNumerically(">=", 2))
		updateSpec(key, func(c *oauthv1alpha1.OAuthConnection) { c.Spec.SecretName = "renamed" })
		Eventually(func(g Gomega) {
			g.Expect(getConnection(key).Status.SecretName).To(Equal("renamed"))
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "renamed"}, &corev1.Secret{})).To(Succeed())
			old := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: conn.Name}, &corev1.Secret{})
			g.Expect(apierrors.IsNotFound(old)).To(BeTrue(), "the Secret of the old name is deleted")
		}).Should(Succeed())
		missing := newConnection(ns, "missing", oauthv1alpha1.ProviderAurora, withTokenURL(fake.TokenURL()))
		missing.Spec.ClientSecretRef.Name = "absent"
		missingKey := create(missing)
		Eventually(func(g Gomega) {
			expectCondition(g, getConnection(missingKey), oauthv1alpha1.ConditionStalled, metav1.ConditionTrue, "")
		}).Should(Succeed())
		Eventually(func() []string { return log.list() }).Should(ContainElement("delete /secrets"))
		ccNS := newNamespace()
		_, cc := providerCases[oauthv1alpha1.ProviderAurora].setup(ccNS, time.Hour)
		ccKey := create(cc)
		eventuallyReady(ccKey)
		updateSpec(ccKey, func(c *oauthv1alpha1.OAuthConnection) {
			c.Spec.SecretTemplate = &oauthv1alpha1.SecretTemplate{Labels: map[string]oauthv1alpha1.MetadataValue{"team": "payments"}}
		})
		Eventually(func() []string { return log.list() }).Should(ContainElement("patch /secrets"))
		retainNS := newNamespace()
		_, retained := providerCases[oauthv1alpha1.ProviderAurora].setup(retainNS, time.Hour)
		retained.Spec.DeletionPolicy = oauthv1alpha1.DeletionPolicyRetain
		retainedKey := create(retained)
		eventuallyReady(retainedKey)
		Expect(k8sClient.Delete(ctx, getConnection(retainedKey))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, retainedKey, &oauthv1alpha1.OAuthConnection{}))
		}).Should(BeTrue(), "the finalizer of a Retain connection is removed")

		By("connecting an account through the callback server, which every replica runs")
		browserNS := newNamespace()
		aura := track(providertest.NewAura(providertest.Options{RedirectURI: cb.base + "/callback"}))
		clientSecretFor(browserNS, aura)
		browserKey := create(newConnection(browserNS, "aura", oauthv1alpha1.ProviderAura, withTokenURL(aura.TokenURL()),
			withAuthorization(cb.base+"/callback", nil)))
		b := providertest.NewBrowser()
		status, page, _ := get(b, signIn(b, awaitLink(browserKey, "")))
		Expect(status).To(Equal(http.StatusOK), page)
		eventuallyReady(browserKey)

		used := log.list()
		By("comparing: every request was granted, and every grant was used")
		grants := granted(role)
		for _, u := range used {
			Expect(grants).To(ContainElement(u), "the manager made a request its role does not grant")
		}
		for _, g := range grants {
			if _, ok := notExercised[g]; ok {
				continue
			}
			Expect(used).To(ContainElement(g), "the role grants %q, which the code never uses", g)
		}
	})
})
