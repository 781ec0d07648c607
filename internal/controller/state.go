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
	"encoding/json"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// The state Secret is the operator's own record of a connection: the live refresh token,
// the current token, the grant it came from, an in-flight claim and the last failure.
// Workloads are not meant to mount it. It is written with optimistic concurrency
// (resourceVersion) so that no crash or second writer loses a rotated refresh token.
const (
	stateKey        = "state.json"
	stateSuffix     = "-tokenwarden-state"
	stateRoleLabel  = "oauth.tokenwarden.io/role"
	stateRoleValue  = "state"
	maxStateNameLen = 253
)

// storedToken is the current token as kept in state.
type storedToken struct {
	AccessToken string            `json:"accessToken,omitempty"`
	TokenType   string            `json:"tokenType"`
	Expiry      time.Time         `json:"expiry,omitzero"`
	Scope       string            `json:"scope,omitempty"`
	Extra       map[string]string `json:"extra,omitempty"`
	ObtainedAt  time.Time         `json:"obtainedAt"`
	// Reason is TokenIssued or TokenRefreshed: how this token came.
	Reason string `json:"reason,omitempty"`
	// ShortLived counts the tokens in a row, this one included, that came with less than
	// the request gap of life: each doubles the wait before the next request.
	ShortLived int32 `json:"shortLived,omitempty"`
	// Forced says a refresh annotation asked for this token: another one arriving within
	// the request gap is answered by it.
	Forced bool `json:"forced,omitempty"`

	// inSecret says the token is held by the workload Secret alone (a client-credentials
	// connection's inline state), with AccessToken empty.
	inSecret bool
}

// held reports whether there is a token, in memory or in the workload Secret.
func (t *storedToken) held() bool {
	return t != nil && (t.AccessToken != "" || t.inSecret)
}

// validAt reports whether the token can still be used at now.
func (t *storedToken) validAt(now time.Time) bool {
	return t.held() && (t.Expiry.IsZero() || now.Before(t.Expiry))
}

// claim marks a single-use credential (refresh token or code) as being presented. It is
// written, resourceVersion-checked, before the request: a second manager or a stale cache
// sees it, or fails to write its own, and backs off instead of presenting it again.
type claim struct {
	Holder     string             `json:"holder"`
	At         time.Time          `json:"at"`
	Grant      provider.GrantType `json:"grant"`
	Credential string             `json:"credential"` // fingerprint of what is presented
}

// failure is the last failed token request, with the inputs it failed for: a permanent
// failure is not retried until an input changes; a transient one waits until RetryAt.
type failure struct {
	Inputs    string    `json:"inputs"`
	Permanent bool      `json:"permanent"`
	Reason    string    `json:"reason"`
	Message   string    `json:"message"`
	Count     int32     `json:"count"`
	RetryAt   time.Time `json:"retryAt,omitzero"`
}

// tokenState is the content of the state Secret.
type tokenState struct {
	// Seq counts the writes of the state, so that a reconcile can tell that its cache has
	// not yet seen this manager's last write.
	Seq int64 `json:"seq"`
	// RefreshToken is the live refresh token, rotated or adopted.
	RefreshToken string `json:"refreshToken,omitempty"`
	// Token is the current access token.
	Token *storedToken `json:"token,omitempty"`
	// Config is the fingerprint of the settings the token belongs to.
	Config string `json:"config,omitempty"`
	// Endpoint is the fingerprint of the provider, endpoint and client the refresh token
	// belongs to: it is never presented anywhere else.
	Endpoint string `json:"endpoint,omitempty"`
	// Grant is the fingerprint of the grant Secret content last adopted.
	Grant string `json:"grant,omitempty"`
	// UsedCodes are fingerprints of codes already presented: a code is sent once, ever.
	UsedCodes []string `json:"usedCodes,omitempty"`
	// Claim is the in-flight request, if any.
	Claim *claim `json:"claim,omitempty"`
	// Failure is the last failure since the last success.
	Failure *failure `json:"failure,omitempty"`

	// Browser onboarding (authorization.go): the link offered, the flows started and not
	// yet completed, the code of a completed one, the provider's last refusal.
	Link       *authLink       `json:"link,omitempty"`
	Flows      []authFlow      `json:"flows,omitempty"`
	Authorized *authorizedCode `json:"authorized,omitempty"`
	Refusal    *authRefusal    `json:"refusal,omitempty"`

	// secret is the Secret this was read from: the state Secret, or the workload Secret of
	// an inline state; nil when there is none yet.
	secret *corev1.Secret
	// lostBecause says why an inline token is no longer held: its workload Secret was
	// deleted or changed, or the spec now renders it differently.
	lostBecause trigger
	// recordLost says no state could be read (no state Secret, or one that does not
	// decode): what it recorded, the used codes among it, is unknown.
	recordLost bool
}

// codeUsed reports whether the code with fingerprint fp was presented before.
func (s *tokenState) codeUsed(fp string) bool {
	return slices.Contains(s.UsedCodes, fp)
}

// maxUsedCodes bounds the record of used codes.
const maxUsedCodes = 16

// markCodeUsed records a presented code.
func (s *tokenState) markCodeUsed(fp string) {
	if s.codeUsed(fp) {
		return
	}
	s.UsedCodes = append(s.UsedCodes, fp)
	if len(s.UsedCodes) > maxUsedCodes {
		s.UsedCodes = s.UsedCodes[len(s.UsedCodes)-maxUsedCodes:]
	}
}

