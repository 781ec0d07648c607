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
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/controller"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

type demoOptions struct {
	once     bool
	timeout  time.Duration
	lifetime time.Duration
	dir      string
	root     string
	// plugin is kubectl-tokenwarden; the demo runs it for its status table.
	plugin string
	// awaitBrowser makes once wait for the connection signed in through the browser too
	// (tests, which sign in themselves).
	awaitBrowser bool
}

// browserConnection is the sample connected through the browser: it waits for a person,
// so the demo prints its link and does not wait for it (unless awaitBrowser).
const browserConnection = "astonclub-browser"

const namespace = "demo"

// run starts everything, applies the connections and reports until ctx ends (or, with
// once, until every connection has refreshed). Everything it started is stopped on return.
func run(ctx context.Context, o demoOptions, out io.Writer) (err error) {
	say := func(format string, args ...any) {
		_, _ = fmt.Fprintf(out, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return err
	}
	logPath := filepath.Join(o.dir, "manager.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }()
	logTo(logFile)

	say("Starting a local control plane (kube-apiserver, etcd and kube-controller-manager on loopback)...")
	cp, err := startControlPlane(o)
	if err != nil {
		return err
	}
	defer func() {
		say("Stopping the control plane...")
		err = errors.Join(err, cp.stop())
	}()
	c, err := client.New(cp.cfg, client.Options{Scheme: controller.Scheme})
	if err != nil {
		return err
	}

	// The callback server of browser onboarding, on loopback: the fakes' login pages and it
	// are reached from a browser on this machine.
	callback, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	callbackURL := "http://" + callback.Addr().String()

	say("Starting the fake providers (tokens live %s)...", o.lifetime)
	fakes := startFakes(o.lifetime, callbackURL+"/callback")
	defer fakes.close()

	say("Starting the manager; its log goes to %s", logPath)
	mgr, err := controller.NewManager(cp.cfg, controller.ManagerOptions{
		Manager:             ctrl.Options{Metrics: metricsserver.Options{BindAddress: "0"}},
		Controller:          controller.Options{MaxConcurrentReconciles: 4},
		TokenRequestTimeout: 10 * time.Second,
		Callback:            controller.CallbackOptions{Listener: callback, URL: callbackURL},
	})
	if err != nil {
		return err
	}
	mctx, mcancel := context.WithCancel(ctx)
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mctx) }()
	defer func() {
		mcancel()
		err = errors.Join(err, <-mgrDone)
	}()

	if err := applyConnections(ctx, c, o.root, fakes, callbackURL+"/callback"); err != nil {
		return err
	}
	say("Applied one OAuthConnection per provider in namespace %q, and %s, which waits for someone to sign in "+
		"through the browser (kubeconfig: %s)", namespace, browserConnection, cp.kubeconfig)

	return report(ctx, c, o, say, func(ctx context.Context) error {
		say("Every connection is Ready. Their Secrets, values masked:")
		if err := printSecrets(ctx, c, out); err != nil {
			return err
		}
		if err := printStatus(ctx, o, cp.kubeconfig, out, say); err != nil {
			return err
		}
		if !o.once {
			say("To try next, in another terminal (Ctrl-C here stops everything):")
			printTryNext(out, cp.kubeconfig, o.pluginPath(), cp.kubectl)
		}
		return nil
	})
}

// pluginPath is --plugin, else what `make plugin` builds.
func (o demoOptions) pluginPath() string {
	if o.plugin != "" {
		return o.plugin
	}
	return filepath.Join(o.root, "bin", "kubectl-tokenwarden")
}

// tryNext is what the demo suggests to try while it runs, once the kubeconfig and PATH
// it prints are exported; the README test runs each line against the demo.
const tryNext = `kubectl tokenwarden status -A
kubectl tokenwarden inspect aurora-api -n demo
kubectl tokenwarden refresh aurora-api -n demo --wait
kubectl get oauthconn
kubectl annotate oauthconn aurora-api oauth.tokenwarden.io/refresh-requested-at="$(date -u +%FT%TZ)" --overwrite
kubectl delete secret aurora-api   # and watch it come back: kubectl get secret aurora-api
`

