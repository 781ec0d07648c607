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
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// A client id and secret that RFC 6749 section 2.3.1's form-urlencoding changes: ':' would
// split a raw Basic pair, '%' and '+' decode to something else, ' ' becomes '+'.
const (
	oddClientID     = "odd:client id%+"
	oddClientSecret = "odd secret:50%+plus/&="
)

// quickClient bounds each request well below the package's test budget.
func quickClient() *provider.Client { return &provider.Client{Timeout: 5 * time.Second} }

// mustToken runs req and fails the test on an error.
func mustToken(t *testing.T, req *provider.Request) *provider.Token {
	t.Helper()
	tok, err := quickClient().Token(context.Background(), req)
	if err != nil {
		t.Fatalf("Token() error = %v", err)
	}
	if tok == nil || tok.AccessToken == "" {
		t.Fatalf("Token() = %+v, want an access token", tok)
	}
	return tok
}

// mustFail runs req with c, expects an *provider.Error of kind want, and returns it.
func mustFail(t *testing.T, c *provider.Client, req *provider.Request, want provider.Kind) *provider.Error {
	t.Helper()
	tok, err := c.Token(context.Background(), req)
	if err == nil {
		t.Fatalf("Token() = %+v, want a %s error", tok, want)
	}
	if tok != nil {
		t.Errorf("Token() returned a token with an error: %+v", tok)
	}
	var e *provider.Error
	if !errors.As(err, &e) {
		t.Fatalf("Token() error %T %v is not a *provider.Error", err, err)
	}
	if e.Kind != want || provider.KindOf(err) != want {
		t.Fatalf("Token() error kind = %s (%v), want %s", e.Kind, err, want)
	}
	if e.Permanent() != (want != provider.Transient) {
		t.Errorf("Permanent() = %v for kind %s", e.Permanent(), e.Kind)
	}
	return e
}

// noRejections fails when the fake refused a request as not following its document.
func noRejections(t *testing.T, fake *providertest.Server) {
	t.Helper()
	if r := fake.Rejections(); len(r) > 0 {
		t.Errorf("the fake refused requests as off-document: %q", r)
	}
}

// within reports whether got is want ± a minute.
func within(got, want time.Time) bool {
	d := got.Sub(want)
	return d > -time.Minute && d < time.Minute
}

func TestTokenAuroraClientCredentials(t *testing.T) {
	fake := providertest.NewAurora(providertest.Options{ClientID: oddClientID, ClientSecret: oddClientSecret, Lifetime: 2 * time.Hour})
	defer fake.Close()
	for _, tt := range []struct {
		name string
		req  provider.Request
	}{
		{"gets a token from the configured token URL", provider.Request{TokenURL: fake.TokenURL()}},
		{"discovers the token endpoint from an issuer ending in a slash without asking for '//.well-known'", provider.Request{IssuerURL: fake.IssuerURL()}},
		{"sends an explicit audience", provider.Request{TokenURL: fake.TokenURL(), Audience: "https://api.client.integration.aurora.co.uk"}},
		{"accepts the explicit client_credentials grant type", provider.Request{TokenURL: fake.TokenURL(), Grant: provider.Grant{Type: provider.GrantClientCredentials}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Provider, req.ClientID, req.ClientSecret = oauthv1alpha1.ProviderAurora, fake.ClientID(), fake.ClientSecret()
			start := time.Now()
			tok := mustToken(t, &req)
			if !fake.ValidAccessToken(tok.AccessToken) {
				t.Errorf("access token %q was not issued by the fake", tok.AccessToken)
			}
			if tok.TokenType != "Bearer" || tok.RefreshToken != "" {
				t.Errorf("token = %+v, want a Bearer token without refresh token", tok)
			}
			if !within(tok.Expiry, start.Add(2*time.Hour)) {
				t.Errorf("expiry %s, want about two hours from now", tok.Expiry)
			}
			noRejections(t, fake)
		})
	}
	if got := fake.Requests(provider.GrantClientCredentials); got != 4 {
		t.Errorf("client_credentials requests = %d, want 4 (one per token)", got)
	}
	t.Run("sends the Dev audience for the Dev environment, which only Dev accepts", func(t *testing.T) {
		dev := providertest.NewAurora(providertest.Options{Environment: oauthv1alpha1.EnvironmentDev})
		defer dev.Close()
		req := &provider.Request{Provider: oauthv1alpha1.ProviderAurora, Environment: oauthv1alpha1.EnvironmentDev, TokenURL: dev.TokenURL(), ClientID: dev.ClientID(), ClientSecret: dev.ClientSecret()}
		if tok := mustToken(t, req); !dev.ValidAccessToken(tok.AccessToken) {
			t.Errorf("token %+v not issued by the Dev fake", tok)
		}
		req.Environment = oauthv1alpha1.EnvironmentLive
		_ = mustFail(t, quickClient(), req, provider.Transient) // Auth0's 403 access_denied
		noRejections(t, dev)
	})
}

func TestTokenAuraCodeThenRotatingRefresh(t *testing.T) {
	fake := providertest.NewAura(providertest.Options{ClientID: oddClientID, ClientSecret: oddClientSecret})
	defer fake.Close()
	base := provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: fake.TokenURL(), ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret()}
	withGrant := func(g provider.Grant) *provider.Request { r := base; r.Grant = g; return &r }

	code := fake.IssueCode()
	codeGrant := provider.Grant{Type: provider.GrantAuthorizationCode, Code: code, RedirectURI: fake.RedirectURI()}
	first := mustToken(t, withGrant(codeGrant))
	if first.RefreshToken == "" || first.TokenType != "Bearer" || !fake.ValidAccessToken(first.AccessToken) {
		t.Fatalf("code exchange = %+v, want a Bearer token and a refresh token", first)
	}
	if got := fake.Requests(provider.GrantAuthorizationCode); got != 1 {
		t.Errorf("authorization_code requests = %d, want 1", got)
	}

	t.Run("a refresh returns a new refresh token", func(t *testing.T) {
		second := mustToken(t, withGrant(provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: first.RefreshToken}))
		if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
			t.Fatalf("refresh token after refresh = %q, want a new one (old %q)", second.RefreshToken, first.RefreshToken)
		}
		if second.AccessToken == first.AccessToken || !fake.ValidAccessToken(second.AccessToken) {
			t.Errorf("access token after refresh = %q, want a new valid one", second.AccessToken)
		}

		t.Run("the old refresh token is then refused as invalid_grant", func(t *testing.T) {
			e := mustFail(t, quickClient(), withGrant(provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: first.RefreshToken}), provider.InvalidGrant)
			if e.StatusCode != http.StatusBadRequest || e.Code != "invalid_grant" {
				t.Errorf("error = %+v, want HTTP 400 invalid_grant", e)
			}
		})
		t.Run("the reuse revoked the family, the newest refresh token too", func(t *testing.T) {
			_ = mustFail(t, quickClient(), withGrant(provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: second.RefreshToken}), provider.InvalidGrant)
		})
	})
	t.Run("the code is single-use", func(t *testing.T) {
		_ = mustFail(t, quickClient(), withGrant(codeGrant), provider.InvalidGrant)
	})
	t.Run("another grant's refresh token still works", func(t *testing.T) {
		tok := mustToken(t, withGrant(provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: fake.IssueRefreshToken()}))
		if tok.RefreshToken == "" {
			t.Errorf("no rotated refresh token: %+v", tok)
		}
	})
	noRejections(t, fake)
}

