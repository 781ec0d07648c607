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

// The callback server of browser onboarding. It runs on every replica (not only the
// leader): everything a flow needs is in the connection's state Secret, written with
// optimistic concurrency, so a link opened on one replica and a redirect back that lands on
// another, or after a restart, work the same. It serves two pages:
//
//	GET {base}/connect/{namespace}/{name}/{token}  the link in status.authorizationURL
//	GET {base}/callback                             the provider's redirect back
//
// and exchanges nothing itself: the code goes into the state Secret, whose change wakes
// the reconcile, which presents it through the claim-before-send path.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// CallbackOptions configure the callback server; off unless BindAddress is set.
type CallbackOptions struct {
	// BindAddress is where it listens (--callback-bind-address); "" or "0": off.
	BindAddress string
	// URL is its external base URL as browsers reach it (--callback-url): https, or http
	// to a loopback host; a path prefix is kept, and an Ingress forwards paths unchanged.
	URL string
	// Listener, when set, is used instead of BindAddress (tests).
	Listener net.Listener
	// ExchangeWait bounds how long the callback page waits for the code's exchange before
	// it says the code was received; zero: 20 s.
	ExchangeWait time.Duration
}

// Enabled reports whether the callback server runs.
func (o CallbackOptions) Enabled() bool {
	return o.Listener != nil || (o.BindAddress != "" && o.BindAddress != "0")
}

// baseURL checks URL and returns it without a trailing slash.
func (o CallbackOptions) baseURL() (string, error) {
	if o.URL == "" {
		return "", errors.New("--callback-url is required with --callback-bind-address: the external URL of the callback server")
	}
	u, err := url.Parse(o.URL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return "", fmt.Errorf("--callback-url %q must be an absolute http(s) URL", o.URL)
	case u.Scheme == "http" && !loopbackHost(u.Hostname()):
		return "", fmt.Errorf("--callback-url %q must use https (http only for loopback hosts)", o.URL)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("--callback-url %q must have no credentials, query or fragment", o.URL)
	}
	return strings.TrimSuffix(o.URL, "/"), nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Bounds of the callback server.
const (
	// maxCallbackQuery bounds a request's query (a code and a state are short).
	maxCallbackQuery = 8 << 10
	// callbackRate and callbackBurst limit the requests of one client address.
	callbackRate  = rate.Limit(5)
	callbackBurst = 50
	// maxLimitedAddresses bounds the rate limiter's memory.
	maxLimitedAddresses = 10000
	// saveAttempts bounds the retries of a state write that lost a race.
	saveAttempts = 4
)

// callbackServer serves the link and the redirect back.
type callbackServer struct {
	r       *OAuthConnectionReconciler
	authz   *provider.Client
	opts    CallbackOptions
	base    string
	prefix  string // the base URL's path
	secure  bool
	limiter *addressLimiter
	log     logr.Logger
}

func newCallbackServer(r *OAuthConnectionReconciler, authz *provider.Client, o CallbackOptions, log logr.Logger) (*callbackServer, error) {
	base, err := o.baseURL()
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(base) // checked by baseURL
	if o.ExchangeWait == 0 {
		o.ExchangeWait = 20 * time.Second
	}
	return &callbackServer{
		r: r, authz: authz, opts: o, base: base, prefix: u.EscapedPath(), secure: u.Scheme == "https",
		limiter: newAddressLimiter(), log: log,
	}, nil
}

// NeedLeaderElection is false: every replica serves the pages.
func (s *callbackServer) NeedLeaderElection() bool { return false }

// Start serves until ctx ends.
func (s *callbackServer) Start(ctx context.Context) error {
	ln := s.opts.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.opts.BindAddress); err != nil {
			return fmt.Errorf("callback server: %w", err)
		}
	}
	srv := &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      s.opts.ExchangeWait + 15*time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	s.log.Info("Serving the callback of browser onboarding", "address", ln.Addr().String(), "url", s.base)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *callbackServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+s.prefix+"/connect/{namespace}/{name}/{token}", s.connect)
	mux.HandleFunc("GET "+s.prefix+"/callback", s.callback)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case !s.limiter.allow(r.RemoteAddr):
			s.page(w, http.StatusTooManyRequests, pageTooMany, "")
		case len(r.URL.RawQuery) > maxCallbackQuery || r.ContentLength != 0:
			s.page(w, http.StatusRequestEntityTooLarge, pageTooLarge, "")
		default:
			mux.ServeHTTP(w, r)
		}
	})
}

