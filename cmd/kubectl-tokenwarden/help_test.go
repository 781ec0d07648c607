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
	"strings"
	"testing"
)

// TestHelp: every command has kubectl-like help (a description, Usage, Examples and
// Flags with the kubeconfig flags) that exits 0, and usage errors exit 3 and point at it.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"status", "--help"}, {"refresh", "-h"}, {"help", "inspect"},
		{"authorize", "--help"}, {}} {
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		out := stdout.String()
		if code != exitOK || stderr.Len() > 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
		for _, want := range []string{"Usage:\n  kubectl tokenwarden", "Examples:\n  # ", "Flags:\n", "--context string",
			"-n, --namespace string", "--kubeconfig string"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: help lacks %q:\n%s", args, want, out)
			}
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "--bogus"}, "error: unknown flag: --bogus\nSee 'kubectl tokenwarden status --help' for usage.\n"},
		{[]string{"frobnicate"}, "error: unknown command \"frobnicate\" for \"kubectl tokenwarden\"\n" +
			"See 'kubectl tokenwarden --help' for usage.\n"},
		{[]string{"status", "-o", "yaml"}, "error: unknown output format \"yaml\": use wide or json\n" +
			"See 'kubectl tokenwarden status --help' for usage.\n"},
		{[]string{"inspect"}, "error: NAME is required: the connection's name\n" +
			"See 'kubectl tokenwarden inspect --help' for usage.\n"},
		{[]string{"authorize", "a", "--timeout", "soon"}, "error: invalid argument \"soon\" for \"--timeout\" flag: " +
			"time: invalid duration \"soon\"\nSee 'kubectl tokenwarden authorize --help' for usage.\n"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != exitError || stderr.String() != tc.want {
			t.Errorf("%v: exit %d, stderr:\n got %q\nwant %q", tc.args, code, stderr.String(), tc.want)
		}
	}
	var stdout bytes.Buffer
	if code := run([]string{"--version"}, &stdout, &bytes.Buffer{}); code != exitOK ||
		stdout.String() != "kubectl tokenwarden version dev\n" {
		t.Errorf("--version: exit %d, %q", code, stdout.String())
	}
}
