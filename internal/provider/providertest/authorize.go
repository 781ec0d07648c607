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

package providertest

// The authorization endpoints: the login page a person opens, the consent that follows, and
// the redirect back with a one-time code. Each provider's file declares its endpoint as its
// document describes it (an authorizeDocument); this file serves them all.

import (
	"crypto/subtle"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The one account of every fake's login page.
const (
	LoginUsername = "test-user"
	LoginPassword = "test-password"
)

// The choices of Aston Club's consent page: the merchant at /authorize/merchant, the
// organization at /authorize/organization. The first of each list is what a Browser picks
// unless told otherwise.
var (
	AstonClubMerchants     = []string{"Test Cafe", "Test Bistro"}
	AstonClubOrganizations = []string{"Test Hospitality Group"}
)

// authorizeDocument is a provider's authorization endpoint as its document describes it.
type authorizeDocument struct {
	// name is the provider's name on its pages.
	name string
	// paths are the endpoint's paths; the first is AuthorizeURL's.
	paths []string
	// The names of the request's parameters.
	clientID, redirectURI, responseType, scope, state string
	// stateRequired: the document's every request and redirect carries a state.
	stateRequired bool
	// pkce: the endpoint takes an RFC 7636 S256 code_challenge.
	pkce bool
	// others are the other parameters the document names; open: any other is ignored as
	// RFC 6749 section 3.1 says, else it is refused as a wrong name.
	others []string
	open   bool
	// required are others that must be present; allowed restricts the values of some.
	required []string
	allowed  map[string][]string
	// scopes are the scope values the document lists, by path; none: any.
	scopes map[string][]string
	// consent: after logging in, the person approves or denies (and, where choices lists
	// some for the path, picks one); without it the login itself approves.
	consent bool
	choices map[string]choice
	// success are what the redirect back carries besides code and state.
	success url.Values
}

// choice is a list the consent page asks the person to pick from.
type choice struct {
	field   string
	options []string
}

// paramState is the state's name in every document.
const paramState = "state"

// rfc6749Document starts a document with RFC 6749 section 4.1.1's parameter names.
func rfc6749Document(name string, paths ...string) *authorizeDocument {
	return &authorizeDocument{
		name: name, paths: paths,
		clientID: "client_id", redirectURI: "redirect_uri", responseType: "response_type", scope: "scope", state: paramState,
	}
}

// authorizingDialect is a dialect with an authorization endpoint.
type authorizingDialect interface {
	authorizeDocument() *authorizeDocument
}

func documentOf(d dialect) *authorizeDocument {
	if a, ok := d.(authorizingDialect); ok {
		return a.authorizeDocument()
	}
	return nil
}

func (doc *authorizeDocument) serves(path string) bool {
	return doc != nil && slices.Contains(doc.paths, path)
}

// names are every parameter name the document takes.
func (doc *authorizeDocument) names() []string {
	names := append([]string{doc.clientID, doc.redirectURI, doc.responseType, doc.scope, doc.state}, doc.others...)
	if doc.pkce {
		names = append(names, "code_challenge", "code_challenge_method")
	}
	return names
}

// AuthorizeURL is the provider's authorization endpoint (Aston Club: /authorize/merchant;
// /authorize/organization is beside it); "" for a provider without one (Aurora).
func (s *Server) AuthorizeURL() string {
	if doc := documentOf(s.dialect); doc != nil {
		return s.srv.URL + doc.paths[0]
	}
	return ""
}

// AuthorizeRequests counts requests that opened an authorization endpoint (GET), accepted
// or not.
func (s *Server) AuthorizeRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authorizeRequests
}

// Approvals counts authorizations approved: codes issued by the authorization endpoint.
func (s *Server) Approvals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.approvals
}

// Denials counts authorizations the person denied.
func (s *Server) Denials() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.denials
}