// printTryNext prints tryNext with the exports a user needs: the demo's kubeconfig, and
// the plugin and kubectl on PATH.
func printTryNext(out io.Writer, kubeconfig, plugin, kubectl string) {
	var dirs []string
	for _, bin := range []string{plugin, kubectl} {
		if _, err := os.Stat(bin); bin == "" || err != nil {
			continue
		}
		if abs, err := filepath.Abs(filepath.Dir(bin)); err == nil && !slices.Contains(dirs, abs) {
			dirs = append(dirs, abs)
		}
	}
	_, _ = fmt.Fprintf(out, "\n    export KUBECONFIG=%s\n", kubeconfig)
	if len(dirs) > 0 {
		_, _ = fmt.Fprintf(out, "    export PATH=\"%s:$PATH\"\n", strings.Join(dirs, ":"))
	}
	for line := range strings.Lines(tryNext) {
		_, _ = fmt.Fprint(out, "    "+line)
	}
	_, _ = fmt.Fprintln(out)
}

// controlPlane is the demo's kube-apiserver, etcd and kube-controller-manager.
type controlPlane struct {
	env        *envtest.Environment
	cfg        *rest.Config
	kubeconfig string
	// kubectl is the envtest set's kubectl, if it has one.
	kubectl string
	// dir holds etcd's data, the API server's certificates and the links of
	// controlPlaneBinaries, all removed on stop.
	dir     string
	stopKCM func()
}

// startControlPlane starts the control plane with its files under o.dir, and writes a
// kubeconfig for it there. Every process it starts dies with the demo.
func startControlPlane(o demoOptions) (_ *controlPlane, err error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(o.root, "bin", "k8s")
	}
	kcm, err := findBinary("kube-controller-manager", assets, filepath.Join(o.root, "bin", "k8s"))
	if err != nil {
		return nil, err
	}
	cp := &controlPlane{stopKCM: func() {}}
	cp.kubectl, _ = findBinary("kubectl", assets, filepath.Join(o.root, "bin", "k8s"))
	if cp.dir, err = os.MkdirTemp(o.dir, "control-plane-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, cp.stop())
		}
	}()
	bin := filepath.Join(cp.dir, "bin")
	if err := os.Mkdir(bin, 0o700); err != nil {
		return nil, err
	}
	apiServer, etcd, err := controlPlaneBinaries(bin, assets)
	if err != nil {
		return nil, err
	}
	cp.env = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(o.root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{Path: apiServer, CertDir: filepath.Join(cp.dir, "apiserver")},
			Etcd:      &envtest.Etcd{Path: etcd, DataDir: filepath.Join(cp.dir, "etcd")},
		},
	}
	for _, d := range []string{cp.env.ControlPlane.APIServer.CertDir, cp.env.ControlPlane.Etcd.DataDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, err
		}
	}
	if cp.cfg, err = cp.env.Start(); err != nil {
		return nil, fmt.Errorf("starting the control plane (run `make envtest` first): %w", err)
	}
	if cp.kubeconfig, err = writeKubeconfig(cp.env, o.dir); err != nil {
		return nil, err
	}
	stopKCM, err := startControllerManager(kcm, cp.kubeconfig, filepath.Join(o.dir, "kube-controller-manager.log"))
	if err != nil {
		return nil, err
	}
	cp.stopKCM = stopKCM
	return cp, nil
}

// stop stops what start started, and removes its files.
func (cp *controlPlane) stop() error {
	cp.stopKCM()
	var err error
	if cp.env != nil {
		err = cp.env.Stop()
	}
	return errors.Join(err, os.RemoveAll(cp.dir))
}

