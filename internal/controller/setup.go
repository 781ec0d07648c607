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

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// secretRefIndex indexes connections by the namespace/name of each Secret they read.
const secretRefIndex = "spec.secretRefs"

// Options tune the controller.
type Options struct {
	// MaxConcurrentReconciles bounds parallel reconciles (and so token requests).
	MaxConcurrentReconciles int
	// SkipNameValidation allows more than one manager in a process (tests).
	SkipNameValidation bool
}

// SetupWithManager registers the controller: it watches connections, the Secrets it owns
// (the manager caches only those, by label), and the user Secrets connections reference,
// through a metadata-only watch of the other Secrets that keeps no copy of them.
func (r *OAuthConnectionReconciler) SetupWithManager(mgr ctrl.Manager, opts Options) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &oauthv1alpha1.OAuthConnection{},
		secretRefIndex, referencedSecrets); err != nil {
		return err
	}
	meta, err := metadata.NewForConfig(mgr.GetConfig())
	if err != nil {
		return err
	}
	r.mem.memo = newSecretMemo()
	watcher := newSecretWatcher(meta, r.mem.memo, mgr.GetLogger().WithName("secret-watch"))
	if err := mgr.Add(watcher); err != nil {
		return err
	}
	if err := mgr.Add(&gaugeSource{cache: mgr.GetCache()}); err != nil {
		return err
	}
	if err := mgr.Add(&heldAnswerWriter{r: r, log: mgr.GetLogger().WithName("held-answers")}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&oauthv1alpha1.OAuthConnection{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&corev1.Secret{}).
		// A Secret in the cache (one carrying the operator's label) may also be referenced,
		// e.g. one connection's workload Secret as another's client Secret; the metadata
		// watch leaves these out.
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.connectionsReferencing)).
		WatchesRawSource(source.Channel(watcher.events, handler.EnqueueRequestsFromMapFunc(r.connectionsReferencing))).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
			SkipNameValidation:      &opts.SkipNameValidation,
		}).
		Named("oauthconnection").
		Complete(r)
}

// CacheOptions restricts the manager's cache: of Secrets it keeps only those the operator
// owns (by label), never every Secret in the cluster, and of workload Secrets only a
// digest of their data; managed fields are dropped, and so is the copy of the whole object
// that `kubectl apply` keeps in an annotation of each connection; strings that many
// objects repeat are kept once (intern). A sharded manager
// (--connection-selector) caches only its shard's connections and their Secrets
// (cacheOptions).
func CacheOptions() cache.Options { return cacheOptions(shard{}) }

func cacheOptions(sh shard) cache.Options {
	strip := cache.TransformStripManagedFields()
	return cache.Options{
		DefaultTransform: strip,
		ByObject: map[client.Object]cache.ByObject{
			&oauthv1alpha1.OAuthConnection{}: {
				Label: sh.selector,
				Transform: func(obj any) (any, error) {
					obj, err := strip(obj)
					if o, ok := obj.(*oauthv1alpha1.OAuthConnection); ok && err == nil {
						delete(o.Annotations, corev1.LastAppliedConfigAnnotation)
						internConnection(o)
					}
					return obj, err
				},
			},
			&corev1.Secret{}: {
				Label: sh.secretSelector(),
				Transform: func(obj any) (any, error) {
					obj, err := strip(obj)
					if s, ok := obj.(*corev1.Secret); ok && err == nil {
						if s.Labels[stateRoleLabel] != stateRoleValue {
							digestData(s)
						}
						internMeta(s)
						s.Type = corev1.SecretType(intern(string(s.Type)))
					}
					return obj, err
				},
			},
		},
	}
}

// referencedSecrets lists the namespace/name of the Secrets a connection reads.
func referencedSecrets(obj client.Object) []string {
	conn, ok := obj.(*oauthv1alpha1.OAuthConnection)
	if !ok {
		return nil
	}
	refs := []string{conn.Namespace + "/" + string(conn.Spec.ClientSecretRef.Name)}
	if g := conn.Spec.GrantSecretRef; g != nil {
		refs = append(refs, conn.Namespace+"/"+string(g.Name))
	}
	return refs
}

// connectionsReferencing maps a changed user Secret to the connections that read it. An
// event without a name (the watch lost its place) maps to every connection.
func (r *OAuthConnectionReconciler) connectionsReferencing(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &oauthv1alpha1.OAuthConnectionList{}
	var opts []client.ListOption
	if obj.GetName() != "" {
		opts = append(opts, client.MatchingFields{secretRefIndex: obj.GetNamespace() + "/" + obj.GetName()})
	}
	if err := r.List(ctx, list, opts...); err != nil {
		r.log(ctx).Error(err, "Failed to list connections for a Secret change")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{
			Namespace: list.Items[i].Namespace, Name: list.Items[i].Name}})
	}
	return reqs
}