// pendingAuthorization is an accepted authorization request between its login page and
// the redirect back.
type pendingAuthorization struct {
	id, session string
	path        string
	redirectURI string
	state       string
	challenge   string
	clientID    string
	scope       string
	service     string // Aurinko's serviceType, shown on its sign-in page
	loggedIn    bool
}

// sessionCookie binds a pending authorization to the browser that opened it.
const sessionCookie = "providertest_session"

// authorize serves the authorization endpoint: GET opens it, POST submits its pages.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, doc *authorizeDocument) {
	switch r.Method {
	case http.MethodGet:
		s.openAuthorization(w, r, doc)
	case http.MethodPost:
		s.submitAuthorization(w, r, doc)
	default:
		s.refuseAuthorization(w, http.StatusMethodNotAllowed, "method "+r.Method+" at the authorization endpoint; it takes GET (and its pages POST)")
	}
}

// openAuthorization checks an authorization request and shows the login page.
func (s *Server) openAuthorization(w http.ResponseWriter, r *http.Request, doc *authorizeDocument) {
	s.mu.Lock()
	s.authorizeRequests++
	s.mu.Unlock()
	q := r.URL.Query()
	if reason := s.checkAuthorization(r.URL.Path, q, doc); reason != "" {
		// RFC 6749 section 4.1.2.1 forbids redirecting to a redirect URI that is not the
		// client's; this fake redirects for nothing the client got wrong, and says why.
		s.refuseAuthorization(w, http.StatusBadRequest, reason)
		return
	}
	p := &pendingAuthorization{
		id: randomString("authz-"), path: r.URL.Path, session: randomString("session-"),
		redirectURI: q.Get(doc.redirectURI), state: q.Get(doc.state), challenge: q.Get("code_challenge"),
		clientID: q.Get(doc.clientID), scope: q.Get(doc.scope), service: q.Get("serviceType"),
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		p.session = c.Value
	}
	s.mu.Lock()
	if s.pending == nil || len(s.pending) >= maxLog {
		s.pending = map[string]*pendingAuthorization{}
	}
	s.pending[p.id] = p
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: p.session, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	s.page(w, http.StatusOK, loginPage, doc, p, "")
}

// checkAuthorization says how an authorization request departs from the document.
func (s *Server) checkAuthorization(path string, q url.Values, doc *authorizeDocument) string {
	names := doc.names()
	for _, k := range slices.Sorted(maps.Keys(q)) {
		switch {
		case len(q[k]) > 1:
			return "parameter " + k + " sent more than once (RFC 6749 section 3.1)"
		case !doc.open && !slices.Contains(names, k):
			return "unexpected parameter " + k + "; " + doc.name + "'s document names " + strings.Join(names, ", ")
		}
	}
	switch {
	case q.Get(doc.clientID) == "":
		return "no " + doc.clientID
	case q.Get(doc.clientID) != s.clientID:
		return "unknown " + doc.clientID + " " + q.Get(doc.clientID)
	case q.Get(doc.redirectURI) == "":
		return "no " + doc.redirectURI
	case q.Get(doc.redirectURI) != s.redirectURI:
		return doc.redirectURI + " " + q.Get(doc.redirectURI) + " is not registered for the client"
	case q.Get(doc.responseType) != "code":
		return doc.responseType + " " + q.Get(doc.responseType) + " instead of code"
	case doc.stateRequired && q.Get(doc.state) == "":
		return "no " + doc.state
	}
	if reason := checkScope(doc.scopes[path], q.Get(doc.scope), doc.scope); reason != "" {
		return reason
	}
	for _, k := range doc.required {
		if q.Get(k) == "" {
			return "no " + k
		}
	}
	for _, k := range slices.Sorted(maps.Keys(doc.allowed)) {
		if v := q.Get(k); v != "" && !slices.Contains(doc.allowed[k], v) {
			return k + " " + v + " is not one of " + strings.Join(doc.allowed[k], ", ")
		}
	}
	return checkChallenge(q)
}

