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

package providertest_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// flow is one provider's authorization as the operator runs it: the authorization request
// built by provider.Client, a person at the fake's pages, the code exchanged by
// provider.Client.
type flow struct {
	start func(providertest.Options) *providertest.Server
	// token is the connection's token request without a grant.
	token func(s *providertest.Server) provider.Request
	// with completes the authorization request (scopes, parameters, an override).
	with func(s *providertest.Server, r *provider.AuthorizationRequest)
	pkce bool
	// back are what the redirect back carries besides code and state.
	back url.Values
}

func auraFlow(pkce bool) flow {
	return flow{
		start: providertest.NewAura,
		token: func(s *providertest.Server) provider.Request {
			return provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: s.TokenURL()}
		},
		pkce: pkce,
	}
}

func astonClubFlow(path string, scopes ...string) flow {
	return flow{
		start: providertest.NewAstonClub,
		token: func(s *providertest.Server) provider.Request {
			return provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, TokenURL: s.TokenURL()}
		},
		with: func(s *providertest.Server, r *provider.AuthorizationRequest) {
			r.Scopes = scopes
			if path != "" {
				r.AuthorizeURL = s.URL() + path
			}
		},
		back: url.Values{"grant_type": {"authorization_code"}},
	}
}

func aurinkoFlow() flow {
	return flow{
		start: providertest.NewAurinko,
		token: func(s *providertest.Server) provider.Request {
			return provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: s.TokenURL()}
		},
		with: func(_ *providertest.Server, r *provider.AuthorizationRequest) {
			r.Scopes, r.Parameters = []string{"Mail.Read", "Mail.Send"}, map[string]string{"serviceType": "Google"}
		},
		back: url.Values{"status": {"success"}},
	}
}

func genericFlow(auth oauthv1alpha1.ClientAuthentication, enc oauthv1alpha1.RequestEncoding, pkce bool) flow {
	return flow{
		start: generic(auth, enc),
		token: func(s *providertest.Server) provider.Request {
			return provider.Request{Provider: oauthv1alpha1.ProviderGeneric, IssuerURL: s.IssuerURL(), ClientAuthentication: auth, RequestEncoding: enc}
		},
		with: func(_ *providertest.Server, r *provider.AuthorizationRequest) {
			r.Scopes = []string{"openid", "offline_access"}
		},
		pkce: pkce,
	}
}

// started is a flow with its fake, client, state and verifier.
type started struct {
	flow
	fake     *providertest.Server
	client   *provider.Client
	state    string
	verifier string
}

func start(t *testing.T, f flow) *started {
	t.Helper()
	fake := f.start(providertest.Options{ClientID: "test_client", ClientSecret: "client-secret-in-no-url"})
	t.Cleanup(fake.Close)
	st := &started{flow: f, fake: fake, client: &provider.Client{Timeout: 5 * time.Second}, state: provider.NewState()}
	if f.pkce {
		st.verifier = provider.NewVerifier()
	}
	return st
}

// authorizationURL is what the operator sends the person to.
func (st *started) authorizationURL(t *testing.T) string {
	t.Helper()
	tr := st.token(st.fake)
	req := &provider.AuthorizationRequest{
		Provider: tr.Provider, TokenURL: tr.TokenURL, IssuerURL: tr.IssuerURL,
		ClientID: st.fake.ClientID(), RedirectURI: st.fake.RedirectURI(), State: st.state,
	}
	if st.verifier != "" {
		req.CodeChallenge = provider.S256Challenge(st.verifier)
	}
	if st.with != nil {
		st.with(st.fake, req)
	}
	u, err := st.client.AuthorizationURL(context.Background(), req)
	if err != nil {
		t.Fatalf("AuthorizationURL() error = %v", err)
	}
	if strings.Contains(u, st.fake.ClientSecret()) || strings.Contains(u, url.QueryEscape(st.fake.ClientSecret())) {
		t.Fatalf("the authorization URL %s holds the client secret", u)
	}
	return u
}

// exchange presents the code as the operator does.
func (st *started) exchange(code, verifier string) (*provider.Token, error) {
	req := st.token(st.fake)
	req.ClientID, req.ClientSecret = st.fake.ClientID(), st.fake.ClientSecret()
	req.Grant = provider.Grant{Type: provider.GrantAuthorizationCode, Code: code, RedirectURI: st.fake.RedirectURI(), CodeVerifier: verifier}
	return st.client.Token(context.Background(), &req)
}

