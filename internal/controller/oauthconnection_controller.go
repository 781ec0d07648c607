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
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// TokenSource performs one token request; *provider.Client is the production one.
type TokenSource interface {
	Token(ctx context.Context, req *provider.Request) (*provider.Token, error)
}

// OAuthConnectionReconciler keeps each OAuthConnection's token fresh in its workload Secret.
type OAuthConnectionReconciler struct {
	client.Client
	// APIReader reads from the API server, bypassing the cache: the referenced user Secrets
	// (which the manager does not cache) and state that must be current.
	APIReader client.Reader
	Recorder  events.EventRecorder
	Tokens    TokenSource
	// Identity names this manager in claims on single-use credentials.
	Identity string
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Hooks are test-only crash points; nil in production.
	Hooks *Hooks
	// ClaimTTL is how long another manager's claim on a single-use credential is honoured;
	// zero: DefaultClaimTTL.
	ClaimTTL time.Duration

	memo     *secretMemo
	written  written
	pending  pendingTokens
	failures failures
}

// Hooks lets tests stop a reconcile at each step of a refresh, as a crash would.
type Hooks struct {
	// AfterTokenResponse runs after the provider answered and before the state write.
	AfterTokenResponse func(conn types.NamespacedName) error
	// AfterStateSaved runs after the state write and before the workload Secret write.
	AfterStateSaved func(conn types.NamespacedName) error
	// AfterSecretWritten runs after both writes.
	AfterSecretWritten func(conn types.NamespacedName) error
}

