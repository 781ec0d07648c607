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
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
	"github.com/tokenwarden/tokenwarden/internal/testsupport"
)

func TestMain(m *testing.M) {
	// run starts kube-apiserver and etcd through this executable: the test binary.
	launchIfAsked()
	code := m.Run()
	if builtDir != "" {
		_ = os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// TestDemoOnce runs `make demo DEMO_ARGS=--once`'s path, so the demo cannot rot: every
// connection becomes Ready and every expiring token is refreshed once, then it exits.
func TestDemoOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	var out testsupport.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	// A newcomer signs in through the link the demo prints (here a cookie-jar browser
	// at the fake's login page): the demo then waits for that connection too.
	signedIn := make(chan error, 1)
	go func() { signedIn <- signInThroughPrintedLink(ctx, &out) }()
	err := run(ctx, demoOptions{once: true, timeout: 4 * time.Minute, lifetime: 6 * time.Second,
		dir: dir, root: "../..", plugin: build(t, "./cmd/kubectl-tokenwarden"), awaitBrowser: true}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatalf("demo --once failed: %v", err)
	}
	if err := <-signedIn; err != nil {
		t.Fatalf("signing in through the demo's link: %v", err)
	}
	for _, want := range []string{
		"kubeconfig: ", "TokenIssued", "TokenRefreshed", "Every connection is Ready",
		"aurora-api", "aura-customer", "astonclub-merchant", "aurinko-user", "generic-service",
		"Connect a fake Aston Club account: open http://127.0.0.1:", "astonclub-browser        Ready=true",
		"(", // masked values show their length
		"kubectl tokenwarden status -n demo:", "NAME                 PROVIDER    READY   REASON",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "control-plane-*")); len(left) > 0 {
		t.Errorf("the demo left its control plane's files: %v", left)
	}
}

var printedLink = regexp.MustCompile(`Connect a fake Aston Club account: open (\S+) in a browser`)

// signInThroughPrintedLink waits for the demo to print the browser connection's link,
// opens it, logs in and approves at the fake, and opens the page the fake sends it back to.
func signInThroughPrintedLink(ctx context.Context, out *testsupport.Buffer) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var link string
	for link == "" {
		select {
		case <-ctx.Done():
			return errors.New("the demo printed no link")
		case <-tick.C:
		}
		if m := printedLink.FindStringSubmatch(out.String()); m != nil {
			link = m[1]
		}
	}
	b := providertest.NewBrowser()
	resp, err := b.Client().Get(link)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	back, err := b.Approve(ctx, resp.Header.Get("Location"))
	if err != nil {
		return err
	}
	resp, err = b.Client().Get(back.String())
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	page, _ := io.ReadAll(resp.Body)
	if !bytes.Contains(page, []byte("Account connected")) {
		return fmt.Errorf("the callback page says: %s", page)
	}
	return nil
}

// TestDemoStopsEverything stops the demo, its output piped into tee as in
// `make demo | tee demo.log`, in each way a user or a machine may, and checks that
// nothing it started still runs: not the manager's control plane (kube-apiserver, etcd,
// kube-controller-manager), nor any process whose command line names the demo's
// directory. The demo runs as built (not `make demo`, whose build would only add time).
func TestDemoStopsEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("starts control planes")
	}
	demo := build(t, "./hack/demo")
	signalsReachChildren(t)
	for _, tc := range []struct {
		name string
		// after is the output after which the demo is stopped.
		after string
		// stop stops it, given the pid of the shell that leads the process group, and the
		// demo's.
		stop func(shell, demo int) error
		// orderly: the demo stops what it started itself; else the kernel does.
		orderly bool
	}{
		{"Ctrl-C: SIGINT to the process group, whose tee then goes first", "To try next",
			func(shell, _ int) error { return syscall.Kill(-shell, syscall.SIGINT) }, true},
		{"SIGTERM to the process group", "Applied",
			func(shell, _ int) error { return syscall.Kill(-shell, syscall.SIGTERM) }, true},
		{"SIGHUP to the process group: its terminal closed", "Applied",
			func(shell, _ int) error { return syscall.Kill(-shell, syscall.SIGHUP) }, true},
		{"its parent killed", "Applied",
			func(shell, _ int) error { return syscall.Kill(shell, syscall.SIGKILL) }, true},
		{"the demo killed", "Applied",
			func(_, demo int) error { return syscall.Kill(demo, syscall.SIGKILL) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			p := startPiped(t, demo)
			g.Eventually(p.output, 3*time.Minute, 200*time.Millisecond).Should(ContainSubstring(tc.after))
			started := descendants(p.shell.Process.Pid)
			g.Expect(names(started)).To(ContainElements("demo", "tee", "kube-apiserver", "etcd", "kube-controller-manager"))
			g.Expect(tc.stop(p.shell.Process.Pid, p.demoPid(g, started))).To(Succeed())

			g.Eventually(p.done, 2*time.Minute).Should(BeClosed())
			g.Eventually(func() []string {
				var alive []string
				for _, pid := range started {
					if running(pid) {
						alive = append(alive, commandLine(pid))
					}
				}
				return append(alive, mentioning(p.dir)...)
			}, time.Minute, 200*time.Millisecond).Should(BeEmpty(), "processes the demo started still run")
			if !tc.orderly {
				return
			}
			g.Expect(filepath.Glob(filepath.Join(p.dir, "control-plane-*"))).To(BeEmpty(),
				"the demo did not stop in order: it left its control plane's files")
			g.Expect(os.ReadFile(filepath.Join(p.dir, "stderr"))).To(BeEmpty(), "the demo failed")
		})
	}
}