// approve walks the pages and returns the callback the redirect back carries.
func (st *started) approve(t *testing.T, choice string) (*url.URL, provider.Callback) {
	t.Helper()
	b := providertest.NewBrowser()
	b.Choice = choice
	back, err := b.Approve(context.Background(), st.authorizationURL(t))
	if err != nil {
		t.Fatalf("Approve() error = %v", err)
	}
	cb, err := provider.ParseCallback(st.token(st.fake).Provider, back.Query())
	if err != nil {
		t.Fatalf("ParseCallback(%s) error = %v", back.Redacted(), err)
	}
	return back, cb
}

func TestAuthorizationFlows(t *testing.T) {
	for name, tt := range map[string]struct {
		flow   flow
		choice string
	}{
		"Aura: a login, and straight back with a code":              {flow: auraFlow(false)},
		"Aura with PKCE turned on: the exchange needs the verifier": {flow: auraFlow(true)},
		"Aston Club: a merchant picked from the list and approved":  {flow: astonClubFlow("", "posapi"), choice: providertest.AstonClubMerchants[1]},
		"Aston Club: an organization at /authorize/organization": {
			flow: astonClubFlow("/authorize/organization", "aston-api:transaction.read", "aston-api:transaction.submit")},
		"Aurinko: its own names, a consent, status=success, and the code in the exchange's path": {flow: aurinkoFlow()},
		"Generic: the discovered endpoint, S256 as by default, HTTP Basic": {
			flow: genericFlow(oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm, true)},
		"Generic without PKCE, the client in a JSON body": {
			flow: genericFlow(oauthv1alpha1.ClientAuthenticationBody, oauthv1alpha1.RequestEncodingJSON, false)},
	} {
		t.Run(name, func(t *testing.T) {
			st := start(t, tt.flow)
			back, cb := st.approve(t, tt.choice)

			redirect := *back
			redirect.RawQuery = ""
			if redirect.String() != st.fake.RedirectURI() {
				t.Errorf("sent back to %s, want the registered %s", redirect.String(), st.fake.RedirectURI())
			}
			for k := range st.back {
				if back.Query().Get(k) != st.back.Get(k) {
					t.Errorf("the redirect back has %s=%q, want %q", k, back.Query().Get(k), st.back.Get(k))
				}
			}
			if cb.State != st.state || cb.Code == "" {
				t.Fatalf("callback = state %q, code %q; want state %q and a code", cb.State, cb.Code, st.state)
			}
			if strings.Contains(back.String(), st.fake.ClientSecret()) {
				t.Errorf("the redirect back holds the client secret")
			}

			tok, err := st.exchange(cb.Code, st.verifier)
			if err != nil {
				t.Fatalf("the code exchange failed: %v", err)
			}
			if !st.fake.ValidAccessToken(tok.AccessToken) {
				t.Errorf("the exchange returned a token the fake did not issue")
			}
			if _, err := st.exchange(cb.Code, st.verifier); provider.KindOf(err) != provider.InvalidGrant {
				t.Errorf("the code exchanged twice: %v, want invalid_grant", err)
			}
			if a, ap, d := st.fake.AuthorizeRequests(), st.fake.Approvals(), st.fake.Denials(); a != 1 || ap != 1 || d != 0 {
				t.Errorf("authorize requests, approvals, denials = %d, %d, %d; want 1, 1, 0", a, ap, d)
			}
			if r := st.fake.Rejections(); len(r) > 0 {
				t.Errorf("the fake refused requests as off-document: %q", r)
			}
		})
	}
}

