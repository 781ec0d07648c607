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
	"context"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// shard is the part of the connections one manager serves (--connection-selector): those
// whose labels the selector matches. Several managers with disjoint selectors, each with
// its own leader election, split the connections between them.
//
// The operator's Secrets carry the connection's name, not its labels, so the manager
// copies the labels its selector names from each connection onto that connection's
// Secrets: its Secret cache then selects them with the same requirements and holds only
// this shard's Secrets. A connection relabelled into another shard arrives there with
// Secrets still labelled for the old one; claimSecrets relabels them, and the new shard
// reads the state they hold (the live refresh token) as its own.
type shard struct {
	selector labels.Selector // nil: every connection
	keys     []string        // the label keys the selector names
}

// parseShard reads --connection-selector; empty: every connection.
func parseShard(selector string) (shard, error) {
	if selector == "" {
		return shard{}, nil
	}
	sel, err := labels.Parse(selector)
	if err != nil {
		return shard{}, fmt.Errorf("--connection-selector %q: %w", selector, err)
	}
	reqs, _ := sel.Requirements()
	if len(reqs) == 0 {
		return shard{}, nil
	}
	var keys []string
	for _, r := range reqs {
		if r.Key() == oauthv1alpha1.ManagedByLabel || r.Key() == oauthv1alpha1.ConnectionLabel || reserved(r.Key()) {
			return shard{}, fmt.Errorf("--connection-selector %q: %s is the operator's own label", selector, r.Key())
		}
		keys = append(keys, r.Key())
	}
	slices.Sort(keys)
	return shard{selector: sel, keys: slices.Compact(keys)}, nil
}

// sharded reports whether the manager serves only some connections.
func (s shard) sharded() bool { return s.selector != nil }

// secretSelector selects the operator's Secrets of this shard's connections.
func (s shard) secretSelector() labels.Selector {
	sel := labels.SelectorFromSet(labels.Set{oauthv1alpha1.ManagedByLabel: oauthv1alpha1.ManagedByValue})
	if s.sharded() {
		reqs, _ := s.selector.Requirements()
		sel = sel.Add(reqs...)
	}
	return sel
}

// leaderElectionID gives each shard its own lease: shards must not wait for one another.
func (s shard) leaderElectionID(id string) string {
	if !s.sharded() || id == "" {
		return id
	}
	return hash("shard", s.selector.String())[:10] + "." + id
}

// labelSecret copies the connection's values of the shard's label keys onto one of its
// Secrets, and removes the keys the connection does not carry.
func (s shard) labelSecret(conn *oauthv1alpha1.OAuthConnection, secret *corev1.Secret) {
	if !s.sharded() {
		return
	}
	if secret.Labels == nil {
		secret.Labels = map[string]string{}
	}
	for _, k := range s.keys {
		if v, ok := conn.Labels[k]; ok {
			secret.Labels[k] = v
		} else {
			delete(secret.Labels, k)
		}
	}
}

// labelled reports whether secret carries the connection's values of the shard's keys.
func (s shard) labelled(conn *oauthv1alpha1.OAuthConnection, secret *corev1.Secret) bool {
	for _, k := range s.keys {
		v, ok := conn.Labels[k]
		w, has := secret.Labels[k]
		if ok != has || v != w {
			return false
		}
	}
	return true
}

// claimSecrets hands a connection over from another shard: when the cache does not show
// one of its Secrets although a manager has served it before, it is looked up live, and if
// the connection owns it and it is labelled for another shard (or for none), it is
// relabelled for this one. Nothing else is decided until the cache shows them: the state they hold (the live
// refresh token, the token's expiry) is what decides whether a token request is due, so
// a valid token moves between shards without a request. A connection never served before
// costs no read. Reads inputs.
func claimSecrets(ctx context.Context, x *run) error {
	s := x.r.shard
	if !s.sharded() || (x.conn.Status.ObservedGeneration == 0 && len(x.conn.Status.Conditions) == 0) {
		return nil
	}
	names := []string{x.in.cfg.secretName}
	if !inlineState(x.conn) {
		names = append(names, stateSecretName(x.conn.Name))
	}
	claimed := false
	for _, name := range names {
		key := types.NamespacedName{Namespace: x.conn.Namespace, Name: name}
		if err := x.r.Get(ctx, key, &corev1.Secret{}); err == nil {
			continue // in this shard's cache already
		} else if !apierrors.IsNotFound(err) {
			return err
		}
		secret := &corev1.Secret{}
		err := x.r.APIReader.Get(ctx, key, secret)
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return err
		case !ownedBy(secret, x.conn) || s.labelled(x.conn, secret):
			continue
		}
		base := secret.DeepCopy()
		secret.Labels = maps.Clone(secret.Labels)
		s.labelSecret(x.conn, secret)
		if err := x.r.Patch(ctx, secret, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			return err
		}
		x.log.Info("Claimed a Secret from another shard", "secret", name)
		claimed = true
	}
	if claimed {
		return errStaleCache
	}
	return nil
}
