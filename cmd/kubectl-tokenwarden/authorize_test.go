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
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
	"github.com/tokenwarden/tokenwarden/internal/testsupport"
)

// The authorize tests play the person at the browser with providertest.Browser against the
// strict fake providers: the command's loopback server or its standard input gets the
// redirect back the fake really sent, and the code it writes is exchanged at the fake's
// token endpoint, which takes it only with the right redirect_uri and PKCE verifier.

// waitLimit bounds every wait of these tests; the command's own --timeout is shorter.
const waitLimit = 60 * time.Second

// running is a command running in a goroutine.
type running struct {
	stdout, stderr testsupport.Buffer
	done           chan result
}

// start runs the plugin with e in a goroutine, against the test cluster.
func start(e env, args ...string) *running {
	args = append(args, "--kubeconfig", kubeconfig, "--request-timeout", "20s")
	r := &running{done: make(chan result, 1)}
	go func() {
		code := runEnv(e, args, &r.stdout, &r.stderr)
		r.done <- result{code: code, stdout: r.stdout.String(), stderr: r.stderr.String()}
	}()
	return r
}

func (r *running) wait(t *testing.T) result {
	t.Helper()
	select {
	case res := <-r.done:
		return res
	case <-time.After(waitLimit):
		t.Fatalf("the command did not end; so far:\nstdout:\n%s\nstderr:\n%s", r.stdout.String(), r.stderr.String())
	}
	return result{}
}

// printedURL is the authorization URL the command printed, once it has.
func (r *running) printedURL(t *testing.T) string {
	t.Helper()
	printed := regexp.MustCompile(`(?m)^  (http\S+)$`)
	var u string
	NewWithT(t).Eventually(func() bool {
		m := printed.FindStringSubmatch(r.stderr.String())
		if m != nil {
			u = m[1]
		}
		return m != nil
	}, waitLimit).Should(BeTrue(), "no URL printed")
	return u
}

// withPerson is an env whose browser hands the URL to the test, which plays the person.
func withPerson() (env, chan string) {
	urls := make(chan string, 1)
	e := env{now: time.Now, isTerminal: func(io.Writer) bool { return false },
		browse: func(u string) error { urls <- u; return nil }}
	return e, urls
}

func receiveURL(t *testing.T, urls <-chan string, r *running) string {
	t.Helper()
	select {
	case u := <-urls:
		return u
	case res := <-r.done:
		t.Fatalf("the command ended before opening a browser: %s", res)
	case <-time.After(waitLimit):
		t.Fatal("no browser opened")
	}
	return ""
}

// loopbackRedirect is a redirect URI on a port free a moment ago.
func loopbackRedirect(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d/oauth/callback", port)
}

// authorizeFixture is a connection of provider p with spec.authorization, its token
// endpoint the fake's, and its client Secret holding the fake's client.
func authorizeFixture(t *testing.T, name string, p oauthv1alpha1.Provider, fake *providertest.Server,
	opts ...connOption) *oauthv1alpha1.OAuthConnection {
	t.Helper()
	ns := namespace(t, "authorize")
	clientSecret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-client"},
		StringData: map[string]string{"id": fake.ClientID(), "client_secret": fake.ClientSecret()},
	}
	if err := cluster(t).Create(ctx, clientSecret); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster(t).Delete(ctx, clientSecret) })
	base := func(c *oauthv1alpha1.OAuthConnection) {
		c.Spec.ClientSecretRef = oauthv1alpha1.ClientSecretReference{Name: oauthv1alpha1.SecretName(name + "-client"),
			ClientIDKey: "id"}
		c.Spec.TokenURL = oauthv1alpha1.URL(fake.TokenURL())
		c.Spec.GrantSecretRef = &oauthv1alpha1.GrantSecretReference{Name: oauthv1alpha1.SecretName(name + "-grant")}
		c.Spec.Authorization = &oauthv1alpha1.Authorization{RedirectURI: oauthv1alpha1.URL(fake.RedirectURI())}
	}
	c := create(t, connection(ns, name, p, append([]connOption{base}, opts...)...))
	if c.Spec.GrantSecretRef != nil {
		t.Cleanup(func() { _ = cluster(t).Delete(ctx, &corev1.Secret{ObjectMeta: grantMeta(c)}) })
	}
	return c
}

