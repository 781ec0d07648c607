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
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

func TestNewManagerRefusesATokenRequestTimeoutThatLeavesNoTimeToStoreTheAnswer(t *testing.T) {
	tests := map[string]struct {
		timeout time.Duration
		refused bool
	}{
		"the default (zero) is taken":                {0, false},
		"45 seconds is the most":                     {45 * time.Second, false},
		"a minute leaves no time to store an answer": {time.Minute, true},
		"a negative timeout is refused":              {-time.Second, true},
		"under a second is refused":                  {time.Millisecond, true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := validTokenRequestTimeout(tt.timeout)
			if (err != nil) != tt.refused {
				t.Fatalf("validTokenRequestTimeout(%s) = %v, want refused %v", tt.timeout, err, tt.refused)
			}
			if err != nil && !strings.Contains(err.Error(), "--token-request-timeout") {
				t.Errorf("the error does not name the flag: %v", err)
			}
		})
	}
	if _, err := NewManager(&rest.Config{Host: "https://127.0.0.1:1"}, ManagerOptions{TokenRequestTimeout: time.Minute}); err == nil {
		t.Error("NewManager accepted a one-minute token request timeout")
	}
}
