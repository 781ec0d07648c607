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
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// Scheme holds the types the manager works with.
var Scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(Scheme))
	utilruntime.Must(oauthv1alpha1.AddToScheme(Scheme))
}

// ManagerOptions configure NewManager.
type ManagerOptions struct {
	// Manager are the controller-runtime options; Scheme and Cache are set by NewManager.
	Manager ctrl.Options
	// Controller tunes the controller.
	Controller Options
	// TokenRequestTimeout bounds one token request; zero: provider.DefaultTimeout.
	TokenRequestTimeout time.Duration
	// AddressPolicy refuses token endpoints at blocked addresses; nil: the default policy.
	AddressPolicy *provider.AddressPolicy
	// Callback configures the callback server of browser onboarding; off by default.
	Callback CallbackOptions
	// ConnectionSelector, a label selector, restricts the manager to the connections it
	// matches (a shard); empty: every connection. The leader election ID gets a suffix of
	// the selector, so that each shard elects its own leader.
	ConnectionSelector string
	// Customize, when set, adjusts the reconciler before it is registered (tests: hooks,
	// clock, token source).
	Customize func(*OAuthConnectionReconciler)
}

// NewManager builds the manager exactly as production runs it: the cache restricted to
// the Secrets the operator owns, and the OAuthConnection controller registered. The demo,
// the benchmarks and the tests use it too, so they measure and test what ships.
func NewManager(cfg *rest.Config, o ManagerOptions) (ctrl.Manager, error) {
	if err := validTokenRequestTimeout(o.TokenRequestTimeout); err != nil {
		return nil, err
	}
	sh, err := parseShard(o.ConnectionSelector)
	if err != nil {
		return nil, err
	}
	mo := o.Manager
	mo.Scheme = Scheme
	mo.Cache = cacheOptions(sh)
	mo.LeaderElectionID = sh.leaderElectionID(mo.LeaderElectionID)
	if mo.GracefulShutdownTimeout == nil {
		// A token request in flight when the manager is asked to stop runs to its end and
		// its answer is written (obtainTimeout): for a rotating provider that answer holds
		// the only copy of the new refresh token. The Deployment's grace period is longer.
		timeout := requestTimeout(o.TokenRequestTimeout) + storeAllowance + 10*time.Second
		mo.GracefulShutdownTimeout = &timeout
	}
	mgr, err := ctrl.NewManager(cfg, mo)
	if err != nil {
		return nil, err
	}
	events := newEventWriter(mgr.GetClient(), mgr.GetScheme(), "tokenwarden", mgr.GetLogger().WithName("events"))
	if err := mgr.Add(events); err != nil {
		return nil, err
	}
	providers := &provider.Client{Timeout: o.TokenRequestTimeout, Policy: o.AddressPolicy}
	r := &OAuthConnectionReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  events,
		Tokens:    providers,
		Identity:  identity(),

		RequestTimeout: o.TokenRequestTimeout,

		shard: sh,
	}
	if o.Callback.Enabled() {
		srv, err := newCallbackServer(r, providers, o.Callback, mgr.GetLogger().WithName("callback"))
		if err != nil {
			return nil, err
		}
		r.CallbackURL = srv.base
		if err := mgr.Add(srv); err != nil {
			return nil, err
		}
	}
	if o.Customize != nil {
		o.Customize(r)
	}
	if err := r.SetupWithManager(mgr, o.Controller); err != nil {
		return nil, err
	}
	return mgr, nil
}

// MaxTokenRequestTimeout bounds --token-request-timeout: a token request, and the write of
// its answer after it (storeAllowance), must end well within a claim's TTL and a
// Deployment's termination grace period.
const MaxTokenRequestTimeout = 45 * time.Second

// validTokenRequestTimeout checks the one timeout setting that bounds everything a token
// request does (connecting, TLS, waiting for headers, reading the body, discovery).
func validTokenRequestTimeout(t time.Duration) error {
	if t < 0 || t > MaxTokenRequestTimeout {
		return fmt.Errorf("--token-request-timeout %s: must be between 1s and %s (0: the default %s)",
			t, MaxTokenRequestTimeout, provider.DefaultTimeout)
	}
	if t > 0 && t < time.Second {
		return fmt.Errorf("--token-request-timeout %s: must be between 1s and %s (0: the default %s)",
			t, MaxTokenRequestTimeout, provider.DefaultTimeout)
	}
	return nil
}

// identity names this process in claims on single-use credentials.
func identity() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return host + "-" + hex.EncodeToString(b)
}
