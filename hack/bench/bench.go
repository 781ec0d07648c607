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

package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/controller"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// result is what one size measured.
type result struct {
	n                 int
	floor             time.Duration // from the start of creating the connections
	floorWork         time.Duration // the work alone, over connections created beforehand
	floorLimited      time.Duration // floor at the manager's client QPS and burst; 0: not measured
	created           time.Duration // the harness creating the operator's connections
	ready             time.Duration
	p50, p99          time.Duration
	tokenRequests     float64
	writesPerConn     float64
	requestsPerConn   float64
	peakRSS           uint64
	liveHeap          uint64 // heap in use right after a collection, once all are Ready
	cpu               time.Duration
	restart           time.Duration
	restartRequests   int
	restartRSS        uint64
	maxPerSecondShare float64
	unrelatedRSS      uint64        // restart RSS with the unrelated Secrets; 0: not measured
	api               apiServerLoad // the API server during the operator's run
}

type bench struct {
	o          benchOptions
	cfg        *rest.Config
	kubeconfig string
	dir        string
	fake       *providertest.Server
	harness    client.Client
	apiserver  rest.Interface // reads the API server's own /metrics
}

func run(ctx context.Context, o benchOptions) (string, error) {
	dir, err := os.MkdirTemp("", "tokenwarden-bench-")
	if err != nil {
		return "", err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(o.root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assetsDir(o.root),
	}
	cfg, err := env.Start()
	if err != nil {
		return "", fmt.Errorf("starting the control plane: %w", err)
	}
	defer func() { _ = env.Stop() }()
	user, err := env.AddUser(envtest.User{Name: "bench", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", err
	}
	raw, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, raw, 0o600); err != nil {
		return "", err
	}
	harnessCfg := rest.CopyConfig(cfg)
	harnessCfg.QPS, harnessCfg.Burst = 5000, 10000
	harness, err := client.New(harnessCfg, client.Options{Scheme: controller.Scheme})
	if err != nil {
		return "", err
	}
	fake := providertest.NewGeneric(providertest.Options{Lifetime: 4 * time.Hour},
		oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm)
	defer fake.Close()
	disc, err := discovery.NewDiscoveryClientForConfig(harnessCfg)
	if err != nil {
		return "", err
	}
	b := &bench{o: o, cfg: cfg, kubeconfig: kubeconfig, dir: dir, fake: fake, harness: harness,
		apiserver: disc.RESTClient()}

	var results []result
	for i, n := range o.sizes {
		r := result{n: n}
		if !o.skipFloor {
			fmt.Fprintf(os.Stderr, "bench: N=%d: floor...\n", n)
			if r.floor, r.floorWork, err = b.floor(ctx, n, -1, 0, true); err != nil {
				return b.report(results), err
			}
		}
		if o.qps > 0 {
			fmt.Fprintf(os.Stderr, "bench: N=%d: floor at client QPS %g...\n", n, o.qps)
			if r.floorLimited, _, err = b.floor(ctx, n, o.qps, o.burst, false); err != nil {
				return b.report(results), err
			}
		}
		fmt.Fprintf(os.Stderr, "bench: N=%d: operator...\n", n)
		if err := b.operator(ctx, &r, i == 0 && o.unrelated > 0); err != nil {
			return b.report(results), err
		}
		results = append(results, r)
	}
	report := b.report(results)
	if o.shards > 0 {
		fmt.Fprintf(os.Stderr, "bench: N=%d: two shards...\n", o.shards)
		sr, err := b.twoShards(ctx, o.shards)
		if err != nil {
			return report, err
		}
		report += sr.report()
	}
	return report, nil
}

func assetsDir(root string) string {
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		return d
	}
	return filepath.Join(root, "bin", "k8s")
}

// parallel runs f(0..n-1) on w workers and returns the first error.
func parallel(n, w int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, w)
	for range w {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (b *bench) namespace(ctx context.Context, name string) error {
	return client.IgnoreAlreadyExists(b.harness.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))
}

func (b *bench) connection(ns string, i int) *oauthv1alpha1.OAuthConnection {
	return &oauthv1alpha1.OAuthConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("conn-%05d", i)},
		Spec: oauthv1alpha1.OAuthConnectionSpec{
			Provider:        oauthv1alpha1.ProviderGeneric,
			TokenURL:        oauthv1alpha1.URL(b.fake.TokenURL()),
			ClientSecretRef: oauthv1alpha1.ClientSecretReference{Name: clientSecretName},
		},
	}
}

