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
	"errors"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// TokenSource performs one token request; *provider.Client is the production one.
type TokenSource interface {
	Token(ctx context.Context, req *provider.Request) (*provider.Token, error)
}

// OAuthConnectionReconciler keeps each OAuthConnection's token fresh in its workload Secret.
type OAuthConnectionReconciler struct {
	client.Client
	// APIReader reads from the API server, bypassing the cache: the referenced user Secrets
	// (which the manager does not cache) and state that must be current.
	APIReader client.Reader
	Recorder  events.EventRecorder
	Tokens    TokenSource
	// Identity names this manager in claims on single-use credentials.
	Identity string
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Hooks are test-only crash points; nil in production.
	Hooks *Hooks
	// ClaimTTL is how long another manager's claim on a single-use credential is honoured;
	// zero: DefaultClaimTTL.
	ClaimTTL time.Duration
	// RequestTimeout bounds one token request; zero: provider.DefaultTimeout. A claim, the
	// request and the write of its answer together are bounded by obtainTimeout.
	RequestTimeout time.Duration
	// MinRequestGap is the least time between two token requests of a connection on its
	// own schedule, and the window in which forced refreshes are coalesced; zero:
	// DefaultMinRequestGap. Tests shorten it to see short-lived tokens refreshed quickly.
	MinRequestGap time.Duration
	// CallbackURL is the external base URL of the callback server of browser onboarding,
	// without a trailing slash; "": the manager runs none, and offers no links.
	CallbackURL string

	shard shard
	mem   memory
}

// Hooks lets tests stop a reconcile at each step of a refresh, as a crash would.
type Hooks struct {
	// AfterTokenResponse runs after the provider answered and before the state write.
	AfterTokenResponse func(conn types.NamespacedName) error
	// AfterStateSaved runs after the state write and before the workload Secret write.
	AfterStateSaved func(conn types.NamespacedName) error
	// AfterSecretWritten runs after both writes.
	AfterSecretWritten func(conn types.NamespacedName) error
}

// +kubebuilder:rbac:groups=oauth.tokenwarden.io,resources=oauthconnections,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=oauth.tokenwarden.io,resources=oauthconnections/status,verbs=patch
// +kubebuilder:rbac:groups=oauth.tokenwarden.io,resources=oauthconnections/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile fetches the connection, runs its steps, and writes status and events once.
func (r *OAuthConnectionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	conn := &oauthv1alpha1.OAuthConnection{}
	if err := r.Get(ctx, req.NamespacedName, conn); err != nil {
		if apierrors.IsNotFound(err) {
			r.mem.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if !conn.DeletionTimestamp.IsZero() {
		// The Secrets are owned by the connection: the garbage collector removes them,
		// unless deletionPolicy Retain has them released first.
		return ctrl.Result{}, r.releaseSecrets(ctx, conn)
	}
	if err := r.syncRetainFinalizer(ctx, conn); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	x := r.newRun(ctx, conn)
	result, err := x.reconcile(ctx)
	if errors.Is(err, errStaleCache) {
		// Nothing was done on what the cache showed; look again once it has caught up.
		return ctrl.Result{RequeueAfter: 100 * time.Millisecond}, nil
	}
	x.setStatus()
	if perr := r.patchStatus(ctx, x); perr != nil {
		return ctrl.Result{}, errors.Join(err, perr)
	}
	x.emitEvents()
	return result, err
}

// newRun starts a run over conn, from the status this manager last wrote when the cache
// does not show it yet.
func (r *OAuthConnectionReconciler) newRun(ctx context.Context, conn *oauthv1alpha1.OAuthConnection) *run {
	key := client.ObjectKeyFromObject(conn)
	x := &run{r: r, conn: conn, base: conn.DeepCopy(), now: r.now(), log: logr.FromContextOrDiscard(ctx)}
	x.prev = &x.base.Status
	if rec := r.mem.written.get(key, conn.UID); rec.status != nil {
		if rec.statusVersion == conn.ResourceVersion {
			r.mem.written.statusCaughtUp(key, conn.UID, rec.statusVersion)
		} else {
			x.prev = rec.status
			conn.Status = *rec.status.DeepCopy()
		}
	}
	return x
}

func (r *OAuthConnectionReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *OAuthConnectionReconciler) log(ctx context.Context) logr.Logger {
	return logr.FromContextOrDiscard(ctx)
}

// patchStatus writes the status when it differs from the last one written (or, when
// none was, from the cached one).
func (r *OAuthConnectionReconciler) patchStatus(ctx context.Context, x *run) error {
	conn := x.conn
	if statusEqual(x.prev, &conn.Status) {
		return nil
	}
	if err := r.Status().Patch(ctx, conn, client.MergeFrom(x.base)); err != nil {
		return client.IgnoreNotFound(err)
	}
	r.mem.written.statusPatched(client.ObjectKeyFromObject(conn), conn.UID, &conn.Status, conn.ResourceVersion)
	return nil
}

// DefaultClaimTTL is how long a claim by another manager is honoured: longer than any
// token request may take.
const DefaultClaimTTL = 2 * time.Minute

func (r *OAuthConnectionReconciler) claimTTL() time.Duration {
	if r.ClaimTTL > 0 {
		return r.ClaimTTL
	}
	return DefaultClaimTTL
}

func (r *OAuthConnectionReconciler) minRequestGap() time.Duration {
	if r.MinRequestGap > 0 {
		return r.MinRequestGap
	}
	return DefaultMinRequestGap
}

// obtainTimeout bounds a claim, its token request and the write of the answer: the
// request's own timeout plus room to store what came back.
func (r *OAuthConnectionReconciler) obtainTimeout() time.Duration {
	return requestTimeout(r.RequestTimeout) + storeAllowance
}

// storeAllowance is the time left, after a token request's timeout, to write its answer.
const storeAllowance = 15 * time.Second

func requestTimeout(t time.Duration) time.Duration {
	if t > 0 {
		return t
	}
	return provider.DefaultTimeout
}

func (r *OAuthConnectionReconciler) hook(pick func(*Hooks) func(types.NamespacedName) error, conn *oauthv1alpha1.OAuthConnection) error {
	if r.Hooks == nil {
		return nil
	}
	if h := pick(r.Hooks); h != nil {
		return h(client.ObjectKeyFromObject(conn))
	}
	return nil
}
