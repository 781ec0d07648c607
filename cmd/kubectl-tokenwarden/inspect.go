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
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

const none = "<none>"

func (a *app) inspectCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect NAME",
		Short: "Show what the current token says, without showing the token",
		Long: `Show a connection's status and what its current access token says, without showing it.

The token is read from the connection's workload Secret (status.secretName). For a JWT,
the header (alg, kid, typ) and the claims that say what it grants and for how long (iss,
sub, aud, azp, scope or scp, exp, iat, nbf, ...) are shown, times also in UTC with how far
away they are; other claims are named only. The signature is neither shown nor verified.
Any other token is shown as "opaque token" with its length. The Secret's keys are listed
with their lengths; no token, signature or Secret value is ever printed.`,
		Example: `  # What does the current token of aurora-api grant, and until when?
  kubectl tokenwarden inspect aurora-api

  # In another namespace
  kubectl tokenwarden inspect aurora-api -n payments`,
		Args: exactlyOneName,
		RunE: a.runE(func(ctx context.Context, args []string) error { return a.inspect(ctx, args[0]) }),
	}
}

func (a *app) inspect(ctx context.Context, name string) error {
	ns, err := a.namespace()
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	conn := &oauthv1alpha1.OAuthConnection{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, conn); err != nil {
		return err
	}
	secret := &corev1.Secret{}
	secretErr := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: secretNameOf(conn)}, secret)
	if secretErr != nil && !apierrors.IsNotFound(secretErr) && !apierrors.IsForbidden(secretErr) {
		return secretErr
	}
	if secretErr != nil {
		secret = nil
	}
	now := a.now()
	var b strings.Builder
	writeConnection(&b, conn, now)
	writeConditions(&b, conn.Status.Conditions, now)
	writeSecret(&b, conn, secret, secretErr, now)
	_, err = fmt.Fprint(a.stdout, b.String())
	return err
}

// writePairs prints "name:   value" lines aligned, each line indented.
func writePairs(b *strings.Builder, indent string, pairs []field) {
	width := 0
	for _, p := range pairs {
		width = max(width, utf8.RuneCountInString(p.name))
	}
	for _, p := range pairs {
		pad := strings.Repeat(" ", width-utf8.RuneCountInString(p.name)+2)
		fmt.Fprintf(b, "%s%s:%s%s\n", indent, p.name, pad, p.value)
	}
}

func optionalTime(t *metav1.Time, now time.Time) string {
	if t == nil {
		return none
	}
	return timestamp(t.Time, now)
}

func orNone(s string) string {
	if s == "" {
		return none
	}
	return clean(s)
}

func writeConnection(b *strings.Builder, c *oauthv1alpha1.OAuthConnection, now time.Time) {
	s := &c.Status
	writePairs(b, "", []field{
		{"Name", c.Name},
		{"Namespace", c.Namespace},
		{"Provider", string(c.Spec.Provider)},
		{"Secret", secretNameOf(c)},
	})
	expires := optionalTime(s.ExpiresAt, now)
	if s.ExpiresAt == nil && hasToken(s) {
		expires = never
	}
	b.WriteString("Status:\n")
	writePairs(b, "  ", []field{
		{"Token Type", orNone(s.TokenType)},
		{"Scope", orNone(s.Scope)},
		{"Expires At", expires},
		{"Last Refresh Time", optionalTime(s.LastRefreshTime, now)},
		{"Next Refresh Time", optionalTime(s.NextRefreshTime, now)},
		{"Consecutive Failures", strconv.Itoa(int(s.ConsecutiveFailures))},
		{"Last Handled Refresh Request", orNone(s.LastHandledRefreshRequest)},
		{"Observed Generation", fmt.Sprintf("%d (generation %d)", s.ObservedGeneration, c.Generation)},
	})
}

func writeConditions(b *strings.Builder, conds []metav1.Condition, now time.Time) {
	if len(conds) == 0 {
		b.WriteString("Conditions:  " + none + "\n")
		return
	}
	b.WriteString("Conditions:\n")
	t := &table{header: []string{"TYPE", "STATUS", "REASON", "LAST TRANSITION", "MESSAGE"}}
	for _, c := range conds {
		t.add(colourNone, clean(c.Type), string(c.Status), clean(c.Reason),
			relative(c.LastTransitionTime.Time, now), clean(c.Message))
	}
	var tb strings.Builder
	_ = t.write(&tb, false)
	for line := range strings.Lines(tb.String()) {
		b.WriteString("  " + line)
	}
}

// writeSecret describes the access token and lists the Secret's keys, never a value.
func writeSecret(b *strings.Builder, c *oauthv1alpha1.OAuthConnection, secret *corev1.Secret,
	secretErr error, now time.Time) {
	ref := c.Namespace + "/" + secretNameOf(c)
	switch {
	case apierrors.IsNotFound(secretErr):
		fmt.Fprintf(b, "Access Token:  <Secret %s not found>\n", ref)
		return
	case apierrors.IsForbidden(secretErr):
		fmt.Fprintf(b, "Access Token:  <not allowed to read Secret %s>\n", ref)
		return
	}
	b.WriteString("Access Token:\n")
	if token, ok := secret.Data[oauthv1alpha1.KeyAccessToken]; ok {
		writeToken(b, parseToken(string(token)), now)
	} else {
		fmt.Fprintf(b, "  <the Secret has no %s key>\n", oauthv1alpha1.KeyAccessToken)
	}
	fmt.Fprintf(b, "Secret Data (%s):\n", ref)
	if owner := secret.Labels[oauthv1alpha1.ConnectionLabel]; owner != c.Name {
		fmt.Fprintf(b, "  Note: this Secret is not labelled %s=%s; it is not this connection's.\n",
			oauthv1alpha1.ConnectionLabel, c.Name)
	}
	pairs := make([]field, 0, len(secret.Data))
	for _, k := range slices.Sorted(maps.Keys(secret.Data)) {
		pairs = append(pairs, field{clean(k), fmt.Sprintf("<redacted, %d bytes>", len(secret.Data[k]))})
	}
	if len(pairs) == 0 {
		b.WriteString("  " + none + "\n")
	}
	writePairs(b, "  ", pairs)
}

func writeToken(b *strings.Builder, info tokenInfo, now time.Time) {
	switch info.kind {
	case tokenOpaque:
		fmt.Fprintf(b, "  opaque token (%d bytes)\n", info.size)
		return
	case tokenJWE:
		fmt.Fprintf(b, "  encrypted JWT (JWE, %d bytes): its claims cannot be read without the key\n", info.size)
	case tokenJWT:
		fmt.Fprintf(b, "  JWT (%d bytes; signature of %d bytes, not shown, not verified)\n",
			info.size, info.signatureSize)
	}
	header, otherHeader := shownFields(info.header, shownHeaderFields, now)
	b.WriteString("  Header:\n")
	writePairs(b, "    ", header)
	if len(otherHeader) > 0 {
		fmt.Fprintf(b, "    (also %s; values not shown)\n", strings.Join(otherHeader, ", "))
	}
	if info.kind != tokenJWT {
		return
	}
	claims, otherClaims := shownFields(info.claims, shownClaims, now)
	b.WriteString("  Claims:\n")
	if len(claims) == 0 {
		b.WriteString("    " + none + "\n")
	}
	writePairs(b, "    ", claims)
	if len(otherClaims) > 0 {
		fmt.Fprintf(b, "    (also %s; values not shown)\n", strings.Join(otherClaims, ", "))
	}
}