// stateSecretName is the name of a connection's state Secret.
func stateSecretName(connection string) string {
	if len(connection)+len(stateSuffix) <= maxStateNameLen {
		return connection + stateSuffix
	}
	return connection[:maxStateNameLen-len(stateSuffix)-13] + "-" + hash(connection)[:12] + stateSuffix
}

// decodeState reads a state Secret. A Secret that cannot be decoded is treated as empty
// state, except that it is still the object to overwrite.
func decodeState(s *corev1.Secret) (*tokenState, error) {
	st := &tokenState{secret: s}
	raw, ok := s.Data[stateKey]
	if !ok {
		st.recordLost = true
		return st, nil
	}
	if err := json.Unmarshal(raw, st); err != nil {
		return &tokenState{secret: s, recordLost: true}, fmt.Errorf("state Secret %s is not valid; starting afresh", s.Name)
	}
	st.secret = s
	return st, nil
}

// loadState reads the connection's state Secret from the cache. The cache may lag: every
// write that matters is resourceVersion-checked against it.
func (r *OAuthConnectionReconciler) loadState(ctx context.Context, conn *oauthv1alpha1.OAuthConnection) (*tokenState, error) {
	return r.readState(ctx, conn, r.Client)
}

// loadStateLive reads the state Secret from the API server.
func (r *OAuthConnectionReconciler) loadStateLive(ctx context.Context, conn *oauthv1alpha1.OAuthConnection) (*tokenState, error) {
	return r.readState(ctx, conn, r.APIReader)
}

func (r *OAuthConnectionReconciler) readState(ctx context.Context, conn *oauthv1alpha1.OAuthConnection,
	c client.Reader) (*tokenState, error) {
	s := &corev1.Secret{}
	err := c.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: stateSecretName(conn.Name)}, s)
	if apierrors.IsNotFound(err) {
		return &tokenState{recordLost: true}, nil
	}
	if err != nil {
		return nil, err
	}
	if !ownedBy(s, conn) {
		return nil, &errSecretConflict{name: s.Name, state: true}
	}
	st, err := decodeState(s)
	if err != nil {
		r.log(ctx).Info("Discarded undecodable state", "secret", s.Name)
	}
	return st, nil
}

// staleCacheGrace is how long a cache that does not show this manager's last state write
// is waited for; past it the state is read live (it may have been deleted meanwhile).
const staleCacheGrace = 10 * time.Second

// currentState checks st, read from the cache, against this manager's last state write:
// a cache that has not shown it yet is waited for, briefly, and then bypassed.
func (r *OAuthConnectionReconciler) currentState(conn *oauthv1alpha1.OAuthConnection,
	st *tokenState, readLive func() (*tokenState, error)) (*tokenState, error) {
	key := client.ObjectKeyFromObject(conn)
	rec := r.mem.written.get(key, conn.UID)
	if rec.stateSeq == 0 {
		return st, nil
	}
	if st.Seq >= rec.stateSeq {
		r.mem.written.stateCaughtUp(key, conn.UID, rec.stateSeq)
		return st, nil
	}
	if r.now().Sub(rec.stateAt) < staleCacheGrace {
		return nil, errStaleCache
	}
	live, err := readLive()
	if err != nil {
		return nil, err
	}
	// What the API server holds is the truth, even older than the last write (the state
	// Secret was deleted or replaced since).
	r.mem.written.stateCaughtUp(key, conn.UID, rec.stateSeq)
	return live, nil
}

// saveState writes st with optimistic concurrency: it creates the state Secret when st was
// read without one, and otherwise updates the resourceVersion st was read at. A conflict
// is returned as is (apierrors.IsConflict / IsAlreadyExists): someone else wrote first.
func (r *OAuthConnectionReconciler) saveState(ctx context.Context, conn *oauthv1alpha1.OAuthConnection, st *tokenState) error {
	if inlineState(conn) {
		// The token goes to the workload Secret when it is published; only the failure,
		// if any, is kept here.
		r.mem.failures.set(client.ObjectKeyFromObject(conn), conn.UID, st.Failure)
		return nil
	}
	st.Seq++
	raw, err := json.Marshal(st)
	if err != nil {
		st.Seq--
		return err
	}
	if err := r.writeState(ctx, conn, st, raw); err != nil {
		st.Seq--
		return err
	}
	r.mem.written.stateSaved(client.ObjectKeyFromObject(conn), conn.UID, st.Seq, r.now())
	return nil
}

func (r *OAuthConnectionReconciler) writeState(ctx context.Context, conn *oauthv1alpha1.OAuthConnection, st *tokenState, raw []byte) error {
	if st.secret == nil {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name:      stateSecretName(conn.Name),
				Namespace: conn.Namespace,
				Labels: map[string]string{
					oauthv1alpha1.ManagedByLabel:  oauthv1alpha1.ManagedByValue,
					oauthv1alpha1.ConnectionLabel: connectionLabelValue(conn.Name),
					stateRoleLabel:                stateRoleValue,
				},
			},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{stateKey: raw},
		}
		r.shard.labelSecret(conn, s)
		if err := controllerutil.SetControllerReference(conn, s, r.Scheme()); err != nil {
			return err
		}
		if err := r.Create(ctx, s); err != nil {
			if apierrors.IsAlreadyExists(err) {
				// Ours, written meanwhile (a lost race), or someone else's of that name,
				// which the cache of the operator's own Secrets does not show.
				if _, lerr := r.readState(ctx, conn, r.APIReader); lerr != nil {
					return lerr
				}
			}
			return err
		}
		st.secret = s
		return nil
	}
	s := st.secret.DeepCopy()
	s.Data = map[string][]byte{stateKey: raw}
	if err := r.Update(ctx, s); err != nil {
		return err
	}
	st.secret = s
	return nil
}