// piped is the demo run as `demo | tee out`, in a process group of its own as a
// terminal's shell would start it.
type piped struct {
	dir   string
	shell *exec.Cmd
	done  chan struct{}
}

func startPiped(t *testing.T, demo string) *piped {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	p := &piped{dir: t.TempDir(), done: make(chan struct{})}
	p.shell = exec.Command("sh", "-c", `"$DEMO" --dir "$DIR" --root "$ROOT" --plugin "$DIR/no-plugin" 2>"$DIR/stderr" | tee "$DIR/out" >/dev/null`)
	p.shell.Env = append(os.Environ(), "DEMO="+demo, "DIR="+p.dir, "ROOT="+root)
	p.shell.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.shell.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.shell.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		// A failed test still stops everything, and shows what the demo printed.
		_ = syscall.Kill(-p.shell.Process.Pid, syscall.SIGKILL)
		for _, pid := range descendants(p.shell.Process.Pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		for _, pid := range pidsMentioning(p.dir) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		<-p.done
		t.Log("the demo's output:\n" + p.output())
	})
	return p
}

func (p *piped) output() string {
	out, _ := os.ReadFile(filepath.Join(p.dir, "out"))
	return string(out)
}

// demoPid picks the demo out of the processes below the shell.
func (p *piped) demoPid(g Gomega, pids []int) int {
	i := slices.IndexFunc(pids, func(pid int) bool { return nameOf(pid) == "demo" })
	g.Expect(i).NotTo(Equal(-1), "no demo below the shell")
	return pids[i]
}

// signalsReachChildren makes sure the processes the test starts do not ignore SIGINT and
// SIGHUP, as they would if go test were started in the background by a script: a tee
// that ignores Ctrl-C would leave the demo's output open, and hide what the test is for.
func signalsReachChildren(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGHUP} {
		if signal.Ignored(sig) {
			// Asking for it replaces the ignoring with a handler, which exec resets.
			c := make(chan os.Signal, 1)
			signal.Notify(c, sig)
			t.Cleanup(func() { signal.Stop(c) })
		}
	}
}

// builtDir holds the binaries build made, once per test process.
var (
	builtDir string
	builtMu  sync.Mutex
)

// build builds the package at pkg (relative to the repository's root) once per test
// process, and returns the binary's path.
func build(t *testing.T, pkg string) string {
	t.Helper()
	builtMu.Lock()
	defer builtMu.Unlock()
	if builtDir == "" {
		dir, err := os.MkdirTemp("", "tokenwarden-demo-test-")
		if err != nil {
			t.Fatal(err)
		}
		builtDir = dir
	}
	bin := filepath.Join(builtDir, filepath.Base(pkg))
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	// Without the symbol table and DWARF, linking takes a fraction of the time.
	cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", bin, pkg)
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// commandLine reads a process's command line, its arguments joined by spaces.
func commandLine(pid int) string {
	raw, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return strings.TrimSpace(strings.ReplaceAll(string(raw), "\x00", " "))
}

// nameOf is the base name of a process's executable, as its command line gives it.
func nameOf(pid int) string {
	raw, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	argv0, _, _ := strings.Cut(string(raw), "\x00")
	return filepath.Base(argv0)
}

func names(pids []int) []string {
	out := make([]string, 0, len(pids))
	for _, pid := range pids {
		out = append(out, nameOf(pid))
	}
	return out
}

// pidsMentioning lists the live processes whose command line names dir.
func pidsMentioning(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && pid != os.Getpid() && running(pid) && strings.Contains(commandLine(pid), dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// mentioning lists the command lines of the live processes that name dir.
func mentioning(dir string) []string {
	pids := pidsMentioning(dir)
	out := make([]string, 0, len(pids))
	for _, pid := range pids {
		out = append(out, commandLine(pid))
	}
	return out
}