func TestTokenAstonClub(t *testing.T) {
	for _, tt := range []struct {
		name             string
		omitExpiresIn    bool
		omitRefreshToken bool
		code             bool
		wantRefresh      bool
	}{
		{"exchanges a code, normalising token_type bearer to Bearer", false, false, true, true},
		{"refreshes and returns the next refresh token", false, false, false, true},
		{"a response without expires_in gives a token that does not expire", true, false, false, true},
		{"a refresh response without refresh_token gives an empty RefreshToken", false, true, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := providertest.NewAstonClub(providertest.Options{ClientID: oddClientID, ClientSecret: oddClientSecret, Lifetime: 365 * 24 * time.Hour})
			defer fake.Close()
			fake.SetOmitExpiresIn(tt.omitExpiresIn)
			fake.SetOmitRefreshToken(tt.omitRefreshToken)
			grant := provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: fake.IssueRefreshToken()}
			if tt.code {
				grant = provider.Grant{Type: provider.GrantAuthorizationCode, Code: fake.IssueCode(), RedirectURI: fake.RedirectURI()}
			}
			start := time.Now()
			tok := mustToken(t, &provider.Request{
				Provider: oauthv1alpha1.ProviderAstonClub, Environment: oauthv1alpha1.EnvironmentSandbox, TokenURL: fake.TokenURL(),
				ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(), Grant: grant,
			})
			if tok.TokenType != "Bearer" {
				t.Errorf("TokenType = %q, want Bearer", tok.TokenType)
			}
			if tok.Scope != "posapi" || !fake.ValidAccessToken(tok.AccessToken) {
				t.Errorf("token = %+v, want a valid posapi token", tok)
			}
			switch {
			case tt.omitExpiresIn && !tok.Expiry.IsZero():
				t.Errorf("Expiry = %s, want zero (does not expire)", tok.Expiry)
			case !tt.omitExpiresIn && !within(tok.Expiry, start.Add(365*24*time.Hour)):
				t.Errorf("Expiry = %s, want a year from now", tok.Expiry)
			}
			if (tok.RefreshToken != "") != tt.wantRefresh || tok.RefreshToken == grant.RefreshToken && tok.RefreshToken != "" {
				t.Errorf("RefreshToken = %q, want new: %v", tok.RefreshToken, tt.wantRefresh)
			}
			noRejections(t, fake)
		})
	}
}

func TestTokenAurinkoCodeExchange(t *testing.T) {
	for _, tt := range []struct {
		name     string
		clientID string
		secret   string
		tokenURL func(*providertest.Server) string
	}{
		{"exchanges the code at {tokenURL}/{code}", "aurinko-client", "aurinko-secret", (*providertest.Server).TokenURL},
		{"drops a trailing slash of the token URL", "aurinko-client", "aurinko-secret", func(s *providertest.Server) string { return s.TokenURL() + "/" }},
		{"sends a secret with ':', '%', ' ' and '+' as curl -u does", "aurinko-client", oddClientSecret, (*providertest.Server).TokenURL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := providertest.NewAurinko(providertest.Options{ClientID: tt.clientID, ClientSecret: tt.secret})
			defer fake.Close()
			tok := mustToken(t, &provider.Request{
				Provider: oauthv1alpha1.ProviderAurinko, TokenURL: tt.tokenURL(fake),
				ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(),
				Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: fake.IssueCode()},
			})
			if tok.TokenType != "Bearer" || !tok.Expiry.IsZero() || tok.RefreshToken != "" || !fake.ValidAccessToken(tok.AccessToken) {
				t.Errorf("token = %+v, want a valid Bearer token with no expiry and no refresh token", tok)
			}
			if tok.Extra[oauthv1alpha1.KeyUserSession] == "" || tok.Extra[oauthv1alpha1.KeyAccountID] != "123" || tok.Extra[oauthv1alpha1.KeyUserID] != "user-id-xyz" {
				t.Errorf("Extra = %v, want user_session, account_id 123, user_id user-id-xyz", tok.Extra)
			}
			if got := fake.Requests(provider.GrantAuthorizationCode); got != 1 {
				t.Errorf("authorization_code requests = %d, want 1", got)
			}
			noRejections(t, fake)
		})
	}
}

