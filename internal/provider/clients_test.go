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
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	. "github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// A client id and secret whose characters RFC 6749 section 2.3.1's form-urlencoding changes.
const (
	awkwardID     = "client:id %+/é"
	awkwardSecret = "s3cr%t:with spaces+plus&amp"
)

func client() *Client { return &Client{Timeout: 5 * time.Second} }

func token(t *testing.T, req *Request) *Token {
	t.Helper()
	tok, err := client().Token(context.Background(), req)
	if err != nil {
		t.Fatalf("Token() error = %v", err)
	}
	return tok
}

func TestAurora(t *testing.T) {
	fake := providertest.NewAurora(providertest.Options{Lifetime: time.Hour})
	defer fake.Close()
	for _, tt := range []struct {
		name string
		req  Request
	}{
		{"takes a token from the token URL", Request{TokenURL: fake.TokenURL()}},
		{"discovers the token endpoint from the issuer, dropping its trailing slash", Request{IssuerURL: fake.IssuerURL()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Provider, req.ClientID, req.ClientSecret = oauthv1alpha1.ProviderAurora, fake.ClientID(), fake.ClientSecret()
			start := time.Now()
			tok := token(t, &req)
			if !fake.ValidAccessToken(tok.AccessToken) || tok.TokenType != "Bearer" || tok.RefreshToken != "" {
				t.Errorf("token = %+v", tok)
			}
			if d := tok.Expiry.Sub(start); d < 59*time.Minute || d > 61*time.Minute {
				t.Errorf("expiry in %s, want about an hour", d)
			}
		})
	}
	if r := fake.Rejections(); len(r) > 0 {
		t.Errorf("the fake refused requests: %v", r)
	}
	if _, err := client().Token(context.Background(), &Request{Provider: oauthv1alpha1.ProviderAurora, TokenURL: fake.TokenURL(),
		ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(), Audience: "https://elsewhere.example.com"}); KindOf(err) != Transient {
		t.Errorf("an audience Aurora does not know (403 access_denied, not a token endpoint error): %v, want Transient", err)
	}
	if _, err := client().Token(context.Background(), &Request{Provider: oauthv1alpha1.ProviderAurora, TokenURL: fake.TokenURL(),
		ClientID: fake.ClientID(), ClientSecret: "wrong"}); KindOf(err) != InvalidClient {
		t.Errorf("a wrong secret: %v, want InvalidClient", err)
	}
}

func TestAuraRotatesRefreshTokens(t *testing.T) {
	fake := providertest.NewAura(providertest.Options{})
	defer fake.Close()
	req := Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: fake.TokenURL(), ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(),
		Grant: Grant{Type: GrantAuthorizationCode, Code: fake.IssueCode(), RedirectURI: fake.RedirectURI()}}
	tok := token(t, &req)
	if tok.RefreshToken == "" {
		t.Fatal("the code exchange returned no refresh token")
	}
	code := req.Grant.Code
	first := tok.RefreshToken
	for i := range 3 {
		req.Grant = Grant{Type: GrantRefreshToken, RefreshToken: tok.RefreshToken}
		next := token(t, &req)
		if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh %d returned refresh token %q, want a new one", i, next.RefreshToken)
		}
		tok = next
	}
	if r := fake.Rejections(); len(r) > 0 {
		t.Errorf("the fake refused requests: %v", r)
	}
	// A rotated refresh token presented again is refused, and revokes the newest.
	req.Grant = Grant{Type: GrantRefreshToken, RefreshToken: first}
	if _, err := client().Token(context.Background(), &req); KindOf(err) != InvalidGrant {
		t.Errorf("a reused refresh token: %v, want InvalidGrant", err)
	}
	req.Grant = Grant{Type: GrantRefreshToken, RefreshToken: tok.RefreshToken}
	if _, err := client().Token(context.Background(), &req); KindOf(err) != InvalidGrant {
		t.Errorf("the newest refresh token after reuse: %v, want InvalidGrant", err)
	}
	req.Grant = Grant{Type: GrantAuthorizationCode, Code: code, RedirectURI: fake.RedirectURI()}
	_, err := client().Token(context.Background(), &req)
	if KindOf(err) != InvalidGrant {
		t.Errorf("a reused code: %v, want InvalidGrant", err)
	}
	if strings.Contains(err.Error(), code) {
		t.Errorf("the error carries the code: %v", err)
	}
}