// printStatus prints what `kubectl tokenwarden status -n demo` says, with the plugin that
// `make plugin` built. A failure of the plugin fails --once, and only says so otherwise.
func printStatus(ctx context.Context, o demoOptions, kubeconfig string, out io.Writer, say func(string, ...any)) error {
	plugin := o.pluginPath()
	if _, err := os.Stat(plugin); err != nil {
		say("No kubectl plugin at %s to show its status table: `make plugin` builds it", plugin)
		return nil
	}
	say("kubectl tokenwarden status -n %s:", namespace)
	cmd := exec.CommandContext(ctx, plugin, "status", "-n", namespace, "--kubeconfig", kubeconfig)
	var table bytes.Buffer
	cmd.Stdout, cmd.Stderr = &table, &table
	dieWithDemo(cmd)
	err := cmd.Run()
	_, _ = fmt.Fprintf(out, "\n%s\n", table.String())
	switch {
	case err == nil || ctx.Err() != nil:
		return nil
	case o.once:
		return fmt.Errorf("kubectl tokenwarden status: %w", err)
	}
	say("%-8s kubectl tokenwarden status: %v", "Error", err)
	return nil
}

// writeKubeconfig writes an admin kubeconfig for the local control plane, whose context's
// namespace is the demo's.
func writeKubeconfig(env *envtest.Environment, dir string) (string, error) {
	user, err := env.AddUser(envtest.User{Name: "demo-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", err
	}
	raw, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	cfg, err := clientcmd.Load(raw)
	if err != nil {
		return "", err
	}
	for _, c := range cfg.Contexts {
		c.Namespace = namespace
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, clientcmd.WriteToFile(*cfg, path)
}

// findBinary returns name's path in the first of dirs that has it.
func findBinary(name string, dirs ...string) (string, error) {
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("no %s in %s: run `make envtest`", name, strings.Join(dirs, " or "))
}

// startControllerManager runs kube-controller-manager's garbage collector and namespace
// controller, so that deleting a connection deletes its Secrets and a namespace can be
// deleted, as on a real cluster. The returned func stops it and waits for it.
func startControllerManager(bin, kubeconfig, logPath string) (func(), error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--kubeconfig="+kubeconfig, "--leader-elect=false", "--secure-port=0",
		"--controllers=garbage-collector-controller,namespace-controller")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	dieWithDemo(cmd)
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, err
	}
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		_ = logFile.Close()
	}, nil
}

// demoFakes are the five fake providers.
type demoFakes struct {
	aurora, aura, astonClub, aurinko, generic *providertest.Server
}

func startFakes(lifetime time.Duration, redirectURI string) *demoFakes {
	o := providertest.Options{Lifetime: lifetime, RedirectURI: redirectURI}
	return &demoFakes{
		aurora:    providertest.NewAurora(o),
		aura:      providertest.NewAura(o),
		astonClub: providertest.NewAstonClub(o),
		aurinko:   providertest.NewAurinko(o),
		generic:   providertest.NewGeneric(o, oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm),
	}
}

func (f *demoFakes) close() {
	for _, s := range []*providertest.Server{f.aurora, f.aura, f.astonClub, f.aurinko, f.generic} {
		s.Close()
	}
}