// floor is the minimum API work for n connections: one Secret create and one status
// patch each, by a bare client with as many workers as the manager has reconcilers. With
// qps < 0 the client has no client-side rate limit (the physical floor: what the API
// server and these cores allow); with qps > 0 it has the limit given. It is timed as the
// operator is: from the start of creating the connections (by the harness, 32 at a time,
// as for the operator) until the last is done, each connection handled as soon as it
// exists. workOnly times the same work over connections created beforehand.
func (b *bench) floor(ctx context.Context, n int, qps float64, burst int, workAlone bool) (total, workOnly time.Duration, err error) {
	cfg := rest.CopyConfig(b.cfg)
	cfg.QPS, cfg.Burst = float32(qps), burst
	tag := "bare"
	if qps > 0 {
		tag = "limited"
	}
	c, err := client.New(cfg, client.Options{Scheme: controller.Scheme})
	if err != nil {
		return 0, 0, err
	}
	work := func(conn *oauthv1alpha1.OAuthConnection) error {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: conn.Namespace, Name: conn.Name},
			StringData: map[string]string{"access_token": strings.Repeat("x", 40), "token_type": "Bearer", "expiry": time.Now().Format(time.RFC3339)},
		}
		if err := c.Create(ctx, s); err != nil {
			return err
		}
		base := conn.DeepCopy()
		conn.Status.SecretName = conn.Name
		meta.SetStatusCondition(&conn.Status.Conditions, metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "TokenIssued", Message: "floor"})
		return c.Status().Patch(ctx, conn, client.MergeFrom(base))
	}
	// cleanup deletes what the floor created, and waits until it is gone: a collection
	// delete of tens of thousands of objects outlasts the API server's request timeout and
	// leaves the rest, which the manager measured next would then serve (at 30,000, 10,457
	// of the floor's connections were still there and each was reconciled).
	cleanup := func(ns string) error {
		for deadline := time.Now().Add(15 * time.Minute); ; {
			_ = b.harness.DeleteAllOf(ctx, &oauthv1alpha1.OAuthConnection{}, client.InNamespace(ns))
			_ = b.harness.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace(ns))
			conns, secrets := &oauthv1alpha1.OAuthConnectionList{}, &corev1.SecretList{}
			errC := b.harness.List(ctx, conns, client.InNamespace(ns), client.Limit(1))
			errS := b.harness.List(ctx, secrets, client.InNamespace(ns), client.Limit(1))
			if errC == nil && errS == nil && len(conns.Items) == 0 && len(secrets.Items) == 0 {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the floor's objects in namespace %s were not deleted within 15 minutes", ns)
			}
			time.Sleep(time.Second)
		}
	}

	// Pipelined: created and handled together.
	ns := fmt.Sprintf("floor-%s-%d", tag, n)
	if err := b.namespace(ctx, ns); err != nil {
		return 0, 0, err
	}
	created := make(chan *oauthv1alpha1.OAuthConnection, n)
	start := time.Now()
	createErr := make(chan error, 1)
	go func() {
		createErr <- parallel(n, 32, func(i int) error {
			conn := b.connection(ns, i)
			if err := b.harness.Create(ctx, conn); err != nil {
				return err
			}
			created <- conn
			return nil
		})
		close(created)
	}()
	err = parallel(n, b.o.concurrency, func(int) error {
		conn, ok := <-created
		if !ok {
			return errors.New("a connection was not created")
		}
		return work(conn)
	})
	total = time.Since(start)
	err = errors.Join(err, <-createErr, cleanup(ns))
	if err != nil || !workAlone {
		return total, 0, err
	}

	// The work alone.
	ns = fmt.Sprintf("floor-%s-%d-work", tag, n)
	if err := b.namespace(ctx, ns); err != nil {
		return 0, 0, err
	}
	conns := make([]*oauthv1alpha1.OAuthConnection, n)
	if err := parallel(n, 32, func(i int) error {
		conns[i] = b.connection(ns, i)
		return b.harness.Create(ctx, conns[i])
	}); err != nil {
		return 0, 0, err
	}
	start = time.Now()
	err = parallel(n, b.o.concurrency, func(i int) error { return work(conns[i]) })
	workOnly = time.Since(start)
	return total, workOnly, errors.Join(err, cleanup(ns))
}

