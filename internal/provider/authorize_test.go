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

package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

const (
	testRedirect  = "https://app.example.com/oauth/callback"
	testState     = "state-0123456789"
	testChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// authorization builds an authorization request of p with the fields every test sets.
func authorization(p oauthv1alpha1.Provider, with func(*provider.AuthorizationRequest)) *provider.AuthorizationRequest {
	req := &provider.AuthorizationRequest{Provider: p, ClientID: "test_client", RedirectURI: testRedirect, State: testState}
	if with != nil {
		with(req)
	}
	return req
}

// discoveryServer serves an OpenID Connect discovery document naming authorizationEndpoint
// (none when empty) and counts its requests; it returns the issuer.
func discoveryServer(t *testing.T, authorizationEndpoint string) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		doc := map[string]string{"issuer": srv.URL + "/", "token_endpoint": srv.URL + "/token"}
		if authorizationEndpoint != "" {
			doc["authorization_endpoint"] = authorizationEndpoint
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/", &n
}

func TestAuthorizationURL(t *testing.T) {
	issuer, _ := discoveryServer(t, "https://idp.example.com/oauth2/authorize")
	rfc := func(extra ...string) url.Values {
		q := url.Values{"client_id": {"test_client"}, "redirect_uri": {testRedirect}, "response_type": {"code"}, "state": {testState}}
		for i := 0; i+1 < len(extra); i += 2 {
			q.Set(extra[i], extra[i+1])
		}
		return q
	}
	aurinko := func(extra ...string) url.Values {
		q := url.Values{"clientId": {"test_client"}, "returnUrl": {testRedirect}, "responseType": {"code"}, "state": {testState},
			"accountRole": {"primary"}, "serviceType": {"Google"}}
		for i := 0; i+1 < len(extra); i += 2 {
			q.Set(extra[i], extra[i+1])
		}
		return q
	}
	google := map[string]string{"serviceType": "Google"}
	for name, tt := range map[string]struct {
		req      *provider.AuthorizationRequest
		endpoint string
		query    url.Values
	}{
		"Aura's /oauth/token becomes /oauth/authorize, with Step 1's parameters and a state": {
			authorization(oauthv1alpha1.ProviderAura, func(r *provider.AuthorizationRequest) { r.TokenURL = "https://aura.example.com/oauth/token" }),
			"https://aura.example.com/oauth/authorize", rfc()},
		"Aura keeps the token URL's port and path prefix": {
			authorization(oauthv1alpha1.ProviderAura, func(r *provider.AuthorizationRequest) {
				r.TokenURL = "https://aura.example.com:8443/tenant%2Fa/oauth/token/"
			}),
			"https://aura.example.com:8443/tenant%2Fa/oauth/authorize", rfc()},
		"Aura sends the scopes space-separated as scope": {
			authorization(oauthv1alpha1.ProviderAura, func(r *provider.AuthorizationRequest) {
				r.TokenURL, r.Scopes = "https://aura.example.com/oauth/token", []string{"profile", "memberships"}
			}),
			"https://aura.example.com/oauth/authorize", rfc("scope", "profile memberships")},
		"Aura sends an S256 challenge when the spec turns PKCE on": {
			authorization(oauthv1alpha1.ProviderAura, func(r *provider.AuthorizationRequest) {
				r.TokenURL, r.CodeChallenge = "https://aura.example.com/oauth/token", testChallenge
			}),
			"https://aura.example.com/oauth/authorize", rfc("code_challenge", testChallenge, "code_challenge_method", "S256")},
		"Aston Club defaults to Production's /authorize/merchant": {
			authorization(oauthv1alpha1.ProviderAstonClub, func(r *provider.AuthorizationRequest) { r.Scopes = []string{"posapi"} }),
			"https://auth.astonclub.com.au/authorize/merchant", rfc("scope", "posapi")},
		"Aston Club Sandbox uses the Sandbox host": {
			authorization(oauthv1alpha1.ProviderAstonClub, func(r *provider.AuthorizationRequest) {
				r.Environment = oauthv1alpha1.EnvironmentSandbox
			}),
			"https://auth-sandbox.astonclub.com.au/authorize/merchant", rfc()},
		"Aston Club derives /authorize/merchant from spec.tokenURL's /v1/token": {
			authorization(oauthv1alpha1.ProviderAstonClub, func(r *provider.AuthorizationRequest) {
				r.TokenURL = "http://127.0.0.1:9999/aston/v1/token"
			}),
			"http://127.0.0.1:9999/aston/authorize/merchant", rfc()},
		"Aston Club authorizes an organization at the overriding /authorize/organization": {
			authorization(oauthv1alpha1.ProviderAstonClub, func(r *provider.AuthorizationRequest) {
				r.AuthorizeURL = "https://auth.astonclub.com.au/authorize/organization"
				r.Scopes = []string{"aston-api:transaction.read", "aston-api:transaction.submit"}
			}),
			"https://auth.astonclub.com.au/authorize/organization", rfc("scope", "aston-api:transaction.read aston-api:transaction.submit")},
		"Aurinko uses its own names, the documented authorizeUser and accountRole primary": {
			authorization(oauthv1alpha1.ProviderAurinko, func(r *provider.AuthorizationRequest) {
				r.Parameters, r.Scopes = google, []string{"Mail.Read", "Mail.Send"}
			}),
			"https://api.aurinko.io/v1/auth/authorizeUser", aurinko("scopes", "Mail.Read Mail.Send")},
		"Aurinko takes accountRole secondary from the parameters": {
			authorization(oauthv1alpha1.ProviderAurinko, func(r *provider.AuthorizationRequest) {
				r.Parameters = map[string]string{"serviceType": "Hubspot", "accountRole": "secondary"}
			}),
			"https://api.aurinko.io/v1/auth/authorizeUser", aurinko("serviceType", "Hubspot", "accountRole", "secondary")},
		"Aurinko derives authorizeUser from spec.tokenURL": {
			authorization(oauthv1alpha1.ProviderAurinko, func(r *provider.AuthorizationRequest) {
				r.TokenURL, r.Parameters = "https://aurinko.internal.example:444/proxy/v1/auth/token", google
			}),
			"https://aurinko.internal.example:444/proxy/v1/auth/authorizeUser", aurinko()},
		"Generic reads the discovery document's authorization_endpoint, and sends S256": {
			authorization(oauthv1alpha1.ProviderGeneric, func(r *provider.AuthorizationRequest) {
				r.IssuerURL, r.CodeChallenge, r.Scopes = issuer, testChallenge, []string{"openid", "offline_access"}
			}),
			"https://idp.example.com/oauth2/authorize",
			rfc("scope", "openid offline_access", "code_challenge", testChallenge, "code_challenge_method", "S256")},
		"Generic keeps the overriding endpoint's own query, and sends the extra parameters": {
			authorization(oauthv1alpha1.ProviderGeneric, func(r *provider.AuthorizationRequest) {
				r.AuthorizeURL = "https://idp.example.com/authorize?tenant=t1"
				r.Parameters = map[string]string{"prompt": "consent", "resource": "https://api.example.com"}
			}),
			"https://idp.example.com/authorize", rfc("tenant", "t1", "prompt", "consent", "resource", "https://api.example.com")},
		"an override wins over the derived endpoint": {
			authorization(oauthv1alpha1.ProviderAura, func(r *provider.AuthorizationRequest) {
				r.TokenURL, r.AuthorizeURL = "https://aura.example.com/oauth/token", "https://login.aura.example.com/oauth/authorize"
			}),
			"https://login.aura.example.com/oauth/authorize", rfc()},
		"a loopback http redirect URI is taken (kubectl tokenwarden authorize)": {
			authorization(oauthv1alpha1.ProviderGeneric, func(r *provider.AuthorizationRequest) {
				r.AuthorizeURL, r.RedirectURI = "https://idp.example.com/authorize", "http://127.0.0.1:38111/callback"
			}),
			"https://idp.example.com/authorize",
			url.Values{"client_id": {"test_client"}, "redirect_uri": {"http://127.0.0.1:38111/callback"}, "response_type": {"code"}, "state": {testState}}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := quickClient().AuthorizationURL(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("AuthorizationURL() error = %v", err)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			endpoint := *u
			endpoint.RawQuery = ""
			if endpoint.String() != tt.endpoint {
				t.Errorf("endpoint = %s, want %s", endpoint.String(), tt.endpoint)
			}
			if !reflect.DeepEqual(u.Query(), tt.query) {
				t.Errorf("query = %v, want %v", u.Query(), tt.query)
			}
		})
	}
}

func TestAuthorizationURLMatchesTheDocumentsExamples(t *testing.T) {
	for name, tt := range map[string]struct {
		req     *provider.AuthorizationRequest
		example string
		// added are what the operator sends beyond the example.
		added url.Values
	}{
		"Aura's Step 1 link, with a state": {
			&provider.AuthorizationRequest{Provider: oauthv1alpha1.ProviderAura, TokenURL: "https://aura.example.com/oauth/token",
				ClientID: "clientId", RedirectURI: "https://aura.example.com/auth/callback", State: "xyz"},
			"https://aura.example.com/oauth/authorize?client_id=clientId&redirect_uri=https://aura.example.com/auth/callback&response_type=code",
			url.Values{"state": {"xyz"}}},
		"Aston Club's /authorize/merchant example URL": {
			&provider.AuthorizationRequest{Provider: oauthv1alpha1.ProviderAstonClub, ClientID: "test_client",
				RedirectURI: "https://youwebapp.com/oauth", Scopes: []string{"posapi"}, State: "xyz"},
			"https://auth.astonclub.com.au/authorize/merchant?client_id=test_client&response_type=code&redirect_uri=https://youwebapp.com/oauth&scope=posapi&state=xyz",
			nil},
		"Aston Club's /authorize/organization example URL": {
			&provider.AuthorizationRequest{Provider: oauthv1alpha1.ProviderAstonClub, ClientID: "test_client",
				AuthorizeURL: "https://auth.astonclub.com.au/authorize/organization",
				RedirectURI:  "https://youwebapp.com/oauth", Scopes: []string{"aston-api:transaction.read", "aston-api:transaction.submit"}, State: "xyz"},
			"https://auth.astonclub.com.au/authorize/organization?client_id=test_client&response_type=code&redirect_uri=https://youwebapp.com/oauth&scope=aston-api:transaction.read%20aston-api:transaction.submit&state=xyz",
			nil},
		"Aurinko's user-creating example, in code mode": {
			&provider.AuthorizationRequest{Provider: oauthv1alpha1.ProviderAurinko, ClientID: "appClientId",
				RedirectURI: "https://your-app.com/callback", Scopes: []string{"Mail.Read", "Mail.Send"}, State: "st",
				Parameters: map[string]string{"serviceType": "Google"}},
			"https://api.aurinko.io/v1/auth/authorizeUser?clientId=appClientId&accountRole=primary&serviceType=Google&scopes=Mail.Read%20Mail.Send&returnUrl=https://your-app.com/callback&state=st",
			// Unset, responseType is cookie, which issues no code.
			url.Values{"responseType": {"code"}}},
		"Aurinko's secondary-account example": {
			&provider.AuthorizationRequest{Provider: oauthv1alpha1.ProviderAurinko, ClientID: "appClientId",
				RedirectURI: "https://your-app.com/callback", State: "st",
				Parameters: map[string]string{"serviceType": "Hubspot", "accountRole": "secondary"}},
			"https://api.aurinko.io/v1/auth/authorizeUser?clientId=appClientId&accountRole=secondary&serviceType=Hubspot&returnUrl=https://your-app.com/callback&state=st",
			url.Values{"responseType": {"code"}}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := quickClient().AuthorizationURL(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			u, want := mustURL(t, got), mustURL(t, tt.example)
			wantQuery := want.Query()
			maps.Copy(wantQuery, tt.added)
			if u.Scheme+"://"+u.Host+u.Path != want.Scheme+"://"+want.Host+want.Path || !reflect.DeepEqual(u.Query(), wantQuery) {
				t.Errorf("AuthorizationURL() = %s\nwant the example %s plus %v", got, tt.example, tt.added)
			}
		})
	}
}

func TestAuthorizationURLRefuses(t *testing.T) {
	issuerWithout, _ := discoveryServer(t, "")
	aura := func(with func(*provider.AuthorizationRequest)) *provider.AuthorizationRequest {
		return authorization(oauthv1alpha1.ProviderAura, func(r *provider.AuthorizationRequest) {
			r.TokenURL = "https://aura.example.com/oauth/token"
			if with != nil {
				with(r)
			}
		})
	}
	aurinko := func(params map[string]string) *provider.AuthorizationRequest {
		return authorization(oauthv1alpha1.ProviderAurinko, func(r *provider.AuthorizationRequest) { r.Parameters = params })
	}
	generic := func(with func(*provider.AuthorizationRequest)) *provider.AuthorizationRequest {
		return authorization(oauthv1alpha1.ProviderGeneric, func(r *provider.AuthorizationRequest) {
			r.AuthorizeURL = "https://idp.example.com/authorize"
			if with != nil {
				with(r)
			}
		})
	}
	for name, tt := range map[string]struct {
		req  *provider.AuthorizationRequest
		want string
	}{
		"no request":                         {nil, "no authorization request"},
		"Aurora, which has no authorization": {authorization(oauthv1alpha1.ProviderAurora, nil), "no authorization endpoint"},
		"an unknown provider":                {authorization("Nope", nil), "no authorization endpoint"},
		"no client id":                       {aura(func(r *provider.AuthorizationRequest) { r.ClientID = "" }), "no client id"},
		"no state":                           {aura(func(r *provider.AuthorizationRequest) { r.State = "" }), "no state"},
		"no redirect URI":                    {aura(func(r *provider.AuthorizationRequest) { r.RedirectURI = "" }), "no redirect URI"},
		"a relative redirect URI":            {aura(func(r *provider.AuthorizationRequest) { r.RedirectURI = "/callback" }), "not an absolute URL"},
		"an http redirect URI to a remote host": {
			aura(func(r *provider.AuthorizationRequest) { r.RedirectURI = "http://app.example.com/cb" }), "must use https"},
		"a redirect URI with a fragment": {
			aura(func(r *provider.AuthorizationRequest) { r.RedirectURI = testRedirect + "#x" }), "fragment"},
		"a redirect URI with credentials": {
			aura(func(r *provider.AuthorizationRequest) { r.RedirectURI = "https://u:p@app.example.com/cb" }), "credentials"},
		"Aura without a token URL, whose host is per client": {
			authorization(oauthv1alpha1.ProviderAura, nil), "spec.tokenURL"},
		"Aura with a token URL not ending in /oauth/token": {
			aura(func(r *provider.AuthorizationRequest) { r.TokenURL = "https://aura.example.com/token" }), "does not end in /oauth/token"},
		"a token URL with a query": {
			aura(func(r *provider.AuthorizationRequest) { r.TokenURL = "https://aura.example.com/oauth/token?x=1" }), "query"},
		"Aston Club in an environment of another provider": {
			authorization(oauthv1alpha1.ProviderAstonClub, func(r *provider.AuthorizationRequest) { r.Environment = oauthv1alpha1.EnvironmentLive }),
			"not an Aston Club environment"},
		"Aurinko with a PKCE challenge its exchange cannot answer": {
			authorization(oauthv1alpha1.ProviderAurinko, func(r *provider.AuthorizationRequest) {
				r.Parameters, r.CodeChallenge = map[string]string{"serviceType": "Google"}, testChallenge
			}), "takes no PKCE"},
		"Aurinko without serviceType":         {aurinko(nil), "serviceType"},
		"Aurinko parameters setting clientId": {aurinko(map[string]string{"serviceType": "Google", "clientId": "other"}), "must not set clientId"},
		"Aurinko parameters setting returnUrl": {
			aurinko(map[string]string{"serviceType": "Google", "returnUrl": "https://evil.example.com"}), "must not set returnUrl"},
		"Aurinko parameters setting responseType": {
			aurinko(map[string]string{"serviceType": "Google", "responseType": "cookie"}), "must not set responseType"},
		"Aurinko parameters setting scopes": {aurinko(map[string]string{"serviceType": "Google", "scopes": "Mail.All"}), "must not set scopes"},
		"parameters setting client_id":      {generic(func(r *provider.AuthorizationRequest) { r.Parameters = map[string]string{"client_id": "x"} }), "must not set client_id"},
		"parameters setting redirect_uri": {
			generic(func(r *provider.AuthorizationRequest) {
				r.Parameters = map[string]string{"redirect_uri": "https://evil.example.com"}
			}),
			"must not set redirect_uri"},
		"parameters setting response_type": {
			generic(func(r *provider.AuthorizationRequest) { r.Parameters = map[string]string{"response_type": "token"} }), "must not set response_type"},
		"parameters setting state": {generic(func(r *provider.AuthorizationRequest) { r.Parameters = map[string]string{"state": "x"} }), "must not set state"},
		"parameters setting scope": {generic(func(r *provider.AuthorizationRequest) { r.Parameters = map[string]string{"scope": "x"} }), "must not set scope"},
		"parameters setting code_challenge with PKCE off": {
			generic(func(r *provider.AuthorizationRequest) {
				r.Parameters = map[string]string{"code_challenge": testChallenge}
			}),
			"must not set code_challenge"},
		"parameters setting code_challenge_method": {
			generic(func(r *provider.AuthorizationRequest) {
				r.Parameters = map[string]string{"code_challenge_method": "plain"}
			}),
			"must not set code_challenge_method"},
		"a parameter without a name": {generic(func(r *provider.AuthorizationRequest) { r.Parameters = map[string]string{"": "x"} }), "empty name"},
		"a challenge that is not S256's": {
			generic(func(r *provider.AuthorizationRequest) { r.CodeChallenge = "plain-verifier" }), "43 to 128"},
		"Generic without an issuer or an authorizeURL": {
			authorization(oauthv1alpha1.ProviderGeneric, func(r *provider.AuthorizationRequest) { r.TokenURL = "https://idp.example.com/token" }),
			"spec.authorization.authorizeURL"},
		"Generic whose discovery document names no authorization_endpoint": {
			authorization(oauthv1alpha1.ProviderGeneric, func(r *provider.AuthorizationRequest) { r.IssuerURL = issuerWithout }),
			"no authorization_endpoint"},
		"an http authorization endpoint on a remote host": {
			generic(func(r *provider.AuthorizationRequest) { r.AuthorizeURL = "http://idp.example.com/authorize" }), "must use https"},
		"an authorization endpoint with a fragment": {
			generic(func(r *provider.AuthorizationRequest) { r.AuthorizeURL = "https://idp.example.com/authorize#x" }), "fragment"},
		"an authorization endpoint with credentials": {
			generic(func(r *provider.AuthorizationRequest) { r.AuthorizeURL = "https://u:p@idp.example.com/authorize" }), "credentials"},
		"an authorization endpoint whose own query sets client_id": {
			generic(func(r *provider.AuthorizationRequest) {
				r.AuthorizeURL = "https://idp.example.com/authorize?client_id=other"
			}),
			"own query sets client_id"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := quickClient().AuthorizationURL(context.Background(), tt.req)
			if err == nil {
				t.Fatalf("AuthorizationURL() = %s, want an error", got)
			}
			if got != "" {
				t.Errorf("AuthorizationURL() returned %q with an error", got)
			}
			if provider.KindOf(err) != provider.BadRequest {
				t.Errorf("kind = %s, want BadRequest (%v)", provider.KindOf(err), err)
			}
			if !strings.HasPrefix(err.Error(), "authorization request failed: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want one about an authorization request, saying %q", err, tt.want)
			}
		})
	}
}