// connect starts a flow from a link: a fresh state (and PKCE verifier), the link marked
// used, a cookie that binds the flow to this browser, and a redirect to the provider.
func (s *callbackServer) connect(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	key := types.NamespacedName{Namespace: req.PathValue("namespace"), Name: req.PathValue("name")}
	log := s.log.WithValues("connection", key.String())
	tokenHash := hash("link", req.PathValue("token"))
	conn, err := s.connection(ctx, key)
	if err != nil {
		s.refuse(w, err, errLinkUnknown) // as a wrong token: which connections exist is not told
		return
	}
	st, err := s.liveLink(ctx, conn, tokenHash)
	if err != nil {
		log.Info("Refused a link", "reason", err.Error())
		s.refuse(w, err, nil)
		return
	}
	state, binding := stateParameter(key), provider.NewState()
	target, verifier, err := s.authorizationURL(ctx, conn, state)
	if err != nil {
		log.Info("Could not build the authorization request", "error", err.Error())
		s.page(w, http.StatusBadGateway, pageFailed, "the sign-in could not start: "+err.Error())
		return
	}
	for attempt := 1; ; attempt++ {
		now := s.r.now()
		st.Link.Used = true
		st.Flows = addFlow(st.Flows, authFlow{State: hash("state", state), Browser: hash("browser", binding),
			Verifier: verifier, RedirectURI: string(conn.Spec.Authorization.RedirectURI), Started: now}, now)
		err = s.r.saveState(ctx, conn, st)
		if err == nil {
			break
		}
		if !lostRace(err) || attempt == saveAttempts {
			s.refuse(w, err, nil)
			return
		}
		if st, err = s.liveLink(ctx, conn, tokenHash); err != nil {
			s.refuse(w, err, nil)
			return
		}
	}
	log.Info("Started a sign-in from the connection's link")
	http.SetCookie(w, s.bindingCookie(state, binding, int(flowLifetime.Seconds())))
	securityHeaders(w)
	http.Redirect(w, req, target, http.StatusSeeOther)
}

// liveLink reads the state and checks that the link whose token hashes to tokenHash may
// start a flow.
func (s *callbackServer) liveLink(ctx context.Context, conn *oauthv1alpha1.OAuthConnection, tokenHash string) (*tokenState, error) {
	st, err := s.r.loadStateLive(ctx, conn)
	if err != nil {
		return nil, err
	}
	if err := checkLink(st.Link, tokenHash, s.r.now()); err != nil {
		return nil, err
	}
	return st, nil
}

// callback takes the provider's redirect back: the flow its state started, from the
// browser that started it, within flowLifetime, once. The code is left in the state for
// the reconcile to exchange; the page then waits, briefly, for the outcome.
func (s *callbackServer) callback(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	query := req.URL.Query()
	state := query.Get("state")
	key, ok := connectionOfState(state)
	if !ok {
		s.page(w, http.StatusBadRequest, pageRefused, errFlowUnknown.Error())
		return
	}
	log := s.log.WithValues("connection", key.String())
	conn, err := s.connection(ctx, key)
	if err != nil {
		s.refuse(w, err, errFlowUnknown)
		return
	}
	binding := ""
	if c, err := req.Cookie(cookieName(state)); err == nil {
		binding = c.Value
	}
	var (
		cb      provider.Callback
		cbErr   error
		st      *tokenState
		at      time.Time
		refusal error
	)
	for attempt := 1; ; attempt++ {
		if st, err = s.r.loadStateLive(ctx, conn); err != nil {
			s.refuse(w, err, nil)
			return
		}
		at = s.r.now()
		i, ferr := findFlow(st.Flows, hash("state", state), hash("browser", binding), at)
		if ferr != nil && !errors.Is(ferr, errFlowExpired) {
			log.Info("Refused a redirect back", "reason", ferr.Error())
			s.page(w, http.StatusForbidden, pageRefused, ferr.Error())
			return
		}
		flow := st.Flows[i]
		st.Flows = append(st.Flows[:i:i], st.Flows[i+1:]...) // a state is accepted once
		refusal = ferr
		if refusal == nil {
			cb, cbErr = provider.ParseCallback(conn.Spec.Provider, query)
			var pe *provider.CallbackError
			switch {
			case errors.As(cbErr, &pe):
				st.Refusal = &authRefusal{Message: pe.Error(), At: at}
			case cbErr == nil:
				st.Authorized = &authorizedCode{Code: cb.Code, RedirectURI: flow.RedirectURI, CodeVerifier: flow.Verifier, At: at}
				st.Refusal = nil
			}
		}
		err = s.r.saveState(ctx, conn, st)
		if err == nil {
			break
		}
		if !lostRace(err) || attempt == saveAttempts {
			s.refuse(w, err, nil)
			return
		}
	}
	http.SetCookie(w, s.bindingCookie(state, "", -1))
	switch {
	case refusal != nil:
		log.Info("Refused a redirect back", "reason", refusal.Error())
		s.page(w, http.StatusForbidden, pageRefused, refusal.Error())
	case cbErr != nil:
		log.Info("The provider did not authorize the account", "error", cbErr.Error())
		s.page(w, http.StatusForbidden, pageDenied, cbErr.Error())
	default:
		log.Info("Received a code from the provider; exchanging it")
		s.awaitExchange(ctx, w, conn, cb.Code, at)
	}
}