// +kubebuilder:rbac:groups=oauth.tokenwarden.io,resources=oauthconnections,verbs=list;watch
// +kubebuilder:rbac:groups=oauth.tokenwarden.io,resources=oauthconnections/status,verbs=patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile runs the steps of one connection and patches its status once.
func (r *OAuthConnectionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	conn := &oauthv1alpha1.OAuthConnection{}
	if err := r.Get(ctx, req.NamespacedName, conn); err != nil {
		if apierrors.IsNotFound(err) {
			forgetConnection(req.NamespacedName)
			r.written.forget(req.NamespacedName)
			r.pending.take(req.NamespacedName, "")
			r.failures.set(req.NamespacedName, "", nil)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if !conn.DeletionTimestamp.IsZero() {
		// The Secrets are owned by the connection: the garbage collector removes them.
		return ctrl.Result{}, nil
	}
	run := &run{r: r, conn: conn, base: conn.DeepCopy(), now: r.now(), log: logr.FromContextOrDiscard(ctx)}
	run.prev = &run.base.Status
	if rec := r.written.get(req.NamespacedName, conn.UID); rec.status != nil {
		if rec.statusVersion == conn.ResourceVersion {
			r.written.statusCaughtUp(req.NamespacedName, conn.UID, rec.statusVersion)
		} else {
			// The cached connection may not show the status last written yet: start from that.
			run.prev = rec.status
			conn.Status = *rec.status.DeepCopy()
		}
	}
	result, err := run.reconcile(ctx)
	if errors.Is(err, errStaleCache) {
		// Nothing was done on what the cache showed; look again once it has caught up.
		return ctrl.Result{RequeueAfter: 100 * time.Millisecond}, nil
	}
	run.setStatus()
	if perr := r.patchStatus(ctx, run, conn); perr != nil {
		return ctrl.Result{}, errors.Join(err, perr)
	}
	run.emitEvents()
	recordConnectionMetrics(conn)
	return result, err
}

func (r *OAuthConnectionReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *OAuthConnectionReconciler) log(ctx context.Context) logr.Logger {
	return logr.FromContextOrDiscard(ctx)
}

// patchStatus writes the status when it differs from the last one written (or, when
// none was, from the cached one).
func (r *OAuthConnectionReconciler) patchStatus(ctx context.Context, x *run, conn *oauthv1alpha1.OAuthConnection) error {
	if statusEqual(x.prev, &conn.Status) {
		return nil
	}
	if err := r.Status().Patch(ctx, conn, client.MergeFrom(x.base)); err != nil {
		return client.IgnoreNotFound(err)
	}
	r.written.statusPatched(client.ObjectKeyFromObject(conn), conn.UID, &conn.Status, conn.ResourceVersion)
	return nil
}

// stall is a condition only a human can fix: a bad spec, a missing Secret, a refused
// client or grant, a Secret name clash.
type stall struct {
	reason  string
	message string
}

func (s *stall) Error() string { return s.message }

// clientCredentials are the values of the client Secret.
type clientCredentials struct {
	id, secret string
}

// grantSecret is the content of the grant Secret.
type grantSecret struct {
	name         string
	refreshToken string
	code         string
	redirectURI  string
	fingerprint  string
}

// run is one reconcile of one connection: its inputs, what it did, and what the status
// and events will say.
type run struct {
	r    *OAuthConnectionReconciler
	conn *oauthv1alpha1.OAuthConnection
	base *oauthv1alpha1.OAuthConnection
	// prev is the status as last written by this manager, or as cached.
	prev *oauthv1alpha1.OAuthConnectionStatus
	now  time.Time
	log  logr.Logger

	cfg      *connectionConfig
	st       *tokenState
	creds    *clientCredentials
	grant    *grantSecret
	inputs   string
	decision decision

	existingSecret *corev1.Secret // the workload Secret, when looked up before a request
	secretLooked   bool

	stall     *stall        // a permanent problem found before or by a token request
	obtained  trigger       // why a token was obtained in this run; "" when none was
	fresh     *pendingToken // the answer obtained in this run, until it is published (inline state)
	failed    error         // this run's failed token request
	published bool          // the workload Secret holds the state's token
	next      time.Time     // the next refresh or retry
	events    []runEvent    // recorded after the status patch
}

type runEvent struct {
	eventType, reason, note string
}

func (x *run) event(eventType, reason, format string, args ...any) {
	x.events = append(x.events, runEvent{eventType: eventType, reason: reason, note: fmt.Sprintf(format, args...)})
}

// reconcile runs the steps in order and stops at the first that cannot go on. A stall
// (only a human can fix it) still lets the last good token be published: Ready stays True
// while that token is valid.
func (x *run) reconcile(ctx context.Context) (ctrl.Result, error) {
	steps := []func(context.Context) error{
		x.resolveSpec,
		x.readState,
		x.readClientSecret,
		x.readGrantSecret,
		x.decide,
		x.obtainToken,
		x.publish,
	}
	for _, step := range steps {
		err := step(ctx)
		if err == nil {
			continue
		}
		if s, ok := errors.AsType[*stall](err); ok {
			x.stall = s
			if x.st != nil && !x.published && s.reason != oauthv1alpha1.ReasonSecretConflict {
				if perr := x.publish(ctx); perr != nil {
					if s2, ok := errors.AsType[*stall](perr); ok {
						x.stall = s2
					} else {
						return ctrl.Result{}, perr
					}
				}
			}
			return x.stalledResult(x.stall), nil
		}
		if errors.Is(err, errRequeue) {
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, err
	}
	return x.scheduledResult(), nil
}

// errRequeue asks for a prompt new look: a claim or write lost to a concurrent writer.
var errRequeue = errors.New("requeue")

// stalledResult stops retrying: a watched input changing brings the connection back. A
// valid token's expiry is still looked at, to turn Ready False when it passes.
func (x *run) stalledResult(s *stall) ctrl.Result {
	if x.st != nil && x.st.Token.validAt(x.now) && !x.st.Token.Expiry.IsZero() {
		return ctrl.Result{RequeueAfter: x.st.Token.Expiry.Sub(x.now)}
	}
	x.log.Info("Stalled until an input changes", "reason", s.reason, "message", s.message)
	return ctrl.Result{}
}

func (x *run) scheduledResult() ctrl.Result {
	if x.next.IsZero() {
		return ctrl.Result{}
	}
	return ctrl.Result{RequeueAfter: max(x.next.Sub(x.now), time.Second)}
}

func (x *run) resolveSpec(context.Context) error {
	cfg, err := resolveConfig(x.conn)
	if err != nil {
		return &stall{reason: oauthv1alpha1.ReasonInvalidSpec, message: err.Error()}
	}
	x.cfg = cfg
	return nil
}

// readUserSecret reads a Secret the user owns: from the memo of referenced Secrets, or
// live. The manager's cache holds only the operator's own Secrets.
func (x *run) readUserSecret(ctx context.Context, name, reason, role string) (map[string][]byte, error) {
	key := types.NamespacedName{Namespace: x.conn.Namespace, Name: name}
	var data map[string][]byte
	var err error
	if x.r.memo != nil {
		data, err = x.r.memo.get(ctx, x.r.APIReader, key)
	} else {
		s := &corev1.Secret{}
		err = x.r.APIReader.Get(ctx, key, s)
		data = s.Data
	}
	if apierrors.IsNotFound(err) {
		return nil, &stall{reason: reason, message: fmt.Sprintf("%s Secret %s not found", role, name)}
	}
	return data, err
}

func (x *run) readClientSecret(ctx context.Context) error {
	ref := x.conn.Spec.ClientSecretRef
	data, err := x.readUserSecret(ctx, string(ref.Name), oauthv1alpha1.ReasonClientSecretNotFound, "client")
	if err != nil {
		return err
	}
	idKey, secretKey := string(ref.ClientIDKey), string(ref.ClientSecretKey)
	if idKey == "" {
		idKey = "client_id"
	}
	if secretKey == "" {
		secretKey = "client_secret"
	}
	for _, k := range []string{idKey, secretKey} {
		if len(data[k]) == 0 {
			return &stall{reason: oauthv1alpha1.ReasonClientSecretNotFound,
				message: fmt.Sprintf("client Secret %s has no key %q", ref.Name, k)}
		}
	}
	x.creds = &clientCredentials{id: string(data[idKey]), secret: string(data[secretKey])}
	return nil
}

func (x *run) readGrantSecret(ctx context.Context) error {
	ref := x.conn.Spec.GrantSecretRef
	if ref == nil {
		return nil
	}
	data, err := x.readUserSecret(ctx, string(ref.Name), oauthv1alpha1.ReasonGrantSecretNotFound, "grant")
	if err != nil {
		return err
	}
	g := &grantSecret{
		name:         string(ref.Name),
		refreshToken: string(data["refresh_token"]),
		code:         string(data["code"]),
		redirectURI:  string(data["redirect_uri"]),
	}
	if g.refreshToken == "" && g.code == "" {
		return &stall{reason: oauthv1alpha1.ReasonGrantSecretNotFound,
			message: fmt.Sprintf("grant Secret %s has neither a refresh_token nor a code key", ref.Name)}
	}
	g.fingerprint = hash("grant", g.refreshToken, g.code, g.redirectURI)
	x.grant = g
	return nil
}

// errStaleCache says the cache has not yet seen this manager's last state write.
var errStaleCache = errors.New("the cache lags the last state write")

func (x *run) readState(ctx context.Context) error {
	var st *tokenState
	var err error
	if inlineState(x.conn) {
		st, err = x.readInlineState(ctx, x.r.Client)
		if err == nil {
			st, err = x.r.currentState(x.conn, st, func() (*tokenState, error) { return x.readInlineState(ctx, x.r.APIReader) })
		}
	} else {
		st, err = x.r.loadState(ctx, x.conn)
		if err == nil {
			st, err = x.r.currentState(x.conn, st, func() (*tokenState, error) { return x.r.loadStateLive(ctx, x.conn) })
		}
	}
	if conflict, ok := errors.AsType[*errSecretConflict](err); ok {
		return &stall{reason: oauthv1alpha1.ReasonSecretConflict, message: conflict.Error()}
	}
	if err != nil {
		return err
	}
	x.st = st
	return nil
}

// endpoint is the fingerprint of where a refresh token may be presented: the same
// provider, endpoint and client.
func (x *run) endpoint() string {
	r := &x.cfg.request
	return hash("endpoint", string(r.Provider), string(r.Environment), r.TokenURL, r.IssuerURL, x.creds.id)
}

func (x *run) decide(context.Context) error {
	grantFP := ""
	if x.grant != nil {
		grantFP = x.grant.fingerprint
	}
	x.inputs = hash("inputs", x.cfg.fingerprint(x.creds.id), x.creds.secret, grantFP)
	x.decision = decide(decisionInput{
		now:            x.now,
		state:          x.st,
		config:         x.cfg.fingerprint(x.creds.id),
		grant:          grantFP,
		inputs:         x.inputs,
		refreshRequest: x.conn.Annotations[oauthv1alpha1.RefreshRequestedAnnotation],
		lastHandled:    x.conn.Status.LastHandledRefreshRequest,
		refreshBefore:  x.cfg.refreshBefore,
		jitterSeed:     string(x.conn.UID),
	})
	x.next = x.decision.waitUntil
	if x.decision.stalled {
		f := x.st.Failure
		return &stall{reason: f.Reason, message: f.Message}
	}
	return nil
}

// obtainTimeout bounds a token request with its claim and the write of its answer.
const obtainTimeout = time.Minute

// DefaultClaimTTL is how long a claim by another manager is honoured: longer than any
// token request may take.
const DefaultClaimTTL = 2 * time.Minute

func (r *OAuthConnectionReconciler) claimTTL() time.Duration {
	if r.ClaimTTL > 0 {
		return r.ClaimTTL
	}
	return DefaultClaimTTL
}

// obtainToken makes the token request the decision asked for: it claims a single-use
// credential first, and persists the answer (a rotated refresh token above all) before
// anything else.
func (x *run) obtainToken(ctx context.Context) error {
	if x.decision.trigger == triggerNone {
		return nil
	}
	// Once a credential is claimed, the request and the write of its answer run to the
	// end even if the manager is shutting down: abandoning them halfway could lose a
	// rotated refresh token. The bound keeps a stuck API server from holding shutdown.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), obtainTimeout)
	defer cancel()
	existing, err := x.r.lookupOwnedSecret(ctx, x.conn, x.cfg.secretName, x.knownConflict())
	if conflict, ok := errors.AsType[*errSecretConflict](err); ok {
		// A name clash: obtain nothing that could not be published.
		return &stall{reason: oauthv1alpha1.ReasonSecretConflict, message: conflict.Error()}
	}
	if err != nil {
		return err
	}
	x.existingSecret, x.secretLooked = existing, true
	if p := x.r.pending.take(client.ObjectKeyFromObject(x.conn), x.conn.UID); p != nil &&
		(p.token.Expiry.IsZero() || x.now.Before(p.token.Expiry)) {
		x.log.Info("Writing a token obtained earlier that could not be stored then")
		return x.persistToken(ctx, p.grant, p.token, p.obtainedAt)
	}
	grant, credential, err := x.chooseGrant()
	if err != nil { // nothing usable to present: a failure without a request
		x.handledRefreshRequest()
		return x.recordFailure(ctx, err, grant)
	}
	st := x.st
	if grant.Type != provider.GrantClientCredentials {
		if c := st.Claim; c != nil && c.Holder != x.r.Identity && x.now.Sub(c.At) < x.r.claimTTL() {
			x.log.Info("Waited for another manager's token request", "holder", c.Holder)
			return errRequeue
		}
		st.Claim = &claim{Holder: x.r.Identity, At: x.now, Grant: grant.Type, Credential: credential}
		if grant.Type == provider.GrantAuthorizationCode {
			st.markCodeUsed(credential)
		}
		if err := x.r.saveState(ctx, x.conn, st); err != nil {
			if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
				// Someone wrote the state since we read it: look again rather than present a
				// credential that may have been used meanwhile.
				return errRequeue
			}
			return err
		}
	}

	req := x.cfg.request
	req.ClientID, req.ClientSecret = x.creds.id, x.creds.secret
	req.Grant = grant
	start := time.Now()
	tok, err := x.r.Tokens.Token(ctx, &req)
	observeRequest(x.conn.Spec.Provider, grant.Type, time.Since(start), err)
	x.handledRefreshRequest()
	if err != nil {
		return x.recordFailure(ctx, err, grant)
	}
	if err := x.r.hook(x.r.hookAfterTokenResponse(), x.conn); err != nil {
		return err
	}
	return x.persistToken(ctx, grant, tok, x.now)
}

// knownConflict reports whether the last status showed a Secret name clash: then the
// name is checked with the API server before any token request.
func (x *run) knownConflict() bool {
	c := meta.FindStatusCondition(x.prev.Conditions, oauthv1alpha1.ConditionReady)
	return c != nil && c.Reason == oauthv1alpha1.ReasonSecretConflict
}

// chooseGrant picks what to present: client credentials; the state's refresh token; or,
// when the grant Secret is new to the state, its refresh token or (once, ever) its code.
func (x *run) chooseGrant() (provider.Grant, string, error) {
	p := x.conn.Spec.Provider
	if x.grant == nil {
		return provider.Grant{Type: provider.GrantClientCredentials}, "", nil
	}
	st := x.st
	sameGrant := st.Grant == x.grant.fingerprint
	if sameGrant && st.RefreshToken != "" && st.Endpoint == x.endpoint() {
		return provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: st.RefreshToken},
			hash("refresh_token", st.RefreshToken), nil
	}
	g := x.grant
	if g.refreshToken != "" && p != oauthv1alpha1.ProviderAurinko {
		return provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: g.refreshToken},
			hash("refresh_token", g.refreshToken), nil
	}
	if g.code == "" || p == oauthv1alpha1.ProviderGeneric {
		return provider.Grant{}, "", &stall{reason: oauthv1alpha1.ReasonReauthorizationRequired,
			message: fmt.Sprintf("grant Secret %s has no usable %s; store a new one", g.name, grantKeysFor(p))}
	}
	credential := hash("code", g.code)
	if st.codeUsed(credential) {
		return provider.Grant{}, "", &stall{reason: oauthv1alpha1.ReasonReauthorizationRequired,
			message: fmt.Sprintf("the code in grant Secret %s was already exchanged and a code is "+
				"single-use; store a new code (or a refresh_token) in it", g.name)}
	}
	return provider.Grant{Type: provider.GrantAuthorizationCode, Code: g.code, RedirectURI: g.redirectURI}, credential, nil
}