// saveHeapProfile writes the manager's heap profile to path, after a garbage collection:
// without one, the profile shows the heap as of the last collection, which during the
// burst of creations holds the garbage of the reconciles then in flight.
func (m *managerProcess) saveHeapProfile(path string) (string, error) {
	resp, err := http.Get(m.pprof + "/heap?gc=1")
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, raw, 0o644)
}

// managerProcess is a running bin/manager.
type managerProcess struct {
	cmd     *exec.Cmd
	metrics string
	pprof   string
	done    chan struct{}
}

func (b *bench) startManager(ctx context.Context, logName string, extraArgs ...string) (*managerProcess, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	pprofPort, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(b.dir, logName))
	if err != nil {
		return nil, err
	}
	args := []string{"--kubeconfig=" + b.kubeconfig,
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", port), "--metrics-secure=false",
		"--health-probe-bind-address=0", fmt.Sprintf("--pprof-bind-address=127.0.0.1:%d", pprofPort)}
	// Unset, the manager runs with its shipped defaults.
	if b.o.qps != 0 {
		args = append(args, fmt.Sprintf("--kube-api-qps=%g", b.o.qps))
	}
	if b.o.burst != 0 {
		args = append(args, fmt.Sprintf("--kube-api-burst=%d", b.o.burst))
	}
	if b.o.concurrency != 0 {
		args = append(args, fmt.Sprintf("--max-concurrent-reconciles=%d", b.o.concurrency))
	}
	args = append(args, extraArgs...)
	bin := b.o.manager
	if !filepath.IsAbs(bin) {
		bin = filepath.Join(b.o.root, bin)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = os.Environ()
	if b.o.gomemlimit != "" {
		cmd.Env = append(cmd.Env, "GOMEMLIMIT="+b.o.gomemlimit)
	}
	if b.o.gogc != "" {
		cmd.Env = append(cmd.Env, "GOGC="+b.o.gogc)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (run `make build` first): %w", b.o.manager, err)
	}
	m := &managerProcess{cmd: cmd, metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", port),
		pprof: fmt.Sprintf("http://127.0.0.1:%d/debug/pprof", pprofPort), done: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = logFile.Close(); close(m.done) }()
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := m.scrape(); err == nil {
			return m, nil
		}
		if time.Now().After(deadline) {
			m.stop()
			return nil, errors.New("the manager's metrics endpoint did not come up")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (m *managerProcess) stop() {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
}

// usage returns the process's peak RSS (VmHWM) and CPU time so far.
func (m *managerProcess) usage() (uint64, time.Duration) {
	pid := m.cmd.Process.Pid
	var rss uint64
	if f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				rss = kb * 1024
			}
		}
		_ = f.Close()
	}
	var cpu time.Duration
	if raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command name, which is in parentheses: utime and stime are the
		// 12th and 13th of them, in clock ticks (100 a second on Linux).
		fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
		if len(fields) > 13 {
			ut, _ := strconv.ParseUint(fields[11], 10, 64)
			st, _ := strconv.ParseUint(fields[12], 10, 64)
			cpu = time.Duration(ut+st) * 10 * time.Millisecond
		}
	}
	return rss, cpu
}

// scrape reads the manager's metrics as name{labels} → value.
func (m *managerProcess) scrape() (map[string]float64, error) {
	resp, err := http.Get(m.metrics) //nolint:gosec,noctx // loopback, the harness's own URL
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	return parseMetrics(resp.Body)
}