func TestAuthorizationURLDiscovery(t *testing.T) {
	t.Run("an unreachable issuer is transient, and said of the authorization request", func(t *testing.T) {
		req := authorization(oauthv1alpha1.ProviderGeneric, func(r *provider.AuthorizationRequest) { r.IssuerURL = freeLoopbackURL(t) })
		_, err := quickClient().AuthorizationURL(context.Background(), req)
		if provider.KindOf(err) != provider.Transient || !strings.HasPrefix(err.Error(), "authorization request failed") {
			t.Errorf("error = %v (%s), want a transient failure of the authorization request", err, provider.KindOf(err))
		}
	})
	t.Run("the discovery document is fetched once for the token and the authorization endpoints", func(t *testing.T) {
		issuer, n := discoveryServer(t, "https://idp.example.com/authorize")
		c := quickClient()
		for range 2 {
			req := authorization(oauthv1alpha1.ProviderGeneric, func(r *provider.AuthorizationRequest) { r.IssuerURL = issuer })
			if _, err := c.AuthorizationURL(context.Background(), req); err != nil {
				t.Fatal(err)
			}
		}
		if got := n.Load(); got != 1 {
			t.Errorf("discovery requests = %d, want 1", got)
		}
	})
}

func TestAuthorizationRequestHoldsNoClientSecret(t *testing.T) {
	// An authorization URL goes to a browser: the request has nowhere to put a secret.
	typ := reflect.TypeFor[provider.AuthorizationRequest]()
	for field := range typ.Fields() {
		if strings.Contains(strings.ToLower(field.Name), "secret") {
			t.Errorf("AuthorizationRequest has a field %s", field.Name)
		}
	}
}