func TestAuthorizationCodeBindings(t *testing.T) {
	for name, tt := range map[string]struct {
		flow     flow
		exchange func(st *started, code string) (*provider.Token, error)
	}{
		"Generic refuses the exchange without the verifier": {genericFlow("", "", true),
			func(st *started, code string) (*provider.Token, error) { return st.exchange(code, "") }},
		"Generic refuses another flow's verifier": {genericFlow("", "", true),
			func(st *started, code string) (*provider.Token, error) {
				return st.exchange(code, provider.NewVerifier())
			}},
		"Aura refuses the exchange without the verifier": {auraFlow(true),
			func(st *started, code string) (*provider.Token, error) { return st.exchange(code, "") }},
		"Aston Club refuses a wrong verifier": {flow{start: providertest.NewAstonClub, pkce: true,
			token: func(s *providertest.Server) provider.Request {
				return provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, TokenURL: s.TokenURL()}
			}},
			func(st *started, code string) (*provider.Token, error) { return st.exchange(code, st.verifier+"x") }},
		"Aura refuses the code with another redirect_uri than it was issued for": {auraFlow(false),
			func(st *started, code string) (*provider.Token, error) {
				req := st.token(st.fake)
				req.ClientID, req.ClientSecret = st.fake.ClientID(), st.fake.ClientSecret()
				req.Grant = provider.Grant{Type: provider.GrantAuthorizationCode, Code: code, RedirectURI: "https://app.example.com/other"}
				return st.client.Token(context.Background(), &req)
			}},
	} {
		t.Run(name+" with invalid_grant", func(t *testing.T) {
			st := start(t, tt.flow)
			_, cb := st.approve(t, "")
			tok, err := tt.exchange(st, cb.Code)
			if err == nil {
				t.Fatalf("the exchange succeeded: %+v", tok)
			}
			if e, ok := errors.AsType[*provider.Error](err); !ok || e.Kind != provider.InvalidGrant || e.Code != "invalid_grant" {
				t.Errorf("error = %v, want invalid_grant", err)
			}
			if strings.Contains(err.Error(), cb.Code) {
				t.Errorf("the error %q holds the code", err)
			}
		})
	}
}

func TestAuthorizationDenied(t *testing.T) {
	for name, f := range map[string]flow{
		"Aston Club":                   astonClubFlow("", "posapi"),
		"Aurinko":                      aurinkoFlow(),
		"Generic":                      genericFlow("", "", true),
		"Aston Club, for organization": astonClubFlow("/authorize/organization"),
	} {
		t.Run(name+" sends the browser back with access_denied and the state", func(t *testing.T) {
			st := start(t, f)
			back, err := providertest.NewBrowser().Deny(context.Background(), st.authorizationURL(t))
			if err != nil {
				t.Fatalf("Deny() error = %v", err)
			}
			if back.Query().Has("code") {
				t.Errorf("a denial came back with a code: %s", back.Redacted())
			}
			cb, err := provider.ParseCallback(st.token(st.fake).Provider, back.Query())
			e, ok := errors.AsType[*provider.CallbackError](err)
			if !ok || e.Code != "access_denied" || cb.State != st.state || cb.Code != "" {
				t.Errorf("ParseCallback() = %+v, %v; want access_denied with the state", cb, err)
			}
			if a, ap, d := st.fake.AuthorizeRequests(), st.fake.Approvals(), st.fake.Denials(); a != 1 || ap != 0 || d != 1 {
				t.Errorf("authorize requests, approvals, denials = %d, %d, %d; want 1, 0, 1", a, ap, d)
			}
		})
	}
	t.Run("Aura asks no consent: its login approves, and Deny says so", func(t *testing.T) {
		st := start(t, auraFlow(false))
		_, err := providertest.NewBrowser().Deny(context.Background(), st.authorizationURL(t))
		if !errors.Is(err, providertest.ErrNoConsent) || st.fake.Approvals() != 1 {
			t.Errorf("Deny() error = %v, approvals %d; want ErrNoConsent and 1", err, st.fake.Approvals())
		}
	})
}

// page is a fake's answer to a browser.
type page struct {
	status   int
	location string
	body     string
}

func fetch(t *testing.T, c *http.Client, method, u string, form url.Values) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(raw)}
}

// query builds an authorization request's query from pairs: a later pair replaces an
// earlier one, an empty value removes it.
func query(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q.Encode()
}

const registered = "https://app.example.com/oauth/callback"

func rfcQuery(extra ...string) string {
	return query(append([]string{"client_id", "test_client", "redirect_uri", registered, "response_type", "code", "state", "xyz"}, extra...)...)
}

func aurinkoQuery(extra ...string) string {
	return query(append([]string{"clientId", "test_client", "returnUrl", registered, "responseType", "code", "state", "xyz", "serviceType", "Google"}, extra...)...)
}