func TestTokenGenericAgainstTheFake(t *testing.T) {
	for _, auth := range []oauthv1alpha1.ClientAuthentication{oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.ClientAuthenticationBody} {
		for _, enc := range []oauthv1alpha1.RequestEncoding{oauthv1alpha1.RequestEncodingForm, oauthv1alpha1.RequestEncodingJSON, oauthv1alpha1.RequestEncodingMultipart} {
			for _, grant := range []provider.GrantType{provider.GrantClientCredentials, provider.GrantRefreshToken} {
				t.Run(fmt.Sprintf("%s with %s auth and a %s body", grant, auth, enc), func(t *testing.T) {
					fake := providertest.NewGeneric(providertest.Options{ClientID: oddClientID, ClientSecret: oddClientSecret, Lifetime: 10 * time.Minute}, auth, enc)
					defer fake.Close()
					req := &provider.Request{
						Provider: oauthv1alpha1.ProviderGeneric, TokenURL: fake.TokenURL(),
						ClientAuthentication: auth, RequestEncoding: enc,
						Scopes: []string{"read", "write"}, Audience: "https://api.example.com",
						ExtraParameters: map[string]string{"resource": "https://resource.example.com"},
						ClientID:        fake.ClientID(), ClientSecret: fake.ClientSecret(),
						Grant: provider.Grant{Type: grant},
					}
					if grant == provider.GrantRefreshToken {
						req.Grant.RefreshToken = fake.IssueRefreshToken()
					}
					start := time.Now()
					tok := mustToken(t, req)
					if !fake.ValidAccessToken(tok.AccessToken) || tok.TokenType != "Bearer" || tok.Scope != "read write" {
						t.Errorf("token = %+v, want a valid Bearer token with scope %q", tok, "read write")
					}
					if !within(tok.Expiry, start.Add(10*time.Minute)) {
						t.Errorf("Expiry = %s, want ten minutes from now", tok.Expiry)
					}
					if got := fake.Requests(grant); got != 1 {
						t.Errorf("%s requests = %d, want 1", grant, got)
					}
					noRejections(t, fake)
				})
			}
		}
	}
	t.Run("discovers the token endpoint from the issuer", func(t *testing.T) {
		fake := providertest.NewGeneric(providertest.Options{}, oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm)
		defer fake.Close()
		tok := mustToken(t, &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, IssuerURL: fake.IssuerURL(), ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret()})
		if !fake.ValidAccessToken(tok.AccessToken) {
			t.Errorf("token %+v not issued by the fake", tok)
		}
		noRejections(t, fake)
	})
}

// recorded is what a recording token endpoint received.
type recorded struct {
	contentType string
	fields      map[string]string
	basicID     string
	basicSecret string
	hasBasic    bool
	rawBasic    string
}

// readRequest reads a token request's body fields, in any of the three encodings, and its
// client authentication.
func readRequest(r *http.Request) recorded {
	rec := recorded{fields: map[string]string{}}
	rec.basicID, rec.basicSecret, rec.hasBasic = r.BasicAuth()
	rec.rawBasic = r.Header.Get("Authorization")
	rec.contentType, _, _ = mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch rec.contentType {
	case "application/x-www-form-urlencoded":
		_ = r.ParseForm()
		for k := range r.PostForm {
			rec.fields[k] = r.PostForm.Get(k)
		}
	case "multipart/form-data":
		if r.ParseMultipartForm(1<<20) == nil {
			for k, v := range r.MultipartForm.Value {
				rec.fields[k] = v[0]
			}
		}
	case "application/json":
		_ = json.NewDecoder(r.Body).Decode(&rec.fields)
	}
	return rec
}

// recordingServer answers every POST with a token and records the last request.
func recordingServer(t *testing.T) (*httptest.Server, func() recorded) {
	t.Helper()
	var mu sync.Mutex
	var last recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := readRequest(r)
		mu.Lock()
		last = rec
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"at-recorded","token_type":"bearer","expires_in":60}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() recorded { mu.Lock(); defer mu.Unlock(); return last }
}

func TestTokenGenericWireFormat(t *testing.T) {
	wantBasic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(oddClientID)+":"+url.QueryEscape(oddClientSecret)))
	mediaTypes := map[oauthv1alpha1.RequestEncoding]string{
		oauthv1alpha1.RequestEncodingForm:      "application/x-www-form-urlencoded",
		oauthv1alpha1.RequestEncodingJSON:      "application/json",
		oauthv1alpha1.RequestEncodingMultipart: "multipart/form-data",
	}
	for _, auth := range []oauthv1alpha1.ClientAuthentication{oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.ClientAuthenticationBody} {
		for _, enc := range []oauthv1alpha1.RequestEncoding{oauthv1alpha1.RequestEncodingForm, oauthv1alpha1.RequestEncodingJSON, oauthv1alpha1.RequestEncodingMultipart} {
			for _, grant := range []provider.GrantType{provider.GrantClientCredentials, provider.GrantRefreshToken} {
				t.Run(fmt.Sprintf("%s with %s auth sends a %s body with scope, audience and extra parameters", grant, auth, enc), func(t *testing.T) {
					srv, last := recordingServer(t)
					req := &provider.Request{
						Provider: oauthv1alpha1.ProviderGeneric, TokenURL: srv.URL + "/token",
						ClientAuthentication: auth, RequestEncoding: enc,
						Scopes: []string{"read", "write"}, Audience: "https://api.example.com",
						ExtraParameters: map[string]string{"resource": "https://resource.example.com"},
						ClientID:        oddClientID, ClientSecret: oddClientSecret,
						Grant: provider.Grant{Type: grant},
					}
					if grant == provider.GrantRefreshToken {
						req.Grant.RefreshToken = "rt-with odd+chars%"
					}
					tok := mustToken(t, req)
					if tok.TokenType != "Bearer" {
						t.Errorf("TokenType = %q, want Bearer", tok.TokenType)
					}
					got := last()
					if got.contentType != mediaTypes[enc] {
						t.Errorf("Content-Type = %q, want %q", got.contentType, mediaTypes[enc])
					}
					want := map[string]string{
						"grant_type": string(grant), "scope": "read write",
						"audience": "https://api.example.com", "resource": "https://resource.example.com",
					}
					if grant == provider.GrantRefreshToken {
						want["refresh_token"] = req.Grant.RefreshToken
					}
					if auth == oauthv1alpha1.ClientAuthenticationBody {
						want["client_id"], want["client_secret"] = oddClientID, oddClientSecret
						if got.hasBasic {
							t.Errorf("HTTP Basic sent with Body client authentication: %q", got.rawBasic)
						}
					} else if got.rawBasic != wantBasic {
						t.Errorf("Authorization = %q, want %q (id and secret form-urlencoded, RFC 6749 section 2.3.1)", got.rawBasic, wantBasic)
					}
					for k, v := range want {
						if got.fields[k] != v {
							t.Errorf("field %s = %q, want %q", k, got.fields[k], v)
						}
					}
					if auth == oauthv1alpha1.ClientAuthenticationBasic {
						if _, ok := got.fields["client_secret"]; ok {
							t.Errorf("client_secret in the body with Basic client authentication")
						}
					}
				})
			}
		}
	}
}

