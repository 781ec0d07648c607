/*
Copyright 2026 The tokenwarden Authors.

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
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
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
	corev1 "k8s.io/api/core/v1"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// readmeImage is the image the README's install commands name.
const readmeImage = "registry.example.com/tokenwarden:v0.1.0"

// notRunHere are the README's commands this test cannot run, and why.
var notRunHere = map[string]string{
	"make test": "it is the command that runs this test (CI runs it on every change)",
	"make docker-build docker-push IMG=" + readmeImage: "needs a Docker daemon, the distroless base image and a registry, " +
		"none of which this machine reaches; the test checks what make would run, and `make build` compiles the same binary",
}

// TestReadmeCommands runs every command of the README's sh blocks, and every command the
// demo suggests, as a user would: `make demo` in the background, then kubectl (built into
// bin/k8s by `make envtest`) against its control plane, the install commands into that
// control plane, the README's YAML through the API server, and Ctrl-C at the end, after
// which nothing the demo started may still run. The install commands run in a copy of
// the repository, so that the files they write cannot race other tests or dirty the tree.
func TestReadmeCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo's control plane")
	}
	g := NewWithT(t)
	root, err := filepath.Abs("../..")
	g.Expect(err).NotTo(HaveOccurred())
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	g.Expect(err).NotTo(HaveOccurred())
	commands, yamls := readmeBlocks(string(readme))
	g.Expect(commands).To(ContainElement("make demo"))
	g.Expect(yamls).NotTo(BeEmpty())

	kubectl := findTool(t, root, "kubectl")
	copyRoot := copyRepo(t, root)
	ran := map[string]bool{}

	// make demo, left running.
	demo := startDemo(t, root)
	ran["make demo"] = true
	g.Eventually(func() []string { _, cmds := tryNextBlock(demo.output()); return cmds }, 5*time.Minute, time.Second).
		Should(HaveLen(strings.Count(tryNext, "\n")), "the demo did not print what to try next (every connection Ready)")
	exports, suggested := tryNextBlock(demo.output())
	g.Expect(demo.output()).To(ContainSubstring("kubectl tokenwarden status -n demo:\n\nNAME "),
		"the demo did not print the plugin's status table")
	m := regexp.MustCompile(`export KUBECONFIG=(\S+)`).FindStringSubmatch(strings.Join(exports, "\n"))
	g.Expect(m).NotTo(BeNil(), "the demo printed no export KUBECONFIG line")
	sh := shell{t: t, env: append(os.Environ(),
		"KUBECONFIG="+m[1],
		"KUBECTL="+kubectl,
		"PATH="+strings.Join([]string{filepath.Dir(kubectl), filepath.Join(root, "bin"), os.Getenv("PATH")}, string(os.PathListSeparator)),
		"MAKEFLAGS=", "MAKELEVEL=",
	)}
	run := func(dir, cmd string) string {
		ran[cmd] = true
		return sh.run(dir, cmd)
	}

	// What the demo suggests, in its order, in a shell of the user's environment with only
	// what the demo says to export.
	user := shell{t: t, env: os.Environ()}
	prelude := strings.Join(exports, "\n") + "\n"
	for _, cmd := range suggested {
		var before []string
		if strings.HasPrefix(cmd, "kubectl tokenwarden") {
			before = secretValues(g, sh, root)
		}
		out := user.run(root, prelude+cmd)
		switch {
		case strings.HasPrefix(cmd, "kubectl tokenwarden"):
			checkPlugin(g, sh, root, cmd, out, before)
		case strings.HasPrefix(cmd, "kubectl get oauthconn"):
			for _, name := range []string{"aurora-api", "aura-customer", "astonclub-merchant", "aurinko-user", "generic-service"} {
				g.Expect(out).To(ContainSubstring(name))
			}
		case strings.HasPrefix(cmd, "kubectl annotate"):
			waitRefreshHandled(g, sh, root)
		case strings.HasPrefix(cmd, "kubectl delete secret aurora-api"):
			g.Eventually(func() error { _, err := sh.try(root, "kubectl get secret aurora-api"); return err },
				time.Minute, 200*time.Millisecond).Should(Succeed(), "the deleted Secret did not come back")
		default:
			t.Errorf("the demo suggests %q, which this test does not check", cmd)
		}
	}

	// The kubectl plugin, as its README section shows it: its commands exit 0 and never
	// print a Secret's value.
	run(root, "make plugin")
	for _, cmd := range commands {
		if strings.HasPrefix(cmd, "kubectl tokenwarden ") {
			before := secretValues(g, sh, root)
			checkPlugin(g, sh, root, cmd, run(root, cmd), before)
		}
	}

	// Browser onboarding: the demo's astonclub-browser offers its link.
	out := run(root, "kubectl get oauthconn astonclub-browser -n demo -o jsonpath='{.status.authorizationURL}'")
	g.Expect(strings.TrimSpace(out)).To(MatchRegexp(`^http://127\.0\.0\.1:\d+/connect/demo/astonclub-browser/[-_A-Za-z0-9]+$`))

	// Reading a connection's state.
	out = run(root, "kubectl get oauthconn -o wide")
	for _, col := range []string{"NAME", "PROVIDER", "READY", "EXPIRES", "NEXT REFRESH", "AGE", "REASON", "SECRET"} {
		g.Expect(out).To(ContainSubstring(col))
	}
	out = run(root, "kubectl describe oauthconn aurora-api")
	g.Expect(out).To(And(ContainSubstring("Conditions:"), ContainSubstring("Ready"), ContainSubstring("TokenIssued")))
	g.Expect(run(root, "kubectl wait --for=condition=Ready oauthconn/aurora-api --timeout=60s")).To(ContainSubstring("condition met"))
	run(root, `kubectl annotate oauthconnection aurora-api oauth.tokenwarden.io/refresh-requested-at="$(date -u +%FT%TZ)" --overwrite`)
	waitRefreshHandled(g, sh, root)

	// Installing: into the demo's control plane, from the copy.
	kustomization := filepath.Join(copyRoot, "config", "manager", "kustomization.yaml")
	before, err := os.ReadFile(kustomization)
	g.Expect(err).NotTo(HaveOccurred())
	run(copyRoot, "make deploy IMG="+readmeImage)
	g.Expect(sh.run(root, "kubectl -n tokenwarden-system get deployment tokenwarden-controller-manager -o jsonpath={..image}")).
		To(Equal(readmeImage))
	after, err := os.ReadFile(kustomization)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(after)).To(Equal(string(before)), "make deploy edited a tracked file")

	// The README's YAML, through the API server and the admission policy make deploy installed.
	for _, doc := range yamls {
		sh.runInput(root, "kubectl apply --dry-run=server -f -", doc)
	}

	run(copyRoot, "make build-installer IMG="+readmeImage)
	installer, err := os.ReadFile(filepath.Join(copyRoot, "dist", "install.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(installer)).To(ContainSubstring("image: " + readmeImage))
	run(copyRoot, "kubectl apply -f dist/install.yaml")

	out = sh.run(copyRoot, "make -n docker-build docker-push IMG="+readmeImage)
	g.Expect(out).To(And(ContainSubstring("docker build -t "+readmeImage+" ."), ContainSubstring("docker push "+readmeImage)))

	// Uninstalling: connections first (their Secrets go with them), then the operator.
	run(root, "kubectl delete oauthconnections --all --all-namespaces")
	g.Eventually(func() string {
		return sh.run(root, "kubectl get secrets -l app.kubernetes.io/managed-by=tokenwarden -o name")
	}, time.Minute, 200*time.Millisecond).Should(BeEmpty(), "the connections' Secrets were not deleted with them")
	sh.run(root, "kubectl get secret aurora-client") // the user's Secret stays
	run(copyRoot, "make undeploy")
	_, err = sh.try(root, "kubectl get namespace tokenwarden-system")
	g.Expect(err).To(HaveOccurred(), "the namespace is still there after make undeploy")
	_, err = sh.try(root, "kubectl get crd oauthconnections.oauth.tokenwarden.io")
	g.Expect(err).To(HaveOccurred(), "the CRD is still there after make undeploy")

	// Helm, after make undeploy: it cannot install over objects kustomize created.
	run(copyRoot, "helm install tokenwarden charts/tokenwarden --namespace tokenwarden-system --create-namespace "+
		"--set image.repository=registry.example.com/tokenwarden --set image.tag=v0.1.0")
	g.Expect(sh.run(root, "kubectl -n tokenwarden-system get deployment tokenwarden-controller-manager -o jsonpath={..image}")).
		To(Equal(readmeImage))
	run(copyRoot, "helm uninstall tokenwarden --namespace tokenwarden-system")
	_, err = sh.try(root, "kubectl -n tokenwarden-system get deployment tokenwarden-controller-manager")
	g.Expect(err).To(HaveOccurred(), "the Deployment is still there after helm uninstall")

	// Ctrl-C stops everything the demo started.
	demo.interrupt(g)

	for _, cmd := range commands {
		if reason, skip := notRunHere[cmd]; skip {
			t.Logf("not run: %s: %s", cmd, reason)
			continue
		}
		if !ran[cmd] {
			t.Errorf("the README's command %q is run by no test: add it to TestReadmeCommands", cmd)
		}
	}
	for cmd := range ran {
		if !slices.Contains(commands, cmd) {
			t.Errorf("TestReadmeCommands runs %q, which the README no longer shows", cmd)
		}
	}
}

// readmeBlocks returns the commands of the README's sh blocks (comments stripped) and of
// its console blocks (the lines after a "$ " prompt), and its YAML blocks.
func readmeBlocks(readme string) (commands, yamls []string) {
	for _, block := range regexp.MustCompile("(?s)```(sh|console|yaml)\n(.*?)```").FindAllStringSubmatch(readme, -1) {
		if block[1] == "yaml" {
			yamls = append(yamls, block[2])
			continue
		}
		for line := range strings.Lines(block[2]) {
			if block[1] == "console" {
				var prompt bool
				if line, prompt = strings.CutPrefix(line, "$ "); !prompt {
					continue // output
				}
			}
			if cmd := strings.TrimSpace(stripComment(line)); cmd != "" && !slices.Contains(commands, cmd) {
				commands = append(commands, cmd)
			}
		}
	}
	return commands, yamls
}

// tryNextBlock returns the export lines and the commands the demo printed to try next.
func tryNextBlock(output string) (exports, commands []string) {
	_, block, found := strings.Cut(output, "To try next")
	if !found {
		return nil, nil
	}
	_, block, _ = strings.Cut(block, "\n\n")
	for line := range strings.Lines(block) {
		if !strings.HasPrefix(line, "    ") || !strings.HasSuffix(line, "\n") {
			break // the block's end, or a line not yet whole
		}
		cmd := strings.TrimSpace(stripComment(line))
		if strings.HasPrefix(cmd, "export ") {
			exports = append(exports, cmd)
		} else {
			commands = append(commands, cmd)
		}
	}
	return exports, commands
}

// checkPlugin checks what a kubectl tokenwarden command printed (it exited 0: sh.run
// fails the test otherwise), and that no value of a Secret of the demo's namespace appears
// in it: of those read before it ran, or after (a token may be refreshed meanwhile).
func checkPlugin(g Gomega, sh shell, dir, cmd, out string, before []string) {
	switch {
	case strings.Contains(cmd, " status astonclub-browser"):
		g.Expect(out).To(And(ContainSubstring("astonclub-browser"), ContainSubstring("AuthorizationRequired")))
	case strings.Contains(cmd, " status"):
		for _, name := range []string{"aurora-api", "aura-customer", "astonclub-merchant", "aurinko-user", "generic-service"} {
			g.Expect(out).To(ContainSubstring(name))
		}
	case strings.Contains(cmd, " inspect "):
		g.Expect(out).To(And(ContainSubstring("Name:       aurora-api"), ContainSubstring("Secret Data (demo/aurora-api):")))
	case strings.Contains(cmd, " refresh "):
		g.Expect(out).To(ContainSubstring("oauthconnection/aurora-api refreshed: "))
	default:
		g.Expect(cmd).To(BeEmpty(), "a kubectl tokenwarden command this test does not check")
	}
	for _, value := range append(before, secretValues(g, sh, dir)...) {
		g.Expect(out).NotTo(ContainSubstring(value), "%s printed a Secret's value", cmd)
	}
}

// notSecret are the keys of the demo's Secrets whose values may be shown.
var notSecret = []string{
	oauthv1alpha1.KeyTokenType, oauthv1alpha1.KeyExpiry, oauthv1alpha1.KeyScope,
	oauthv1alpha1.KeyAccountID, oauthv1alpha1.KeyUserID, "client_id", "clientId", "redirect_uri",
}

// secretValues reads the values of every Secret of the demo's namespace, but for those
// of notSecret and those too short to tell apart from other text.
func secretValues(g Gomega, sh shell, dir string) []string {
	// Not sh.run, which would log them.
	raw, err := sh.try(dir, "kubectl get secrets -o json")
	g.Expect(err).NotTo(HaveOccurred())
	var list corev1.SecretList
	g.Expect(json.Unmarshal([]byte(raw), &list)).To(Succeed())
	var values []string
	for _, s := range list.Items {
		for k, v := range s.Data {
			if !slices.Contains(notSecret, k) && len(v) >= 8 {
				values = append(values, string(v))
			}
		}
	}
	g.Expect(values).NotTo(BeEmpty())
	return values
}

// stripComment drops a shell comment: a # after white space, outside quotes.
func stripComment(line string) string {
	quote := rune(0)
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i]
		}
	}
	return line
}

// waitRefreshHandled waits until aurora-api has acted on its refresh annotation.
func waitRefreshHandled(g Gomega, sh shell, dir string) {
	want := sh.run(dir, `kubectl get oauthconn aurora-api -o jsonpath='{.metadata.annotations.oauth\.tokenwarden\.io/refresh-requested-at}'`)
	g.Expect(want).NotTo(BeEmpty())
	g.Eventually(func() string {
		return sh.run(dir, "kubectl get oauthconn aurora-api -o jsonpath={.status.lastHandledRefreshRequest}")
	}, time.Minute, 200*time.Millisecond).Should(Equal(want))
}

// findTool returns a tool of the envtest set: from KUBEBUILDER_ASSETS, else bin/k8s.
func findTool(t *testing.T, root, name string) string {
	t.Helper()
	p, err := findBinary(name, os.Getenv("KUBEBUILDER_ASSETS"), filepath.Join(root, "bin", "k8s"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// copyRepo copies the repository's sources (not bin/, dist/ or .git) to a temporary
// directory, with bin/ holding links to the tools already built.
func copyRepo(t *testing.T, root string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "bin" || rel == "dist" || rel == ".git" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), raw, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dst, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(root, "bin"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "kustomize") || e.Name() == "k8s" || e.Name() == "helm" {
			target, err := filepath.EvalSymlinks(filepath.Join(root, "bin", e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(dst, "bin", e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dst
}

// shell runs commands as a user types them.
type shell struct {
	t   *testing.T
	env []string
}

func (s shell) try(dir, cmd string) (string, error) {
	return s.tryInput(dir, cmd, "")
}

func (s shell) tryInput(dir, cmd, input string) (string, error) {
	c := exec.Command("sh", "-c", cmd)
	c.Dir, c.Env, c.Stdin = dir, s.env, strings.NewReader(input)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	return strings.TrimSpace(out.String()), err
}

func (s shell) run(dir, cmd string) string {
	return s.runInput(dir, cmd, "")
}

func (s shell) runInput(dir, cmd, input string) string {
	s.t.Helper()
	out, err := s.tryInput(dir, cmd, input)
	s.t.Logf("$ %s\n%s", cmd, out)
	if err != nil {
		s.t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	return out
}

// runningDemo is `make demo` started as a user starts it, in its own process group as a
// terminal would.
type runningDemo struct {
	t    *testing.T
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func startDemo(t *testing.T, root string) *runningDemo {
	t.Helper()
	d := &runningDemo{t: t, done: make(chan error, 1)}
	d.cmd = exec.Command("make", "demo")
	d.cmd.Dir = root
	d.cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=")
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pipe, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stderr = d.cmd.Stdout
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			d.mu.Lock()
			d.out.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
		}
		d.done <- d.cmd.Wait()
	}()
	t.Cleanup(func() {
		// A failed test still stops the demo.
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGINT)
		t.Log("make demo's output:\n" + d.output())
	})
	return d
}

func (d *runningDemo) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

// interrupt sends Ctrl-C to the demo's process group and checks that every process it
// started has gone.
func (d *runningDemo) interrupt(g Gomega) {
	started := descendants(d.cmd.Process.Pid)
	// Below make: the demo, kube-apiserver, etcd and kube-controller-manager.
	g.Expect(len(started)).To(BeNumerically(">=", 4), "processes below make demo: %v", started)
	g.Expect(syscall.Kill(-d.cmd.Process.Pid, syscall.SIGINT)).To(Succeed())
	g.Eventually(d.done, 2*time.Minute).Should(Receive())
	g.Eventually(func() []int {
		var alive []int
		for _, pid := range started {
			if running(pid) {
				alive = append(alive, pid)
			}
		}
		return alive
	}, time.Minute, 200*time.Millisecond).Should(BeEmpty(), "processes the demo started still run after Ctrl-C")
	g.Expect(d.output()).To(ContainSubstring("Stopping the control plane"))
	g.Expect(d.output()).NotTo(Or(ContainSubstring("] Error"), ContainSubstring("demo: ")), "the demo failed on Ctrl-C")
}

// descendants lists the processes below pid, read from /proc.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(p); ok {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// parentOf reads a process's parent from /proc/<pid>/stat.
func parentOf(pid int) (int, bool) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(fields) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(fields[1])
	return ppid, err == nil
}

// running says whether pid is a live process (not gone, not a zombie).
func running(pid int) bool {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		return true
	}
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	return len(fields) == 0 || fields[0] != "Z"
}