func grantMeta(c *oauthv1alpha1.OAuthConnection) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: c.Namespace, Name: string(c.Spec.GrantSecretRef.Name)}
}

// grantSecret is the grant Secret as it is now; nil when there is none.
func grantSecret(t *testing.T, c *oauthv1alpha1.OAuthConnection) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	err := cluster(t).Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: string(c.Spec.GrantSecretRef.Name)}, s)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// expectGrant checks what authorize wrote, and exchanges the code at the fake: it takes it
// only with the redirect_uri and verifier of the request that issued it.
func expectGrant(t *testing.T, c *oauthv1alpha1.OAuthConnection, fake *providertest.Server, pkce bool) *corev1.Secret {
	t.Helper()
	s := grantSecret(t, c)
	if s == nil {
		t.Fatal("no grant Secret")
	}
	d := s.Data
	if len(d["code"]) == 0 || string(d["redirect_uri"]) != fake.RedirectURI() {
		t.Errorf("grant Secret: code %d bytes, redirect_uri %q; want a code and %q", len(d["code"]), d["redirect_uri"],
			fake.RedirectURI())
	}
	if _, ok := d["refresh_token"]; ok {
		t.Error("the grant Secret still holds a refresh_token, which would shadow the new code")
	}
	if _, ok := d["code_verifier"]; ok != pkce {
		t.Errorf("code_verifier present: %v, want %v", ok, pkce)
	}
	req := &provider.Request{
		Provider: c.Spec.Provider, TokenURL: string(c.Spec.TokenURL), IssuerURL: string(c.Spec.IssuerURL),
		ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(),
		Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: string(d["code"]),
			RedirectURI: string(d["redirect_uri"]), CodeVerifier: string(d["code_verifier"])},
	}
	if _, err := (&provider.Client{}).Token(ctx, req); err != nil {
		t.Errorf("the fake does not take the written code: %v (%v)", err, fake.Rejections())
	}
	return s
}

// landOn is the person's browser following the redirect back to the command's loopback
// server: the page it shows.
func landOn(t *testing.T, b *providertest.Browser, back *url.URL) (int, string) {
	t.Helper()
	resp, err := b.Client().Get(back.String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy %q: the page's URL carries the code", got)
	}
	return resp.StatusCode, string(body)
}

const closeWindow = "You can close this window."

func TestAuthorizeLoopback(t *testing.T) {
	for _, tc := range []struct {
		name     string
		provider oauthv1alpha1.Provider
		fake     func(providertest.Options) *providertest.Server
		opts     []connOption
		pkce     bool
	}{
		{"Aura: the login approves", oauthv1alpha1.ProviderAura, providertest.NewAura, nil, false},
		{"Aura with PKCE S256", oauthv1alpha1.ProviderAura, providertest.NewAura,
			[]connOption{func(c *oauthv1alpha1.OAuthConnection) { c.Spec.Authorization.PKCE = oauthv1alpha1.PKCES256 }}, true},
		{"AstonClub: the person picks the merchant and approves", oauthv1alpha1.ProviderAstonClub,
			providertest.NewAstonClub, []connOption{withScopes("posapi")}, false},
		{"Aurinko: its own parameter names, serviceType", oauthv1alpha1.ProviderAurinko, providertest.NewAurinko,
			[]connOption{func(c *oauthv1alpha1.OAuthConnection) {
				c.Spec.Authorization.Parameters = map[string]oauthv1alpha1.ParameterValue{"serviceType": "Google"}
			}}, false},
		{"Generic: discovered endpoint, PKCE S256 by default", oauthv1alpha1.ProviderGeneric, genericFake,
			[]connOption{withScopes("openid", "offline_access"), discovered}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := tc.fake(providertest.Options{RedirectURI: loopbackRedirect(t)})
			t.Cleanup(fake.Close)
			name := strings.ToLower(string(tc.provider)) + map[bool]string{true: "-pkce"}[tc.pkce]
			c := authorizeFixture(t, name, tc.provider, fake, tc.opts...)
			e, urls := withPerson()
			r := start(e, "authorize", c.Name, "-n", c.Namespace, "--timeout", "30s")
			b := providertest.NewBrowser()
			back, err := b.Approve(ctx, receiveURL(t, urls, r))
			if err != nil {
				t.Fatalf("%v (%v)", err, fake.Rejections())
			}
			if status, page := landOn(t, b, back); status != http.StatusOK || !strings.Contains(page, closeWindow) {
				t.Errorf("the page after the redirect back: %d\n%s", status, page)
			}
			res := r.wait(t)
			want := fmt.Sprintf("Wrote the code to Secret authorize/%s-grant; the operator exchanges it now. "+
				"Watch: kubectl tokenwarden status %s -n authorize\n", name, name)
			if res.code != exitOK || res.stdout != want {
				t.Fatalf("want exit 0 and %q:\n%s", want, res)
			}
			s := expectGrant(t, c, fake, tc.pkce)
			if s.Labels[createdByLabel] != createdByValue || len(s.Labels) != 1 {
				t.Errorf("a created grant Secret is labelled %v, want only %s=%s", s.Labels, createdByLabel, createdByValue)
			}
		})
	}
}

