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
	"strings"
	"testing"
	"time"
)

// TestDemoOnce runs `make demo DEMO_ARGS=--once`'s path, so the demo cannot rot: every
// connection becomes Ready and every expiring token is refreshed once, then it exits.
func TestDemoOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err := run(ctx, demoOptions{once: true, timeout: 4 * time.Minute, lifetime: 6 * time.Second,
		dir: t.TempDir(), root: "../.."}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatalf("demo --once failed: %v", err)
	}
	for _, want := range []string{
		"export KUBECONFIG=", "TokenIssued", "TokenRefreshed", "Every connection is Ready",
		"aurora-api", "aura-customer", "astonclub-merchant", "aurinko-user", "generic-service",
		"(", // masked values show their length
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
}
