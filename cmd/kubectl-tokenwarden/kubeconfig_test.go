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
	"path/filepath"
	"strings"
	"testing"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// TestKubeconfigFlags: --kubeconfig, --context, -n and -A select what kubectl would.
func TestKubeconfigFlags(t *testing.T) {
	one, two := namespace(t, "kc-one"), namespace(t, "kc-two")
	create(t, connection(one, "first", oauthv1alpha1.ProviderAurora))
	create(t, connection(two, "second", oauthv1alpha1.ProviderAurora))
	// Its current context is the bogus one; context envtest defaults to namespace kc-two.
	path := filepath.Join(t.TempDir(), "config")
	if err := writeKubeconfig(path, "bogus", two); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		want, not  []string
		wantStderr string
	}{
		{name: "the current context is used by default: here nothing listens",
			args: []string{"status"}, code: exitError, wantStderr: "127.0.0.1:1"},
		{name: "--context selects the cluster and its namespace",
			args: []string{"status", "--context", "envtest"}, want: []string{"second"}, not: []string{"first", "NAMESPACE"}},
		{name: "-n overrides the context's namespace",
			args: []string{"status", "--context", "envtest", "-n", one}, want: []string{"first"}, not: []string{"second"}},
		{name: "--namespace= is -n",
			args: []string{"status", "--context=envtest", "--namespace=" + one}, want: []string{"first"}},
		{name: "-A lists every namespace with a NAMESPACE column",
			args: []string{"status", "--context", "envtest", "-A"},
			want: []string{"NAMESPACE", "kc-one", "first", "kc-two", "second"}},
		{name: "a NAME is looked up in the context's namespace",
			args: []string{"status", "second", "--context", "envtest"}, want: []string{"second"}},
		{name: "a NAME with -A is refused",
			args: []string{"status", "second", "--context", "envtest", "-A"}, code: exitError,
			wantStderr: "cannot be retrieved by name across all namespaces"},
		{name: "an unknown context is an error",
			args: []string{"status", "--context", "nope"}, code: exitError,
			wantStderr: "context was not found for specified context: nope"},
		{name: "an empty namespace says so on stderr",
			args:       []string{"status", "--context", "envtest", "-n", "kc-empty"},
			wantStderr: "No OAuthConnections found in kc-empty namespace."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runAt(append(tc.args, "--kubeconfig", path)...)
			if r.code != tc.code {
				t.Fatalf("want exit %d: %s", tc.code, r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("want %q in stdout: %s", w, r)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(r.stdout, n) {
					t.Errorf("want no %q in stdout: %s", n, r)
				}
			}
			if !strings.Contains(r.stderr, tc.wantStderr) {
				t.Errorf("want %q in stderr: %s", tc.wantStderr, r)
			}
		})
	}
}