func genericFake(o providertest.Options) *providertest.Server {
	return providertest.NewGeneric(o, "", "")
}

func withScopes(scopes ...oauthv1alpha1.Scope) connOption {
	return func(c *oauthv1alpha1.OAuthConnection) { c.Spec.Scopes = scopes }
}

// discovered has the authorization endpoint found by discovery from the issuer.
func discovered(c *oauthv1alpha1.OAuthConnection) {
	issuer, _ := strings.CutSuffix(string(c.Spec.TokenURL), "/token")
	c.Spec.TokenURL, c.Spec.IssuerURL = "", oauthv1alpha1.URL(issuer+"/")
}

// TestAuthorizeLoopbackWithoutBrowser: when no browser opens, the printed URL suffices.
func TestAuthorizeLoopbackWithoutBrowser(t *testing.T) {
	fake := providertest.NewAura(providertest.Options{RedirectURI: loopbackRedirect(t)})
	t.Cleanup(fake.Close)
	c := authorizeFixture(t, "no-opener", oauthv1alpha1.ProviderAura, fake)
	e, _ := withPerson()
	e.browse = func(string) error { return errors.New("exec: \"xdg-open\": executable file not found in $PATH") }
	r := start(e, "authorize", c.Name, "-n", c.Namespace, "--timeout", "30s")
	b := providertest.NewBrowser()
	back, err := b.Approve(ctx, r.printedURL(t))
	if err != nil {
		t.Fatal(err)
	}
	landOn(t, b, back)
	res := r.wait(t)
	if res.code != exitOK || !strings.Contains(res.stderr, "Could not open a browser (exec: \"xdg-open\"") {
		t.Fatalf("want exit 0 and the opener's failure said:\n%s", res)
	}
	expectGrant(t, c, fake, false)
}

