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
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

func TestFakesRefuseAReusedCode(t *testing.T) {
	for _, tt := range []struct {
		name  string
		start func(providertest.Options) *providertest.Server
		call  func(t *testing.T, s *providertest.Server, code string) call
	}{
		{"Aura", providertest.NewAura, func(t *testing.T, s *providertest.Server, code string) call {
			ct, body := multipartOf(t, "grant_type", "authorization_code", "code", code, "redirect_uri", s.RedirectURI(), "client_id", s.ClientID(), "client_secret", s.ClientSecret())
			return call{url: s.TokenURL(), ctype: ct, body: body}
		}},
		{"Aston Club", providertest.NewAstonClub, func(_ *testing.T, s *providertest.Server, code string) call {
			return call{url: s.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "authorization_code", "code", code, "redirect_uri", s.RedirectURI(), "client_id", s.ClientID(), "client_secret", s.ClientSecret())}
		}},
		{"Aurinko", providertest.NewAurinko, func(_ *testing.T, s *providertest.Server, code string) call {
			return call{url: s.TokenURL() + "/" + code, basic: []string{s.ClientID(), s.ClientSecret()}}
		}},
	} {
		t.Run(tt.name+" takes a code once", func(t *testing.T) {
			fake := tt.start(providertest.Options{})
			defer fake.Close()
			code := fake.IssueCode()
			if first := do(t, tt.call(t, fake, code)); first.status != 200 {
				t.Fatalf("first exchange = %d %v, want 200", first.status, first.body)
			}
			if again := do(t, tt.call(t, fake, code)); again.status != 400 || again.str("error") != "invalid_grant" {
				t.Errorf("second exchange = %d %v, want 400 invalid_grant", again.status, again.body)
			}
			if got := fake.Requests(provider.GrantAuthorizationCode); got != 2 {
				t.Errorf("authorization_code requests = %d, want 2", got)
			}
		})
	}
}