func grantKeysFor(p oauthv1alpha1.Provider) string {
	switch p {
	case oauthv1alpha1.ProviderGeneric:
		return "refresh_token"
	case oauthv1alpha1.ProviderAurinko:
		return "code"
	}
	return "refresh_token or code"
}

// handledRefreshRequest records the refresh annotation as acted on: its token request
// has been made (or found impossible), whatever the outcome.
func (x *run) handledRefreshRequest() {
	if v := x.conn.Annotations[oauthv1alpha1.RefreshRequestedAnnotation]; v != "" {
		x.conn.Status.LastHandledRefreshRequest = v
	}
}

// persistToken writes the new token to state, resourceVersion-checked. A conflict after the
// provider answered is not a reason to drop the answer: it holds the newest refresh token.
// So the state is read again and the token written over it, a few times if need be.
func (x *run) persistToken(ctx context.Context, grant provider.Grant, tok *provider.Token, obtainedAt time.Time) error {
	first := x.st.Token == nil || x.decision.trigger == triggerGrantChanged || x.decision.trigger == triggerSettingsChanged
	reason := oauthv1alpha1.ReasonTokenRefreshed
	if first {
		reason = oauthv1alpha1.ReasonTokenIssued
	}
	apply := func(st *tokenState) {
		switch {
		case tok.RefreshToken != "":
			st.RefreshToken = tok.RefreshToken
		case grant.Type == provider.GrantRefreshToken:
			st.RefreshToken = grant.RefreshToken // no rotation: the presented one stays live
		default:
			st.RefreshToken = ""
		}
		st.Token = &storedToken{
			AccessToken: tok.AccessToken,
			TokenType:   tok.TokenType,
			Expiry:      tok.Expiry,
			Scope:       tok.Scope,
			Extra:       tok.Extra,
			ObtainedAt:  obtainedAt,
			Reason:      reason,
		}
		st.Config = x.cfg.fingerprint(x.creds.id)
		st.Endpoint = x.endpoint()
		if x.grant != nil {
			st.Grant = x.grant.fingerprint
		}
		if grant.Type == provider.GrantAuthorizationCode {
			st.markCodeUsed(hash("code", grant.Code))
		}
		st.Claim = nil
		st.Failure = nil
	}
	st := x.st
	var err error
	for attempt := range 5 {
		apply(st)
		if err = x.r.saveState(ctx, x.conn, st); err == nil {
			break
		}
		x.log.Info("Retrying to save the new token", "attempt", attempt+1, "error", err.Error())
		if !sleep(ctx, time.Duration(attempt+1)*200*time.Millisecond) {
			break
		}
		fresh, rerr := x.r.loadStateLive(ctx, x.conn)
		if rerr != nil {
			err = rerr
			continue
		}
		st = fresh
	}
	if err != nil {
		// The provider's answer could not be stored: keep it for the next attempt rather
		// than ask again (a rotating provider's old refresh token may be dead already).
		x.r.pending.put(client.ObjectKeyFromObject(x.conn), &pendingToken{
			uid: x.conn.UID, grant: grant, token: tok, obtainedAt: obtainedAt})
		return fmt.Errorf("saving the new token: %w", err)
	}
	x.st = st
	x.obtained = x.decision.trigger
	if inlineState(x.conn) {
		x.fresh = &pendingToken{uid: x.conn.UID, grant: grant, token: tok, obtainedAt: obtainedAt}
	}
	if first {
		x.event(corev1.EventTypeNormal, oauthv1alpha1.ReasonTokenIssued, "Obtained a token (%s)%s", x.decision.trigger, expiryNote(tok.Expiry))
	} else {
		x.event(corev1.EventTypeNormal, oauthv1alpha1.ReasonTokenRefreshed, "Refreshed the token (%s)%s", x.decision.trigger, expiryNote(tok.Expiry))
	}
	x.log.Info("Obtained token", "trigger", string(x.decision.trigger), "expiresAt", tok.Expiry, "grantType", string(grant.Type))
	return x.r.hook(x.r.hookAfterStateSaved(), x.conn)
}