func TestAuthorizationOf(t *testing.T) {
	rfc := provider.AuthorizationNames{ClientID: "client_id", RedirectURI: "redirect_uri", ResponseType: "response_type", Scope: "scope", State: "state"}
	for name, tt := range map[string]struct {
		p        oauthv1alpha1.Provider
		ok       bool
		want     provider.Authorization
		reserved []string
	}{
		"Aurora has no authorization endpoint": {oauthv1alpha1.ProviderAurora, false, provider.Authorization{}, nil},
		"an unknown provider has none":         {"Nope", false, provider.Authorization{}, nil},
		"Aura takes RFC 6749's names, and PKCE only when asked": {oauthv1alpha1.ProviderAura, true,
			provider.Authorization{Names: rfc, PKCE: true},
			[]string{"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"}},
		"Aston Club takes RFC 6749's names, and PKCE only when asked": {oauthv1alpha1.ProviderAstonClub, true,
			provider.Authorization{Names: rfc, PKCE: true},
			[]string{"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"}},
		"Aurinko takes its own names, no PKCE, accountRole primary and a serviceType": {oauthv1alpha1.ProviderAurinko, true,
			provider.Authorization{
				Names:              provider.AuthorizationNames{ClientID: "clientId", RedirectURI: "returnUrl", ResponseType: "responseType", Scope: "scopes", State: "state"},
				DefaultParameters:  map[string]string{"accountRole": "primary"},
				RequiredParameters: []string{"serviceType"},
			},
			[]string{"clientId", "returnUrl", "responseType", "scopes", "state", "code_challenge", "code_challenge_method"}},
		"Generic takes RFC 6749's names and PKCE by default": {oauthv1alpha1.ProviderGeneric, true,
			provider.Authorization{Names: rfc, PKCE: true, PKCEByDefault: true},
			[]string{"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"}},
	} {
		t.Run(name, func(t *testing.T) {
			got, ok := provider.AuthorizationOf(tt.p)
			if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("AuthorizationOf(%s) = %+v, %v, want %+v, %v", tt.p, got, ok, tt.want, tt.ok)
			}
			if ok && !reflect.DeepEqual(got.ReservedParameters(), tt.reserved) {
				t.Errorf("ReservedParameters() = %q, want %q", got.ReservedParameters(), tt.reserved)
			}
		})
	}
}

