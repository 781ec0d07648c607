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
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// coalesceWindow is how long before a forced refresh request a token request may have
// been made and still answer it (the API contract: requests within 10 s are coalesced).
const coalesceWindow = 10 * time.Second

type refreshOptions struct {
	wait    bool
	timeout time.Duration
}

func (a *app) refreshCommand() *cobra.Command {
	o := &refreshOptions{}
	cmd := &cobra.Command{
		Use:   "refresh NAME",
		Short: "Force a new token, and optionally wait for the outcome",
		Long: `Force the operator to request a new token for a connection.

The command sets the annotation oauth.tokenwarden.io/refresh-requested-at to the current
time; each new value makes the operator request one token. With --wait it then waits until
the operator records the request as handled (status.lastHandledRefreshRequest) and reports
the outcome.

Exit status: 0 when a new token was obtained (or without --wait, once requested); 1 when
the operator handled the request and the token request failed; 2 when --timeout passed
first; 3 on a usage error or when the API server could not be asked.`,
		Example: `  # Request a new token
  kubectl tokenwarden refresh aurora-api

  # Request one and wait up to two minutes for the operator's answer
  kubectl tokenwarden refresh aurora-api -n payments --wait --timeout 2m`,
		Args: exactlyOneName,
		RunE: a.runE(func(ctx context.Context, args []string) error { return a.refresh(ctx, o, args[0]) }),
	}
	cmd.Flags().BoolVar(&o.wait, "wait", false,
		"Wait until the operator has handled the request, and exit with its outcome.")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 60*time.Second,
		"How long --wait waits, e.g. 30s or 2m.")
	return cmd
}

// exactlyOneName accepts one connection name.
func exactlyOneName(_ *cobra.Command, args []string) error {
	switch len(args) {
	case 0:
		return errors.New("NAME is required: the connection's name")
	case 1:
		return nil
	}
	return fmt.Errorf("one NAME expected, got %d arguments", len(args))
}

func (a *app) refresh(ctx context.Context, o *refreshOptions, name string) error {
	if o.timeout <= 0 {
		return usageErrorf("--timeout must be positive, got %s", o.timeout)
	}
	ns, err := a.namespace()
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	requested := a.now().UTC()
	value := requested.Format(time.RFC3339Nano)
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{oauthv1alpha1.RefreshRequestedAnnotation: value}}})
	if err != nil {
		return err
	}
	conn := &oauthv1alpha1.OAuthConnection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := c.Patch(ctx, conn, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return err
	}
	_, _ = fmt.Fprintf(a.stdout, "oauthconnection/%s refresh requested (%s=%s)\n",
		name, oauthv1alpha1.RefreshRequestedAnnotation, value)
	if !o.wait {
		return nil
	}

	wctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	conn, err = waitHandled(wctx, c, client.ObjectKeyFromObject(conn), requested)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return &exitCodeError{code: exitTimeout, err: fmt.Errorf("oauthconnection/%s: timed out after %s "+
				"waiting for the operator to handle the refresh request (is the tokenwarden manager running?)",
				name, o.timeout)}
		}
		return err
	}
	ok, line := refreshOutcome(conn, requested, a.now())
	if !ok {
		return &exitCodeError{code: exitFailed, err: fmt.Errorf("oauthconnection/%s %s", name, line)}
	}
	_, err = fmt.Fprintf(a.stdout, "oauthconnection/%s %s\n", name, line)
	return err
}

// handled reports whether the operator has acted on the refresh request made at
// requested: it recorded that value, or a later one (a newer request answered both).
func handled(c *oauthv1alpha1.OAuthConnection, requested time.Time) bool {
	last := c.Status.LastHandledRefreshRequest
	if last == "" {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, last)
	return err == nil && !t.Before(requested)
}

// waitHandled watches the connection until its refresh request is handled, re-reading
// it whenever the watch ends early, until ctx is done.
func waitHandled(ctx context.Context, c client.WithWatch, key client.ObjectKey, requested time.Time) (
	*oauthv1alpha1.OAuthConnection, error) {
	for {
		conn := &oauthv1alpha1.OAuthConnection{}
		if err := c.Get(ctx, key, conn); err != nil {
			return nil, errors.Join(ctx.Err(), err)
		}
		if handled(conn, requested) {
			return conn, nil
		}
		w, err := c.Watch(ctx, &oauthv1alpha1.OAuthConnectionList{},
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: conn.ResourceVersion}},
			client.InNamespace(key.Namespace), client.MatchingFields{"metadata.name": key.Name})
		if err != nil {
			return nil, errors.Join(ctx.Err(), err)
		}
		conn, err = watchUntilHandled(w, requested)
		w.Stop()
		if conn != nil || err != nil {
			return conn, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// watchUntilHandled reads events until the request is handled (the connection), the
// connection goes (an error), or the watch ends (neither).
func watchUntilHandled(w watch.Interface, requested time.Time) (*oauthv1alpha1.OAuthConnection, error) {
	for ev := range w.ResultChan() {
		switch ev.Type {
		case watch.Deleted:
			return nil, errors.New("the connection was deleted while waiting")
		case watch.Added, watch.Modified:
			if conn, ok := ev.Object.(*oauthv1alpha1.OAuthConnection); ok && handled(conn, requested) {
				return conn, nil
			}
		case watch.Error:
			return nil, nil // expired resourceVersion and the like: read afresh
		}
	}
	return nil, nil
}

// refreshOutcome says whether a handled refresh request got a new token, in one line.
// lastRefreshTime has second precision, so it is compared with the request's second.
func refreshOutcome(c *oauthv1alpha1.OAuthConnection, requested, now time.Time) (bool, string) {
	s := &c.Status
	if stalled := meta.FindStatusCondition(s.Conditions, oauthv1alpha1.ConditionStalled); stalled != nil &&
		stalled.Status == metav1.ConditionTrue {
		return false, fmt.Sprintf("refresh failed: %s: %s", stalled.Reason, clean(stalled.Message))
	}
	ready := meta.FindStatusCondition(s.Conditions, oauthv1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionTrue {
		if ready == nil {
			return false, "refresh failed: the connection has no Ready condition"
		}
		return false, fmt.Sprintf("refresh failed: %s: %s", ready.Reason, clean(ready.Message))
	}
	second := requested.Truncate(time.Second)
	switch {
	case s.LastRefreshTime != nil && !s.LastRefreshTime.Time.Before(second):
		return true, "refreshed: new token obtained at " + s.LastRefreshTime.UTC().Format(time.RFC3339) +
			", " + validity(s, now)
	case s.LastRefreshTime != nil && s.ConsecutiveFailures == 0 &&
		!s.LastRefreshTime.Time.Before(second.Add(-coalesceWindow)):
		return true, "refreshed: answered by the token obtained at " +
			s.LastRefreshTime.UTC().Format(time.RFC3339) + " (forced refreshes within 10s are coalesced), " +
			validity(s, now)
	}
	return false, fmt.Sprintf("refresh failed: no new token (%d failed token requests in a row); "+
		"the previous token is still served: %s: %s", s.ConsecutiveFailures, ready.Reason, clean(ready.Message))
}

func validity(s *oauthv1alpha1.OAuthConnectionStatus, now time.Time) string {
	if s.ExpiresAt == nil {
		return "does not expire"
	}
	return "expires " + timestamp(s.ExpiresAt.Time, now)
}