func TestAuthorizationEndpointRefuses(t *testing.T) {
	aura, aston, aurinko, gen := providertest.NewAura, providertest.NewAstonClub, providertest.NewAurinko, generic("", "")
	for name, tt := range map[string]struct {
		start  func(providertest.Options) *providertest.Server
		path   string
		query  string
		method string
		reason string
	}{
		"an unregistered redirect_uri": {aura, "/oauth/authorize",
			rfcQuery("redirect_uri", "https://evil.example.com/cb"), "", "not registered"},
		"a redirect_uri differing from the registered one by a trailing slash": {gen, "/authorize",
			rfcQuery("redirect_uri", registered+"/"), "", "not registered"},
		"an unknown client_id": {aston, "/authorize/merchant", rfcQuery("client_id", "other"), "", "unknown client_id"},
		"no client_id":         {aston, "/authorize/merchant", rfcQuery("client_id", ""), "", "no client_id"},
		"Aura's field-list redirect_url instead of redirect_uri": {aura, "/oauth/authorize",
			query("client_id", "test_client", "redirect_url", registered, "response_type", "code"), "", "unexpected parameter redirect_url"},
		"Aston Club without a state, which its example and redirect carry": {aston, "/authorize/merchant", rfcQuery("state", ""), "", "no state"},
		"Aurinko without a state": {aurinko, "/v1/auth/authorizeUser", aurinkoQuery("state", ""), "", "no state"},
		"Generic without a state": {gen, "/authorize", rfcQuery("state", ""), "", "no state"},
		"Aurinko with RFC 6749's client_id instead of clientId": {aurinko, "/v1/auth/authorizeUser",
			aurinkoQuery("client_id", "test_client"), "", "unexpected parameter client_id"},
		"Aurinko without responseType, which means its cookie mode": {aurinko, "/v1/auth/authorizeUser",
			aurinkoQuery("responseType", ""), "", "responseType  instead of code"},
		"Aurinko without serviceType":                      {aurinko, "/v1/auth/authorizeUser", aurinkoQuery("serviceType", ""), "", "no serviceType"},
		"Aurinko with an accountRole it lacks":             {aurinko, "/v1/auth/authorizeUser", aurinkoQuery("accountRole", "owner"), "", "accountRole owner"},
		"Aurinko with a PKCE challenge":                    {aurinko, "/v1/auth/authorizeUser", aurinkoQuery("code_challenge", strings.Repeat("a", 43), "code_challenge_method", "S256"), "", "unexpected parameter code_challenge"},
		"response_type token":                              {gen, "/authorize", rfcQuery("response_type", "token"), "", "response_type token instead of code"},
		"a plain PKCE challenge":                           {gen, "/authorize", rfcQuery("code_challenge", strings.Repeat("a", 43), "code_challenge_method", "plain"), "", "instead of S256"},
		"a challenge without its method":                   {aura, "/oauth/authorize", rfcQuery("code_challenge", strings.Repeat("a", 43)), "", "instead of S256"},
		"a challenge that is not S256's":                   {gen, "/authorize", rfcQuery("code_challenge", "short", "code_challenge_method", "S256"), "", "not an S256 challenge"},
		"Aston Club merchant with an organization's scope": {aston, "/authorize/merchant", rfcQuery("scope", "posapi aston-api:transaction.read"), "", "scope aston-api:transaction.read"},
		"a parameter sent twice":                           {gen, "/authorize", rfcQuery() + "&state=other", "", "state sent more than once"},
		"a PUT":                                            {gen, "/authorize", rfcQuery(), http.MethodPut, "method PUT"},
	} {
		t.Run(name+" gets an error page and no redirect", func(t *testing.T) {
			fake := tt.start(providertest.Options{ClientID: "test_client"})
			defer fake.Close()
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			got := fetch(t, providertest.NewBrowser().Client(), method, fake.URL()+tt.path+"?"+tt.query, nil)
			if got.status < 400 || got.location != "" {
				t.Errorf("answer %d, Location %q; want an error page without redirect", got.status, got.location)
			}
			if rej := fake.Rejections(); len(rej) != 1 || !strings.Contains(rej[0], tt.reason) {
				t.Errorf("rejections = %q, want one saying %q", rej, tt.reason)
			}
			if !strings.Contains(got.body, "<p class=\"error\">") || strings.Contains(got.body, "<form") {
				t.Errorf("page = %s, want an error page without a form", got.body)
			}
			if n := fake.AuthorizeRequests(); method == http.MethodGet && n != 1 {
				t.Errorf("authorize requests = %d, want 1", n)
			}
		})
	}
	t.Run("Aura's link without a state, as its document writes it, shows the login page", func(t *testing.T) {
		fake := aura(providertest.Options{ClientID: "test_client"})
		defer fake.Close()
		got := fetch(t, providertest.NewBrowser().Client(), http.MethodGet,
			fake.URL()+"/oauth/authorize?"+query("client_id", "test_client", "redirect_uri", registered, "response_type", "code"), nil)
		if got.status != 200 || !strings.Contains(got.body, `type="password"`) || len(fake.Rejections()) != 0 {
			t.Errorf("answer %d %s, rejections %q; want the login page", got.status, got.body, fake.Rejections())
		}
	})
}

