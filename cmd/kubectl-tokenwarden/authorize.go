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
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

type authorizeOptions struct {
	noBrowser bool
	timeout   time.Duration
}

func (a *app) authorizeCommand() *cobra.Command {
	o := &authorizeOptions{}
	cmd := &cobra.Command{
		Use:   "authorize NAME",
		Short: "Connect an account: log in through a browser and store the code for the operator",
		Long: `Run the browser half of the authorization-code flow from a workstation.

The command builds the connection's authorization request (spec.authorization: a fresh
state, and a PKCE challenge where spec.authorization.pkce is S256), prints its URL and
opens it in a browser ($BROWSER, else xdg-open or open). It listens once on
spec.authorization.redirectURI, which must then be http to 127.0.0.1, [::1] or localhost
with a port, and takes the one redirect back whose state matches. With --no-browser it
does not listen: open the URL anywhere, then paste the URL the browser lands on.

The code, its redirect_uri and the PKCE code_verifier are written to the Secret
spec.grantSecretRef names (created if missing). Any refresh_token there is removed, so that
the operator exchanges the new code, and so is a code_verifier when the request had no PKCE;
the Secret's other keys stay. The code, the verifier and the client secret are never
printed.

Exit status: 0 when the code was written; 1 when the provider refused (access_denied) or
the pasted URL does not answer this request; 2 when --timeout passed first; 3 on a usage
error, a connection that cannot be authorized, or when the API server could not be asked.`,
		Example: `  # Log in through the default browser; the redirect URI is http://127.0.0.1:PORT/...
  kubectl tokenwarden authorize billing-aura

  # On a machine without a browser: open the URL elsewhere, paste where it landed
  kubectl tokenwarden authorize billing-aura -n payments --no-browser`,
		Args: exactlyOneName,
		RunE: a.runE(func(ctx context.Context, args []string) error { return a.authorize(ctx, o, args[0]) }),
	}
	cmd.Flags().BoolVar(&o.noBrowser, "no-browser", false,
		"Open no browser and listen on nothing: print the URL, then read the URL the browser landed on from standard input.")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 5*time.Minute,
		"How long to wait for the browser to come back, e.g. 10m.")
	return cmd
}

// flow is one authorization request of a connection: what the redirect back is checked
// against, and what the grant Secret receives.
type flow struct {
	conn *oauthv1alpha1.OAuthConnection
	// state and verifier are fresh for each run; verifier is "" without PKCE.
	state, verifier string
	url             string
}

func (a *app) authorize(ctx context.Context, o *authorizeOptions, name string) error {
	if o.timeout <= 0 {
		return usageErrorf("--timeout must be positive, got %s", o.timeout)
	}
	ns, err := a.namespace()
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	conn := &oauthv1alpha1.OAuthConnection{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, conn); err != nil {
		return err
	}
	if err := authorizable(conn); err != nil {
		return err
	}
	var listen *loopback
	if !o.noBrowser {
		if listen, err = loopbackOf(string(conn.Spec.Authorization.RedirectURI)); err != nil {
			return err
		}
	}
	f, err := newFlow(ctx, c, conn)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	write := func(cb provider.Callback, err error) error { return receive(ctx, c, f, cb, err) }
	if o.noBrowser {
		err = a.awaitPasted(wctx, f, write)
	} else {
		err = a.awaitLoopback(wctx, f, listen, write)
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return &exitCodeError{code: exitTimeout, err: fmt.Errorf("oauthconnection/%s: timed out after %s waiting "+
			"for the browser to come back; nothing was written", name, o.timeout)}
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "Wrote the code to Secret %s/%s; the operator exchanges it now. "+
		"Watch: kubectl tokenwarden status %s -n %s\n", ns, conn.Spec.GrantSecretRef.Name, name, ns)
	return err
}

// authorizable refuses a connection the command cannot authorize, naming the field to set.
func authorizable(conn *oauthv1alpha1.OAuthConnection) error {
	switch {
	case conn.Spec.Authorization == nil:
		return fmt.Errorf("oauthconnection/%s has no spec.authorization: set spec.authorization.redirectURI "+
			"(and, where the default does not fit, authorizeURL) to connect an account", conn.Name)
	case conn.Spec.GrantSecretRef == nil || conn.Spec.GrantSecretRef.Name == "":
		return fmt.Errorf("oauthconnection/%s has no spec.grantSecretRef: set spec.grantSecretRef: "+
			"authorize writes the code there", conn.Name)
	}
	return nil
}

