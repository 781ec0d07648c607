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

// The two ways the redirect back reaches the command: a one-shot HTTP server on the
// loopback redirect URI, or the URL the browser landed on, pasted.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// accept takes the redirect back that carries the flow's state.
type accept func(provider.Callback, error) error

// loopback is where the command listens: a redirect URI's loopback addresses and path.
type loopback struct {
	addrs []string
	path  string
}

// loopbackOf refuses a redirect URI the command cannot listen on itself.
func loopbackOf(redirectURI string) (*loopback, error) {
	u, err := url.Parse(redirectURI)
	refuse := func(why string) error {
		return fmt.Errorf("spec.authorization.redirectURI %s %s, so the command cannot listen on it: "+
			"use --no-browser and paste the URL the browser lands on", redirectURI, why)
	}
	switch {
	case err != nil:
		return nil, refuse("is not a URL")
	case u.Scheme != "http":
		return nil, refuse("is not http to a loopback host (127.0.0.1, [::1] or localhost)")
	}
	port := u.Port()
	if p, err := net.LookupPort("tcp", port); port == "" || err != nil || p == 0 {
		return nil, refuse("has no port")
	}
	l := &loopback{path: u.Path}
	if l.path == "" {
		l.path = "/"
	}
	switch u.Hostname() {
	case "127.0.0.1", "::1":
		l.addrs = []string{net.JoinHostPort(u.Hostname(), port)}
	case "localhost":
		// The browser may resolve localhost to either.
		l.addrs = []string{net.JoinHostPort("127.0.0.1", port), net.JoinHostPort("::1", port)}
	default:
		return nil, refuse("is not http to a loopback host (127.0.0.1, [::1] or localhost)")
	}
	return l, nil
}

// listen listens on every address of l that it can; one is enough.
func (l *loopback) listen() ([]net.Listener, error) {
	var ls []net.Listener
	var errs []error
	for _, addr := range l.addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ls = append(ls, ln)
	}
	if len(ls) == 0 {
		return nil, fmt.Errorf("listening on the redirect URI: %w", errors.Join(errs...))
	}
	return ls, nil
}

// awaitLoopback serves the redirect URI until the redirect back with the flow's state
// comes, and returns what accept made of it.
func (a *app) awaitLoopback(ctx context.Context, f *flow, l *loopback, take accept) error {
	ls, err := l.listen()
	if err != nil {
		return err
	}
	cs := &callbackServer{flow: f, path: l.path, take: take, result: make(chan error, 1)}
	srv := &http.Server{Handler: cs, ReadHeaderTimeout: 10 * time.Second}
	for _, ln := range ls {
		go func() { _ = srv.Serve(ln) }()
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx) // lets the last page reach the browser
	}()
	_, _ = fmt.Fprintf(a.stderr, "Opening the authorization page of oauthconnection/%s in a browser; "+
		"if none opens, open this URL:\n\n  %s\n\n", f.conn.Name, f.url)
	if err := a.openURL(f.url); err != nil {
		_, _ = fmt.Fprintf(a.stderr, "Could not open a browser (%v): open the URL above yourself.\n", err)
	}
	_, _ = fmt.Fprintf(a.stderr, "Waiting for the browser to come back to %s ...\n", f.conn.Spec.Authorization.RedirectURI)
	select {
	case err := <-cs.result:
		return err
	case <-ctx.Done():
		if !cs.close() { // an answer is being written: it decides
			return <-cs.result
		}
		return ctx.Err()
	}
}

func (a *app) openURL(u string) error {
	if a.browse == nil {
		return errors.New("no browser")
	}
	return a.browse(u)
}

// callbackServer serves the redirect URI's path: requests without the flow's state get an
// error page and change nothing (they could be anyone's), the first with it is taken.
type callbackServer struct {
	flow   *flow
	path   string
	take   accept
	result chan error

	mu     sync.Mutex
	closed bool // an answer was taken, or the wait ended
}

// close ends the wait unless an answer was taken first.
func (s *callbackServer) close() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.closed = true
	return true
}

func (s *callbackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path != s.path:
		render(w, http.StatusNotFound, page{Title: "Not found",
			Text: "kubectl tokenwarden waits for the authorization elsewhere."})
		return
	case r.Method != http.MethodGet:
		render(w, http.StatusMethodNotAllowed, page{Title: "Method not allowed", Text: "The redirect back is a GET."})
		return
	}
	cb, err := provider.ParseCallback(s.flow.conn.Spec.Provider, r.URL.Query())
	if !s.flow.answers(cb.State) {
		render(w, http.StatusBadRequest, page{Title: "Not this authorization",
			Text: "This is not the answer to the authorization request kubectl tokenwarden is waiting for " +
				"(its state does not match). Nothing was changed."})
		return
	}
	if !s.close() {
		render(w, http.StatusConflict, page{Title: "Already answered",
			Text: "kubectl tokenwarden has already taken the answer to this authorization request."})
		return
	}
	outcome := s.take(cb, err)
	status, p := outcomePage(outcome)
	render(w, status, p)
	s.result <- outcome
}