func TestAstonClub(t *testing.T) {
	fake := providertest.NewAstonClub(providertest.Options{Lifetime: time.Hour})
	defer fake.Close()
	req := Request{Provider: oauthv1alpha1.ProviderAstonClub, TokenURL: fake.TokenURL(), ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(),
		Grant: Grant{Type: GrantAuthorizationCode, Code: fake.IssueCode(), RedirectURI: fake.RedirectURI()}}
	tok := token(t, &req)
	if tok.TokenType != "Bearer" || tok.Scope != "posapi" || tok.RefreshToken == "" || tok.Expiry.IsZero() {
		t.Errorf("code exchange: token = %+v, want Bearer (from bearer), scope posapi, a refresh token and an expiry", tok)
	}
	t.Run("a missing expires_in means no expiry", func(t *testing.T) {
		fake.SetOmitExpiresIn(true)
		defer fake.SetOmitExpiresIn(false)
		r := req
		r.Grant = Grant{Type: GrantRefreshToken, RefreshToken: tok.RefreshToken}
		if got := token(t, &r); !got.Expiry.IsZero() {
			t.Errorf("expiry = %s, want none", got.Expiry)
		}
	})
	t.Run("a refresh may return no refresh token", func(t *testing.T) {
		fake.SetOmitRefreshToken(true)
		defer fake.SetOmitRefreshToken(false)
		r := req
		r.Grant = Grant{Type: GrantRefreshToken, RefreshToken: tok.RefreshToken}
		if got := token(t, &r); got.RefreshToken != "" {
			t.Errorf("refresh token = %q, want none", got.RefreshToken)
		}
	})
	if r := fake.Rejections(); len(r) > 0 {
		t.Errorf("the fake refused requests: %v", r)
	}
}

func TestAurinko(t *testing.T) {
	// HTTP Basic as curl -u sends it: the id cannot hold a colon (RFC 7617), the secret can.
	fake := providertest.NewAurinko(providertest.Options{ClientID: "aurinko-app", ClientSecret: awkwardSecret})
	defer fake.Close()
	req := Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: fake.TokenURL(), ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(),
		Grant: Grant{Type: GrantAuthorizationCode, Code: fake.IssueCode()}}
	tok := token(t, &req)
	if tok.TokenType != "Bearer" || !tok.Expiry.IsZero() || tok.Extra[oauthv1alpha1.KeyAccountID] != "123" ||
		tok.Extra[oauthv1alpha1.KeyUserID] != "user-id-xyz" || tok.Extra[oauthv1alpha1.KeyUserSession] == "" {
		t.Errorf("token = %+v", tok)
	}
	if fake.Requests(GrantAuthorizationCode) != 1 {
		t.Errorf("requests = %d", fake.Requests(GrantAuthorizationCode))
	}
	if _, err := client().Token(context.Background(), &req); KindOf(err) != InvalidGrant || strings.Contains(err.Error(), req.Grant.Code) {
		t.Errorf("a reused code: %v, want InvalidGrant without the code", err)
	}
	if _, err := client().Token(context.Background(), &Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: fake.TokenURL(),
		Grant: Grant{Type: GrantRefreshToken, RefreshToken: "x"}}); KindOf(err) != BadRequest {
		t.Errorf("a refresh token for Aurinko: %v, want BadRequest", err)
	}
}