func TestTokenAuraAndAstonClubWireFormat(t *testing.T) {
	for _, tt := range []struct {
		name      string
		provider  oauthv1alpha1.Provider
		mediaType string
	}{
		{"Aura sends multipart/form-data with the client in the body, and the PKCE verifier", oauthv1alpha1.ProviderAura, "multipart/form-data"},
		{"Aston Club sends JSON with the client in the body, and the PKCE verifier", oauthv1alpha1.ProviderAstonClub, "application/json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, last := recordingServer(t)
			mustToken(t, &provider.Request{
				Provider: tt.provider, TokenURL: srv.URL + "/token", ClientID: oddClientID, ClientSecret: oddClientSecret,
				Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "the-code", RedirectURI: "https://app.example.com/cb", CodeVerifier: "the-verifier"},
			})
			got := last()
			want := map[string]string{"grant_type": "authorization_code", "code": "the-code", "redirect_uri": "https://app.example.com/cb",
				"code_verifier": "the-verifier", "client_id": oddClientID, "client_secret": oddClientSecret}
			if got.contentType != tt.mediaType || got.hasBasic {
				t.Errorf("Content-Type %q, Basic %v; want %q without Basic", got.contentType, got.hasBasic, tt.mediaType)
			}
			for k, v := range want {
				if got.fields[k] != v {
					t.Errorf("field %s = %q, want %q", k, got.fields[k], v)
				}
			}
			if _, ok := got.fields["redirect_url"]; ok {
				t.Errorf("sent redirect_url; the field is redirect_uri")
			}
		})
	}
}

// target is one provider's way of making a token request against its fake.
type target struct {
	name  string
	start func(providertest.Options) *providertest.Server
	req   func(*providertest.Server) *provider.Request
	grant bool // presents a refresh token or code that RevokeGrants revokes
}

func targets() []target {
	generic := func(auth oauthv1alpha1.ClientAuthentication, enc oauthv1alpha1.RequestEncoding) func(providertest.Options) *providertest.Server {
		return func(o providertest.Options) *providertest.Server { return providertest.NewGeneric(o, auth, enc) }
	}
	return []target{
		{"Aura refresh", providertest.NewAura, func(s *providertest.Server) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: s.TokenURL(), ClientID: s.ClientID(), ClientSecret: s.ClientSecret(),
				Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: s.IssueRefreshToken()}}
		}, true},
		{"Aston Club code", providertest.NewAstonClub, func(s *providertest.Server) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, TokenURL: s.TokenURL(), ClientID: s.ClientID(), ClientSecret: s.ClientSecret(),
				Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: s.IssueCode(), RedirectURI: s.RedirectURI()}}
		}, true},
		{"Aurinko code", providertest.NewAurinko, func(s *providertest.Server) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: s.TokenURL(), ClientID: s.ClientID(), ClientSecret: s.ClientSecret(),
				Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: s.IssueCode()}}
		}, true},
		{"Aurora client credentials", providertest.NewAurora, func(s *providertest.Server) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAurora, TokenURL: s.TokenURL(), ClientID: s.ClientID(), ClientSecret: s.ClientSecret()}
		}, false},
		{"Generic client credentials, Basic, form", generic(oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm), func(s *providertest.Server) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: s.TokenURL(), ClientID: s.ClientID(), ClientSecret: s.ClientSecret(),
				ClientAuthentication: oauthv1alpha1.ClientAuthenticationBasic, RequestEncoding: oauthv1alpha1.RequestEncodingForm}
		}, false},
		{"Generic refresh, Body, JSON", generic(oauthv1alpha1.ClientAuthenticationBody, oauthv1alpha1.RequestEncodingJSON), func(s *providertest.Server) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: s.TokenURL(), ClientID: s.ClientID(), ClientSecret: s.ClientSecret(),
				ClientAuthentication: oauthv1alpha1.ClientAuthenticationBody, RequestEncoding: oauthv1alpha1.RequestEncodingJSON,
				Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: s.IssueRefreshToken()}}
		}, true},
	}
}

