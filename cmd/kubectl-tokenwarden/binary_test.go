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
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// TestBinary builds kubectl-tokenwarden with go build and runs it as kubectl would run a
// plugin: the main wiring, KUBECONFIG from the environment, and the exit codes.
func TestBinary(t *testing.T) {
	ns := namespace(t, "binary")
	create(t, connection(ns, "built", oauthv1alpha1.ProviderAurora))
	bin := filepath.Join(t.TempDir(), "kubectl-tokenwarden")
	// Without the symbol table and DWARF, linking takes a fraction of the time.
	build := exec.Command("go", "build", "-ldflags=-s -w", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Context envtest, whose namespace is "binary": no -n needed.
	config := filepath.Join(t.TempDir(), "config")
	if err := writeKubeconfig(config, "envtest", ns); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, exitOK, "Usage:\n  kubectl tokenwarden [command]"},
		{[]string{"status"}, exitOK, "built"},
		{[]string{"inspect", "missing"}, exitError, "Error from server (NotFound)"},
		{[]string{"refresh", "built", "--wait", "--timeout", "1s"}, exitTimeout, "timed out after 1s"},
		{[]string{"status", "-o", "yaml"}, exitError, "unknown output format"},
		{[]string{"authorize", "built"}, exitError, "oauthconnection/built has no spec.authorization"},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+config)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if exit, ok := errors.AsType[*exec.ExitError](err); ok {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || !strings.Contains(stdout.String()+stderr.String(), tc.want) {
			t.Errorf("kubectl-tokenwarden %v: exit %d, want %d and %q\nstdout:\n%s\nstderr:\n%s",
				tc.args, code, tc.code, tc.want, stdout.String(), stderr.String())
		}
	}
}