// parseMetrics reads Prometheus text as name{labels} → value.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// sum adds the samples of a metric whose labels contain every one of match.
func sum(metrics map[string]float64, name string, match ...string) float64 {
	var total float64
	for k, v := range metrics {
		if !strings.HasPrefix(k, name+"{") && k != name {
			continue
		}
		ok := true
		for _, m := range match {
			if !strings.Contains(k, m) {
				ok = false
				break
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

// caughtUp waits until the manager has reconciled every one of n connections once and
// its queue is empty.
//
// A scrape builds every per-connection series (about 8 s of CPU at 100,000 connections on 2
// cores, docs/scaling.md): the wait between scrapes is at least twice the last scrape, so
// that the bench's own scrapes take at most a third of the manager's time.
func (m *managerProcess) caughtUp(ctx context.Context, n int) error {
	for ctx.Err() == nil {
		start := time.Now()
		metrics, err := m.scrape()
		if err == nil &&
			sum(metrics, "controller_runtime_reconcile_total", `controller="oauthconnection"`) >= float64(n) &&
			sum(metrics, "workqueue_depth", `name="oauthconnection"`) == 0 {
			return nil
		}
		time.Sleep(max(100*time.Millisecond, 2*time.Since(start)))
	}
	return ctx.Err()
}

// apiWrites counts the manager's write requests.
func apiWrites(metrics map[string]float64) float64 {
	var writes float64
	for _, verb := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		writes += sum(metrics, "rest_client_requests_total", `method="`+verb+`"`)
	}
	return writes
}

// settled scrapes the manager until its count of write requests holds still for a second.
func (m *managerProcess) settled(ctx context.Context) (map[string]float64, error) {
	last := -1.0
	for ctx.Err() == nil {
		metrics, err := m.scrape()
		if err != nil {
			return nil, err
		}
		w := apiWrites(metrics)
		if w == last {
			return metrics, nil
		}
		last = w
		time.Sleep(time.Second)
	}
	return nil, ctx.Err()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// operator measures the manager over n connections: until all are Ready, then a restart,
// and (once) a restart with many unrelated Secrets in the cluster.
func (b *bench) operator(ctx context.Context, r *result, unrelated bool) error {
	n := r.n
	ns := fmt.Sprintf("bench-%d", n)
	if err := b.namespace(ctx, ns); err != nil {
		return err
	}
	if err := client.IgnoreAlreadyExists(b.harness.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: clientSecretName},
		StringData: map[string]string{"client_id": b.fake.ClientID(), "client_secret": b.fake.ClientSecret()},
	})); err != nil {
		return err
	}

	watcher, err := newReadyWatcher(ctx, b.cfg, ns)
	if err != nil {
		return err
	}
	defer watcher.stop()

	m, err := b.startManager(ctx, fmt.Sprintf("manager-%d.log", n))
	if err != nil {
		return err
	}
	defer m.stop()
	before := b.fake.Requests(provider.GrantClientCredentials)
	apiBefore, err := b.apiServerMetrics(ctx)
	if err != nil {
		return err
	}
	created := make([]time.Time, n)
	start := time.Now()
	if err := parallel(n, 32, func(i int) error {
		err := b.harness.Create(ctx, b.connection(ns, i))
		created[i] = time.Now()
		return err
	}); err != nil {
		return err
	}
	r.created = time.Since(start)
	readyAt, err := watcher.waitAll(ctx, n, readyTimeout(n))
	if err != nil {
		return err
	}
	var last time.Time
	latencies := make([]time.Duration, 0, n)
	for i := range n {
		at := readyAt[fmt.Sprintf("conn-%05d", i)]
		latencies = append(latencies, at.Sub(created[i]))
		if at.After(last) {
			last = at
		}
	}
	slices.Sort(latencies)
	r.ready = last.Sub(start)
	apiAfter, err := b.apiServerMetrics(ctx)
	if err != nil {
		return err
	}
	r.api = apiServerLoadBetween(apiBefore, apiAfter)
	r.p50, r.p99 = latencies[n/2], latencies[min(n-1, int(math.Ceil(float64(n)*0.99))-1)]
	r.tokenRequests = float64(b.fake.Requests(provider.GrantClientCredentials)-before) / float64(n)
	// Let the reconciles that the manager's own writes trigger finish before counting.
	if err := m.caughtUp(ctx, n); err != nil {
		return err
	}
	// Events are written after the reconciles that record them: count once the writes stop.
	metrics, err := m.settled(ctx)
	if err != nil {
		return err
	}
	writes := apiWrites(metrics)
	r.writesPerConn = writes / float64(n)
	r.requestsPerConn = sum(metrics, "rest_client_requests_total") / float64(n)
	r.peakRSS, r.cpu = m.usage()
	if path, err := m.saveHeapProfile(filepath.Join(b.dir, fmt.Sprintf("heap-%d.pprof", n))); err == nil {
		fmt.Fprintf(os.Stderr, "bench: N=%d: heap profile in %s (go tool pprof -sample_index=inuse_space -top %s)\n", n, path, path)
		// Right after the collection the profile forced, the heap holds what is live.
		if after, err := m.scrape(); err == nil {
			r.liveHeap = uint64(after["go_memstats_heap_alloc_bytes"])
		}
	}
	r.maxPerSecondShare = watcher.maxRefreshShare()

	fmt.Fprintf(os.Stderr, "bench: N=%d: restart...\n", n)
	m.stop()
	before = b.fake.TotalRequests()
	restartStart := time.Now()
	m2, err := b.startManager(ctx, fmt.Sprintf("manager-%d-restart.log", n))
	if err != nil {
		return err
	}
	defer m2.stop()
	if err := m2.caughtUp(ctx, n); err != nil {
		return err
	}
	r.restart = time.Since(restartStart)
	r.restartRequests = b.fake.TotalRequests() - before
	r.restartRSS, _ = m2.usage()
	m2.stop()

	if unrelated {
		fmt.Fprintf(os.Stderr, "bench: N=%d: %d unrelated Secrets...\n", n, b.o.unrelated)
		if err := b.createUnrelated(ctx); err != nil {
			return err
		}
		m3, err := b.startManager(ctx, fmt.Sprintf("manager-%d-unrelated.log", n))
		if err != nil {
			return err
		}
		defer m3.stop()
		if err := m3.caughtUp(ctx, n); err != nil {
			return err
		}
		r.unrelatedRSS, _ = m3.usage()
		m3.stop()
	}
	return nil
}

// createUnrelated fills the cluster with Secrets the operator has nothing to do with.
func (b *bench) createUnrelated(ctx context.Context) error {
	ns := "unrelated"
	if err := b.namespace(ctx, ns); err != nil {
		return err
	}
	payload := []byte(strings.Repeat("u", 10<<10))
	return parallel(b.o.unrelated, 32, func(i int) error {
		return client.IgnoreAlreadyExists(b.harness.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("unrelated-%05d", i)},
			Data:       map[string][]byte{"payload": payload},
		}))
	})
}

