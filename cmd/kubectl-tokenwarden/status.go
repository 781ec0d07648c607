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
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

const (
	// never is a time that does not come: a token without expiry, or its next refresh.
	never = "never"
	// expiringSoon is when a Ready connection's row turns yellow.
	expiringSoon = 10 * time.Minute
	// messageWidth is how much of a condition message the default output shows.
	messageWidth = 60
)

// Output formats of status.
const (
	outputTable = ""
	outputWide  = "wide"
	outputJSON  = "json"
)

type statusOptions struct {
	allNamespaces bool
	output        string
}

func (a *app) statusCommand() *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [NAME]",
		Short: "List connections, the ones that need attention first",
		Long: `List OAuthConnections with their readiness, the time left on their token and when the
operator refreshes it next.

Stalled connections (only a human can fix them) and connections that are not Ready come
first, then the ones whose token expires soonest. REASON and MESSAGE come from the Stalled
condition when it is True, else from Ready. TIME LEFT is "never" for a token that does
not expire, "expired" once it has, and "-" while there is no token. On a terminal,
connections that need attention are red and those expiring within 10 minutes yellow.`,
		Example: `  # The connections of the current namespace
  kubectl tokenwarden status

  # One connection
  kubectl tokenwarden status aurora-api -n payments

  # Every namespace, with the whole message, the Secret and the failure count
  kubectl tokenwarden status -A -o wide

  # As JSON, for scripts
  kubectl tokenwarden status -A -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: a.runE(func(ctx context.Context, args []string) error { return a.status(ctx, o, args) }),
	}
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false,
		"List the connections of every namespace.")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "Output format: wide or json.")
	return cmd
}

func (a *app) status(ctx context.Context, o *statusOptions, args []string) error {
	if o.output != outputTable && o.output != outputWide && o.output != outputJSON {
		return usageErrorf("unknown output format %q: use wide or json", o.output)
	}
	if o.allNamespaces && len(args) > 0 {
		return usageErrorf("a connection cannot be retrieved by name across all namespaces")
	}
	conns, ns, err := a.listConnections(ctx, o.allNamespaces, args)
	if err != nil {
		return err
	}
	now := a.now()
	rows := make([]statusRow, 0, len(conns))
	for i := range conns {
		rows = append(rows, newStatusRow(&conns[i], now))
	}
	sortByUrgency(rows)
	if o.output == outputJSON {
		return writeJSON(a.stdout, rows)
	}
	if len(rows) == 0 {
		if o.allNamespaces {
			_, err = fmt.Fprintln(a.stderr, "No OAuthConnections found.")
		} else {
			_, err = fmt.Fprintf(a.stderr, "No OAuthConnections found in %s namespace.\n", ns)
		}
		return err
	}
	return statusTable(rows, o.allNamespaces, o.output == outputWide).write(a.stdout, a.isTerminal(a.stdout))
}

// listConnections reads the named connection, or those of the namespace, or all.
func (a *app) listConnections(ctx context.Context, all bool, args []string) (
	[]oauthv1alpha1.OAuthConnection, string, error) {
	ns, err := a.namespace()
	if err != nil {
		return nil, "", err
	}
	c, err := a.client()
	if err != nil {
		return nil, "", err
	}
	if len(args) == 1 {
		conn := oauthv1alpha1.OAuthConnection{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: args[0]}, &conn); err != nil {
			return nil, ns, err
		}
		return []oauthv1alpha1.OAuthConnection{conn}, ns, nil
	}
	list := &oauthv1alpha1.OAuthConnectionList{}
	var opts []client.ListOption
	if !all {
		opts = append(opts, client.InNamespace(ns))
	}
	if err := c.List(ctx, list, opts...); err != nil {
		return nil, ns, err
	}
	return list.Items, ns, nil
}

// statusRow is one connection as status shows it; -o json prints these.
type statusRow struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Provider  string `json:"provider"`
	// Ready is the Ready condition's status: True, False or Unknown.
	Ready   string `json:"ready"`
	Stalled bool   `json:"stalled"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// TimeLeft is until expiresAt: "42m", "never", "expired", or "-" with no token.
	TimeLeft        string       `json:"timeLeft"`
	ExpiresAt       *metav1.Time `json:"expiresAt,omitempty"`
	NextRefresh     string       `json:"nextRefresh"`
	NextRefreshTime *metav1.Time `json:"nextRefreshTime,omitempty"`
	// LastRefreshTime is when the current token was obtained.
	LastRefreshTime     *metav1.Time `json:"lastRefreshTime,omitempty"`
	SecretName          string       `json:"secretName"`
	ConsecutiveFailures int32        `json:"consecutiveFailures"`

	urgency urgency
	// colour is the row's colour on a terminal.
	colour string
}

// urgency orders rows: the lower, the sooner a human should look.
type urgency int