func TestTokenErrorKinds(t *testing.T) {
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	for _, tt := range []struct {
		name      string
		grantOnly bool
		arrange   func(*providertest.Server, *provider.Request)
		want      provider.Kind
		check     func(*testing.T, *provider.Error)
	}{
		{"a 503 is transient", false, func(s *providertest.Server, _ *provider.Request) { s.FailNext(1, http.StatusServiceUnavailable) }, provider.Transient,
			func(t *testing.T, e *provider.Error) {
				if e.StatusCode != 503 || e.Code != "server_error" {
					t.Errorf("error = %+v, want HTTP 503 server_error", e)
				}
			}},
		{"a 500 is transient", false, func(s *providertest.Server, _ *provider.Request) { s.FailNext(1, http.StatusInternalServerError) }, provider.Transient,
			func(t *testing.T, e *provider.Error) {
				if e.StatusCode != 500 {
					t.Errorf("StatusCode = %d, want 500", e.StatusCode)
				}
			}},
		{"a 429 with Retry-After in seconds is transient and carries the wait", false, func(s *providertest.Server, _ *provider.Request) {
			s.FailNextWith(1, providertest.Failure{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"7"}}, Body: `{"error":"slow_down"}`})
		}, provider.Transient, func(t *testing.T, e *provider.Error) {
			if e.StatusCode != 429 || e.RetryAfter != 7*time.Second {
				t.Errorf("error = %+v, want HTTP 429 with RetryAfter 7s", e)
			}
		}},
		{"a 429 with Retry-After as an HTTP-date is transient and carries the wait", false, func(s *providertest.Server, _ *provider.Request) {
			when := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
			s.FailNextWith(1, providertest.Failure{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {when}}})
		}, provider.Transient, func(t *testing.T, e *provider.Error) {
			if e.RetryAfter < 58*time.Minute || e.RetryAfter > time.Hour+time.Second {
				t.Errorf("RetryAfter = %s, want about an hour", e.RetryAfter)
			}
		}},
		{"a 200 with malformed JSON is transient", false, func(s *providertest.Server, _ *provider.Request) {
			s.FailNextWith(1, providertest.Failure{Status: http.StatusOK, Header: jsonHeader, Body: `{"access_token": "x", `})
		}, provider.Transient, nil},
		{"a 200 without an access token is transient", false, func(s *providertest.Server, _ *provider.Request) {
			s.FailNextWith(1, providertest.Failure{Status: http.StatusOK, Header: jsonHeader, Body: `{"token_type":"Bearer","expires_in":3600}`})
		}, provider.Transient, nil},
		{"a revoked grant is invalid_grant", true, func(s *providertest.Server, _ *provider.Request) { s.RevokeGrants() }, provider.InvalidGrant,
			func(t *testing.T, e *provider.Error) {
				if e.Code != "invalid_grant" || e.StatusCode != 400 {
					t.Errorf("error = %+v, want HTTP 400 invalid_grant", e)
				}
			}},
		{"a wrong client secret is invalid_client", false, func(_ *providertest.Server, r *provider.Request) { r.ClientSecret = "not-the-secret" }, provider.InvalidClient,
			func(t *testing.T, e *provider.Error) {
				if e.StatusCode != 401 {
					t.Errorf("StatusCode = %d, want 401", e.StatusCode)
				}
			}},
		{"another 4xx error code is a bad request", false, func(s *providertest.Server, _ *provider.Request) {
			s.FailNextWith(1, providertest.Failure{Status: http.StatusBadRequest, Body: `{"error":"invalid_scope","error_description":"scope unknown"}`})
		}, provider.BadRequest, func(t *testing.T, e *provider.Error) {
			if e.Code != "invalid_scope" || e.Description != "scope unknown" {
				t.Errorf("error = %+v, want invalid_scope: scope unknown", e)
			}
		}},
		{"unauthorized_client is invalid_client", false, func(s *providertest.Server, _ *provider.Request) {
			s.FailNextWith(1, providertest.Failure{Status: http.StatusBadRequest, Body: `{"error":"unauthorized_client"}`})
		}, provider.InvalidClient, nil},
		{"a 403 without an error code is transient and says what came", false, func(s *providertest.Server, _ *provider.Request) {
			s.FailNextWith(1, providertest.Failure{Status: http.StatusForbidden, Body: `forbidden`})
		}, provider.Transient, func(t *testing.T, e *provider.Error) {
			if e.StatusCode != 403 || !strings.Contains(e.Error(), "without an OAuth error") {
				t.Errorf("error = %v, want HTTP 403 saying no OAuth error came", e)
			}
		}},
	} {
		for _, tg := range targets() {
			if tt.grantOnly && !tg.grant {
				continue
			}
			t.Run(tt.name+" ("+tg.name+")", func(t *testing.T) {
				fake := tg.start(providertest.Options{})
				defer fake.Close()
				req := tg.req(fake)
				tt.arrange(fake, req)
				e := mustFail(t, quickClient(), req, tt.want)
				if tt.check != nil {
					tt.check(t, e)
				}
				if got := fake.TotalRequests(); got != 1 {
					t.Errorf("token requests = %d, want exactly 1 (no retry)", got)
				}
				noRejections(t, fake)
			})
		}
	}
}

// freeLoopbackURL returns an http URL on a loopback port nothing listens on.
func freeLoopbackURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

func TestTokenNetworkFailuresAreTransient(t *testing.T) {
	for _, tg := range targets() {
		t.Run("connection refused by a closed server ("+tg.name+")", func(t *testing.T) {
			fake := tg.start(providertest.Options{})
			req := tg.req(fake)
			fake.Close()
			e := mustFail(t, quickClient(), req, provider.Transient)
			if e.StatusCode != 0 {
				t.Errorf("StatusCode = %d, want 0 (no response)", e.StatusCode)
			}
		})
		t.Run("a response slower than the timeout ("+tg.name+")", func(t *testing.T) {
			// Parallel: closing the fake waits out the delay of a request whose body the
			// handler has not read, so the waits overlap instead of adding up.
			t.Parallel()
			fake := tg.start(providertest.Options{})
			defer fake.Close()
			fake.SetDelay(time.Second)
			start := time.Now()
			_, err := (&provider.Client{Timeout: 100 * time.Millisecond}).Token(context.Background(), tg.req(fake))
			if provider.KindOf(err) != provider.Transient || err == nil {
				t.Fatalf("error = %v, want Transient", err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not match context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d > 900*time.Millisecond {
				t.Errorf("took %s; the timeout is 100ms", d)
			}
		})
	}
	t.Run("discovery from an unused port", func(t *testing.T) {
		_ = mustFail(t, quickClient(), &provider.Request{Provider: oauthv1alpha1.ProviderAurora, IssuerURL: freeLoopbackURL(t) + "/", ClientID: "id", ClientSecret: "secret"}, provider.Transient)
	})
	t.Run("an Aura token URL on an unused port", func(t *testing.T) {
		_ = mustFail(t, quickClient(), &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: freeLoopbackURL(t) + "/oauth/token", ClientID: "id", ClientSecret: "secret",
			Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-1234"}}, provider.Transient)
	})
}

// staticServer answers every request with status, content type JSON and body.
func staticServer(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTokenOversizedResponsesAreTransient(t *testing.T) {
	huge := `{"access_token":"` + strings.Repeat("a", provider.MaxResponseBytes) + `","token_type":"Bearer"}`
	padded := `{"access_token":"small","token_type":"Bearer","expires_in":60}` + strings.Repeat(" ", provider.MaxResponseBytes+10)
	for _, tt := range []struct {
		name string
		body string
		req  func(url string) *provider.Request
	}{
		{"an access token bigger than 1 MiB (Aura)", huge, func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: u, ClientID: "id", ClientSecret: "secret", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-1234"}}
		}},
		{"an access token bigger than 1 MiB (Generic client credentials, through x/oauth2)", huge, func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u, ClientID: "id", ClientSecret: "secret"}
		}},
		{"a valid token padded past 1 MiB (Aura)", padded, func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: u, ClientID: "id", ClientSecret: "secret", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-1234"}}
		}},
		{"a valid token padded past 1 MiB (Aurora, through x/oauth2)", padded, func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAurora, TokenURL: u, ClientID: "id", ClientSecret: "secret"}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := staticServer(t, http.StatusOK, tt.body)
			tok, err := quickClient().Token(context.Background(), tt.req(srv.URL+"/token"))
			if err == nil && strings.Contains(tt.name, "x/oauth2") {
				t.Fatalf("a %d-byte response was accepted through x/oauth2 (token %q), want it refused as Transient like every other path", len(tt.body), tok.AccessToken)
			}
			if err == nil || provider.KindOf(err) != provider.Transient {
				t.Fatalf("Token() = %v, %v; want a Transient error", tok, err)
			}
		})
	}
}