// TestAuthorizeLoopbackIgnoresOtherRequests: a redirect back with another state, or none,
// or another path, gets an error page and changes nothing; the right one afterwards wins.
func TestAuthorizeLoopbackIgnoresOtherRequests(t *testing.T) {
	fake := providertest.NewGeneric(providertest.Options{RedirectURI: loopbackRedirect(t)}, "", "")
	t.Cleanup(fake.Close)
	c := authorizeFixture(t, "other-requests", oauthv1alpha1.ProviderGeneric, fake,
		func(c *oauthv1alpha1.OAuthConnection) {
			c.Spec.Authorization.AuthorizeURL = oauthv1alpha1.URL(fake.AuthorizeURL())
		})
	e, urls := withPerson()
	r := start(e, "authorize", c.Name, "-n", c.Namespace, "--timeout", "30s")
	b := providertest.NewBrowser()
	back, err := b.Approve(ctx, receiveURL(t, urls, r))
	if err != nil {
		t.Fatal(err)
	}
	forged := *back
	q := back.Query()
	q.Set("state", provider.NewState())
	forged.RawQuery = q.Encode()
	noState := *back
	q.Del("state")
	noState.RawQuery = q.Encode()
	elsewhere := *back
	elsewhere.Path = "/favicon.ico"
	for _, tc := range []struct {
		what   string
		u      *url.URL
		status int
	}{
		{"another state", &forged, http.StatusBadRequest},
		{"no state", &noState, http.StatusBadRequest},
		{"another path", &elsewhere, http.StatusNotFound},
	} {
		status, page := landOn(t, providertest.NewBrowser(), tc.u)
		if status != tc.status || strings.Contains(page, closeWindow) {
			t.Errorf("%s: %d, want %d and an error page:\n%s", tc.what, status, tc.status, page)
		}
		select {
		case res := <-r.done:
			t.Fatalf("%s ended the command: %s", tc.what, res)
		default:
		}
		if grantSecret(t, c) != nil {
			t.Fatalf("%s wrote the grant Secret", tc.what)
		}
	}
	if status, page := landOn(t, b, back); status != http.StatusOK || !strings.Contains(page, closeWindow) {
		t.Errorf("the right redirect back: %d\n%s", status, page)
	}
	if res := r.wait(t); res.code != exitOK {
		t.Fatal(res)
	}
	expectGrant(t, c, fake, true)
	// The command listens once: once it has ended, nothing answers on the redirect URI.
	if resp, err := b.Client().Get(back.String()); err == nil {
		_ = resp.Body.Close()
		t.Errorf("the redirect URI still answers after the command ended: %s", resp.Status)
	}
}

// TestAuthorizeDenied: the provider's refusal ends the command with exit 1 and its error,
// in the terminal and the browser, and writes nothing.
func TestAuthorizeDenied(t *testing.T) {
	fake := providertest.NewAstonClub(providertest.Options{RedirectURI: loopbackRedirect(t)})
	t.Cleanup(fake.Close)
	c := authorizeFixture(t, "denied", oauthv1alpha1.ProviderAstonClub, fake)
	e, urls := withPerson()
	r := start(e, "authorize", c.Name, "-n", c.Namespace, "--timeout", "30s")
	b := providertest.NewBrowser()
	back, err := b.Deny(ctx, receiveURL(t, urls, r))
	if err != nil {
		t.Fatal(err)
	}
	status, page := landOn(t, b, back)
	if status != http.StatusOK || !strings.Contains(page, "access_denied") || strings.Contains(page, closeWindow+"\n") {
		t.Errorf("the page after a denial: %d\n%s", status, page)
	}
	res := r.wait(t)
	want := "error: oauthconnection/denied: the provider refused the authorization: access_denied: " +
		"The user denied the request; nothing was written\n"
	if res.code != exitFailed || res.stdout != "" || !strings.HasSuffix(res.stderr, want) {
		t.Fatalf("want exit 1 and %q:\n%s", want, res)
	}
	if grantSecret(t, c) != nil {
		t.Error("a denial wrote the grant Secret")
	}
}

func TestAuthorizeTimesOut(t *testing.T) {
	fake := providertest.NewAura(providertest.Options{RedirectURI: loopbackRedirect(t)})
	t.Cleanup(fake.Close)
	c := authorizeFixture(t, "timeout", oauthv1alpha1.ProviderAura, fake)
	e, _ := withPerson()
	stdin, feed := io.Pipe()
	t.Cleanup(func() { _ = feed.Close() })
	e.stdin = stdin
	for _, args := range [][]string{{}, {"--no-browser"}} {
		args = append([]string{"authorize", c.Name, "-n", c.Namespace, "--timeout", "1s"}, args...)
		res := start(e, args...).wait(t)
		if res.code != exitTimeout || !strings.Contains(res.stderr, "timed out after 1s waiting for the browser") {
			t.Errorf("%v: want exit 2:\n%s", args, res)
		}
	}
	if grantSecret(t, c) != nil {
		t.Error("a timeout wrote the grant Secret")
	}
}