// auraCode is the code of the Aura document's example redirect.
const auraCode = "def502006e76f9bf8381103e3a8abeed57d2adb4bf664a932820bc966b31750ca58dea8d1e8d7a3de0bde9344198dd8550ae207b665052ceebb25389eab9a8dd1b791db67ba7dd3e87208e3a550b8232de6f8c29e32afe33d41dc12faa43f0c1a2cde8869b8c881083fb1208558503e46ea1f4da41105e138688e0e511284cd5bd45321b6e72f1a0e004a5153620e38510644423fcdd67d2993cee40046ed38059670054159289a4fe4f29420e5389fef8af60f44e7e78c05575cc2169710599f8d314cf184edc8e8ddf47321260447298b7c5db64873e893a636d6610a6f2210a7f2007c2b015cceaa93b2f2b9f75513f608ab19af1d073b11ae2685796144065283891531c72a748fe80651e68671d5d858f627788e275cff3f4ea787d27a5380aace2b81fb0468145f992ccea32eb1f366b5cbf93436bf752919c29b365e8fc16101ddc3bd3bb26414eb43ff8f90f6ca56186ad5f250ea8f2a4048f4a0b429e5d2f73a392af694d1d028cbe4a349b5370aa09afb7008da4f4dce11ededce40140e777abad0ad36bc286187c458d0be9b0fc6db673f5af86cc0d88bfa84256b8163cd0f98f06e9c1baa081a4a5d4628bb3cd89"