// checkScope checks each requested scope value against the document's list, if it has one.
func checkScope(listed []string, scope, name string) string {
	if len(listed) == 0 {
		return ""
	}
	for v := range strings.FieldsSeq(scope) {
		if !slices.Contains(listed, v) {
			return name + " " + v + " is not one of " + strings.Join(listed, ", ")
		}
	}
	return ""
}

// checkChallenge checks an RFC 7636 challenge: this fake takes S256 only, and says so
// rather than fall back to plain.
func checkChallenge(q url.Values) string {
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method == "":
		return ""
	case challenge == "":
		return "code_challenge_method without code_challenge"
	case method != "S256":
		return "code_challenge_method " + method + " instead of S256"
	case len(challenge) != 43 || strings.Trim(challenge, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "":
		return "code_challenge is not an S256 challenge (43 characters of base64url)"
	}
	return ""
}

// submitAuthorization handles the login and consent pages' forms.
func (s *Server) submitAuthorization(w http.ResponseWriter, r *http.Request, doc *authorizeDocument) {
	if err := r.ParseForm(); err != nil {
		s.refuseAuthorization(w, http.StatusBadRequest, "unreadable form")
		return
	}
	s.mu.Lock()
	p, ok := s.pending[r.PostForm.Get("request")]
	loggedIn := ok && p.loggedIn
	s.mu.Unlock()
	cookie, err := r.Cookie(sessionCookie)
	switch {
	case !ok || p.path != r.URL.Path:
		s.refuseAuthorization(w, http.StatusBadRequest, "no such authorization request, or it is finished")
		return
	case err != nil || subtle.ConstantTimeCompare([]byte(cookie.Value), []byte(p.session)) != 1:
		// A form posted from another browser: cross-site request forgery of the login.
		s.refuseAuthorization(w, http.StatusBadRequest, "the form came without the session cookie of the browser that opened it")
		return
	}
	if !loggedIn {
		s.login(w, r, doc, p)
		return
	}
	s.decide(w, r, doc, p)
}

// login checks the credentials; without a consent page they approve.
func (s *Server) login(w http.ResponseWriter, r *http.Request, doc *authorizeDocument, p *pendingAuthorization) {
	user, pass := r.PostForm.Get("username"), r.PostForm.Get("password")
	if subtle.ConstantTimeCompare([]byte(user), []byte(LoginUsername)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(LoginPassword)) != 1 {
		s.page(w, http.StatusUnauthorized, loginPage, doc, p, "Wrong username or password.")
		return
	}
	s.mu.Lock()
	p.loggedIn = true
	s.mu.Unlock()
	if !doc.consent {
		s.approve(w, doc, p)
		return
	}
	s.page(w, http.StatusOK, consentPage, doc, p, "")
}

// decide takes the consent page's answer.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, doc *authorizeDocument, p *pendingAuthorization) {
	switch r.PostForm.Get("decision") {
	case "deny":
		s.deny(w, doc, p)
	case "approve":
		if c, ok := doc.choices[p.path]; ok && !slices.Contains(c.options, r.PostForm.Get(c.field)) {
			s.page(w, http.StatusBadRequest, consentPage, doc, p, "Choose one from the list.")
			return
		}
		s.approve(w, doc, p)
	default:
		s.page(w, http.StatusBadRequest, consentPage, doc, p, "Approve or deny.")
	}
}

// approve issues a one-time code bound to the redirect URI and challenge, and sends the
// browser back with it.
func (s *Server) approve(w http.ResponseWriter, doc *authorizeDocument, p *pendingAuthorization) {
	s.mu.Lock()
	if _, ok := s.pending[p.id]; !ok { // approved or denied meanwhile
		s.mu.Unlock()
		s.refuseAuthorization(w, http.StatusBadRequest, "no such authorization request, or it is finished")
		return
	}
	delete(s.pending, p.id)
	code := randomString("code-")
	s.codes[code] = &credential{family: s.newFamily(), challenge: p.challenge, redirectURI: p.redirectURI}
	s.material = append(s.material, code)
	s.approvals++
	s.mu.Unlock()
	q := url.Values{}
	maps.Copy(q, doc.success)
	q.Set("code", code)
	s.redirectBack(w, doc, p, q)
}