// loginPage opens an authorization and returns the browser and its pending request's id.
func loginPage(t *testing.T, fake *providertest.Server, path, q string) (*providertest.Browser, string) {
	t.Helper()
	b := providertest.NewBrowser()
	got := fetch(t, b.Client(), http.MethodGet, fake.URL()+path+"?"+q, nil)
	const marker = `name="request" value="`
	i := strings.Index(got.body, marker)
	if got.status != 200 || i < 0 {
		t.Fatalf("login page = %d %s", got.status, got.body)
	}
	rest := got.body[i+len(marker):]
	return b, rest[:strings.IndexByte(rest, '"')]
}

func TestAuthorizationPages(t *testing.T) {
	login := url.Values{"username": {providertest.LoginUsername}, "password": {providertest.LoginPassword}}
	with := func(v url.Values, kv ...string) url.Values {
		out := url.Values{}
		maps.Copy(out, v)
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for name, tt := range map[string]struct {
		start func(providertest.Options) *providertest.Server
		path  string
		q     string
		// steps are the forms posted in turn (request set), and the status each gets.
		steps  []url.Values
		status []int
		// otherBrowser posts the last step from a browser without the session cookie.
		otherBrowser bool
		want         string
	}{
		"a wrong password shows the login page again": {
			generic("", ""), "/authorize", rfcQuery(),
			[]url.Values{with(login, "password", "wrong")}, []int{401}, false, "Wrong username or password."},
		"a wrong username, then the right account, passes to the consent page": {
			generic("", ""), "/authorize", rfcQuery(),
			[]url.Values{with(login, "username", "nobody"), login}, []int{401, 200}, false, `value="approve"`},
		"a form posted from a browser without the session cookie is refused": {
			generic("", ""), "/authorize", rfcQuery(),
			[]url.Values{login}, []int{400}, true, "session cookie"},
		"a consent answer other than approve or deny is refused": {
			generic("", ""), "/authorize", rfcQuery(),
			[]url.Values{login, {"decision": {"maybe"}}}, []int{200, 400}, false, "Approve or deny."},
		"Aston Club's approval without a merchant from its list is refused": {
			providertest.NewAstonClub, "/authorize/merchant", rfcQuery(),
			[]url.Values{login, {"decision": {"approve"}, "merchant": {"Somebody Else's Cafe"}}}, []int{200, 400}, false, "Choose one from the list."},
		"a finished authorization cannot be answered again": {
			generic("", ""), "/authorize", rfcQuery(),
			[]url.Values{login, {"decision": {"approve"}}, {"decision": {"approve"}}}, []int{200, 302, 400}, false, "finished"},
		"an unknown request is refused": {
			generic("", ""), "/authorize", rfcQuery(),
			[]url.Values{{"request": {"authz-nope"}}}, []int{400}, false, "no such authorization request"},
	} {
		t.Run(name, func(t *testing.T) {
			fake := tt.start(providertest.Options{ClientID: "test_client"})
			defer fake.Close()
			b, id := loginPage(t, fake, tt.path, tt.q)
			var got page
			for i, form := range tt.steps {
				if !form.Has("request") {
					form = with(form, "request", id)
				}
				c := b.Client()
				if tt.otherBrowser && i == len(tt.steps)-1 {
					c = providertest.NewBrowser().Client()
				}
				got = fetch(t, c, http.MethodPost, fake.URL()+tt.path, form)
				if got.status != tt.status[i] {
					t.Fatalf("step %d: answer %d %s, want %d", i, got.status, got.body, tt.status[i])
				}
			}
			if !strings.Contains(got.body, tt.want) {
				t.Errorf("page = %s, want it to say %q", got.body, tt.want)
			}
			if got.location != "" {
				t.Errorf("redirected to %s", got.location)
			}
		})
	}
}

func TestAuthorizationPagesEscapeWhatTheyReflect(t *testing.T) {
	const script = `"><script>alert(1)</script>`
	for name, tt := range map[string]struct {
		start func(providertest.Options) *providertest.Server
		path  string
		q     string
	}{
		"the login page escapes the scope it shows": {generic("", ""), "/authorize", rfcQuery("scope", script)},
		"Aurinko's sign-in escapes the serviceType": {providertest.NewAurinko, "/v1/auth/authorizeUser", aurinkoQuery("serviceType", script)},
		"the error page escapes the redirect URI it names": {providertest.NewAura, "/oauth/authorize",
			rfcQuery("redirect_uri", "https://evil.example.com/"+script)},
		"the error page escapes a parameter name": {providertest.NewAura, "/oauth/authorize", rfcQuery(script, "x")},
	} {
		t.Run(name, func(t *testing.T) {
			fake := tt.start(providertest.Options{ClientID: "test_client"})
			defer fake.Close()
			got := fetch(t, providertest.NewBrowser().Client(), http.MethodGet, fake.URL()+tt.path+"?"+tt.q, nil)
			if strings.Contains(got.body, "<script>") || !strings.Contains(got.body, "&lt;script&gt;") {
				t.Errorf("page reflects the markup unescaped: %s", got.body)
			}
		})
	}
}

func TestAuthorizationFakesTakeTheDocumentsExampleLinks(t *testing.T) {
	for name, tt := range map[string]struct {
		start    func(providertest.Options) *providertest.Server
		o        providertest.Options
		link     string // the example, on the fake's host
		provider oauthv1alpha1.Provider
		// back is the documented redirect back, its code aside.
		back url.Values
	}{
		"Aura's Step 1 link, no state and all": {providertest.NewAura,
			providertest.Options{ClientID: "clientId", RedirectURI: "https://aura.example.com/auth/callback"},
			"/oauth/authorize?client_id=clientId&redirect_uri=https://aura.example.com/auth/callback&response_type=code",
			oauthv1alpha1.ProviderAura, url.Values{}},
		"Aston Club's /authorize/merchant example": {providertest.NewAstonClub,
			providertest.Options{ClientID: "test_client", RedirectURI: "https://youwebapp.com/oauth"},
			"/authorize/merchant?client_id=test_client&response_type=code&redirect_uri=https://youwebapp.com/oauth&scope=posapi&state=xyz",
			oauthv1alpha1.ProviderAstonClub, url.Values{"grant_type": {"authorization_code"}, "state": {"xyz"}}},
		"Aston Club's /authorize/organization example": {providertest.NewAstonClub,
			providertest.Options{ClientID: "test_client", RedirectURI: "https://youwebapp.com/oauth"},
			"/authorize/organization?client_id=test_client&response_type=code&redirect_uri=https://youwebapp.com/oauth&scope=aston-api:transaction.read%20aston-api:transaction.submit&state=xyz",
			oauthv1alpha1.ProviderAstonClub, url.Values{"grant_type": {"authorization_code"}, "state": {"xyz"}}},
		// The example leaves responseType to its default, cookie, which issues no code.
		"Aurinko's user-creating example, in code mode": {providertest.NewAurinko,
			providertest.Options{ClientID: "appClientId", RedirectURI: "https://your-app.com/callback"},
			"/v1/auth/authorizeUser?clientId=appClientId&accountRole=primary&serviceType=Google&scopes=Mail.Read%20Mail.Send&returnUrl=https://your-app.com/callback&state=st&responseType=code",
			oauthv1alpha1.ProviderAurinko, url.Values{"state": {"st"}, "status": {"success"}}},
	} {
		t.Run(name, func(t *testing.T) {
			fake := tt.start(tt.o)
			defer fake.Close()
			back, err := providertest.NewBrowser().Approve(context.Background(), fake.URL()+tt.link)
			if err != nil {
				t.Fatal(err)
			}
			q := back.Query()
			if q.Get("code") == "" {
				t.Fatalf("the redirect back %s has no code", back.Redacted())
			}
			q.Del("code")
			if !reflect.DeepEqual(q, tt.back) || !strings.HasPrefix(back.String(), tt.o.RedirectURI+"?") {
				t.Errorf("the redirect back = %s?%s (code aside), want %s?%s", tt.o.RedirectURI, q.Encode(), tt.o.RedirectURI, tt.back.Encode())
			}
			if _, err := provider.ParseCallback(tt.provider, back.Query()); err != nil {
				t.Errorf("ParseCallback() error = %v", err)
			}
		})
	}
}
