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

// Command demo shows tokenwarden working end to end on one machine with only Go: a local
// control plane (kube-apiserver and etcd on loopback), the strict fake providers, the
// manager, and one OAuthConnection per provider. It prints a line per event as it happens;
// the manager's full log goes to a file. `--once` waits until every connection is Ready
// and has refreshed once, then exits 0 (non-zero with the reason after 5 minutes).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

func main() {
	var opts demoOptions
	flag.BoolVar(&opts.once, "once", false, "Exit 0 once every connection is Ready and has refreshed once; non-zero after --timeout.")
	flag.DurationVar(&opts.timeout, "timeout", 5*time.Minute, "With --once: how long to wait.")
	flag.DurationVar(&opts.lifetime, "lifetime", 30*time.Second, "Lifetime of the tokens the fake providers issue.")
	flag.StringVar(&opts.dir, "dir", filepath.Join(os.TempDir(), "tokenwarden-demo"), "Where the kubeconfig and the manager log go.")
	flag.StringVar(&opts.root, "root", ".", "The repository root (config/ and bin/k8s are found from it).")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, opts, os.Stdout)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// logTo sends controller-runtime's logs to w.
func logTo(w io.Writer) {
	ctrl.SetLogger(zap.New(zap.WriteTo(w), zap.UseDevMode(false)))
}
