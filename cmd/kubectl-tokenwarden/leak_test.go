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
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// publicSecretKeys are the workload Secret keys whose values the connection's status
// publishes anyway (status.tokenType, status.expiresAt, status.scope; the API says the
// status holds no secret material), and that a JWT's claims repeat. Their values may
// appear in output as status fields or claims; every other Secret value may not.
var publicSecretKeys = map[string]bool{
	oauthv1alpha1.KeyTokenType: true, oauthv1alpha1.KeyExpiry: true, oauthv1alpha1.KeyScope: true,
}

// TestNoSecretMaterialInAnyOutput runs every command over connections whose Secrets hold a
// JWT, an opaque token and other secret values, and scans everything printed.
func TestNoSecretMaterialInAnyOutput(t *testing.T) {
	f := createFixtures(t)
	commands := [][]string{
		{"status", "-n", "team-a"},
		{"status", "-A"},
		{"status", "-A", "-o", "wide"},
		{"status", "-A", "-o", "json"},
		{"status", "aurora-api", "-n", "team-a"},
		{"inspect", "aurora-api", "-n", "team-a"},
		{"inspect", "aurinko-user", "-n", "team-a"},
		{"inspect", "billing-aura", "-n", "team-a"},
		{"refresh", "aurora-api", "-n", "team-a"},
		{"refresh", "aurinko-user", "-n", "team-a", "--wait", "--timeout", "1s"},
	}
	outputs := make([]result, 0, len(commands))
	for _, args := range commands {
		r := runAt(args...)
		if r.code != exitOK && r.code != exitTimeout {
			t.Errorf("%v: %s", args, r)
		}
		outputs = append(outputs, r)
	}

	forbidden := map[string]string{"the HMAC key": string(hmacKey), "the JWT": f.jwt, "the opaque token": f.opaque}
	parts := strings.Split(f.jwt, ".")
	forbidden["the JWT's header segment"] = parts[0]
	forbidden["the JWT's claims segment"] = parts[1]
	forbidden["the JWT's signature"] = parts[2]
	mac := hmac.New(sha256.New, hmacKey)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig := mac.Sum(nil)
	forbidden["the signature in hex"] = hex.EncodeToString(sig)
	forbidden["the signature in standard base64"] = base64.StdEncoding.EncodeToString(sig)
	for name, data := range f.secrets {
		for k, v := range data {
			if !publicSecretKeys[k] {
				forbidden["Secret "+name+" key "+k] = v
			}
			forbidden["Secret "+name+" key "+k+" in base64"] = base64.StdEncoding.EncodeToString([]byte(v))
		}
	}

	for _, r := range outputs {
		for what, v := range forbidden {
			if strings.Contains(r.stdout, v) || strings.Contains(r.stderr, v) {
				t.Errorf("%s appears in output:\n%s", what, r)
			}
		}
	}
	// The values of the public keys are masked in the Secret's key listing all the same.
	inspect := outputs[5].stdout
	for _, want := range []string{"token_type:     <redacted, 6 bytes>", "access_token:   <redacted, "} {
		if !strings.Contains(inspect, want) {
			t.Errorf("inspect does not mask the Secret's values (%q):\n%s", want, inspect)
		}
	}
}

// TestAuthorizePrintsNoSecret runs authorize to success in both modes, and to a denial and
// a forged state, and scans everything printed for the code, the verifier, the refresh
// token it removed and the client secret.
func TestAuthorizePrintsNoSecret(t *testing.T) {
	fake := providertest.NewGeneric(providertest.Options{RedirectURI: loopbackRedirect(t)}, "", "")
	t.Cleanup(fake.Close)
	c := authorizeFixture(t, "leak", oauthv1alpha1.ProviderGeneric, fake, discovered)
	const staleRefreshToken = "stale-refresh-token-that-must-not-be-printed-9c2e"
	if err := cluster(t).Create(ctx, &corev1.Secret{ObjectMeta: grantMeta(c),
		StringData: map[string]string{"refresh_token": staleRefreshToken}}); err != nil {
		t.Fatal(err)
	}
	outputs := make([]result, 0, 4)
	forbidden := map[string]string{"the stale refresh token": staleRefreshToken, "the client secret": fake.ClientSecret(),
		"a forged state": "forged-state-9f8e7d"}
	written := func(what string) {
		s := grantSecret(t, c)
		forbidden["the code "+what] = string(s.Data["code"])
		forbidden["the verifier "+what] = string(s.Data["code_verifier"])
	}

	e, urls := withPerson()
	r := start(e, "authorize", c.Name, "-n", c.Namespace, "--timeout", "30s")
	b := providertest.NewBrowser()
	back, err := b.Approve(ctx, receiveURL(t, urls, r))
	if err != nil {
		t.Fatal(err)
	}
	landOn(t, b, back)
	outputs = append(outputs, r.wait(t))
	written("of the loopback run")

	for _, walk := range []func(string) string{
		func(u string) string { back, _ := providertest.NewBrowser().Approve(ctx, u); return back.String() },
		func(u string) string { back, _ := providertest.NewBrowser().Deny(ctx, u); return back.String() },
		func(u string) string {
			back, _ := providertest.NewBrowser().Approve(ctx, u)
			q := back.Query()
			q.Set("state", forbidden["a forged state"])
			back.RawQuery = q.Encode()
			return back.String()
		},
	} {
		r, feed := pasting(t, c)
		paste(t, feed, walk(r.printedURL(t)))
		outputs = append(outputs, r.wait(t))
		if len(outputs) == 2 {
			written("of the pasted run")
		}
	}
	for i, want := range []int{exitOK, exitOK, exitFailed, exitFailed} {
		if outputs[i].code != want {
			t.Errorf("run %d: want exit %d:\n%s", i, want, outputs[i])
		}
	}
	for what, v := range forbidden {
		if v == "" {
			t.Fatalf("%s is empty: nothing to look for", what)
		}
		for _, r := range outputs {
			for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v)), url.QueryEscape(v)} {
				if strings.Contains(r.stdout, form) || strings.Contains(r.stderr, form) {
					t.Errorf("%s appears in output:\n%s", what, r)
				}
			}
		}
	}
	for _, m := range fake.SecretMaterial() {
		for _, r := range outputs {
			if strings.Contains(r.stdout+r.stderr, m) {
				t.Errorf("the fake's secret material %q appears in output:\n%s", m, r)
			}
		}
	}
}