// newFlow reads the client id and builds the authorization request of conn, with a fresh
// state and, where PKCE applies, a fresh verifier.
func newFlow(ctx context.Context, c client.Client, conn *oauthv1alpha1.OAuthConnection) (*flow, error) {
	id, err := clientID(ctx, c, conn)
	if err != nil {
		return nil, err
	}
	spec, auth := &conn.Spec, conn.Spec.Authorization
	f := &flow{conn: conn, state: provider.NewState()}
	req := &provider.AuthorizationRequest{
		Provider: spec.Provider, Environment: spec.Environment,
		TokenURL: string(spec.TokenURL), IssuerURL: string(spec.IssuerURL), AuthorizeURL: string(auth.AuthorizeURL),
		ClientID: id, RedirectURI: string(auth.RedirectURI), State: f.state,
		Parameters: make(map[string]string, len(auth.Parameters)),
	}
	for _, s := range spec.Scopes {
		req.Scopes = append(req.Scopes, string(s))
	}
	for k, v := range auth.Parameters {
		req.Parameters[k] = string(v)
	}
	if usesPKCE(conn) {
		f.verifier = provider.NewVerifier()
		req.CodeChallenge = provider.S256Challenge(f.verifier)
	}
	if f.url, err = (&provider.Client{}).AuthorizationURL(ctx, req); err != nil {
		return nil, fmt.Errorf("oauthconnection/%s: %w", conn.Name, err)
	}
	return f, nil
}

// usesPKCE is spec.authorization.pkce, or unset, the provider's default.
func usesPKCE(conn *oauthv1alpha1.OAuthConnection) bool {
	switch conn.Spec.Authorization.PKCE {
	case oauthv1alpha1.PKCES256:
		return true
	case oauthv1alpha1.PKCEDisabled:
		return false
	}
	decl, _ := provider.AuthorizationOf(conn.Spec.Provider)
	return decl.PKCEByDefault
}

// clientID reads the client id from the client Secret. The API returns the whole Secret;
// only the id is kept, and the rest is dropped at once.
func clientID(ctx context.Context, c client.Client, conn *oauthv1alpha1.OAuthConnection) (string, error) {
	ref := conn.Spec.ClientSecretRef
	key := string(ref.ClientIDKey)
	if key == "" {
		key = "client_id"
	}
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: conn.Namespace, Name: string(ref.Name)}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return "", fmt.Errorf("the client Secret %s/%s (spec.clientSecretRef.name) does not exist", conn.Namespace, ref.Name)
		}
		return "", err
	}
	id := string(s.Data[key])
	clear(s.Data)
	if id == "" {
		return "", fmt.Errorf("the client Secret %s/%s has no key %q (spec.clientSecretRef.clientIDKey)",
			conn.Namespace, ref.Name, key)
	}
	return id, nil
}

// answers reports whether a redirect back carries this flow's state, in constant time.
func (f *flow) answers(state string) bool {
	return state != "" && subtle.ConstantTimeCompare([]byte(state), []byte(f.state)) == 1
}

// receive takes the redirect back that answers the flow: the provider's refusal ends the
// command, a code is written to the grant Secret.
func receive(ctx context.Context, c client.Client, f *flow, cb provider.Callback, parseErr error) error {
	name := f.conn.Name
	if parseErr != nil {
		// ParseCallback's errors never carry the code.
		return &exitCodeError{code: exitFailed,
			err: fmt.Errorf("oauthconnection/%s: %w; nothing was written", name, parseErr)}
	}
	key := client.ObjectKey{Namespace: f.conn.Namespace, Name: string(f.conn.Spec.GrantSecretRef.Name)}
	if err := writeGrant(ctx, c, key, grantOf(f, cb.Code)); err != nil {
		return fmt.Errorf("writing the code to Secret %s: %w", key, err)
	}
	return nil
}
