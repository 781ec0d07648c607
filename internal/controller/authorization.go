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

// Browser onboarding (spec.authorization): while a connection has no usable grant, its
// status carries a link to the callback server (callback.go); opening it starts one login
// at the provider, and the provider's redirect back leaves a code in the state Secret,
// which the reconcile exchanges through the same claim-before-send path as every
// single-use credential. Everything a flow needs lives in the state Secret, so a restart
// or another replica can finish it. This file holds the records and the decisions over
// them; the decisions are pure, with tables in authorization_test.go.

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

const (
	// linkLifetime is how long a link in status.authorizationURL can start a flow.
	linkLifetime = 24 * time.Hour
	// flowLifetime is how long a started flow's redirect back is accepted (api.md).
	flowLifetime = 10 * time.Minute
	// maxFlows bounds the flows pending per connection: a new one drops the oldest.
	maxFlows = 4
)

// authLink is the link now offered. Its token is kept here as well as in
// status.authorizationURL (which anyone who may read the connection sees): the state is the
// one record every manager reads, so that two managers show the same link instead of each
// replacing the one the other's status write has not yet shown. States written before the
// token was kept have only its hash.
type authLink struct {
	Token   string    `json:"token,omitempty"`
	Hash    string    `json:"hash"`
	Expires time.Time `json:"expires"`
	Used    bool      `json:"used,omitempty"`
	// Previous is the hash of the link this one replaced: opened again, it is told apart
	// from a link never offered.
	Previous string `json:"previous,omitempty"`
}

// authFlow is a started authorization, waiting for the provider's redirect back.
type authFlow struct {
	// State and Browser are hashes of the state parameter and of the browser-binding
	// cookie's value.
	State   string `json:"state"`
	Browser string `json:"browser"`
	// Verifier is the PKCE verifier, sent with the code exchange; empty without PKCE.
	Verifier    string    `json:"verifier,omitempty"`
	RedirectURI string    `json:"redirectURI"`
	Started     time.Time `json:"started"`
}

// authorizedCode is the code of a completed flow, exchanged at once.
type authorizedCode struct {
	Code         string    `json:"code"`
	RedirectURI  string    `json:"redirectURI"`
	CodeVerifier string    `json:"codeVerifier,omitempty"`
	At           time.Time `json:"at"`
	// Outcome is why its exchange failed, for the page the person waits on; empty until
	// then. A success removes the record.
	Outcome string `json:"outcome,omitempty"`
}