func TestGeneric(t *testing.T) {
	for _, auth := range []oauthv1alpha1.ClientAuthentication{oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.ClientAuthenticationBody} {
		for _, enc := range []oauthv1alpha1.RequestEncoding{oauthv1alpha1.RequestEncodingForm, oauthv1alpha1.RequestEncodingJSON, oauthv1alpha1.RequestEncodingMultipart} {
			t.Run(fmt.Sprintf("%s client authentication with %s bodies", auth, enc), func(t *testing.T) {
				fake := providertest.NewGeneric(providertest.Options{ClientID: awkwardID, ClientSecret: awkwardSecret}, auth, enc)
				defer fake.Close()
				req := Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: fake.TokenURL(), ClientAuthentication: auth, RequestEncoding: enc,
					ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(), Scopes: []string{"orders.read", "orders.write"},
					Audience: "https://api.example.com", ExtraParameters: map[string]string{"resource": "https://api.example.com/"}}
				tok := token(t, &req)
				if !fake.ValidAccessToken(tok.AccessToken) || tok.Scope != "orders.read orders.write" {
					t.Errorf("client credentials: token = %+v", tok)
				}
				req.Grant = Grant{Type: GrantRefreshToken, RefreshToken: fake.IssueRefreshToken()}
				if tok := token(t, &req); !fake.ValidAccessToken(tok.AccessToken) {
					t.Errorf("refresh token: token = %+v", tok)
				}
				req.TokenURL, req.IssuerURL = "", fake.IssuerURL()
				req.Grant = Grant{}
				token(t, &req)
				if r := fake.Rejections(); len(r) > 0 {
					t.Errorf("the fake refused requests: %v", r)
				}
			})
		}
	}
}

// errorServer answers every request with status, header and body.
func errorServer(t *testing.T, status int, header http.Header, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		maps.Copy(w.Header(), header)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestErrorClasses(t *testing.T) {
	const refreshToken, clientSecret = "rt-very-secret-refresh-token", "very-secret-client-secret"
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		kind       Kind
		retryAfter bool
	}{
		{"a 500 is transient", 500, nil, `{"error":"server_error"}`, Transient, false},
		{"a 502 with HTML is transient", 502, nil, `<html>bad gateway</html>`, Transient, false},
		{"a 503 is transient", 503, nil, ``, Transient, false},
		{"a 429 with Retry-After seconds is transient", 429, http.Header{"Retry-After": {"7"}}, `{"error":"slow_down"}`, Transient, true},
		{"a 429 with an HTTP-date is transient", 429, http.Header{"Retry-After": {time.Now().Add(time.Minute).UTC().Format(http.TimeFormat)}}, ``, Transient, true},
		{"malformed JSON is transient", 200, nil, `{"access_token":`, Transient, false},
		{"a 200 without access_token is transient", 200, nil, `{"token_type":"Bearer"}`, Transient, false},
		{"a body over 1 MiB is transient", 200, nil, `{"access_token":"` + strings.Repeat("a", MaxResponseBytes) + `"}`, Transient, false},
		{"invalid_grant asks for re-authorisation", 400, nil, `{"error":"invalid_grant","error_description":"refresh token ` + refreshToken + ` is revoked"}`, InvalidGrant, false},
		{"invalid_client is a bad client", 401, nil, `{"error":"invalid_client","error_description":"secret ` + clientSecret + ` is wrong"}`, InvalidClient, false},
		{"unauthorized_client is a bad client", 400, nil, `{"error":"unauthorized_client"}`, InvalidClient, false},
		{"a bare 401 is transient", 401, nil, ``, Transient, false},
		{"invalid_scope is a bad request", 400, nil, `{"error":"invalid_scope","error_description":"` + strings.Repeat("d", 500) + `"}`, BadRequest, false},
		{"a 404 without an OAuth error is transient", 404, nil, `not found`, Transient, false},
		{"a redirect is not followed", 302, http.Header{"Location": {"https://elsewhere.example.com/token"}}, ``, BadRequest, false},
	}
	for _, tt := range tests {
		for _, enc := range []oauthv1alpha1.RequestEncoding{oauthv1alpha1.RequestEncodingForm, oauthv1alpha1.RequestEncodingJSON} {
			t.Run(tt.name+" ("+string(enc)+")", func(t *testing.T) {
				srv := errorServer(t, tt.status, tt.header, tt.body)
				_, err := client().Token(context.Background(), &Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: srv.URL,
					RequestEncoding: enc, ClientID: "id", ClientSecret: clientSecret,
					Grant: Grant{Type: GrantRefreshToken, RefreshToken: refreshToken}})
				if KindOf(err) != tt.kind {
					t.Fatalf("kind = %s (%v), want %s", KindOf(err), err, tt.kind)
				}
				pe, ok := errors.AsType[*Error](err)
				if !ok {
					t.Fatalf("not an *Error: %v", err)
				}
				if tt.retryAfter && pe.RetryAfter <= 0 {
					t.Errorf("RetryAfter = %s, want > 0", pe.RetryAfter)
				}
				if msg := err.Error(); strings.Contains(msg, refreshToken) || strings.Contains(msg, clientSecret) || len(msg) > 600 {
					t.Errorf("error text leaks a secret or is unbounded: %q", msg)
				}
			})
		}
	}
}