// readyWatcher records, from outside the manager, when each connection first became Ready.
type readyWatcher struct {
	cancel  context.CancelFunc
	mu      sync.Mutex
	readyAt map[string]time.Time
	next    map[string]time.Time
}

func newReadyWatcher(ctx context.Context, cfg *rest.Config, ns string) (*readyWatcher, error) {
	c, err := cache.New(cfg, cache.Options{Scheme: controller.Scheme, DefaultNamespaces: map[string]cache.Config{ns: {}}})
	if err != nil {
		return nil, err
	}
	inf, err := c.GetInformer(ctx, &oauthv1alpha1.OAuthConnection{})
	if err != nil {
		return nil, err
	}
	w := &readyWatcher{readyAt: map[string]time.Time{}, next: map[string]time.Time{}}
	observe := func(obj any) {
		conn, ok := obj.(*oauthv1alpha1.OAuthConnection)
		if !ok || !meta.IsStatusConditionTrue(conn.Status.Conditions, oauthv1alpha1.ConditionReady) {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if _, seen := w.readyAt[conn.Name]; !seen {
			w.readyAt[conn.Name] = time.Now()
		}
		if conn.Status.NextRefreshTime != nil {
			w.next[conn.Name] = conn.Status.NextRefreshTime.Time
		}
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    observe,
		UpdateFunc: func(_, obj any) { observe(obj) },
	}); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	w.cancel = cancel
	go func() { _ = c.Start(cctx) }()
	if !c.WaitForCacheSync(cctx) {
		cancel()
		return nil, errors.New("the harness cache did not sync")
	}
	return w, nil
}

func (w *readyWatcher) stop() { w.cancel() }

func (w *readyWatcher) waitAll(ctx context.Context, n int, timeout time.Duration) (map[string]time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		w.mu.Lock()
		done := len(w.readyAt) >= n
		count := len(w.readyAt)
		w.mu.Unlock()
		if done {
			break
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d connections became Ready", count, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.readyAt), nil
}

// maxRefreshShare is the largest share of the connections due for refresh in one second.
func (w *readyWatcher) maxRefreshShare() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	perSecond := map[int64]int{}
	most := 0
	for _, t := range w.next {
		perSecond[t.Unix()]++
		most = max(most, perSecond[t.Unix()])
	}
	if len(w.next) == 0 {
		return 0
	}
	return float64(most) / float64(len(w.next))
}