func TestFakeCountsRequests(t *testing.T) {
	fake := providertest.NewGeneric(providertest.Options{}, oauthv1alpha1.ClientAuthenticationBasic, oauthv1alpha1.RequestEncodingForm)
	defer fake.Close()
	basic := formBasic(fake.ClientID(), fake.ClientSecret())
	for range 2 {
		do(t, call{url: fake.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials"), basic: basic})
	}
	do(t, call{url: fake.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token"), basic: basic}) // refused: no refresh_token
	do(t, call{url: fake.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials"), basic: formBasic(fake.ClientID(), "wrong")})
	do(t, call{method: http.MethodGet, url: fake.URL() + "/.well-known/openid-configuration"}) // discovery is no token request
	for _, tt := range []struct {
		grant provider.GrantType
		want  int
	}{{provider.GrantClientCredentials, 3}, {provider.GrantRefreshToken, 1}, {provider.GrantAuthorizationCode, 0}} {
		if got := fake.Requests(tt.grant); got != tt.want {
			t.Errorf("Requests(%s) = %d, want %d", tt.grant, got, tt.want)
		}
	}
	if got := fake.TotalRequests(); got != 4 {
		t.Errorf("TotalRequests() = %d, want 4", got)
	}
}

func TestFakeFailNext(t *testing.T) {
	ok := func(s *providertest.Server) call {
		return call{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "client_credentials", "audience", auroraAudience, "client_id", s.ClientID(), "client_secret", s.ClientSecret())}
	}
	for _, tt := range []struct {
		name       string
		arrange    func(*providertest.Server)
		status     int
		code       string
		retryAfter string
		failures   int
	}{
		{"FailNext with a 503 answers server_error n times", func(s *providertest.Server) { s.FailNext(2, http.StatusServiceUnavailable) }, 503, "server_error", "", 2},
		{"FailNext with a 500 answers server_error", func(s *providertest.Server) { s.FailNext(1, http.StatusInternalServerError) }, 500, "server_error", "", 1},
		{"FailNext with a 429 answers Retry-After", func(s *providertest.Server) { s.FailNext(1, http.StatusTooManyRequests) }, 429, "slow_down", "1", 1},
		{"FailNext with a 400 answers invalid_request", func(s *providertest.Server) { s.FailNext(1, http.StatusBadRequest) }, 400, "invalid_request", "", 1},
		{"FailNextWith answers exactly the canned response", func(s *providertest.Server) {
			s.FailNextWith(1, providertest.Failure{Status: 429, Header: http.Header{"Retry-After": {"Wed, 21 Oct 2037 07:28:00 GMT"}}, Body: `{"error":"custom"}`})
		}, 429, "custom", "Wed, 21 Oct 2037 07:28:00 GMT", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := providertest.NewAurora(providertest.Options{})
			defer fake.Close()
			tt.arrange(fake)
			do(t, call{method: http.MethodGet, url: fake.URL() + "/.well-known/openid-configuration"}) // discovery takes no failure
			for i := range tt.failures {
				got := do(t, ok(fake))
				if got.status != tt.status || got.str("error") != tt.code || got.header.Get("Retry-After") != tt.retryAfter {
					t.Errorf("request %d = %d %v Retry-After %q, want %d %s %q", i, got.status, got.body, got.header.Get("Retry-After"), tt.status, tt.code, tt.retryAfter)
				}
			}
			if got := do(t, ok(fake)); got.status != 200 {
				t.Errorf("after the failures = %d %v, want 200", got.status, got.body)
			}
			if r := fake.Rejections(); len(r) > 0 {
				t.Errorf("canned failures are not rejections: %q", r)
			}
		})
	}
	t.Run("queued failures answer in order", func(t *testing.T) {
		fake := providertest.NewAurora(providertest.Options{})
		defer fake.Close()
		fake.FailNext(1, http.StatusServiceUnavailable)
		fake.FailNext(1, http.StatusTooManyRequests)
		for i, want := range []int{503, 429, 200} {
			if got := do(t, ok(fake)); got.status != want {
				t.Errorf("request %d = %d, want %d", i, got.status, want)
			}
		}
		if fake.TotalRequests() != 3 {
			t.Errorf("TotalRequests() = %d, want 3", fake.TotalRequests())
		}
	})
}

func TestFakeRejectionsHoldNoSecrets(t *testing.T) {
	fake := providertest.NewAura(providertest.Options{ClientSecret: "very-secret-client-secret"})
	defer fake.Close()
	rt, code := fake.IssueRefreshToken(), fake.IssueCode()
	// Off-document requests carrying every secret.
	do(t, call{url: fake.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token", "refresh_token", rt, "client_id", fake.ClientID(), "client_secret", fake.ClientSecret())})
	ct, body := multipartOf(t, "grant_type", "authorization_code", "code", code, "redirect_url", fake.RedirectURI(), "client_id", fake.ClientID(), "client_secret", fake.ClientSecret())
	do(t, call{url: fake.TokenURL(), ctype: ct, body: body})
	ct, body = multipartOf(t, "grant_type", "refresh_token", "refresh_token", rt)
	do(t, call{url: fake.TokenURL(), ctype: ct, body: body, basic: []string{fake.ClientID(), fake.ClientSecret()}})
	do(t, call{method: http.MethodGet, url: fake.TokenURL() + "?client_secret=" + fake.ClientSecret()})
	rej := fake.Rejections()
	if len(rej) != 4 {
		t.Fatalf("rejections = %q, want 4", rej)
	}
	material := fake.SecretMaterial()
	for _, want := range []string{"very-secret-client-secret", rt, code} {
		found := false
		for _, m := range material {
			found = found || m == want
		}
		if !found {
			t.Errorf("SecretMaterial() = %q lacks %q", material, want)
		}
	}
	for _, r := range rej {
		if r == "" {
			t.Error("an empty rejection reason")
		}
		for _, m := range material {
			if strings.Contains(r, m) {
				t.Errorf("rejection %q holds the secret %q", r, m)
			}
		}
	}
}

// TestFakeBookkeeping: what every fake keeps, whatever its document.
func TestFakeBookkeeping(t *testing.T) {
	t.Run("RevokeGrants stops what was issued before, not what is issued after", func(t *testing.T) {
		fake := providertest.NewAura(providertest.Options{})
		defer fake.Close()
		before := fake.IssueRefreshToken()
		fake.RevokeGrants()
		if got := auraRefresh(t, fake, before); got.status != 400 || got.str("error") != "invalid_grant" {
			t.Errorf("revoked refresh token = %d %v, want 400 invalid_grant", got.status, got.body)
		}
		if got := auraRefresh(t, fake, fake.IssueRefreshToken()); got.status != 200 {
			t.Errorf("refresh token issued after = %d %v, want 200", got.status, got.body)
		}
	})
	t.Run("ValidAccessToken knows only what it issued", func(t *testing.T) {
		fake := providertest.NewAurora(providertest.Options{})
		defer fake.Close()
		if fake.ValidAccessToken("at-not-issued") || fake.ValidAccessToken("") {
			t.Error("an access token that was never issued is valid")
		}
	})
	t.Run("the default client id is test-client and the secret is random", func(t *testing.T) {
		a, b := providertest.NewAura(providertest.Options{}), providertest.NewAura(providertest.Options{})
		defer a.Close()
		defer b.Close()
		if a.ClientID() != "test-client" || a.ClientSecret() == "" || a.ClientSecret() == b.ClientSecret() {
			t.Errorf("clients %q/%q and %q/%q", a.ClientID(), a.ClientSecret(), b.ClientID(), b.ClientSecret())
		}
	})
}

func TestFakesRecordRequests(t *testing.T) {
	s := providertest.NewAstonClub(providertest.Options{})
	defer s.Close()
	rt := s.IssueRefreshToken()
	for _, c := range []call{
		{url: s.TokenURL(), ctype: ctJSON, body: jsonOf("grant_type", "refresh_token", "refresh_token", rt, "client_id", s.ClientID(), "client_secret", s.ClientSecret())},
		{url: s.TokenURL(), ctype: ctForm, body: formOf("grant_type", "refresh_token", "refresh_token", rt, "client_id", s.ClientID(), "client_secret", s.ClientSecret())},
	} {
		if got := do(t, c); got.status != 200 {
			t.Fatalf("%d %v", got.status, got.body)
		}
	}
	reqs := s.TokenRequests()
	if len(reqs) != 2 || reqs[0].MediaType != ctJSON || reqs[1].MediaType != ctForm {
		t.Fatalf("recorded %+v, want a JSON then a form request", reqs)
	}
	for _, r := range reqs {
		if r.Grant != provider.GrantRefreshToken || r.ClientAuth != "body" || r.Params["client_id"] != s.ClientID() ||
			r.Params["refresh_token"] != "[redacted]" || r.Params["client_secret"] != "[redacted]" || r.Rejection != "" {
			t.Errorf("recorded %+v", r)
		}
	}
}

func TestDelayEndsWithTheClientOrTheServer(t *testing.T) {
	s := providertest.NewAurora(providertest.Options{})
	s.SetDelay(time.Hour)
	ok := formOf("grant_type", "client_credentials", "client_id", s.ClientID(), "client_secret", s.ClientSecret(), "audience", auroraAudience)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.TokenURL(), strings.NewReader(ok))
	req.Header.Set("Content-Type", ctForm)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Error("a delayed answer came before the client's deadline")
	}
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close waited %s for a delayed answer", d)
	}
	if !slices.Contains(s.SecretMaterial(), s.ClientSecret()) {
		t.Error("the client secret is not listed as secret material")
	}
}