// countingServer counts the requests it receives.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"stolen","token_type":"Bearer","token_endpoint":"https://x.example/token"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestTokenRedirectsAreNotFollowed(t *testing.T) {
	other, hits := countingServer(t)
	// Another host: a different name and port than the redirecting server's 127.0.0.1.
	elsewhere := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere+r.URL.Path, status)
		}))
		for _, tt := range []struct {
			name string
			req  provider.Request
		}{
			{"Aura", provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: redirector.URL + "/oauth/token", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-1234"}}},
			{"Generic client credentials through x/oauth2", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: redirector.URL + "/token"}},
			{"Generic refresh as JSON", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: redirector.URL + "/token", RequestEncoding: oauthv1alpha1.RequestEncodingJSON,
				Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-1234"}}},
			{"Aurinko", provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: redirector.URL + "/v1/auth/token", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "code-1234"}}},
			{"Aurora discovery", provider.Request{Provider: oauthv1alpha1.ProviderAurora, IssuerURL: redirector.URL + "/"}},
		} {
			t.Run(fmt.Sprintf("a %d to another host is a bad request (%s)", status, tt.name), func(t *testing.T) {
				req := tt.req
				req.ClientID, req.ClientSecret = "id", "secret"
				before := hits.Load()
				_ = mustFail(t, quickClient(), &req, provider.BadRequest)
				if n := hits.Load() - before; n != 0 {
					t.Errorf("the other host received %d requests", n)
				}
			})
		}
		redirector.Close()
	}
}

// countingTransport counts round trips and refuses them all.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("no request should have been sent")
}

func TestTokenRefusesCleartextToOtherHosts(t *testing.T) {
	discovery := staticServer(t, http.StatusOK, `{"issuer":"x","token_endpoint":"http://tokens.example.com/token"}`)
	for _, tt := range []struct {
		name      string
		req       provider.Request
		transport bool // send through a counting transport that must see nothing
	}{
		{"an http token URL to a remote host (Generic)", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: "http://tokens.example.com/token"}, true},
		{"an http token URL to a remote host (Aurora, x/oauth2)", provider.Request{Provider: oauthv1alpha1.ProviderAurora, TokenURL: "http://tokens.example.com/token"}, true},
		{"an http token URL to a remote host (Aura)", provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: "http://tokens.example.com/oauth/token", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-1234"}}, true},
		{"an http token URL to a remote host (Aurinko)", provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: "http://api.aurinko.example/v1/auth/token", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "code-1234"}}, true},
		{"an http issuer on a remote host", provider.Request{Provider: oauthv1alpha1.ProviderAurora, IssuerURL: "http://auth.example.com/"}, true},
		{"a token URL with user information", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: "https://user:pw@tokens.example.com/token"}, true},
		{"a relative token URL", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: "/token"}, true},
		{"a discovered http token endpoint on a remote host", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, IssuerURL: discovery.URL}, false},
		{"an unknown provider", provider.Request{Provider: "Nope", TokenURL: "https://tokens.example.com/token"}, true},
	} {
		t.Run(tt.name+" is a bad request, sent nowhere", func(t *testing.T) {
			req := tt.req
			req.ClientID, req.ClientSecret = "id", "secret"
			c := quickClient()
			var rt countingTransport
			if tt.transport {
				c.HTTPClient = &http.Client{Transport: &rt}
			}
			_ = mustFail(t, c, &req, provider.BadRequest)
			if n := rt.n.Load(); n != 0 {
				t.Errorf("%d requests were sent", n)
			}
		})
	}
}

func TestTokenRefusesUnsupportedGrantsWithoutARequest(t *testing.T) {
	for _, tt := range []struct {
		name string
		req  provider.Request
	}{
		{"Aurora with a refresh token", provider.Request{Provider: oauthv1alpha1.ProviderAurora, Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt"}}},
		{"Aura with client credentials", provider.Request{Provider: oauthv1alpha1.ProviderAura}},
		{"Aura with an empty refresh token", provider.Request{Provider: oauthv1alpha1.ProviderAura, Grant: provider.Grant{Type: provider.GrantRefreshToken}}},
		{"Aston Club with an empty code", provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, Grant: provider.Grant{Type: provider.GrantAuthorizationCode}}},
		{"Aurinko without a code", provider.Request{Provider: oauthv1alpha1.ProviderAurinko, Grant: provider.Grant{Type: provider.GrantAuthorizationCode}}},
		{"Aurinko with a refresh token", provider.Request{Provider: oauthv1alpha1.ProviderAurinko, Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt"}}},
		{"Generic with a code", provider.Request{Provider: oauthv1alpha1.ProviderGeneric, Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "c"}}},
		{"Aura with a code but no redirect_uri", provider.Request{Provider: oauthv1alpha1.ProviderAura, Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "c"}}},
		{"Aston Club with a code but no redirect_uri", provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "c"}}},
	} {
		t.Run(tt.name+" is a bad request", func(t *testing.T) {
			srv, hits := countingServer(t)
			req := tt.req
			req.TokenURL, req.ClientID, req.ClientSecret = srv.URL+"/token", "id", "secret"
			_ = mustFail(t, quickClient(), &req, provider.BadRequest)
			if n := hits.Load(); n != 0 {
				t.Errorf("%d requests were sent", n)
			}
		})
	}
	t.Run("a nil request is a bad request, not a panic", func(t *testing.T) {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("Token(nil) panicked: %v", r)
			}
		}()
		_ = mustFail(t, quickClient(), nil, provider.BadRequest)
	})
}

