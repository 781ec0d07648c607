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
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

func TestParseShard(t *testing.T) {
	for name, tc := range map[string]struct {
		selector string
		keys     []string
		fails    bool
	}{
		"serves every connection without a selector":  {selector: ""},
		"copies the one key an equality names":        {selector: "shard=a", keys: []string{"shard"}},
		"copies each key a set-based selector names":  {selector: "tier in (gold),shard!=b", keys: []string{"shard", "tier"}},
		"refuses a selector that does not parse":      {selector: "shard in (", fails: true},
		"refuses the operator's own managed-by label": {selector: oauthv1alpha1.ManagedByLabel + "=x", fails: true},
		"refuses the operator's own connection label": {selector: oauthv1alpha1.ConnectionLabel + "=x", fails: true},
	} {
		t.Run(name, func(t *testing.T) {
			sh, err := parseShard(tc.selector)
			if (err != nil) != tc.fails {
				t.Fatalf("parseShard(%q) error %v, want failure %v", tc.selector, err, tc.fails)
			}
			if tc.fails {
				return
			}
			if len(sh.keys) != len(tc.keys) {
				t.Fatalf("keys %v, want %v", sh.keys, tc.keys)
			}
			for i := range tc.keys {
				if sh.keys[i] != tc.keys[i] {
					t.Fatalf("keys %v, want %v", sh.keys, tc.keys)
				}
			}
		})
	}
}

func TestShardSecretsAndLeases(t *testing.T) {
	a, _ := parseShard("shard=a")
	b, _ := parseShard("shard=b")
	conn := &oauthv1alpha1.OAuthConnection{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"shard": "a", "team": "x"}}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{
		oauthv1alpha1.ManagedByLabel: oauthv1alpha1.ManagedByValue, "shard": "b"}}}

	t.Run("a Secret labelled for another shard is not this shard's", func(t *testing.T) {
		if a.labelled(conn, secret) || a.secretSelector().Matches(labels.Set(secret.Labels)) {
			t.Error("shard a takes a Secret labelled for shard b")
		}
	})
	t.Run("relabelling copies only the keys the selector names", func(t *testing.T) {
		a.labelSecret(conn, secret)
		if !a.labelled(conn, secret) || !a.secretSelector().Matches(labels.Set(secret.Labels)) {
			t.Errorf("labels %v after relabelling for shard a", secret.Labels)
		}
		if _, ok := secret.Labels["team"]; ok {
			t.Error("copied a label the selector does not name")
		}
	})
	t.Run("each shard has its own lease; an unsharded manager keeps its own", func(t *testing.T) {
		id := "tokenwarden.oauth.tokenwarden.io"
		if a.leaderElectionID(id) == b.leaderElectionID(id) || a.leaderElectionID(id) == id {
			t.Errorf("leases %q and %q", a.leaderElectionID(id), b.leaderElectionID(id))
		}
		if (shard{}).leaderElectionID(id) != id {
			t.Error("an unsharded manager changed its lease")
		}
	})
}

// shardRequests records the connections one manager made token requests for.
type shardRequests struct {
	mu    sync.Mutex
	conns []string
}

func (s *shardRequests) hook() managerOption {
	return func(r *OAuthConnectionReconciler) {
		r.Hooks = &Hooks{AfterTokenResponse: func(conn types.NamespacedName) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.conns = append(s.conns, conn.Name)
			return nil
		}}
	}
}

func (s *shardRequests) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.conns...)
}

var _ = Describe("Shards", func() {
	It("two managers with disjoint selectors: each serves only its own; relabelling a connection moves it without a second token request", func() {
		ns := newNamespace()
		fake := track(providertest.NewAura(providertest.Options{Lifetime: time.Hour}))
		clientSecretFor(ns, fake)
		var byA, byB shardRequests
		a := startShard(cfg, "tokenwarden.test/shard=a", byA.hook())
		DeferCleanup(a.stop)
		b := startShard(cfg, "tokenwarden.test/shard=b", byB.hook())
		DeferCleanup(b.stop)

		connect := func(name, shardName string) types.NamespacedName {
			createSecret(ns, name+"-grant", map[string]string{"code": fake.IssueCode(), "redirect_uri": fake.RedirectURI()})
			conn := newConnection(ns, name, oauthv1alpha1.ProviderAura, withTokenURL(fake.TokenURL()), withGrantRef(name+"-grant"))
			conn.Labels = map[string]string{"tokenwarden.test/shard": shardName}
			return create(conn)
		}
		first, second := connect("first", "a"), connect("second", "b")
		eventuallyReady(first)
		eventuallyReady(second)
		requests := func() int {
			return fake.Requests(provider.GrantAuthorizationCode) + fake.Requests(provider.GrantRefreshToken)
		}
		settlesAt(requests, 2, "one token request each")
		Expect(byA.list()).To(Equal([]string{"first"}))
		Expect(byB.list()).To(Equal([]string{"second"}))
		for _, name := range []string{"first", stateSecretName("first")} {
			Expect(getSecret(ns, name).Labels).To(HaveKeyWithValue("tokenwarden.test/shard", "a"), name)
		}

		By("relabelling the first connection for shard b")
		before := getSecret(ns, "first").Data[oauthv1alpha1.KeyAccessToken]
		updateSpec(first, func(c *oauthv1alpha1.OAuthConnection) { c.Labels["tokenwarden.test/shard"] = "b" })
		Eventually(func(g Gomega) {
			for _, name := range []string{"first", stateSecretName("first")} {
				s := &corev1.Secret{}
				g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, s)).To(Succeed())
				g.Expect(s.Labels).To(HaveKeyWithValue("tokenwarden.test/shard", "b"), name)
			}
		}).Should(Succeed())
		settlesAt(requests, 2, "the valid token moved with its connection, without a request")
		Expect(getSecret(ns, "first").Data[oauthv1alpha1.KeyAccessToken]).To(Equal(before))
		eventuallyReady(first)

		By("refreshing it from shard b, with the refresh token shard a obtained")
		requestRefresh(first, "after-the-move")
		Eventually(func() []string { return byB.list() }).Should(Equal([]string{"second", "first"}))
		Eventually(func(g Gomega) {
			token := getSecret(ns, "first").Data[oauthv1alpha1.KeyAccessToken]
			g.Expect(token).NotTo(Equal(before))
			g.Expect(fake.ValidAccessToken(string(token))).To(BeTrue())
		}).Should(Succeed())
		Expect(fake.Rejections()).To(BeEmpty())
		Expect(byA.list()).To(Equal([]string{"first"}), "shard a made no request after the move")
	})
})