func mib(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func (b *bench) report(results []result) string {
	var s strings.Builder
	host, _ := os.Hostname()
	setting := func(v string, set bool) string {
		if set {
			return v
		}
		return "the manager's default"
	}
	fmt.Fprintf(&s, "Measured %s on %s: %d CPUs, %s/%s, %s; client QPS %s, burst %s, %d concurrent reconciles, GOMEMLIMIT %s, GOGC %s.\n\n",
		time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(),
		setting(fmt.Sprint(b.o.qps), b.o.qps != 0), setting(fmt.Sprint(b.o.burst), b.o.burst != 0), b.o.concurrency,
		cmp.Or(b.o.gomemlimit, "unset"), cmp.Or(b.o.gogc, "unset"))
	s.WriteString("The floor is a bare client without a client-side rate limit. \"÷ created + work\" is all Ready over the time " +
		"the API server took to create the connections plus the floor's work alone; \"÷ floor\" is all Ready over the floor " +
		"timed from the first create, as the operator is.\n\n")
	s.WriteString("| N | connections created in | floor | floor, work only | all Ready | ÷ created + work | ÷ floor | p50 | p99 | token requests / conn | API writes / conn | API requests / conn | peak RSS | live heap | live heap / conn | growth / conn | CPU | restart caught up | token requests on restart | RSS after restart | most refreshes due in one second |\n")
	s.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for i, r := range results {
		growth := "–"
		if i > 0 && r.n > results[i-1].n {
			growth = fmt.Sprintf("%.0f B", (float64(r.liveHeap)-float64(results[i-1].liveHeap))/float64(r.n-results[i-1].n))
		}
		floor, floorWork, overWork, overFloor := "–", "–", "–", "–"
		if r.floor > 0 {
			floor, floorWork = r.floor.Round(time.Millisecond).String(), r.floorWork.Round(time.Millisecond).String()
			overWork = fmt.Sprintf("%.2fx", r.ready.Seconds()/(r.created+r.floorWork).Seconds())
			overFloor = fmt.Sprintf("%.2fx", r.ready.Seconds()/r.floor.Seconds())
		}
		fmt.Fprintf(&s, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %.2f | %.2f | %.2f | %s | %s | %.0f B | %s | %s | %s | %d | %s | %.2f%% |\n",
			r.n, r.created.Round(time.Millisecond), floor, floorWork,
			r.ready.Round(time.Millisecond), overWork, overFloor,
			r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond), r.tokenRequests, r.writesPerConn, r.requestsPerConn,
			mib(r.peakRSS), mib(r.liveHeap), float64(r.liveHeap)/float64(r.n), growth,
			r.cpu.Round(time.Millisecond), r.restart.Round(time.Millisecond), r.restartRequests,
			mib(r.restartRSS), 100*r.maxPerSecondShare)
	}
	s.WriteString("\nThe API server from the first create until all were Ready (its own metrics; every client, the harness's creates included):\n\n")
	s.WriteString("| N | requests | p99 latency (bucket bound; WATCH and CONNECT left out) | mean latency | answered 429 | rejected by APF |\n")
	s.WriteString("|---|---|---|---|---|---|\n")
	for _, r := range results {
		p99 := "≤ " + r.api.p99.String()
		if r.api.p99 < 0 {
			p99 = "beyond the largest bucket"
		}
		apf := fmt.Sprintf("%.0f", r.api.apfRejected)
		if !r.api.apfPresent {
			apf = "no APF metrics"
		}
		fmt.Fprintf(&s, "| %d | %.0f | %s | %s | %.0f | %s |\n", r.n, r.api.requests, p99,
			r.api.mean.Round(100*time.Microsecond), r.api.throttled, apf)
	}
	for _, r := range results {
		if r.floorLimited > 0 {
			fmt.Fprintf(&s, "\nN=%d: the floor at the manager's client QPS %g and burst %d (the bench's floor before): %s; all Ready ÷ that: %.2fx.\n",
				r.n, b.o.qps, b.o.burst, r.floorLimited.Round(time.Millisecond), r.ready.Seconds()/r.floorLimited.Seconds())
		}
	}
	for _, r := range results {
		if r.unrelatedRSS > 0 {
			fmt.Fprintf(&s, "\nWith %d unrelated 10 KiB Secrets in the cluster, the manager over N=%d after a restart: %s peak RSS, against %s without them (%+.1f MiB).\n",
				b.o.unrelated, r.n, mib(r.unrelatedRSS), mib(r.restartRSS), (float64(r.unrelatedRSS)-float64(r.restartRSS))/(1<<20))
		}
	}
	return s.String()
}

// readyTimeout is how long n connections may take to become Ready: an hour, and more for
// 100,000 on a small machine.
func readyTimeout(n int) time.Duration { return time.Hour + time.Duration(n)*30*time.Millisecond }

// clientSecretName is the Secret with the fake's client credentials, one per namespace.
const clientSecretName = "client"
