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
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// The kinds of error a step returns. The runner turns each into a result: a stall stops
// retrying until an input changes, a requeue looks again shortly, a stale cache waits for
// the cache, anything else is returned to controller-runtime for its rate-limited retry.

// stall is a condition only a human can fix: a bad spec, a missing Secret, a refused
// client or grant, a Secret name clash.
type stall struct {
	reason  string
	message string
}

func (s *stall) Error() string { return s.message }

func stalled(reason, format string, args ...any) *stall {
	return &stall{reason: reason, message: fmt.Sprintf(format, args...)}
}

// errRequeue asks for a prompt new look: a claim or write lost to a concurrent writer.
var errRequeue = errors.New("requeue")

// errStaleCache says the cache has not yet seen this manager's last state write.
var errStaleCache = errors.New("the cache lags the last state write")

// errSecretConflict says a Secret of the wanted name exists and is not this connection's.
type errSecretConflict struct {
	name string
	// state says the name is that of the connection's state Secret.
	state bool
}

func (e *errSecretConflict) Error() string {
	if e.state {
		return fmt.Sprintf("Secret %s, the name of this OAuthConnection's state Secret, exists and is not "+
			"owned by it; delete that Secret or rename the connection", e.name)
	}
	return fmt.Sprintf("Secret %s exists and is not owned by this OAuthConnection; "+
		"delete it or choose another spec.secretName", e.name)
}

// asStall turns a Secret name clash into a SecretConflict stall; other errors pass.
func asStall(err error) error {
	if c, ok := errors.AsType[*errSecretConflict](err); ok {
		return &stall{reason: oauthv1alpha1.ReasonSecretConflict, message: c.Error()}
	}
	return err
}

// lostRace reports whether a write failed because someone else wrote first (an update on
// an old resourceVersion, or a create of something that exists): look again, do not
// present a credential that may have been used meanwhile.
func lostRace(err error) bool {
	return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
}

// raceAsRequeue turns a lost race into errRequeue; other errors pass.
func raceAsRequeue(err error) error {
	if lostRace(err) {
		return errRequeue
	}
	return err
}
