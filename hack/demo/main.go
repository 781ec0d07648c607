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
// manager, and one OAuthConnection per provider. It prints a line per event as it happens,
// and once every connection is Ready their Secrets (masked), `kubectl tokenwarden status`
// and what to try next; the manager's full log goes to a file. `--once` waits until every
// connection is Ready and has refreshed once, then exits 0 (non-zero with the reason after
// 5 minutes). However it is stopped, it stops everything it started.
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
	launchIfAsked()
	var opts demoOptions
	flag.BoolVar(&opts.once, "once", false, "Exit 0 once every connection is Ready and has refreshed once; non-zero after --timeout.")
	flag.DurationVar(&opts.timeout, "timeout", 5*time.Minute, "With --once: how long to wait.")
	flag.DurationVar(&opts.lifetime, "lifetime", 30*time.Second, "Lifetime of the tokens the fake providers issue.")
	flag.StringVar(&opts.dir, "dir", filepath.Join(os.TempDir(), "tokenwarden-demo"), "Where the kubeconfig and the manager log go.")
	flag.StringVar(&opts.root, "root", ".", "The repository root (config/ and bin/k8s are found from it).")
	flag.StringVar(&opts.plugin, "plugin", "", "The kubectl plugin, for its status table (default: bin/kubectl-tokenwarden under --root).")
	flag.Parse()

	stopWhenParentDies()
	// SIGHUP: the terminal was closed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	// In `make demo | tee demo.log`, Ctrl-C stops tee too, and the demo's next line goes to
	// a closed pipe. Unless SIGPIPE is asked for, Go then kills the demo on the spot, before
	// it has stopped kube-apiserver and etcd, which envtest starts in process groups of
	// their own where Ctrl-C does not reach them. Asked for, it only fails the write.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, outputGone := context.WithCancel(ctx)
	err := run(ctx, opts, &stopOnFailedWrite{w: os.Stdout, stop: outputGone})
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// stopOnFailedWrite stops the demo once its output cannot be written: no one reads it any
// more (`make demo | head`, say).
type stopOnFailedWrite struct {
	w    io.Writer
	stop func()
}

func (s *stopOnFailedWrite) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil {
		s.stop()
	}
	return n, err
}

// logTo sends controller-runtime's logs to w.
func logTo(w io.Writer) {
	ctrl.SetLogger(zap.New(zap.WriteTo(w), zap.UseDevMode(false)))
}