func TestParseCallback(t *testing.T) {
	for name, tt := range map[string]struct {
		p        oauthv1alpha1.Provider
		redirect string
		want     provider.Callback
	}{
		"Aura's example redirect carries the code alone": {oauthv1alpha1.ProviderAura,
			"https://aura.example.com/auth/callback?code=" + auraCode, provider.Callback{Code: auraCode}},
		"Aura's redirect with the state echoed": {oauthv1alpha1.ProviderAura,
			"https://app.example.com/cb?code=c1&state=s1", provider.Callback{Code: "c1", State: "s1"}},
		"Aston Club's example redirect, grant_type=authorization_code and all": {oauthv1alpha1.ProviderAstonClub,
			"https://youwebapp.com/oauth?grant_type=authorization_code&code=asn3733ne3ndfd&state=xyz",
			provider.Callback{Code: "asn3733ne3ndfd", State: "xyz"}},
		"Aston Club's redirect without grant_type": {oauthv1alpha1.ProviderAstonClub,
			"https://youwebapp.com/oauth?code=asn3733ne3ndfd&state=xyz", provider.Callback{Code: "asn3733ne3ndfd", State: "xyz"}},
		"Aurinko's code-mode redirect with status=success": {oauthv1alpha1.ProviderAurinko,
			"https://your-app.com/callback?code=aurinko-code&state=st&status=success", provider.Callback{Code: "aurinko-code", State: "st"}},
		"Generic's RFC 6749 redirect, an escaped code unescaped": {oauthv1alpha1.ProviderGeneric,
			"https://app.example.com/cb?code=a%2Bb%2Fc&state=st", provider.Callback{Code: "a+b/c", State: "st"}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := provider.ParseCallback(tt.p, mustQuery(t, tt.redirect))
			if err != nil || got != tt.want {
				t.Errorf("ParseCallback() = %+v, %v, want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseCallbackRefusals(t *testing.T) {
	const secretCode = "c0de-s3cret"
	for name, tt := range map[string]struct {
		p         oauthv1alpha1.Provider
		redirect  string
		refusal   *provider.CallbackError // nil: malformed
		wantState string
	}{
		"Aston Club's access_denied, as RFC 6749 section 4.1.2.1 sends it": {oauthv1alpha1.ProviderAstonClub,
			"https://youwebapp.com/oauth?error=access_denied&error_description=The+user+denied+the+request&state=xyz",
			&provider.CallbackError{Code: "access_denied", Description: "The user denied the request"}, "xyz"},
		"Aura's access_denied without a state": {oauthv1alpha1.ProviderAura,
			"https://app.example.com/cb?error=access_denied", &provider.CallbackError{Code: "access_denied"}, ""},
		"Aurinko's error, cloned into the redirect as its documents say": {oauthv1alpha1.ProviderAurinko,
			"https://your-app.com/callback?error=access_denied&state=st", &provider.CallbackError{Code: "access_denied"}, "st"},
		"Aurinko's status other than success": {oauthv1alpha1.ProviderAurinko,
			"https://your-app.com/callback?code=" + secretCode + "&state=st&status=failure", &provider.CallbackError{Code: "failure"}, "st"},
		"a provider error with a code beside it, which is not returned": {oauthv1alpha1.ProviderGeneric,
			"https://app.example.com/cb?error=server_error&code=" + secretCode + "&state=st",
			&provider.CallbackError{Code: "server_error"}, "st"},
		"an error description echoing the code, redacted": {oauthv1alpha1.ProviderGeneric,
			"https://app.example.com/cb?error=invalid_request&error_description=code+" + secretCode + "+refused&code=" + secretCode,
			&provider.CallbackError{Code: "invalid_request", Description: "code [redacted] refused"}, ""},
		"an error description of control characters and markup, made one printable line": {oauthv1alpha1.ProviderGeneric,
			"https://app.example.com/cb?error=access_denied&error_description=%3Cb%3Eno%3C%2Fb%3E%0D%0ALocation%3A+x",
			&provider.CallbackError{Code: "access_denied", Description: "<b>no</b>  Location: x"}, ""},
		"Aurinko's cookie-mode redirect, which has no code": {oauthv1alpha1.ProviderAurinko, "https://your-app.com/callback?state=st&status=success", nil, "st"},
		"Aurinko's redirect without status":                 {oauthv1alpha1.ProviderAurinko, "https://your-app.com/callback?code=" + secretCode + "&state=st", nil, "st"},
		"Aston Club's redirect with another grant_type":     {oauthv1alpha1.ProviderAstonClub, "https://youwebapp.com/oauth?grant_type=refresh_token&code=" + secretCode + "&state=xyz", nil, "xyz"},
		"an empty error beside a code":                      {oauthv1alpha1.ProviderGeneric, "https://app.example.com/cb?error=&code=" + secretCode + "&state=s", nil, "s"},
		"a redirect with neither code nor error":            {oauthv1alpha1.ProviderAura, "https://app.example.com/cb?state=s", nil, "s"},
		"a code sent twice":                                 {oauthv1alpha1.ProviderGeneric, "https://app.example.com/cb?code=" + secretCode + "&code=other&state=s", nil, ""},
		"a state sent twice":                                {oauthv1alpha1.ProviderGeneric, "https://app.example.com/cb?code=" + secretCode + "&state=a&state=b", nil, ""},
		"Aurora, which has no authorization endpoint":       {oauthv1alpha1.ProviderAurora, "https://app.example.com/cb?code=" + secretCode, nil, ""},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := provider.ParseCallback(tt.p, mustQuery(t, tt.redirect))
			if err == nil {
				t.Fatalf("ParseCallback() = %+v, want an error", got)
			}
			if got.Code != "" {
				t.Errorf("ParseCallback() returned the code %q with an error", got.Code)
			}
			if got.State != tt.wantState {
				t.Errorf("state = %q, want %q", got.State, tt.wantState)
			}
			if strings.Contains(err.Error(), secretCode) {
				t.Errorf("error %q echoes the code", err)
			}
			if e, ok := errors.AsType[*provider.CallbackError](err); tt.refusal != nil {
				if !ok || *e != *tt.refusal {
					t.Errorf("error = %#v, want %#v", err, tt.refusal)
				}
			} else if ok || (tt.p != oauthv1alpha1.ProviderAurora && !errors.Is(err, provider.ErrMalformedCallback)) {
				t.Errorf("error = %v, want a malformed callback", err)
			}
		})
	}
}

func mustQuery(t *testing.T, raw string) url.Values { t.Helper(); return mustURL(t, raw).Query() }

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