// authRefusal is the provider's refusal of the last flow (access_denied), shown in the
// condition message until an account is connected.
type authRefusal struct {
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// awaitingAuthorization says whether a stall is one a sign-in ends: no grant yet, or one
// the provider refused.
func awaitingAuthorization(s *stall) bool {
	return s != nil && (s.reason == oauthv1alpha1.ReasonAuthorizationRequired || s.reason == oauthv1alpha1.ReasonReauthorizationRequired)
}

// linkAction is what becomes of the offered link.
type linkAction int

const (
	// keepLink leaves the link as it is (or none, when none is needed).
	keepLink linkAction = iota
	// mintLink offers a new link in place of the old one.
	mintLink
	// withdrawLink removes a link no longer needed: it can start no flow.
	withdrawLink
)

// linkInput is what the decision about the offered link looks at.
type linkInput struct {
	now time.Time
	// awaiting says the connection waits for someone to connect the account.
	awaiting bool
	link     *authLink
	// shown is the hash of the link's token in status.authorizationURL; "" when the status
	// shows none (or one of another callback URL). Looked at only for a link whose token
	// the state does not keep.
	shown string
}

// linkDecision says whether to offer a new link, keep the one offered, or withdraw it.
func linkDecision(in linkInput) linkAction {
	switch {
	case !in.awaiting && in.link != nil:
		return withdrawLink
	case !in.awaiting:
		return keepLink
	case in.link == nil, in.link.Used, !in.now.Before(in.link.Expires):
		return mintLink
	case in.link.Token == "" && in.shown != in.link.Hash:
		// A link of an older state, which the status no longer shows: nobody can open it.
		return mintLink
	}
	return keepLink
}

// Why a link or a redirect back is refused. The messages are shown to the person.
var (
	errLinkUnknown  = errors.New("this link is not valid: ask for the connection's current link")
	errLinkUsed     = errors.New("this link was already used (a link starts one sign-in) or has expired: ask for the connection's new link")
	errLinkExpired  = errors.New("this link has expired: ask for the connection's new link")
	errFlowUnknown  = errors.New("this sign-in is unknown or was already completed: open the connection's link again")
	errFlowExpired  = errors.New("this sign-in took longer than 10 minutes: open the connection's link again")
	errOtherBrowser = errors.New("this sign-in was started in another browser: finish it in the browser that opened the link")
)

// checkLink says whether the link whose token hashes to tokenHash may start a flow now.
func checkLink(l *authLink, tokenHash string, now time.Time) error {
	switch {
	case l != nil && l.Previous == tokenHash:
		return errLinkUsed
	case l == nil || l.Hash != tokenHash:
		return errLinkUnknown
	case l.Used:
		return errLinkUsed
	case !now.Before(l.Expires):
		return errLinkExpired
	}
	return nil
}

// findFlow finds the flow a redirect back completes: the one started with its state, from
// the browser holding the flow's cookie, less than flowLifetime ago. An expired flow is
// returned with its error, to be removed.
func findFlow(flows []authFlow, stateHash, browserHash string, now time.Time) (int, error) {
	i := slices.IndexFunc(flows, func(f authFlow) bool { return f.State == stateHash })
	switch {
	case i < 0:
		return -1, errFlowUnknown
	case now.Sub(flows[i].Started) >= flowLifetime:
		return i, errFlowExpired
	case !sameBinding(flows[i].Browser, browserHash):
		return -1, errOtherBrowser
	}
	return i, nil
}

// sameBinding compares two hashes in constant time.
func sameBinding(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// addFlow adds f to flows, dropping those expired at now and, past maxFlows, the oldest.
func addFlow(flows []authFlow, f authFlow, now time.Time) []authFlow {
	out := append(liveFlows(slices.Clone(flows), now), f)
	if len(out) > maxFlows {
		out = out[len(out)-maxFlows:]
	}
	return out
}

// usePKCE says whether a flow sends a PKCE challenge: as spec.authorization.pkce says, by
// default where the provider declares it (Generic).
func usePKCE(a *oauthv1alpha1.Authorization, decl provider.Authorization) bool {
	switch a.PKCE {
	case oauthv1alpha1.PKCES256:
		return true
	case oauthv1alpha1.PKCEDisabled:
		return false
	}
	return decl.PKCEByDefault
}

// pendingCode is the state's authorized code when it has not been presented yet.
func pendingCode(st *tokenState) *authorizedCode {
	if a := st.Authorized; a != nil && !st.codeUsed(hash("code", a.Code)) {
		return a
	}
	return nil
}

// linkPath is the path of a connection's link below the callback URL.
func linkPath(namespace, name, token string) string {
	return "/connect/" + url.PathEscape(namespace) + "/" + url.PathEscape(name) + "/" + token
}

// shownLinkHash is the hash of the link token in a status.authorizationURL that is a link
// of this callback URL for this connection; "" otherwise.
func shownLinkHash(shown, base, namespace, name string) string {
	prefix := base + linkPath(namespace, name, "")
	token, ok := strings.CutPrefix(shown, prefix)
	if !ok || token == "" || strings.ContainsAny(token, "/?#") {
		return ""
	}
	return hash("link", token)
}

// offerAuthorization keeps status.authorizationURL right: a live link while the
// connection waits for someone to connect the account, none otherwise; and says in the
// condition message what the provider answered the last flow. Reads the stall and state;
// sets the link in state and status.
func offerAuthorization(ctx context.Context, x *run) error {
	a := x.conn.Spec.Authorization
	awaiting := a != nil && awaitingAuthorization(x.out.stall)
	if !awaiting {
		x.conn.Status.AuthorizationURL = ""
	}
	if a == nil || x.st == nil || x.st.secret == nil {
		return nil
	}
	if awaiting && x.st.Refusal != nil {
		x.out.stall.message += "; the last sign-in was refused by the provider: " + x.st.Refusal.Message
	}
	base := x.r.CallbackURL
	if base == "" {
		return nil
	}
	if !servesRedirect(string(a.RedirectURI), base) {
		// The provider would send the browser elsewhere (kubectl tokenwarden authorize's
		// loopback listener): a link of this server could start a flow it never finishes.
		if awaiting {
			x.out.stall.message += "; no link is offered because spec.authorization.redirectURI is not " + base + "/callback"
		}
		awaiting = false
		x.conn.Status.AuthorizationURL = ""
	}
	shown := shownLinkHash(x.conn.Status.AuthorizationURL, base, x.conn.Namespace, x.conn.Name)
	switch linkDecision(linkInput{now: x.now, awaiting: awaiting, link: x.st.Link, shown: shown}) {
	case mintLink:
		token := provider.NewState()
		next := &authLink{Token: token, Hash: hash("link", token), Expires: x.now.Add(linkLifetime)}
		if x.st.Link != nil {
			next.Previous = x.st.Link.Hash
		}
		x.st.Link = next
		x.st.Flows = liveFlows(x.st.Flows, x.now)
		if err := x.r.saveState(ctx, x.conn, x.st); err != nil {
			return raceAsRequeue(asStall(err))
		}
		x.log.Info("Offered a link to connect the account", "expires", x.st.Link.Expires)
	case withdrawLink:
		x.st.Link = nil
		if err := x.r.saveState(ctx, x.conn, x.st); err != nil {
			return raceAsRequeue(asStall(err))
		}
	}
	if awaiting && x.st.Link != nil {
		if x.st.Link.Token != "" {
			// The link the state keeps, whichever manager made it and whatever the status
			// showed: the state is written resourceVersion-checked, the status is not.
			x.conn.Status.AuthorizationURL = base + linkPath(x.conn.Namespace, x.conn.Name, x.st.Link.Token)
		}
		x.out.wakeAt = earliest(x.out.wakeAt, x.st.Link.Expires)
	}
	return nil
}

// servesRedirect says whether the callback server at base receives the redirects back to
// redirectURI.
func servesRedirect(redirectURI, base string) bool {
	return redirectURI == base+"/callback"
}

// liveFlows drops the flows expired at now.
func liveFlows(flows []authFlow, now time.Time) []authFlow {
	return slices.DeleteFunc(flows, func(f authFlow) bool { return now.Sub(f.Started) >= flowLifetime })
}