// applyConnections creates the namespace, each provider's client and grant Secrets, and
// the samples of config/samples pointed at the fakes.
func applyConnections(ctx context.Context, c client.Client, root string, f *demoFakes, redirectURI string) error {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return err
	}
	type wiring struct {
		fake   *providertest.Server
		grant  map[string]string
		idKey  string
		secKey string
		point  func(spec map[string]any)
	}
	tokenURL := func(s *providertest.Server) func(map[string]any) {
		return func(spec map[string]any) { delete(spec, "issuerURL"); spec["tokenURL"] = s.TokenURL() }
	}
	issuer := func(s *providertest.Server) func(map[string]any) {
		return func(spec map[string]any) { delete(spec, "tokenURL"); spec["issuerURL"] = s.IssuerURL() }
	}
	browser := func(s *providertest.Server) func(map[string]any) {
		return func(spec map[string]any) {
			tokenURL(s)(spec)
			spec["authorization"].(map[string]any)["redirectURI"] = redirectURI
		}
	}
	wirings := map[string]wiring{
		"astonclub_browser": {fake: f.astonClub, point: browser(f.astonClub)},
		"aurora":            {fake: f.aurora, point: issuer(f.aurora)},
		"aura":              {fake: f.aura, grant: map[string]string{"code": f.aura.IssueCode(), "redirect_uri": f.aura.RedirectURI()}, point: tokenURL(f.aura)},
		"astonclub":         {fake: f.astonClub, grant: map[string]string{"refresh_token": f.astonClub.IssueRefreshToken()}, point: tokenURL(f.astonClub)},
		"aurinko":           {fake: f.aurinko, grant: map[string]string{"code": f.aurinko.IssueCode()}, idKey: "clientId", secKey: "secret", point: tokenURL(f.aurinko)},
		"generic":           {fake: f.generic, point: issuer(f.generic)},
	}
	for _, name := range slices.Sorted(maps.Keys(wirings)) {
		w := wirings[name]
		obj, err := readSample(filepath.Join(root, "config", "samples", "oauth_v1alpha1_oauthconnection_"+name+".yaml"))
		if err != nil {
			return err
		}
		spec := obj.Object["spec"].(map[string]any)
		w.point(spec)
		idKey, secKey := w.idKey, w.secKey
		if idKey == "" {
			idKey, secKey = "client_id", "client_secret"
		}
		clientRef := spec["clientSecretRef"].(map[string]any)
		if err := c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: clientRef["name"].(string)},
			StringData: map[string]string{idKey: w.fake.ClientID(), secKey: w.fake.ClientSecret()},
		}); err != nil {
			return err
		}
		if w.grant != nil {
			grantRef := spec["grantSecretRef"].(map[string]any)
			if err := c.Create(ctx, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: grantRef["name"].(string)},
				StringData: w.grant,
			}); err != nil {
				return err
			}
		}
		obj.SetNamespace(namespace)
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("applying the %s sample: %w", name, err)
		}
	}
	return nil
}

func readSample(path string) (*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	obj := &unstructured.Unstructured{}
	if err := utilyaml.NewYAMLOrJSONDecoder(f, 4096).Decode(&obj.Object); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return obj, nil
}

// progress is what the demo has seen of one connection.
type progress struct {
	ready     bool
	refreshed bool
	expires   bool
}

