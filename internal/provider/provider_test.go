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

package provider_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tokenwarden/tokenwarden/internal/provider"
)

func TestErrorText(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  *provider.Error
		want string
	}{
		{"names the status, code and description", &provider.Error{Kind: provider.InvalidGrant, StatusCode: 400, Code: "invalid_grant", Description: "expired"},
			"token request failed: HTTP 400: invalid_grant: expired"},
		{"names the cause of a request that got no response", &provider.Error{Err: errors.New("connection refused")}, "token request failed: connection refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("KindOf an error outside the package is Transient", func(t *testing.T) {
		if k := provider.KindOf(errors.New("x")); k != provider.Transient {
			t.Errorf("KindOf = %s", k)
		}
	})
	t.Run("KindOf finds a wrapped *Error", func(t *testing.T) {
		if k := provider.KindOf(fmt.Errorf("refresh: %w", &provider.Error{Kind: provider.InvalidClient})); k != provider.InvalidClient {
			t.Errorf("KindOf = %s", k)
		}
	})
	t.Run("kinds have names and metric labels", func(t *testing.T) {
		for k, want := range map[provider.Kind][2]string{
			provider.Transient: {"Transient", "transient"}, provider.InvalidGrant: {"InvalidGrant", "invalid_grant"},
			provider.InvalidClient: {"InvalidClient", "invalid_client"}, provider.BadRequest: {"BadRequest", "bad_request"},
			9: {"Kind(9)", "unknown"}, -1: {"Kind(-1)", "unknown"},
		} {
			if got := [2]string{k.String(), k.Label()}; got != want {
				t.Errorf("Kind(%d) = %q, want %q", int(k), got, want)
			}
		}
	})
}