// outcomePage tells the person in the browser how it ended; the terminal has the details.
func outcomePage(outcome error) (int, page) {
	var refused *provider.CallbackError
	switch {
	case outcome == nil:
		return http.StatusOK, page{Title: "Connected",
			Text: "kubectl tokenwarden stored the authorization code for the operator. You can close this window."}
	case errors.As(outcome, &refused):
		return http.StatusOK, page{Title: "Not connected", Error: refused.Error(),
			Text: "Nothing was stored. You can close this window."}
	}
	return http.StatusInternalServerError, page{Title: "Not connected",
		Text: "kubectl tokenwarden stored no authorization code: its terminal says why. You can close this window."}
}

// page is what the callback server shows; html/template escapes all of it.
type page struct {
	Title, Text, Error string
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}} - kubectl tokenwarden</title></head><body>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="error">{{.Error}}</p>
{{end}}<p>{{.Text}}</p>
</body></html>
`))

func render(w http.ResponseWriter, status int, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("X-Frame-Options", "DENY")
	// The page's own URL carries the code: nothing may send it on as a Referer.
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, p)
}

// maxPastedURL bounds the line read with --no-browser: a redirect back is a URL, and
// browsers keep those well under this.
const maxPastedURL = 16 << 10

// awaitPasted reads the URL the browser landed on from standard input, and returns what
// accept made of it.
func (a *app) awaitPasted(ctx context.Context, f *flow, take accept) error {
	_, _ = fmt.Fprintf(a.stderr, "Open this URL in a browser, log in and approve:\n\n  %s\n\n"+
		"Then paste the URL the browser lands on (it starts with %s; the page itself need not load) "+
		"and press Enter:\n",
		f.url, f.conn.Spec.Authorization.RedirectURI)
	lines := make(chan lineRead, 1)
	go func() { lines <- readLine(a.stdin, maxPastedURL) }()
	var in lineRead
	select {
	case in = <-lines:
	case <-ctx.Done():
		return ctx.Err()
	}
	if in.err != nil {
		return in.err
	}
	query, err := landedQuery(in.line, string(f.conn.Spec.Authorization.RedirectURI))
	if err != nil {
		return &exitCodeError{code: exitFailed,
			err: fmt.Errorf("oauthconnection/%s: %w; nothing was written", f.conn.Name, err)}
	}
	cb, err := provider.ParseCallback(f.conn.Spec.Provider, query)
	if !f.answers(cb.State) {
		return &exitCodeError{code: exitFailed, err: fmt.Errorf("oauthconnection/%s: the pasted URL does not answer "+
			"this authorization request (its state does not match; from an earlier run?); nothing was written", f.conn.Name)}
	}
	return take(cb, err)
}

type lineRead struct {
	line string
	err  error
}

// readLine reads one line of at most limit bytes.
func readLine(r io.Reader, limit int) lineRead {
	if r == nil {
		r = strings.NewReader("")
	}
	line, err := bufio.NewReaderSize(io.LimitReader(r, int64(limit)+1), 4096).ReadString('\n')
	switch {
	case len(line) > limit:
		return lineRead{err: fmt.Errorf("the pasted line is longer than %d bytes", limit)}
	case err != nil && !errors.Is(err, io.EOF):
		return lineRead{err: fmt.Errorf("reading standard input: %w", err)}
	case strings.TrimSpace(line) == "":
		return lineRead{err: errors.New("no URL on standard input: paste the URL the browser landed on")}
	}
	return lineRead{line: strings.TrimSpace(line)}
}

// landedQuery is the query of the URL the browser landed on, once it is the redirect URI.
// The error never quotes the URL: it may carry the code.
func landedQuery(landed, redirectURI string) (url.Values, error) {
	got, err := url.Parse(landed)
	if err != nil {
		return nil, errors.New("the pasted text is not a URL")
	}
	want, err := url.Parse(redirectURI)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(got.Scheme, want.Scheme) || !strings.EqualFold(got.Host, want.Host) ||
		strings.TrimSuffix(got.Path, "/") != strings.TrimSuffix(want.Path, "/") {
		return nil, fmt.Errorf("the pasted URL is not at the redirect URI %s", redirectURI)
	}
	return url.ParseQuery(got.RawQuery)
}