func expiryNote(expiry time.Time) string {
	if expiry.IsZero() {
		return "; it does not expire"
	}
	return "; valid until " + expiry.UTC().Format(time.RFC3339)
}

// recordFailure classifies a failed (or impossible) token request and records it in state,
// with the inputs it failed for, so that a permanent failure is not retried until an input
// changes and a transient one waits for its backoff.
func (x *run) recordFailure(ctx context.Context, err error, grant provider.Grant) error {
	kind := provider.KindOf(err)
	s, isStall := errors.AsType[*stall](err)
	if kind == provider.InvalidGrant && grant.Type == provider.GrantRefreshToken {
		// A concurrent rotation (another manager, a stale cache) makes the presented refresh
		// token stale: retry with the newer one instead of reporting a stall.
		if live, lerr := x.r.loadStateLive(ctx, x.conn); lerr == nil &&
			live.RefreshToken != "" && live.RefreshToken != grant.RefreshToken {
			x.log.Info("Found a newer refresh token after invalid_grant; retrying with it")
			return errRequeue
		}
	}
	if grant.Type == provider.GrantAuthorizationCode && notSent(err) {
		// The code never left this process: it may still be used once.
		x.st.UsedCodes = removeString(x.st.UsedCodes, hash("code", grant.Code))
	}
	f := &failure{Inputs: x.inputs, Message: err.Error()}
	if prev := x.st.Failure; prev != nil {
		f.Count = prev.Count
	}
	f.Count++
	switch {
	case isStall:
		f.Permanent, f.Reason, f.Message = true, s.reason, s.message
	case kind == provider.InvalidGrant:
		f.Permanent, f.Reason = true, oauthv1alpha1.ReasonReauthorizationRequired
		f.Message = "the provider refused the grant (invalid_grant); store a new refresh_token or code in grant Secret: " + f.Message
	case kind == provider.InvalidClient:
		f.Permanent, f.Reason = true, oauthv1alpha1.ReasonInvalidClient
		f.Message = "the provider refused the client credentials; fix the client Secret: " + f.Message
	case kind == provider.BadRequest:
		f.Permanent, f.Reason = true, oauthv1alpha1.ReasonTokenRequestFailed
	default:
		f.Reason = oauthv1alpha1.ReasonTokenRequestFailed
		var retryAfter time.Duration
		if pe, ok := errors.AsType[*provider.Error](err); ok {
			retryAfter = pe.RetryAfter
		}
		f.RetryAt = retryTime(x.now, f.Count, retryAfter, expiryOf(x.st))
	}
	x.st.Claim = nil
	x.st.Failure = f
	x.failed = err
	if serr := x.r.saveState(ctx, x.conn, x.st); serr != nil {
		if apierrors.IsConflict(serr) || apierrors.IsAlreadyExists(serr) {
			return errRequeue
		}
		return serr
	}
	if f.Permanent {
		x.event(corev1.EventTypeWarning, f.Reason, "%s", f.Message)
		return &stall{reason: f.Reason, message: f.Message}
	}
	x.next = f.RetryAt
	if f.Count&(f.Count-1) == 0 { // 1, 2, 4, 8, ...: rate-limited, not one per retry
		x.event(corev1.EventTypeWarning, oauthv1alpha1.ReasonTokenRequestFailed,
			"Token request failed (%d in a row), retrying at %s: %s", f.Count, f.RetryAt.UTC().Format(time.RFC3339), f.Message)
	}
	x.log.Info("Token request failed; will retry", "failures", f.Count, "retryAt", f.RetryAt, "error", f.Message)
	return nil
}