func TestNetworkFailures(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String()
	_ = l.Close()
	const code = "code-that-must-not-leak"
	_, err = client().Token(context.Background(), &Request{Provider: oauthv1alpha1.ProviderAurinko, TokenURL: refused + "/v1/auth/token",
		ClientID: "id", ClientSecret: "secret", Grant: Grant{Type: GrantAuthorizationCode, Code: code}})
	if KindOf(err) != Transient || strings.Contains(err.Error(), code) {
		t.Errorf("connection refused: %v, want Transient without the code", err)
	}
	if _, ok := errors.AsType[*net.OpError](err); !ok {
		t.Errorf("the cause of a refused connection is lost: %v", err)
	}

	fake := providertest.NewAurora(providertest.Options{})
	defer fake.Close()
	fake.SetDelay(2 * time.Second)
	c := &Client{Timeout: 300 * time.Millisecond}
	_, err = c.Token(context.Background(), &Request{Provider: oauthv1alpha1.ProviderAurora, TokenURL: fake.TokenURL(),
		ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret()})
	if KindOf(err) != Transient {
		t.Errorf("timeout: %v, want Transient", err)
	}
}

func TestRefusesNonHTTPSAndRedirects(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer other.Close()
	redirect := errorServer(t, http.StatusTemporaryRedirect, http.Header{"Location": {other.URL}}, "")
	for _, u := range []string{"http://auth.example.com/token", redirect.URL} {
		_, err := client().Token(context.Background(), &Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u, ClientID: "id", ClientSecret: "s"})
		if KindOf(err) != BadRequest {
			t.Errorf("%s: %v, want BadRequest", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("a redirect was followed to another host")
	}
}

func TestParseTokenResponse(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	// A JWT whose payload is {"exp":1795000000}.
	jwt := "eyJhbGciOiJub25lIn0.eyJleHAiOjE3OTUwMDAwMDB9.sig"
	tests := []struct {
		name   string
		body   string
		expiry time.Time
		typ    string
	}{
		{"reads expires_in as a number", `{"access_token":"a","token_type":"bearer","expires_in":3600}`, now.Add(time.Hour), "Bearer"},
		{"reads expires_in as a string", `{"access_token":"a","token_type":"Bearer","expires_in":"60"}`, now.Add(time.Minute), "Bearer"},
		{"takes a JWT's exp when expires_in is absent", `{"access_token":"` + jwt + `"}`, time.Unix(1795000000, 0).UTC(), "Bearer"},
		{"has no expiry without expires_in or a JWT", `{"access_token":"opaque","token_type":"BEARER"}`, time.Time{}, "Bearer"},
		{"keeps another token type", `{"access_token":"a","token_type":"DPoP"}`, time.Time{}, "DPoP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := ParseTokenResponse([]byte(tt.body), now)
			if err != nil {
				t.Fatal(err)
			}
			if !tok.Expiry.Equal(tt.expiry) || tok.TokenType != tt.typ {
				t.Errorf("got expiry %s type %q, want %s %q", tok.Expiry, tok.TokenType, tt.expiry, tt.typ)
			}
		})
	}
}