// awaitExchange waits for the reconcile to exchange the code received at, and shows the
// outcome; past ExchangeWait, that the code was received.
func (s *callbackServer) awaitExchange(ctx context.Context, w http.ResponseWriter, conn *oauthv1alpha1.OAuthConnection, code string, at time.Time) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.ExchangeWait)
	defer cancel()
	for {
		st, err := s.r.loadStateLive(ctx, conn)
		if err == nil {
			a := st.Authorized
			switch {
			case a != nil && a.Code == code && a.Outcome != "":
				s.page(w, http.StatusOK, pageExchangeFailed, a.Outcome)
				return
			case (a == nil || a.Code != code) && st.Token != nil && !st.Token.ObtainedAt.Before(at):
				s.page(w, http.StatusOK, pageConnected, "")
				return
			}
		}
		if !sleep(ctx, 250*time.Millisecond) {
			s.page(w, http.StatusAccepted, pageReceived, "")
			return
		}
	}
}

// connection reads a connection that runs browser onboarding, from the API server: the
// redirect back may land on a manager whose cache holds other connections (a shard of
// --connection-selector).
func (s *callbackServer) connection(ctx context.Context, key types.NamespacedName) (*oauthv1alpha1.OAuthConnection, error) {
	conn := &oauthv1alpha1.OAuthConnection{}
	if err := s.r.APIReader.Get(ctx, key, conn); err != nil {
		return nil, err
	}
	if conn.Spec.Authorization == nil || conn.DeletionTimestamp != nil {
		return nil, apierrors.NewNotFound(oauthv1alpha1.GroupVersion.WithResource("oauthconnections").GroupResource(), key.Name)
	}
	return conn, nil
}

// authorizationURL builds the connection's authorization request for state; it returns
// the PKCE verifier too when the flow sends a challenge.
func (s *callbackServer) authorizationURL(ctx context.Context, conn *oauthv1alpha1.OAuthConnection, state string) (string, string, error) {
	cfg, err := resolveConfig(conn)
	if err != nil {
		return "", "", err
	}
	clientID, err := s.clientID(ctx, conn)
	if err != nil {
		return "", "", err
	}
	a := conn.Spec.Authorization
	req := &provider.AuthorizationRequest{
		Provider: cfg.request.Provider, Environment: cfg.request.Environment,
		TokenURL: cfg.request.TokenURL, IssuerURL: cfg.request.IssuerURL,
		AuthorizeURL: string(a.AuthorizeURL), ClientID: clientID, RedirectURI: string(a.RedirectURI),
		Scopes: cfg.request.Scopes, State: state,
	}
	if len(a.Parameters) > 0 {
		req.Parameters = make(map[string]string, len(a.Parameters))
		for k, v := range a.Parameters {
			req.Parameters[k] = string(v)
		}
	}
	verifier := ""
	if decl, _ := provider.AuthorizationOf(conn.Spec.Provider); usePKCE(a, decl) {
		verifier = provider.NewVerifier()
		req.CodeChallenge = provider.S256Challenge(verifier)
	}
	target, err := s.authz.AuthorizationURL(ctx, req)
	return target, verifier, err
}

