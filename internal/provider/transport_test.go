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

package provider

import (
	"net/http"
	"testing"
	"time"
)

// TestClientTimeoutBoundsEveryInternalTimeout: one setting, Client.Timeout, bounds the
// transport's own timeouts too, so that a manager's --token-request-timeout is the whole
// story; MaxTimeout leaves room to store an answer within a minute.
func TestClientTimeoutBoundsEveryInternalTimeout(t *testing.T) {
	for _, tt := range []struct {
		name    string
		timeout time.Duration
		want    time.Duration
	}{
		{"a short timeout bounds the wait for response headers", 2 * time.Second, 2 * time.Second},
		{"a long timeout is not cut short by a fixed 30 s", 40 * time.Second, 40 * time.Second},
		{"zero is DefaultTimeout", 0, DefaultTimeout},
		{"beyond MaxTimeout is MaxTimeout", 10 * time.Minute, MaxTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{Timeout: tt.timeout}
			tr, ok := c.httpClient().Transport.(*http.Transport)
			if !ok {
				t.Fatalf("transport %T", c.httpClient().Transport)
			}
			if tr.ResponseHeaderTimeout != tt.want {
				t.Errorf("ResponseHeaderTimeout = %s, want %s", tr.ResponseHeaderTimeout, tt.want)
			}
			if tr.TLSHandshakeTimeout > tt.want {
				t.Errorf("TLSHandshakeTimeout = %s, beyond the request's %s", tr.TLSHandshakeTimeout, tt.want)
			}
			if got := c.timeout(); got != tt.want {
				t.Errorf("timeout() = %s, want %s", got, tt.want)
			}
		})
	}
	if DefaultTimeout > MaxTimeout || MaxTimeout > 50*time.Second {
		t.Errorf("DefaultTimeout %s, MaxTimeout %s: want DefaultTimeout <= MaxTimeout, with room to store an answer within a minute", DefaultTimeout, MaxTimeout)
	}
}