const (
	urgencyStalled urgency = iota
	urgencyNotReady
	urgencyReady
)

func newStatusRow(c *oauthv1alpha1.OAuthConnection, now time.Time) statusRow {
	s := &c.Status
	r := statusRow{
		Namespace:           c.Namespace,
		Name:                c.Name,
		Provider:            string(c.Spec.Provider),
		Ready:               string(metav1.ConditionUnknown),
		Reason:              "-",
		Message:             "No status yet: the operator has not acted on this connection",
		ExpiresAt:           s.ExpiresAt,
		NextRefreshTime:     s.NextRefreshTime,
		LastRefreshTime:     s.LastRefreshTime,
		SecretName:          secretNameOf(c),
		ConsecutiveFailures: s.ConsecutiveFailures,
		urgency:             urgencyNotReady,
	}
	if ready := meta.FindStatusCondition(s.Conditions, oauthv1alpha1.ConditionReady); ready != nil {
		r.Ready, r.Reason, r.Message = string(ready.Status), ready.Reason, ready.Message
		if ready.Status == metav1.ConditionTrue {
			r.urgency = urgencyReady
		}
	}
	if meta.IsStatusConditionTrue(s.Conditions, oauthv1alpha1.ConditionStalled) {
		stalled := meta.FindStatusCondition(s.Conditions, oauthv1alpha1.ConditionStalled)
		r.Stalled, r.Reason, r.Message, r.urgency = true, stalled.Reason, stalled.Message, urgencyStalled
	}
	r.TimeLeft = timeLeft(s, now)
	r.NextRefresh = nextRefresh(s, r.Stalled, now)
	r.colour = rowColour(r, now)
	return r
}

// hasToken reports whether the status describes a token at all.
func hasToken(s *oauthv1alpha1.OAuthConnectionStatus) bool {
	return s.ExpiresAt != nil || s.LastRefreshTime != nil
}

func timeLeft(s *oauthv1alpha1.OAuthConnectionStatus, now time.Time) string {
	switch {
	case s.ExpiresAt != nil && !s.ExpiresAt.After(now):
		return "expired"
	case s.ExpiresAt != nil:
		return human(s.ExpiresAt.Sub(now))
	case hasToken(s):
		return never
	}
	return "-"
}

func nextRefresh(s *oauthv1alpha1.OAuthConnectionStatus, stalled bool, now time.Time) string {
	switch {
	case s.NextRefreshTime != nil:
		return relative(s.NextRefreshTime.Time, now)
	case !stalled && s.ExpiresAt == nil && s.LastRefreshTime != nil:
		return never // a token that does not expire is not refreshed
	}
	return "-"
}

// sortByUrgency puts stalled connections first, then those not Ready, then the rest,
// each group by the soonest expiry (no expiry last), then by namespace and name.
func sortByUrgency(rows []statusRow) {
	expiry := func(r statusRow) (bool, time.Time) {
		if r.ExpiresAt == nil {
			return true, time.Time{}
		}
		return false, r.ExpiresAt.Time
	}
	slices.SortStableFunc(rows, func(a, b statusRow) int {
		if c := cmp.Compare(a.urgency, b.urgency); c != 0 {
			return c
		}
		aNever, aExp := expiry(a)
		bNever, bExp := expiry(b)
		if aNever != bNever {
			if aNever {
				return 1
			}
			return -1
		}
		if c := aExp.Compare(bExp); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
}

// rowColour is red when a human should look, yellow when the token expires within
// expiringSoon.
func rowColour(r statusRow, now time.Time) string {
	switch {
	case r.urgency != urgencyReady:
		return colourRed
	case r.ExpiresAt != nil && r.ExpiresAt.Sub(now) < expiringSoon:
		return colourYellow
	}
	return colourNone
}

func statusTable(rows []statusRow, allNamespaces, wide bool) *table {
	t := &table{}
	if allNamespaces {
		t.header = append(t.header, "NAMESPACE")
	}
	t.header = append(t.header, "NAME", "PROVIDER", "READY", "REASON", "TIME LEFT", "NEXT REFRESH")
	if wide {
		t.header = append(t.header, "SECRET", "FAILURES")
	}
	t.header = append(t.header, "MESSAGE")
	for _, r := range rows {
		var cells []string
		if allNamespaces {
			cells = append(cells, r.Namespace)
		}
		cells = append(cells, r.Name, r.Provider, r.Ready, clean(r.Reason), r.TimeLeft, r.NextRefresh)
		msg := clean(r.Message)
		if wide {
			cells = append(cells, r.SecretName, strconv.Itoa(int(r.ConsecutiveFailures)))
		} else {
			msg = truncate(msg, messageWidth)
		}
		t.add(r.colour, append(cells, msg)...)
	}
	return t
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