// echoServer answers 400 with an error whose description repeats, secrets first, what the
// client sent: the HTTP Basic pair as sent, the body fields, and the request path.
func echoServer(t *testing.T, errorCode string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := readRequest(r)
		echo := ""
		if b64, ok := strings.CutPrefix(rec.rawBasic, "Basic "); ok {
			dec, _ := base64.StdEncoding.DecodeString(b64)
			echo += "basic=" + string(dec) + " "
		}
		for _, k := range []string{"client_secret", "refresh_token", "code"} {
			if v, ok := rec.fields[k]; ok {
				echo += k + "=" + v + " "
			}
		}
		echo += r.URL.EscapedPath()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": errorCode, "error_description": echo})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTokenErrorsNeverCarrySecrets(t *testing.T) {
	const (
		secret  = "sec:ret 50%+/x"
		refresh = "rt/with space+plus%"
		code    = "code/with space+%2F?"
	)
	secrets := []string{secret, refresh, code}
	leaks := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("no error")
		}
		msg := err.Error()
		for _, s := range secrets {
			for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
				if strings.Contains(msg, form) {
					t.Errorf("error text %q contains the secret %q", msg, form)
				}
			}
		}
	}
	for _, tt := range []struct {
		name string
		req  func(url string) *provider.Request
	}{
		{"Aura refresh", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: u + "/oauth/token", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: refresh}}
		}},
		{"Aura code", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: u + "/oauth/token", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: code, RedirectURI: "https://app.example.com/cb"}}
		}},
		{"Aston Club refresh", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, TokenURL: u + "/v1/token", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: refresh}}
		}},
		{"Aurinko code", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: u + "/v1/auth/token", Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: code}}
		}},
		{"Generic client credentials, form Basic (x/oauth2)", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u + "/token"}
		}},
		{"Generic client credentials, form Body (x/oauth2)", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u + "/token", ClientAuthentication: oauthv1alpha1.ClientAuthenticationBody}
		}},
		{"Generic refresh, form Basic", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u + "/token", Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: refresh}}
		}},
		{"Generic refresh, JSON Body", func(u string) *provider.Request {
			return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u + "/token", ClientAuthentication: oauthv1alpha1.ClientAuthenticationBody,
				RequestEncoding: oauthv1alpha1.RequestEncodingJSON, Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: refresh}}
		}},
	} {
		for _, errorCode := range []string{"invalid_grant", "invalid_client", "invalid_request"} {
			t.Run(tt.name+": a provider echoing the request in a "+errorCode+" error_description", func(t *testing.T) {
				srv := echoServer(t, errorCode)
				req := tt.req(srv.URL)
				req.ClientID, req.ClientSecret = "client", secret
				_, err := quickClient().Token(context.Background(), req)
				leaks(t, err)
			})
		}
		t.Run(tt.name+": a connection refused, the URL in the error", func(t *testing.T) {
			req := tt.req(freeLoopbackURL(t))
			req.ClientID, req.ClientSecret = "client", secret
			_, err := quickClient().Token(context.Background(), req)
			if provider.KindOf(err) != provider.Transient {
				t.Errorf("kind = %s, want Transient", provider.KindOf(err))
			}
			leaks(t, err)
		})
	}
	t.Run("an Aurinko code with no characters to escape, connection refused", func(t *testing.T) {
		req := &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: freeLoopbackURL(t) + "/v1/auth/token", ClientID: "client", ClientSecret: secret,
			Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "plaincode0123456789"}}
		_, err := quickClient().Token(context.Background(), req)
		if err == nil || strings.Contains(err.Error(), "plaincode0123456789") {
			t.Errorf("error %v, want one without the code", err)
		}
	})
	t.Run("the error chain of an Aurinko network failure does not hold the code either", func(t *testing.T) {
		req := &provider.Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: freeLoopbackURL(t) + "/v1/auth/token", ClientID: "client", ClientSecret: secret,
			Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "plaincode0123456789"}}
		_, err := quickClient().Token(context.Background(), req)
		var ue *url.Error
		if errors.As(err, &ue) && strings.Contains(ue.Error(), "plaincode0123456789") {
			t.Fatalf("errors.As(err, *url.Error) yields %q, with the Aurinko code; *Error.Err must be redacted all the way down", ue.Error())
		}
	})
	t.Run("an Aurora discovery failure against an issuer with the secret nowhere near", func(t *testing.T) {
		srv := echoServer(t, "invalid_request")
		_, err := quickClient().Token(context.Background(), &provider.Request{Provider: oauthv1alpha1.ProviderAurora, IssuerURL: srv.URL + "/", ClientID: "client", ClientSecret: secret})
		leaks(t, err)
	})
	t.Run("a long error_description that cuts a refresh token at the truncation point", func(t *testing.T) {
		const rt = "rt-0123456789abcdefghijklmnopqrstuvwxyz"
		for pad := 180; pad < 200; pad += 3 {
			body, _ := json.Marshal(map[string]string{"error": "invalid_grant", "error_description": strings.Repeat("x", pad) + rt})
			srv := staticServer(t, http.StatusBadRequest, string(body))
			_, err := quickClient().Token(context.Background(), &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: srv.URL, ClientID: "client", ClientSecret: secret,
				Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: rt}})
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), rt[:12]) {
				t.Fatalf("a refresh token straddling the 200-byte truncation leaks its prefix: %q", err.Error())
			}
		}
	})
}