// deny sends the browser back with RFC 6749 section 4.1.2.1's access_denied.
func (s *Server) deny(w http.ResponseWriter, doc *authorizeDocument, p *pendingAuthorization) {
	s.mu.Lock()
	_, ok := s.pending[p.id]
	delete(s.pending, p.id)
	if ok {
		s.denials++
	}
	s.mu.Unlock()
	if !ok {
		s.refuseAuthorization(w, http.StatusBadRequest, "no such authorization request, or it is finished")
		return
	}
	s.redirectBack(w, doc, p, url.Values{"error": {"access_denied"}, "error_description": {"The user denied the request"}})
}

// redirectBack redirects to the registered redirect URI, its own query kept, with q and the
// state echoed.
func (s *Server) redirectBack(w http.ResponseWriter, doc *authorizeDocument, p *pendingAuthorization, q url.Values) {
	u, _ := url.Parse(p.redirectURI) // registered, so it parses
	back := u.Query()
	maps.Copy(back, q)
	if p.state != "" {
		back.Set(doc.state, p.state)
	}
	u.RawQuery = back.Encode()
	w.Header().Set("Location", u.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// refuseAuthorization shows an error page, redirects nowhere, and records why.
func (s *Server) refuseAuthorization(w http.ResponseWriter, status int, reason string) {
	s.mu.Lock()
	reason = s.scrub(reason)
	s.rejections = append(s.rejections, reason)
	s.mu.Unlock()
	render(w, status, errorPage, pageData{Provider: "Authorization", Error: reason})
}

// pageData is what the pages show; html/template escapes all of it.
type pageData struct {
	Provider, Action, Request string
	ClientID, Scope, Service  string
	Error                     string
	ChoiceField               string
	Choices                   []string
}

func (s *Server) page(w http.ResponseWriter, status int, t *template.Template, doc *authorizeDocument, p *pendingAuthorization, msg string) {
	d := pageData{
		Provider: doc.name, Action: p.path, Request: p.id,
		ClientID: p.clientID, Scope: p.scope, Service: p.service, Error: msg,
	}
	if c, ok := doc.choices[p.path]; ok {
		d.ChoiceField, d.Choices = c.field, c.options
	}
	render(w, status, t, d)
}

func render(w http.ResponseWriter, status int, t *template.Template, d pageData) {
	w.Header().Set(headerContentType, "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = t.Execute(w, d)
}

const pageHead = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Provider}}</title></head><body>
<h1>{{.Provider}}</h1>
{{if .Error}}<p class="error">{{.Error}}</p>
{{end}}`

var (
	loginPage = template.Must(template.New("login").Parse(pageHead + `<p>Log in to connect {{.ClientID}}{{if .Service}} to your {{.Service}} account{{end}}{{if .Scope}} (scope {{.Scope}}){{end}}.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="request" value="{{.Request}}">
<label>Username <input type="text" name="username" autocomplete="username"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Log in</button>
</form>
</body></html>
`))
	consentPage = template.Must(template.New("consent").Parse(pageHead + `<p>{{.ClientID}} asks for access{{if .Scope}} (scope {{.Scope}}){{end}}.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="request" value="{{.Request}}">
{{range .Choices}}<label><input type="radio" name="{{$.ChoiceField}}" value="{{.}}"> {{.}}</label>
{{end}}<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</body></html>
`))
	errorPage = template.Must(template.New("error").Parse(pageHead + `<p>The request cannot be authorized; you are not sent back.</p>
</body></html>
`))
)
