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
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// A client-credentials connection has nothing single-use to keep: a lost token is replaced
// by asking again. Its state lives on its workload Secret, in an annotation that holds no
// secret (the token's expiry and type, the fingerprints it was obtained under, and the
// digest of the data written), so that each token costs one Secret write, not two, and a
// restart still knows every token without a request. What this gives up: a workload Secret
// deleted or edited, or a secretTemplate changed, is answered with a new token (the token
// itself is in no other place), and failures are remembered in memory only (a restart
// retries a failing connection once).
const inlineStateAnnotation = "oauth.tokenwarden.io/state"

// inlineState reports whether a connection keeps its state on its workload Secret.
func inlineState(conn *oauthv1alpha1.OAuthConnection) bool {
	return conn.Spec.GrantSecretRef == nil && conn.Spec.Authorization == nil
}

// inlineRecord is the annotation's content.
type inlineRecord struct {
	Seq      int64        `json:"seq"`
	Token    *storedToken `json:"token"`
	Config   string       `json:"config"`
	Endpoint string       `json:"endpoint"`
	// Data is the digest of the data written; Shape the fingerprint of what rendered it.
	Data  string `json:"data"`
	Shape string `json:"shape"`
}

// secretShape fingerprints what turns a token into the workload Secret's data and type.
func secretShape(conn *oauthv1alpha1.OAuthConnection, cfg *connectionConfig) string {
	parts := []string{cfg.secretType}
	if t := conn.Spec.SecretTemplate; t != nil {
		for _, k := range slices.Sorted(maps.Keys(t.Data)) {
			parts = append(parts, k, string(t.Data[k]))
		}
	}
	return hash(parts...)
}

// readInlineState reads the state of a client-credentials connection from its workload
// Secret. The token is taken as held only while the Secret's data is what was written,
// rendered the way the spec now asks.
func (x *run) readInlineState(ctx context.Context, reader client.Reader) (*tokenState, error) {
	s := &corev1.Secret{}
	err := reader.Get(ctx, types.NamespacedName{Namespace: x.conn.Namespace, Name: x.in.cfg.secretName}, s)
	if apierrors.IsNotFound(err) {
		// A token was published before (the status says when): the Secret was deleted.
		st := &tokenState{}
		if x.conn.Status.LastRefreshTime != nil && x.conn.Status.SecretName == x.in.cfg.secretName {
			st.lostBecause = triggerSecretReplaced
		}
		return x.withFailure(st), nil
	}
	if err != nil {
		return nil, err
	}
	raw := s.Annotations[inlineStateAnnotation]
	if !ownedBy(s, x.conn) || raw == "" {
		return x.withFailure(&tokenState{}), nil
	}
	rec := &inlineRecord{}
	if err := json.Unmarshal([]byte(raw), rec); err != nil {
		x.log.Info("Discarded undecodable state", "secret", s.Name)
		return x.withFailure(&tokenState{}), nil
	}
	st := &tokenState{Seq: rec.Seq, Config: rec.Config, Endpoint: rec.Endpoint, secret: s}
	digest := secretDigest(s)
	switch {
	case rec.Token == nil:
	case rec.Data != hex.EncodeToString(digest):
		st.lostBecause = triggerSecretReplaced // edited: the token in it cannot be trusted
	case rec.Shape != secretShape(x.conn, x.in.cfg):
		st.lostBecause = triggerSettingsChanged
	default:
		rec.Token.AccessToken, rec.Token.inSecret = "", true
		st.Token = rec.Token
	}
	return x.withFailure(st), nil
}

// withFailure adds the failure remembered in memory.
func (x *run) withFailure(st *tokenState) *tokenState {
	st.Failure = x.r.mem.failures.get(client.ObjectKeyFromObject(x.conn), x.conn.UID)
	return st
}

// inlineAnnotation is the annotation recording st, after its next write, on Secret data.
func (x *run) inlineAnnotation(st *tokenState, data map[string][]byte) (string, error) {
	tok := *st.Token
	tok.AccessToken = ""
	raw, err := json.Marshal(&inlineRecord{
		Seq: st.Seq + 1, Token: &tok, Config: st.Config, Endpoint: st.Endpoint,
		Data: hex.EncodeToString(dataDigest(data)), Shape: secretShape(x.conn, x.in.cfg),
	})
	if err != nil {
		return "", fmt.Errorf("encoding the state: %w", err)
	}
	return string(raw), nil
}

// patchSecretMetadata adds the labels and annotations of spec.secretTemplate that the
// workload Secret the inline state was read from lacks, without touching its data (the
// cache holds only its digest).
func (x *run) patchSecretMetadata(ctx context.Context) error {
	existing := x.st.secret
	if existing == nil {
		return nil
	}
	desired := desiredWorkloadSecret(x.conn, x.in.cfg, nil)
	x.r.shard.labelSecret(x.conn, desired)
	if metadataCurrent(existing, desired) {
		return nil
	}
	if err := x.r.Patch(ctx, withMetadataOf(existing, desired), client.MergeFromWithOptions(withoutDigest(existing), client.MergeFromWithOptimisticLock{})); err != nil {
		return err
	}
	x.log.Info("Updated the Secret's labels and annotations", "secret", existing.Name)
	return nil
}
