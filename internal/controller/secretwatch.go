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
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"
	"sigs.k8s.io/controller-runtime/pkg/event"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

var secretsResource = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// unownedSecrets selects the Secrets the manager's cache does not hold.
var unownedSecrets = oauthv1alpha1.ManagedByLabel + "!=" + oauthv1alpha1.ManagedByValue

// secretWatcher follows changes to every Secret's metadata without keeping any: it turns
// each into an event with the Secret's namespace and name, which the controller maps to
// the connections that reference it through a field index. Memory stays constant however
// many Secrets the cluster holds (an informer would keep a copy of each). The operator's
// own Secrets are left out (the manager's cache follows them): each of its writes would
// otherwise reach the manager twice.
type secretWatcher struct {
	client metadata.Interface
	events chan event.GenericEvent
	memo   *secretMemo
	log    logr.Logger
}

func newSecretWatcher(c metadata.Interface, memo *secretMemo, log logr.Logger) *secretWatcher {
	return &secretWatcher{client: c, events: make(chan event.GenericEvent, 1024), memo: memo, log: log}
}

// Start watches until ctx ends, resuming from the last resourceVersion seen. When the
// watch cannot resume (410 Gone), it starts afresh and emits one nameless event, which
// maps to every connection: changes in the gap are not lost, and a reconcile over a valid
// token makes no token request.
func (w *secretWatcher) Start(ctx context.Context) error {
	rv := ""
	backoff := time.Second
	for ctx.Err() == nil {
		if rv == "" {
			list, err := w.client.Resource(secretsResource).List(ctx, metav1.ListOptions{
				LabelSelector: unownedSecrets, Limit: 1})
			if err != nil {
				w.log.Error(err, "Failed to list Secrets to start watching; retrying", "backoff", backoff)
				if !sleep(ctx, backoff) {
					break
				}
				backoff = min(2*backoff, 30*time.Second)
				continue
			}
			rv = list.ResourceVersion
		}
		next, err := w.watchFrom(ctx, rv)
		switch {
		case apierrors.IsResourceExpired(err) || apierrors.IsGone(err):
			w.log.Info("Restarted the Secret watch after it expired")
			rv = ""
			w.emit(ctx, &metav1.PartialObjectMetadata{})
		case err != nil:
			w.log.Error(err, "Secret watch failed; retrying", "backoff", backoff)
			rv = next
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, 30*time.Second)
		default:
			rv = next
			backoff = time.Second
		}
	}
	return nil
}

// watchFrom follows one watch until it ends, and returns the last resourceVersion seen.
func (w *secretWatcher) watchFrom(ctx context.Context, rv string) (string, error) {
	wi, err := w.client.Resource(secretsResource).Watch(ctx, metav1.ListOptions{
		LabelSelector: unownedSecrets, ResourceVersion: rv, AllowWatchBookmarks: true,
	})
	if err != nil {
		w.memo.reset(false)
		return rv, err
	}
	// Changes from rv on are followed: the memo may keep what is read from now on.
	w.memo.reset(true)
	defer w.memo.reset(false)
	defer wi.Stop()
	for {
		select {
		case <-ctx.Done():
			return rv, nil
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return rv, nil
			}
			switch ev.Type {
			case watch.Error:
				return rv, apierrors.FromObject(ev.Object)
			case watch.Bookmark:
				if m, ok := ev.Object.(*metav1.PartialObjectMetadata); ok {
					rv = m.ResourceVersion
				}
			default:
				m, ok := ev.Object.(*metav1.PartialObjectMetadata)
				if !ok {
					continue
				}
				rv = m.ResourceVersion
				w.memo.forget(types.NamespacedName{Namespace: m.Namespace, Name: m.Name})
				w.emit(ctx, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
					Namespace: m.Namespace, Name: m.Name}})
			}
		}
	}
}

func (w *secretWatcher) emit(ctx context.Context, obj *metav1.PartialObjectMetadata) {
	select {
	case w.events <- event.GenericEvent{Object: obj}:
	case <-ctx.Done():
	}
}

// NeedLeaderElection: only the leader reconciles, so only the leader needs the events.
func (w *secretWatcher) NeedLeaderElection() bool { return true }

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
