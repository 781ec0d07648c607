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

// Command bench measures the manager at scale against a local control plane and one fake
// token server, side by side with the floor: a bare client, without a client-side rate
// limit, doing the minimum API work for the same connections. `make bench` runs it; see
// docs/benchmarks.md for the results and how to read them.
//
// The manager runs as its own process (bin/manager, built from cmd/), so that its peak RSS
// and CPU time are its own; the harness watches the connections from outside.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

type benchOptions struct {
	sizes       []int
	qps         float64
	burst       int
	concurrency int
	unrelated   int
	manager     string
	root        string
	out         string
	gomemlimit  string
	shards      int
	skipFloor   bool
	gogc        string
}

func main() {
	var o benchOptions
	var sizes string
	flag.StringVar(&sizes, "n", "1000,10000", "Comma-separated numbers of connections to measure.")
	flag.Float64Var(&o.qps, "qps", 0, "--kube-api-qps of the manager; above 0, the floor is also measured at that client QPS "+
		"(0: the manager's shipped default).")
	flag.IntVar(&o.burst, "burst", 0, "--kube-api-burst of the manager, and of the rate-limited floor (0: the shipped default).")
	flag.IntVar(&o.concurrency, "concurrency", 16, "Concurrent reconciles of the manager, and workers of the floor.")
	flag.IntVar(&o.unrelated, "unrelated", 20000, "Unrelated 10 KiB Secrets for the memory comparison (0: skip).")
	flag.StringVar(&o.manager, "manager", filepath.Join("bin", "manager"), "The manager binary.")
	flag.StringVar(&o.root, "root", ".", "The repository root.")
	flag.StringVar(&o.out, "out", "", "Also write the results (Markdown) to this file.")
	flag.StringVar(&o.gomemlimit, "gomemlimit", "", "GOMEMLIMIT of the manager (as the Deployment sets it from its memory limit), e.g. 128MiB; empty: unset.")
	flag.IntVar(&o.shards, "shards", 0, "Also run two managers with disjoint --connection-selector over this many connections, "+
		"and move a tenth of one shard's to the other (0: skip).")
	flag.StringVar(&o.gogc, "gogc", "", "GOGC of the manager, e.g. 50; empty: unset (100).")
	flag.BoolVar(&o.skipFloor, "skip-floor", false, "Do not measure the floor (its columns and ratios show –): for measuring memory alone.")
	flag.Parse()
	for s := range strings.SplitSeq(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "bench: bad -n:", s)
			os.Exit(2)
		}
		o.sizes = append(o.sizes, n)
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(false)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	report, err := run(ctx, o)
	fmt.Println(report)
	if o.out != "" {
		if werr := os.WriteFile(o.out, []byte(report), 0o644); werr != nil {
			fmt.Fprintln(os.Stderr, "bench:", werr)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "bench: done in %s\n", time.Since(start).Round(time.Second))
}
