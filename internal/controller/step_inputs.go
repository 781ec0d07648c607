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

package controller

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// inputs are what a connection's token depends on: its spec resolved, what its provider
// declares, the client credentials and the grant, and their fingerprints.
type inputs struct {
	cfg    *connectionConfig
	traits provider.Traits
	creds  *clientCredentials
	grant  *grantSecret // nil when the connection has no grant Secret
	// config fingerprints the settings a token belongs to; endpoint where a refresh token
	// may be presented; inputs every input together (a permanent failure waits for it to
	// change).
	config, endpoint, inputs string
}

// clientCredentials are the values of the client Secret.
type clientCredentials struct {
	id, secret string
}

// grantSecret is the content of the grant Secret.
type grantSecret struct {
	name         string
	refreshToken string
	code         string
	redirectURI  string
	codeVerifier string // the PKCE verifier of the request that issued code
	fingerprint  string
}

// value returns the grant Secret's value of a key a provider may require.
func (g *grantSecret) value(key string) string {
	switch key {
	case "refresh_token":
		return g.refreshToken
	case "code":
		return g.code
	case "redirect_uri":
		return g.redirectURI
	case "code_verifier":
		return g.codeVerifier
	}
	return ""
}

// readInputs resolves the spec and reads the client and grant Secrets. Reads the
// connection; sets in. A missing Secret or key, or a spec the API server could not
// check, is a stall.
func readInputs(ctx context.Context, x *run) error {
	cfg, err := resolveConfig(x.conn)
	if err != nil {
		return &stall{reason: oauthv1alpha1.ReasonInvalidSpec, message: err.Error()}
	}
	creds, err := x.readClientSecret(ctx)
	if err != nil {
		return err
	}
	grant, err := x.readGrantSecret(ctx)
	if err != nil {
		return err
	}
	traits := provider.TraitsOf(x.conn.Spec.Provider)
	if x.conn.Spec.Authorization != nil {
		traits = provider.AuthorizedTraitsOf(x.conn.Spec.Provider)
	}
	in := &inputs{cfg: cfg, traits: traits, creds: creds, grant: grant}
	r := &cfg.request
	in.config = cfg.fingerprint(creds.id)
	in.endpoint = hash("endpoint", string(r.Provider), string(r.Environment), r.TokenURL, r.IssuerURL, creds.id)
	grantFP := ""
	if grant != nil {
		grantFP = grant.fingerprint
	}
	in.inputs = hash("inputs", in.config, creds.secret, grantFP)
	x.in = in
	return nil
}

// readUserSecret reads a Secret the user owns: from the memo of referenced Secrets, or
// live. The manager's cache holds only the operator's own Secrets.
func (x *run) readUserSecret(ctx context.Context, name, reason, role string) (map[string][]byte, error) {
	key := types.NamespacedName{Namespace: x.conn.Namespace, Name: name}
	var data map[string][]byte
	var err error
	if x.r.mem.memo != nil {
		data, err = x.r.mem.memo.get(ctx, x.r.APIReader, key)
	} else {
		s := &corev1.Secret{}
		err = x.r.APIReader.Get(ctx, key, s)
		data = s.Data
	}
	if apierrors.IsNotFound(err) {
		return nil, stalled(reason, "%s Secret %s not found", role, name)
	}
	return data, err
}

func (x *run) readClientSecret(ctx context.Context) (*clientCredentials, error) {
	ref := x.conn.Spec.ClientSecretRef
	data, err := x.readUserSecret(ctx, string(ref.Name), oauthv1alpha1.ReasonClientSecretNotFound, "client")
	if err != nil {
		return nil, err
	}
	idKey, secretKey := string(ref.ClientIDKey), string(ref.ClientSecretKey)
	if idKey == "" {
		idKey = "client_id"
	}
	if secretKey == "" {
		secretKey = "client_secret"
	}
	for _, k := range []string{idKey, secretKey} {
		if len(data[k]) == 0 {
			return nil, stalled(oauthv1alpha1.ReasonClientSecretNotFound, "client Secret %s has no key %q", ref.Name, k)
		}
	}
	return &clientCredentials{id: string(data[idKey]), secret: string(data[secretKey])}, nil
}

func (x *run) readGrantSecret(ctx context.Context) (*grantSecret, error) {
	ref := x.conn.Spec.GrantSecretRef
	if ref == nil {
		return nil, nil
	}
	data, err := x.readUserSecret(ctx, string(ref.Name), oauthv1alpha1.ReasonGrantSecretNotFound, "grant")
	browser := x.conn.Spec.Authorization != nil
	if s, ok := errors.AsType[*stall](err); ok && browser && s.reason == oauthv1alpha1.ReasonGrantSecretNotFound {
		// Not there yet: a sign-in (or kubectl tokenwarden authorize, which creates it)
		// provides the grant.
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	g := &grantSecret{
		name:         string(ref.Name),
		refreshToken: string(data["refresh_token"]),
		code:         string(data["code"]),
		redirectURI:  string(data["redirect_uri"]),
		codeVerifier: string(data["code_verifier"]),
	}
	if g.refreshToken == "" && g.code == "" && browser {
		return nil, nil
	}
	if g.refreshToken == "" && g.code == "" {
		return nil, &stall{reason: oauthv1alpha1.ReasonGrantSecretNotFound,
			message: fmt.Sprintf("grant Secret %s has neither a refresh_token nor a code key", ref.Name)}
	}
	g.fingerprint = grantFingerprint(g)
	return g, nil
}

// grantFingerprint identifies the grant Secret's content. A Secret without code_verifier
// keeps the fingerprint it had before the key existed: an upgrade must not take every
// grant for a new one (which would present a refresh token the provider rotated away).
func grantFingerprint(g *grantSecret) string {
	if g.codeVerifier == "" {
		return hash("grant", g.refreshToken, g.code, g.redirectURI)
	}
	return hash("grant", g.refreshToken, g.code, g.redirectURI, g.codeVerifier)
}
