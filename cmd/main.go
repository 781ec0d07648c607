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

// Command manager runs the tokenwarden controller manager.
package main

import (
	"crypto/tls"
	"flag"
	"os"
	"time"

	// Import all Kubernetes client auth plugins (e.g. Azure, GCP, OIDC, etc.)
	// to ensure that exec-entrypoint and run can make use of them.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/tokenwarden/tokenwarden/internal/controller"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

var setupLog = ctrl.Log.WithName("setup")

func main() {
	var metricsAddr, probeAddr, pprofAddr string
	var enableLeaderElection, secureMetrics, enableHTTP2 bool
	var qps float64
	var burst, concurrency int
	var tokenTimeout time.Duration
	var tokenURLPolicy string
	var callback controller.CallbackOptions
	var connectionSelector string
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to. "+
		"Use :8443 for HTTPS or :8080 for HTTP, or leave as 0 to disable the metrics service.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0",
		"The address Go's pprof endpoints bind to (unauthenticated: loopback only), or 0 to disable them.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", false,
		"Enable leader election for controller manager. "+
			"Enabling this will ensure there is only one active controller manager.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true,
		"If set, the metrics endpoint is served securely via HTTPS. Use --metrics-secure=false to use HTTP instead.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false, "If set, HTTP/2 will be enabled for the metrics server.")
	flag.Float64Var(&qps, "kube-api-qps", -1, "Queries per second to the Kubernetes API server; "+
		"-1: no client-side limit, the API server's Priority and Fairness shares it out.")
	flag.IntVar(&burst, "kube-api-burst", 200,
		"Burst of queries to the Kubernetes API server, with a --kube-api-qps above 0.")
	flag.IntVar(&concurrency, "max-concurrent-reconciles", 16,
		"Connections reconciled (and token requests made) in parallel.")
	flag.DurationVar(&tokenTimeout, "token-request-timeout", provider.DefaultTimeout, "Timeout of one token request.")
	flag.StringVar(&tokenURLPolicy, "token-url-policy", "default",
		"Addresses token and issuer URLs may not reach: comma-separated CIDRs or addresses; "+
			"'default' stands for link-local and the cloud metadata addresses, 'none' blocks nothing.")
	flag.StringVar(&callback.BindAddress, "callback-bind-address", "0",
		"The address the callback server of browser onboarding binds to (e.g. :8082), or 0 to disable it.")
	flag.StringVar(&callback.URL, "callback-url", "",
		"The external base URL of the callback server as browsers reach it (e.g. https://connect.example.com); "+
			"links are {url}/connect/..., and spec.authorization.redirectURI is {url}/callback.")
	flag.StringVar(&connectionSelector, "connection-selector", "",
		"A label selector: serve only the connections it matches (one shard of several managers); empty: every connection.")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		// HTTP/2 stays off by default: the Stream Cancellation and Rapid Reset CVEs.
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsServerOptions := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: secureMetrics,
		TLSOpts:       tlsOpts,
	}
	if secureMetrics {
		metricsServerOptions.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	policy, err := provider.ParseAddressPolicy(tokenURLPolicy)
	if err != nil {
		setupLog.Error(err, "Invalid flag")
		os.Exit(1)
	}

	cfg := ctrl.GetConfigOrDie()
	cfg.QPS, cfg.Burst = float32(qps), burst
	mgr, err := controller.NewManager(cfg, controller.ManagerOptions{
		Manager: ctrl.Options{
			Metrics:                metricsServerOptions,
			HealthProbeBindAddress: probeAddr,
			PprofBindAddress:       pprofAddr,
			LeaderElection:         enableLeaderElection,
			LeaderElectionID:       "tokenwarden.oauth.tokenwarden.io",
		},
		Controller:          controller.Options{MaxConcurrentReconciles: concurrency},
		TokenRequestTimeout: tokenTimeout,
		AddressPolicy:       policy,
		Callback:            callback,
		ConnectionSelector:  connectionSelector,
	})
	if err != nil {
		setupLog.Error(err, "Failed to create the manager")
		os.Exit(1)
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to set up ready check")
		os.Exit(1)
	}

	setupLog.Info("Starting manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "Failed to run manager")
		os.Exit(1)
	}
}