func TestParseTokenResponseFormats(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	jwt := func(claims string) string {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(claims)) + ".sig"
	}
	for _, tt := range []struct {
		name    string
		body    string
		want    provider.Token
		wantErr bool
	}{
		{"reads expires_in as a number", `{"access_token":"a","token_type":"Bearer","expires_in":3600,"refresh_token":"r","scope":"s1 s2"}`,
			provider.Token{AccessToken: "a", TokenType: "Bearer", Expiry: now.Add(time.Hour), RefreshToken: "r", Scope: "s1 s2"}, false},
		{"reads expires_in as a numeric string", `{"access_token":"a","token_type":"Bearer","expires_in":"3600"}`,
			provider.Token{AccessToken: "a", TokenType: "Bearer", Expiry: now.Add(time.Hour)}, false},
		{"normalises a lower-case bearer", `{"access_token":"a","token_type":"bearer","expires_in":31536000,"scope":"posapi","resource_owner_type":"merchant"}`,
			provider.Token{AccessToken: "a", TokenType: "Bearer", Expiry: now.Add(31536000 * time.Second), Scope: "posapi"}, false},
		{"normalises BEARER", `{"access_token":"a","token_type":"BEARER"}`, provider.Token{AccessToken: "a", TokenType: "Bearer"}, false},
		{"calls a missing token_type Bearer", `{"access_token":"a"}`, provider.Token{AccessToken: "a", TokenType: "Bearer"}, false},
		{"keeps another token type", `{"access_token":"a","token_type":"DPoP"}`, provider.Token{AccessToken: "a", TokenType: "DPoP"}, false},
		{"takes the expiry of a JWT without expires_in from its exp claim", `{"access_token":"` + jwt(`{"exp":1800000000}`) + `","token_type":"Bearer"}`,
			provider.Token{AccessToken: jwt(`{"exp":1800000000}`), TokenType: "Bearer", Expiry: time.Unix(1800000000, 0)}, false},
		{"prefers expires_in to a JWT's exp", `{"access_token":"` + jwt(`{"exp":1800000000}`) + `","expires_in":60}`,
			provider.Token{AccessToken: jwt(`{"exp":1800000000}`), TokenType: "Bearer", Expiry: now.Add(time.Minute)}, false},
		{"a JWT without exp does not expire", `{"access_token":"` + jwt(`{"sub":"x"}`) + `"}`,
			provider.Token{AccessToken: jwt(`{"sub":"x"}`), TokenType: "Bearer"}, false},
		{"an opaque token without expires_in does not expire", `{"access_token":"b3ced838247244107a252fe1f10aef34c78c726e","token_type":"bearer"}`,
			provider.Token{AccessToken: "b3ced838247244107a252fe1f10aef34c78c726e", TokenType: "Bearer"}, false},
		{"a null expires_in is absent", `{"access_token":"a","expires_in":null}`, provider.Token{AccessToken: "a", TokenType: "Bearer"}, false},
		{"refuses a body without access_token", `{"token_type":"Bearer","expires_in":3600}`, provider.Token{}, true},
		{"refuses an empty access_token", `{"access_token":""}`, provider.Token{}, true},
		{"refuses malformed JSON", `{"access_token":"a"`, provider.Token{}, true},
		{"refuses a JSON array", `[{"access_token":"a"}]`, provider.Token{}, true},
		{"refuses an empty body", ``, provider.Token{}, true},
		{"refuses HTML", `<html>502 Bad Gateway</html>`, provider.Token{}, true},
		{"reads a negative expires_in as an unknown lifetime", `{"access_token":"a","expires_in":-5}`, provider.Token{AccessToken: "a", TokenType: "Bearer"}, false},
		{"reads a non-numeric expires_in as an unknown lifetime", `{"access_token":"a","expires_in":"soon"}`, provider.Token{AccessToken: "a", TokenType: "Bearer"}, false},
		{"reads expires_in true as an unknown lifetime", `{"access_token":"a","expires_in":true}`, provider.Token{AccessToken: "a", TokenType: "Bearer"}, false},
		{"refuses an access_token that is a number", `{"access_token":123}`, provider.Token{}, true},
		{"reads expires_in NaN as an unknown lifetime", `{"access_token":"a","expires_in":"NaN"}`, provider.Token{AccessToken: "a", TokenType: "Bearer"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := provider.ParseTokenResponse([]byte(tt.body), now)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseTokenResponse() = %+v, want an error", got)
				}
				if got != nil {
					t.Errorf("ParseTokenResponse() returned %+v with the error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTokenResponse() error = %v", err)
			}
			if got.AccessToken != tt.want.AccessToken || got.TokenType != tt.want.TokenType || got.RefreshToken != tt.want.RefreshToken ||
				got.Scope != tt.want.Scope || !got.Expiry.Equal(tt.want.Expiry) {
				t.Errorf("ParseTokenResponse() = %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("an absurd JWT exp does not give an expiry before 1970", func(t *testing.T) {
		got, err := provider.ParseTokenResponse([]byte(`{"access_token":"`+jwt(`{"exp":1e300}`)+`"}`), now)
		if err != nil {
			return
		}
		if !got.Expiry.IsZero() && got.Expiry.Before(now) {
			t.Fatalf("JWT exp 1e300 overflowed into expiry %s: an already-expired token", got.Expiry)
		}
	})
	t.Run("reads the exp of Aura's documented JWT", func(t *testing.T) {
		const at = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiI5OWFkYjBhYS0xN2ZjLTQ1NzgtODIyNi1lNDVlNGQzZTkxNTYiLCJqdGkiOiIwY2FlMTY2NTY0MzgzZjExNGYxZTVkYjhiYThiOGRlYzUyNGUzM2JhMTJlNzUzNTA0OWEzYTJmYTU4NWE3YjE2NTJmN2FlMGQ4OTM1YjA4OCIsImlhdCI6MTY4OTcxMzI5My4yMzYxMTMsIm5iZiI6MTY4OTcxMzI5My4yMzYxMTYsImV4cCI6MTc1Mjg3MTY5My4yMTYxMzIsInN1YiI6IjYxMmU3ZWQ4LWRhMjYtNGM5Zi04MjQ3LTU1NTliODJkZTMyOCIsInNjb3BlcyI6W119.sig"
		got, err := provider.ParseTokenResponse([]byte(`{"token_type":"Bearer","access_token":"`+at+`"}`), now)
		if err != nil {
			t.Fatal(err)
		}
		if got.Expiry.Unix() != 1752871693 {
			t.Errorf("Expiry = %s (%d), want exp 1752871693.216132", got.Expiry, got.Expiry.Unix())
		}
	})
}

func TestErrorText(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  *provider.Error
		want string
	}{
		{"names the status, code and description", &provider.Error{Kind: provider.InvalidGrant, StatusCode: 400, Code: "invalid_grant", Description: "expired"},
			"token request failed: HTTP 400: invalid_grant: expired"},
		{"names the cause of a request that got no response", &provider.Error{Err: errors.New("connection refused")}, "token request failed: connection refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("KindOf an error outside the package is Transient", func(t *testing.T) {
		if k := provider.KindOf(errors.New("x")); k != provider.Transient {
			t.Errorf("KindOf = %s", k)
		}
	})
	t.Run("KindOf finds a wrapped *Error", func(t *testing.T) {
		if k := provider.KindOf(fmt.Errorf("refresh: %w", &provider.Error{Kind: provider.InvalidClient})); k != provider.InvalidClient {
			t.Errorf("KindOf = %s", k)
		}
	})
	t.Run("kinds have names and metric labels", func(t *testing.T) {
		for k, want := range map[provider.Kind][2]string{
			provider.Transient: {"Transient", "transient"}, provider.InvalidGrant: {"InvalidGrant", "invalid_grant"},
			provider.InvalidClient: {"InvalidClient", "invalid_client"}, provider.BadRequest: {"BadRequest", "bad_request"},
			9: {"Kind(9)", "unknown"}, -1: {"Kind(-1)", "unknown"},
		} {
			if got := [2]string{k.String(), k.Label()}; got != want {
				t.Errorf("Kind(%d) = %q, want %q", int(k), got, want)
			}
		}
	})
}