// report prints a line per event and per change of Ready until ctx ends, or with once
// until every connection is Ready and has refreshed (Aurinko's tokens do not expire and
// cannot be refreshed: Ready is enough for it). whenReady runs once, when every connection
// is first Ready.
func report(ctx context.Context, c client.Client, o demoOptions, say func(string, ...any),
	whenReady func(context.Context) error) error {
	var deadline <-chan time.Time
	if o.once {
		t := time.NewTimer(o.timeout)
		defer t.Stop()
		deadline = t.C
	}
	seen := map[types.UID]bool{}
	// A failed read (say, after the CRD was deleted) is reported once and retried: the
	// demo is a playground, and only Ctrl-C or --once ends it.
	lastErr := ""
	failed := func(err error) {
		if err.Error() != lastErr {
			lastErr = err.Error()
			say("%-8s %v", "Error", err)
		}
	}
	state := map[string]*progress{}
	// The browser connection's progress is printed, but waited for only with awaitBrowser.
	want, browser, link := 5, &progress{}, ""
	if o.awaitBrowser {
		want, state[browserConnection] = 6, browser
	}
	tablePrinted := false
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("not every connection was Ready and refreshed within %s: %s", o.timeout, summary(state))
		case <-tick.C:
		}
		events := &eventsv1.EventList{}
		if err := c.List(ctx, events, client.InNamespace(namespace)); err != nil {
			failed(err)
			continue
		}
		slices.SortFunc(events.Items, func(a, b eventsv1.Event) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
		for _, e := range events.Items {
			if seen[e.UID] || e.Regarding.Kind != "OAuthConnection" {
				continue
			}
			seen[e.UID] = true
			say("%-8s %-24s %-19s %s", e.Type, e.Regarding.Name, e.Reason, e.Note)
			p := state[e.Regarding.Name]
			if p != nil && e.Reason == oauthv1alpha1.ReasonTokenRefreshed {
				p.refreshed = true
			}
		}
		conns := &oauthv1alpha1.OAuthConnectionList{}
		if err := c.List(ctx, conns, client.InNamespace(namespace)); err != nil {
			failed(err)
			continue
		}
		lastErr = ""
		for _, conn := range conns.Items {
			p := state[conn.Name]
			if conn.Name == browserConnection {
				p = browser
				if u := conn.Status.AuthorizationURL; u != "" && u != link {
					link = u
					say("%-8s %-24s Connect a fake Aston Club account: open %s in a browser on this machine, "+
						"log in as %q with password %q, choose a merchant and approve", "Link", conn.Name, u,
						providertest.LoginUsername, providertest.LoginPassword)
				}
			}
			if p == nil {
				p = &progress{}
				state[conn.Name] = p
			}
			ready := meta.IsStatusConditionTrue(conn.Status.Conditions, oauthv1alpha1.ConditionReady)
			if ready != p.ready {
				cond := meta.FindStatusCondition(conn.Status.Conditions, oauthv1alpha1.ConditionReady)
				say("%-8s %-24s Ready=%-13v %s", "Status", conn.Name, ready, cond.Message)
			}
			p.ready = ready
			p.expires = conn.Status.ExpiresAt != nil
		}
		if !tablePrinted && len(state) == want && allReady(state) {
			tablePrinted = true
			if err := whenReady(ctx); err != nil {
				return err
			}
		}
		if o.once && len(state) == want && done(state) {
			say("Every connection is Ready and every expiring token has been refreshed: %s", summary(state))
			return nil
		}
	}
}

func allReady(state map[string]*progress) bool {
	for _, p := range state {
		if !p.ready {
			return false
		}
	}
	return true
}

func done(state map[string]*progress) bool {
	for _, p := range state {
		if !p.ready || p.expires && !p.refreshed {
			return false
		}
	}
	return true
}

func summary(state map[string]*progress) string {
	parts := make([]string, 0, len(state))
	for _, name := range slices.Sorted(maps.Keys(state)) {
		p := state[name]
		s := name + ": "
		switch {
		case !p.ready:
			s += "not Ready"
		case p.refreshed:
			s += "Ready, refreshed"
		case !p.expires:
			s += "Ready, token does not expire"
		default:
			s += "Ready, not yet refreshed"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// printSecrets prints the keys of every workload Secret with their values masked.
func printSecrets(ctx context.Context, c client.Client, out io.Writer) error {
	secrets := &corev1.SecretList{}
	if err := c.List(ctx, secrets, client.InNamespace(namespace), client.MatchingLabels{
		oauthv1alpha1.ManagedByLabel: oauthv1alpha1.ManagedByValue,
	}); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "\nSECRET\tKEY\tVALUE")
	for _, s := range secrets.Items {
		if s.Labels["oauth.tokenwarden.io/role"] == "state" {
			continue // the operator's own state: not for workloads, not shown
		}
		for _, k := range slices.Sorted(maps.Keys(s.Data)) {
			_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, k, mask(k, string(s.Data[k])))
		}
	}
	_, _ = fmt.Fprintln(tw)
	return tw.Flush()
}

// mask shows a token's first characters and its length; plain values show whole.
func mask(key, v string) string {
	switch key {
	case oauthv1alpha1.KeyTokenType, oauthv1alpha1.KeyExpiry, oauthv1alpha1.KeyScope, oauthv1alpha1.KeyAccountID, oauthv1alpha1.KeyUserID:
		return v
	}
	if len(v) <= 8 {
		return strings.Repeat("*", len(v))
	}
	return fmt.Sprintf("%s… (%d characters)", v[:4], len(v))
}