// pasting runs authorize --no-browser and returns it with the writer of its standard input.
func pasting(t *testing.T, c *oauthv1alpha1.OAuthConnection) (*running, io.WriteCloser) {
	t.Helper()
	e, _ := withPerson()
	stdin, feed := io.Pipe()
	t.Cleanup(func() { _ = feed.Close() })
	e.stdin = stdin
	e.browse = func(string) error { t.Error("--no-browser opened a browser"); return nil }
	return start(e, "authorize", c.Name, "-n", c.Namespace, "--no-browser", "--timeout", "30s"), feed
}

func paste(t *testing.T, w io.Writer, line string) {
	t.Helper()
	if _, err := io.WriteString(w, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// TestAuthorizeNoBrowser: the URL the browser landed on, pasted, with an https redirect
// URI that nothing on the workstation could listen on; the grant Secret exists already:
// its stale refresh_token and code_verifier go, its other keys and labels stay.
func TestAuthorizeNoBrowser(t *testing.T) {
	fake := providertest.NewAura(providertest.Options{}) // https://app.example.com/oauth/callback
	t.Cleanup(fake.Close)
	c := authorizeFixture(t, "pasted", oauthv1alpha1.ProviderAura, fake)
	existing := &corev1.Secret{ObjectMeta: grantMeta(c), StringData: map[string]string{
		"refresh_token": "stale-refresh-token-4f1d", "code_verifier": strings.Repeat("v", 43), "note": "kept"}}
	existing.Labels = map[string]string{"team": "billing"}
	if err := cluster(t).Create(ctx, existing); err != nil {
		t.Fatal(err)
	}
	r, feed := pasting(t, c)
	back, err := providertest.NewBrowser().Approve(ctx, r.printedURL(t))
	if err != nil {
		t.Fatal(err)
	}
	paste(t, feed, back.String())
	res := r.wait(t)
	if res.code != exitOK || !strings.HasPrefix(res.stdout, "Wrote the code to Secret authorize/pasted-grant;") {
		t.Fatal(res)
	}
	s := expectGrant(t, c, fake, false)
	if string(s.Data["note"]) != "kept" || s.Labels["team"] != "billing" || len(s.Labels) != 1 {
		t.Errorf("the grant Secret's other keys or labels changed: note %q, labels %v", s.Data["note"], s.Labels)
	}
}

func TestAuthorizeNoBrowserRefuses(t *testing.T) {
	fake := providertest.NewAurinko(providertest.Options{})
	t.Cleanup(fake.Close)
	c := authorizeFixture(t, "pasted-refused", oauthv1alpha1.ProviderAurinko, fake,
		func(c *oauthv1alpha1.OAuthConnection) {
			c.Spec.Authorization.Parameters = map[string]oauthv1alpha1.ParameterValue{"serviceType": "Office365"}
		})
	for _, tc := range []struct {
		name string
		// landed is what the person pastes, given where the provider sent the browser back.
		landed func(t *testing.T, authorizeURL string) string
		want   string
	}{
		{"a forged state", func(t *testing.T, u string) string {
			back, err := providertest.NewBrowser().Approve(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			q := back.Query()
			q.Set("state", "forged-state-of-someone-elses-flow")
			back.RawQuery = q.Encode()
			return back.String()
		}, "error: oauthconnection/pasted-refused: the pasted URL does not answer this authorization request " +
			"(its state does not match; from an earlier run?); nothing was written\n"},
		{"a denial", func(t *testing.T, u string) string {
			back, err := providertest.NewBrowser().Deny(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			return back.String()
		}, "error: oauthconnection/pasted-refused: the provider refused the authorization: access_denied: " +
			"The user denied the request; nothing was written\n"},
		{"a URL elsewhere", func(*testing.T, string) string { return "https://evil.example.com/oauth/callback?code=x" },
			"error: oauthconnection/pasted-refused: the pasted URL is not at the redirect URI " +
				"https://app.example.com/oauth/callback; nothing was written\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, feed := pasting(t, c)
			paste(t, feed, tc.landed(t, r.printedURL(t)))
			res := r.wait(t)
			if res.code != exitFailed || !strings.HasSuffix(res.stderr, tc.want) {
				t.Errorf("want exit 1 and %q:\n%s", tc.want, res)
			}
			if grantSecret(t, c) != nil {
				t.Error("the grant Secret was written")
			}
		})
	}
}

func TestAuthorizeRefusesConnections(t *testing.T) {
	fake := providertest.NewGeneric(providertest.Options{}, "", "")
	t.Cleanup(fake.Close)
	authorizeFixture(t, "no-authorization", oauthv1alpha1.ProviderGeneric, fake,
		func(c *oauthv1alpha1.OAuthConnection) { c.Spec.Authorization = nil })
	authorizeFixture(t, "no-grant", oauthv1alpha1.ProviderGeneric, fake, func(c *oauthv1alpha1.OAuthConnection) {
		c.Spec.GrantSecretRef = nil
		c.Spec.Authorization.AuthorizeURL = oauthv1alpha1.URL(fake.AuthorizeURL())
	})
	c := authorizeFixture(t, "https-redirect", oauthv1alpha1.ProviderGeneric, fake,
		func(c *oauthv1alpha1.OAuthConnection) {
			c.Spec.Authorization.AuthorizeURL = oauthv1alpha1.URL(fake.AuthorizeURL())
		})
	e, _ := withPerson()
	e.browse = func(string) error { t.Error("a refused connection opened a browser"); return nil }
	for _, tc := range []struct {
		name, stderr string
	}{
		{"no-authorization", "error: oauthconnection/no-authorization has no spec.authorization: set " +
			"spec.authorization.redirectURI (and, where the default does not fit, authorizeURL) to connect an account\n"},
		{"no-grant", "error: oauthconnection/no-grant has no spec.grantSecretRef: set spec.grantSecretRef: " +
			"authorize writes the code there\n"},
		{"https-redirect", "error: spec.authorization.redirectURI https://app.example.com/oauth/callback is not " +
			"http to a loopback host (127.0.0.1, [::1] or localhost), so the command cannot listen on it: use " +
			"--no-browser and paste the URL the browser lands on\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := start(e, "authorize", tc.name, "-n", "authorize").wait(t)
			if res.code != exitError || res.stderr != tc.stderr || res.stdout != "" {
				t.Errorf("want exit 3 and %q:\n%s", tc.stderr, res)
			}
		})
	}
	if grantSecret(t, c) != nil {
		t.Error("a refused connection wrote a grant Secret")
	}
	r := start(e, "authorize", "missing", "-n", "authorize").wait(t)
	if r.code != exitError || !strings.HasPrefix(r.stderr, "Error from server (NotFound)") {
		t.Errorf("a missing connection: %s", r)
	}
	r = start(e, "authorize", c.Name, "-n", "authorize", "--timeout", "0s").wait(t)
	if r.code != exitError || !strings.HasPrefix(r.stderr, "error: --timeout must be positive") {
		t.Errorf("a zero timeout: %s", r)
	}
}

func TestLoopbackOf(t *testing.T) {
	for _, tc := range []struct {
		redirect string
		addrs    []string
		path     string
		refusal  string
	}{
		{"http://127.0.0.1:8400/callback", []string{"127.0.0.1:8400"}, "/callback", ""},
		{"http://[::1]:8400", []string{"[::1]:8400"}, "/", ""},
		{"http://localhost:8400/cb?x=1", []string{"127.0.0.1:8400", "[::1]:8400"}, "/cb", ""},
		{"http://127.0.0.1/callback", nil, "", "has no port"},
		{"http://127.0.0.1:0/callback", nil, "", "has no port"},
		{"https://127.0.0.1:8400/callback", nil, "", "is not http to a loopback host"},
		{"http://app.example.com:8400/callback", nil, "", "is not http to a loopback host"},
		{"http://127.0.0.2:8400/callback", nil, "", "is not http to a loopback host"},
	} {
		l, err := loopbackOf(tc.redirect)
		switch {
		case tc.refusal != "":
			if err == nil || !strings.Contains(err.Error(), tc.refusal) || !strings.Contains(err.Error(), "--no-browser") {
				t.Errorf("%s: got %v, want a refusal that %s and suggests --no-browser", tc.redirect, err, tc.refusal)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.redirect, err)
		case !slices.Equal(l.addrs, tc.addrs) || l.path != tc.path:
			t.Errorf("%s: listens on %v path %q, want %v %q", tc.redirect, l.addrs, l.path, tc.addrs, tc.path)
		}
	}
}

func TestBrowserCommand(t *testing.T) {
	const u = "https://auth.example.com/authorize?state=s&x=1"
	for _, tc := range []struct {
		goos, browser string
		want          []string
	}{
		{"linux", "", []string{"xdg-open", u}},
		{"darwin", "", []string{"open", u}},
		{"windows", "", []string{"rundll32", "url.dll,FileProtocolHandler", u}},
		{"linux", "firefox", []string{"firefox", u}},
		{"linux", "firefox --new-window", []string{"firefox", "--new-window", u}},
		{"linux", "w3m %s -no-mouse", []string{"w3m", u, "-no-mouse"}},
		{"linux", ":chromium:firefox", []string{"chromium", u}},
		{"darwin", "true", []string{"true", u}},
	} {
		if got := browserCommand(tc.goos, tc.browser, u); !slices.Equal(got, tc.want) {
			t.Errorf("%s, BROWSER=%q: %q, want %q", tc.goos, tc.browser, got, tc.want)
		}
	}
}

func TestReadLine(t *testing.T) {
	for _, tc := range []struct {
		name, in, line, err string
	}{
		{"a line", "https://x/cb?code=c&state=s\nmore", "https://x/cb?code=c&state=s", ""},
		{"the last line without newline", "  https://x/cb?code=c \r", "https://x/cb?code=c", ""},
		{"nothing", "", "", "no URL on standard input"},
		{"a blank line", "\n", "", "no URL on standard input"},
		{"too long", strings.Repeat("a", maxPastedURL+1) + "\n", "", "longer than 16384 bytes"},
	} {
		got := readLine(strings.NewReader(tc.in), maxPastedURL)
		if got.line != tc.line || (got.err == nil) != (tc.err == "") ||
			(got.err != nil && !strings.Contains(got.err.Error(), tc.err)) {
			t.Errorf("%s: got (%q, %v), want (%q, %q)", tc.name, got.line, got.err, tc.line, tc.err)
		}
	}
}

// TestCallbackServer: the handler alone. It takes one answer; what the provider says is
// shown escaped.
func TestCallbackServer(t *testing.T) {
	f := &flow{state: provider.NewState(), conn: &oauthv1alpha1.OAuthConnection{
		Spec: oauthv1alpha1.OAuthConnectionSpec{Provider: oauthv1alpha1.ProviderGeneric}}}
	taken := 0
	take := func(_ provider.Callback, err error) error {
		taken++
		return err
	}
	s := &callbackServer{flow: f, path: "/cb", result: make(chan error, 2), take: take}
	get := func(query string) (int, string) {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/cb?"+query, nil))
		return w.Code, w.Body.String()
	}
	status, page := get(url.Values{"state": {f.state}, "error": {"access_denied"},
		"error_description": {`<script>alert("x")</script>`}}.Encode())
	if status != http.StatusOK || strings.Contains(page, "<script>") ||
		!strings.Contains(page, "access_denied: &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("a refusal's page: %d\n%s", status, page)
	}
	var refused *provider.CallbackError
	if err := <-s.result; !errors.As(err, &refused) || refused.Code != "access_denied" {
		t.Errorf("outcome %v, want the provider's refusal", err)
	}
	status, _ = get(url.Values{"state": {f.state}, "code": {"c"}}.Encode())
	if status != http.StatusConflict || taken != 1 {
		t.Errorf("a second answer: %d, taken %d times; want 409 and once", status, taken)
	}
	if status, _ := get("state=" + f.state + "&code=c&code=d"); status != http.StatusBadRequest {
		t.Errorf("a code sent twice (no state can be read): %d, want 400", status)
	}
}
