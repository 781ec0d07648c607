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
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"golang.org/x/term"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// Exit codes, the same for every command, so that scripts can tell them apart.
const (
	exitOK = 0
	// exitFailed: the operator handled a forced refresh, and its token request failed; or
	// the provider refused an authorization.
	exitFailed = 1
	// exitTimeout: nothing answered within --timeout.
	exitTimeout = 2
	// exitError: a usage error, or the API server could not be asked.
	exitError = 3
)

// version is set at build time: -ldflags "-X main.version=v0.1.0".
var version = "dev"

// env is what the commands take from the world around them, injected so that tests get
// a fixed clock, can pretend to be a terminal, and play the person at the browser.
type env struct {
	now        func() time.Time
	isTerminal func(io.Writer) bool
	// stdin is what authorize --no-browser reads the landed URL from; nil: nothing.
	stdin io.Reader
	// browse opens a URL in the person's browser; nil: there is none.
	browse func(url string) error
}

func systemEnv() env {
	return env{now: time.Now, isTerminal: isTerminal, stdin: os.Stdin, browse: openBrowser}
}

// isTerminal reports whether w is a terminal that wants colour (NO_COLOR, no-color.org, says not).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

// app is one invocation of the plugin.
type app struct {
	env
	stdout, stderr io.Writer
	// flags are kubectl's own: --kubeconfig, --context, -n, --request-timeout, ...
	flags *genericclioptions.ConfigFlags
	// running is set once a command's RunE starts: errors before it are usage errors.
	running bool
}

// run executes the plugin with args (without the program name) and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runEnv(systemEnv(), args, stdout, stderr)
}

func runEnv(e env, args []string, stdout, stderr io.Writer) int {
	// controller-runtime's client logs through this; without a logger it complains on
	// stderr after 30 s, which a long --wait reaches.
	ctrllog.SetLogger(logr.Discard())
	a := &app{env: e, stdout: stdout, stderr: stderr, flags: genericclioptions.NewConfigFlags(true)}
	root := a.rootCommand()
	if args == nil {
		args = []string{} // cobra would read os.Args
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	return a.exitCode(cmd, err)
}

// rootCommand builds the command tree. Each command lives in a file of its own and is
// added here.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-tokenwarden",
		Short: "Show, refresh, inspect and authorize tokenwarden OAuthConnections",
		Long: `Show, refresh, inspect and authorize tokenwarden OAuthConnections.

tokenwarden keeps OAuth 2.0 access tokens fresh in Secrets that workloads mount. This
plugin shows which connections need attention, forces a refresh and waits for its
outcome, tells what the current token says without ever printing it, and connects an
account through a browser login.`,
		Example: `  # List the connections of the current namespace, the most urgent first
  kubectl tokenwarden status

  # Force a refresh and wait for the operator's answer
  kubectl tokenwarden refresh aurora-api --wait

  # Show the claims of the current token (never the token)
  kubectl tokenwarden inspect aurora-api

  # Log in through a browser and hand the code to the operator
  kubectl tokenwarden authorize billing-aura`,
		Version:       version,
		SilenceErrors: true,
		SilenceUsage:  true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl tokenwarden"},
		// The plugin is run through kubectl, whose completion does not reach cobra's.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	a.flags.AddFlags(root.PersistentFlags())
	// Declared here so that cobra gives it no -v, which kubectl users know as verbosity.
	root.Flags().Bool("version", false, "Print the plugin's version and exit.")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.AddCommand(a.statusCommand(), a.refreshCommand(), a.inspectCommand(), a.authorizeCommand())
	return root
}

// runE marks the start of a command's own work and gives it a context.
func (a *app) runE(f func(ctx context.Context, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.running = true
		return f(cmd.Context(), args)
	}
}

// exitCodeError carries an outcome with its own exit code (exitFailed, exitTimeout) and
// the line to print.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

// usageError is a mistake in the command line found by a command itself.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitCode prints err as kubectl would and maps it to an exit code.
func (a *app) exitCode(cmd *cobra.Command, err error) int {
	if err == nil {
		return exitOK
	}
	var coded *exitCodeError
	var usage *usageError
	switch {
	case errors.As(err, &coded):
		_, _ = fmt.Fprintf(a.stderr, "error: %v\n", coded.err)
		return coded.code
	case errors.As(err, &usage) || !a.running:
		_, _ = fmt.Fprintf(a.stderr, "error: %v\n", err)
		if cmd != nil {
			_, _ = fmt.Fprintf(a.stderr, "See '%s --help' for usage.\n", cmd.CommandPath())
		}
		return exitError
	}
	_, _ = fmt.Fprintln(a.stderr, describeError(err))
	return exitError
}

// describeError words an API error as kubectl does.
func describeError(err error) string {
	if meta.IsNoMatchError(err) {
		return "error: the server does not serve OAuthConnections (oauth.tokenwarden.io/v1alpha1): " +
			"is tokenwarden installed on this cluster?"
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		if reason := apierrors.ReasonForError(err); reason != "" {
			return fmt.Sprintf("Error from server (%s): %v", reason, err)
		}
		return fmt.Sprintf("Error from server: %v", err)
	}
	return fmt.Sprintf("error: %v", err)
}