// notSent reports whether a request failed before anything reached the provider.
func notSent(err error) bool {
	if opErr, ok := errors.AsType[*net.OpError](err); ok {
		return opErr.Op == "dial"
	}
	return false
}

func removeString(list []string, s string) []string {
	out := list[:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

// publish writes the state's token to the workload Secret, when it differs, and schedules
// the next refresh.
func (x *run) publish(ctx context.Context) error {
	if !x.st.Token.held() {
		return nil
	}
	if x.st.Token.AccessToken == "" {
		// Inline state read from the workload Secret, which holds this very token: only
		// its labels and annotations may need catching up with the spec.
		if err := x.patchSecretMetadata(ctx); err != nil {
			return err
		}
		x.published = true
		return x.removeOldSecret(ctx)
	}
	err := x.writeSecret(ctx)
	if err != nil && x.fresh != nil {
		// The workload Secret is the only place this token can go: keep it for the next
		// attempt rather than ask again.
		x.r.pending.put(client.ObjectKeyFromObject(x.conn), x.fresh)
	}
	return err
}

// writeSecret writes the state's token to the workload Secret, when it differs, with the
// inline state of a client-credentials connection.
func (x *run) writeSecret(ctx context.Context) error {
	existing := x.existingSecret
	if !x.secretLooked {
		var err error
		existing, err = x.r.lookupOwnedSecret(ctx, x.conn, x.cfg.secretName, false)
		if conflict, ok := errors.AsType[*errSecretConflict](err); ok {
			return &stall{reason: oauthv1alpha1.ReasonSecretConflict, message: conflict.Error()}
		}
		if err != nil {
			return err
		}
	}
	data, err := workloadData(x.cfg, x.st.Token)
	if err != nil {
		return &stall{reason: oauthv1alpha1.ReasonInvalidSpec, message: err.Error()}
	}
	desired := desiredWorkloadSecret(x.conn, x.cfg, data)
	inline := inlineState(x.conn)
	if inline {
		ann, err := x.inlineAnnotation(x.st, data)
		if err != nil {
			return err
		}
		if desired.Annotations == nil {
			desired.Annotations = map[string]string{}
		}
		desired.Annotations[inlineStateAnnotation] = ann
	}
	written, err := x.r.applyWorkloadSecret(ctx, x.conn, existing, desired)
	if conflict, ok := errors.AsType[*errSecretConflict](err); ok {
		return &stall{reason: oauthv1alpha1.ReasonSecretConflict, message: conflict.Error()}
	}
	if err != nil {
		return err
	}
	x.published = true
	x.fresh = nil
	if written {
		x.log.Info("Wrote Secret", "secret", desired.Name)
		if inline {
			x.st.Seq++
			x.r.written.stateSaved(client.ObjectKeyFromObject(x.conn), x.conn.UID, x.st.Seq, x.r.now())
		}
		if err := x.r.hook(x.r.hookAfterSecretWritten(), x.conn); err != nil {
			return err
		}
	}
	if err := x.removeOldSecret(ctx); err != nil {
		return err
	}
	if inline {
		if err := x.removeStateSecret(ctx); err != nil {
			return err
		}
	}
	if x.obtained != triggerNone {
		x.next = refreshAt(x.st.Token, x.cfg.refreshBefore, string(x.conn.UID))
	}
	return nil
}

// removeOldSecret deletes the Secret of a previous spec.secretName, if this connection owns it.
func (x *run) removeOldSecret(ctx context.Context) error {
	old := x.conn.Status.SecretName
	if old == "" || old == x.cfg.secretName {
		return nil
	}
	s, err := x.r.lookupOwnedSecret(ctx, x.conn, old, true)
	if s == nil || err != nil {
		return nil //nolint:nilerr // not ours or gone: nothing to remove
	}
	return client.IgnoreNotFound(x.r.Delete(ctx, s, client.Preconditions{UID: &s.UID}))
}

func (r *OAuthConnectionReconciler) hook(h func(types.NamespacedName) error, conn *oauthv1alpha1.OAuthConnection) error {
	if h == nil {
		return nil
	}
	return h(types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name})
}

func (r *OAuthConnectionReconciler) hookAfterTokenResponse() func(types.NamespacedName) error {
	if r.Hooks == nil {
		return nil
	}
	return r.Hooks.AfterTokenResponse
}

func (r *OAuthConnectionReconciler) hookAfterStateSaved() func(types.NamespacedName) error {
	if r.Hooks == nil {
		return nil
	}
	return r.Hooks.AfterStateSaved
}

func (r *OAuthConnectionReconciler) hookAfterSecretWritten() func(types.NamespacedName) error {
	if r.Hooks == nil {
		return nil
	}
	return r.Hooks.AfterSecretWritten
}