// clientID reads the client id (only) from the client Secret.
func (s *callbackServer) clientID(ctx context.Context, conn *oauthv1alpha1.OAuthConnection) (string, error) {
	ref := conn.Spec.ClientSecretRef
	sec := &corev1.Secret{}
	if err := s.r.APIReader.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: string(ref.Name)}, sec); err != nil {
		if apierrors.IsNotFound(err) {
			return "", fmt.Errorf("client Secret %s not found", ref.Name)
		}
		return "", errors.New("the client Secret could not be read")
	}
	key := string(ref.ClientIDKey)
	if key == "" {
		key = "client_id"
	}
	if len(sec.Data[key]) == 0 {
		return "", fmt.Errorf("client Secret %s has no key %q", ref.Name, key)
	}
	return string(sec.Data[key]), nil
}

// refuse shows err when it is one of the page's own refusals; notFound, with the status of
// that refusal, for a connection that is not there (or runs no onboarding), so that the
// pages tell nobody which connections exist; and a plain retry page for anything else (an
// API error is not the person's to read).
func (s *callbackServer) refuse(w http.ResponseWriter, err, notFound error) {
	switch {
	case errors.Is(err, errLinkUnknown), errors.Is(err, errLinkUsed), errors.Is(err, errLinkExpired):
		s.page(w, http.StatusGone, pageRefused, err.Error())
	case errors.Is(notFound, errLinkUnknown) && apierrors.IsNotFound(err):
		s.page(w, http.StatusGone, pageRefused, notFound.Error())
	case notFound != nil && apierrors.IsNotFound(err):
		s.page(w, http.StatusForbidden, pageRefused, notFound.Error())
	default:
		s.log.Info("Could not serve a sign-in page", "error", err.Error())
		s.page(w, http.StatusServiceUnavailable, pageFailed, "the operator could not record the sign-in; try again in a minute")
	}
}

// stateParameter is a fresh state that names its connection, so that a redirect back
// finds its flow on any replica: base64url("namespace/name"), a dot, and 256 random bits.
func stateParameter(key types.NamespacedName) string {
	return base64.RawURLEncoding.EncodeToString([]byte(key.String())) + "." + provider.NewState()
}

// connectionOfState reads the connection a state names; false for anything else.
func connectionOfState(state string) (types.NamespacedName, bool) {
	prefix, random, ok := strings.Cut(state, ".")
	if !ok || random == "" || len(state) > 1024 {
		return types.NamespacedName{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(prefix)
	if err != nil {
		return types.NamespacedName{}, false
	}
	ns, name, ok := strings.Cut(string(raw), "/")
	if !ok || ns == "" || name == "" {
		return types.NamespacedName{}, false
	}
	return types.NamespacedName{Namespace: ns, Name: name}, true
}

// cookieName is the name of the browser-binding cookie of the flow with state: one per
// flow, so that one browser can connect several accounts at once.
func cookieName(state string) string {
	return "tokenwarden-" + hash("cookie", state)[:16]
}

// bindingCookie binds a flow to the browser that started it: sent back only to the
// callback path, never to scripts, and on the provider's top-level redirect (Lax).
// maxAge < 0 deletes it.
func (s *callbackServer) bindingCookie(state, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: cookieName(state), Value: value, Path: s.prefix + "/callback", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	}
}

// addressLimiter is a token bucket per client address, its table bounded.
type addressLimiter struct {
	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

func newAddressLimiter() *addressLimiter {
	return &addressLimiter{limiters: map[string]*rate.Limiter{}}
}

func (l *addressLimiter) allow(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.limiters[host]
	if !ok {
		if len(l.limiters) >= maxLimitedAddresses {
			clear(l.limiters) // a flood of addresses starts every bucket afresh
		}
		lim = rate.NewLimiter(callbackRate, callbackBurst)
		l.limiters[host] = lim
	}
	return lim.Allow()
}
