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
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/internal/provider"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

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
		{"reads a fractional expires_in as an unknown lifetime", `{"access_token":"a","expires_in":59.9}`, provider.Token{AccessToken: "a", TokenType: "Bearer"}, false},
		{"reads an integral expires_in in exponent form", `{"access_token":"a","expires_in":3.6e3}`, provider.Token{AccessToken: "a", TokenType: "Bearer", Expiry: now.Add(time.Hour)}, false},
		{"reads an expires_in of 0 as absent, not expired", `{"access_token":"a","expires_in":0}`, provider.Token{AccessToken: "a", TokenType: "Bearer"}, false},
		{"reads expires_in Inf as an unknown lifetime", `{"access_token":"a","expires_in":"+Inf"}`, provider.Token{AccessToken: "a", TokenType: "Bearer"}, false},
		{"reads a JWT's fractional exp, as Aura's", `{"access_token":"` + jwt(`{"exp":1752871693.5}`) + `"}`,
			provider.Token{AccessToken: jwt(`{"exp":1752871693.5}`), TokenType: "Bearer", Expiry: time.Unix(1752871693, 5e8)}, false},
		{"a JWT with a negative exp does not expire", `{"access_token":"` + jwt(`{"exp":-1}`) + `"}`, provider.Token{AccessToken: jwt(`{"exp":-1}`), TokenType: "Bearer"}, false},
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

// TestEveryPathReadsTokenAnswersLeniently: RFC 6749 section 5.1 requires access_token and
// token_type only. Whatever path sent the request, a 2xx with an access token is a token;
// an unreadable lifetime is unknown (a JWT's exp, else none), and never costs the rotated
// refresh token that came with it.
func TestEveryPathReadsTokenAnswersLeniently(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	jwt := "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":`+strconv.FormatInt(exp.Unix(), 10)+`}`)) + ".sig"
	for _, tt := range []struct {
		name, contentType, body string
		expiry                  time.Time
		scope, refreshToken     string
	}{
		{"a negative expires_in is an unknown lifetime", "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":-5}`, time.Time{}, "", ""},
		{"a float expires_in is an unknown lifetime", "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":3600.5}`, time.Time{}, "", ""},
		{"a padded string expires_in is an unknown lifetime", "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":" 3600 "}`, time.Time{}, "", ""},
		{"an absurdly long expires_in is an unknown lifetime", "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":99999999999}`, time.Time{}, "", ""},
		{"a garbage expires_in is an unknown lifetime", "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":"soon"}`, time.Time{}, "", ""},
		{"a garbage expires_in falls back to the JWT's exp", "application/json", `{"access_token":"` + jwt + `","token_type":"Bearer","expires_in":{"s":1}}`, exp, "", ""},
		{"a rotated refresh token with an unreadable expires_in is kept", "application/json",
			`{"access_token":"at","token_type":"Bearer","expires_in":"NaN","refresh_token":"rt-rotated"}`, time.Time{}, "", "rt-rotated"},
		{"a scope array is joined with spaces", "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":60,"scope":["read","write"]}`,
			now.Add(time.Minute), "read write", ""},
		{"a scope of another type is left out", "application/json", `{"access_token":"at","token_type":"Bearer","scope":7}`, time.Time{}, "", ""},
		{"JSON labelled text/plain is read as JSON", "text/plain; charset=utf-8", `{"access_token":"at","token_type":"bearer","expires_in":60}`, now.Add(time.Minute), "", ""},
		{"JSON without a content type is read as JSON", "", `{"access_token":"at","token_type":"bearer","expires_in":"60"}`, now.Add(time.Minute), "", ""},
		{"a form-encoded answer is read", "application/x-www-form-urlencoded", `access_token=at&token_type=bearer&expires_in=60&scope=a+b`, now.Add(time.Minute), "a b", ""},
	} {
		for name, req := range everyPath {
			t.Run(tt.name+" ("+name+")", func(t *testing.T) {
				srv := answering(t, http.StatusOK, tt.contentType, tt.body)
				c := &provider.Client{Timeout: 5 * time.Second, Now: func() time.Time { return now }}
				tok, err := c.Token(context.Background(), req(srv.URL))
				if err != nil {
					t.Fatalf("Token() error = %v, want a token", err)
				}
				if !tok.Expiry.Equal(tt.expiry) || tok.Scope != tt.scope || tok.RefreshToken != tt.refreshToken || tok.TokenType != "Bearer" {
					t.Errorf("token = %+v, want expiry %s, scope %q, refresh token %q", tok, tt.expiry, tt.scope, tt.refreshToken)
				}
			})
		}
	}
}

// TestEveryPathClassifiesAnswersWithoutAToken: a 2xx without an access token is transient,
// unless it carries an OAuth error, which is classified like the same error in a 400.
func TestEveryPathClassifiesAnswersWithoutAToken(t *testing.T) {
	for _, tt := range []struct {
		name, contentType, body string
		kind                    provider.Kind
	}{
		{"an invalid_grant body on a 200 is invalid_grant", "application/json", `{"error":"invalid_grant","error_description":"revoked"}`, provider.InvalidGrant},
		{"an invalid_client body on a 200 labelled text/plain is invalid_client", "text/plain", `{"error":"invalid_client"}`, provider.InvalidClient},
		{"a 200 without an access token is transient", "application/json", `{"token_type":"Bearer","expires_in":3600}`, provider.Transient},
		{"a 200 with an HTML page is transient", "text/html", `<html>Sign in</html>`, provider.Transient},
		{"a 200 with an access token that is not a string is transient", "application/json", `{"access_token":123,"token_type":"Bearer"}`, provider.Transient},
	} {
		for name, req := range everyPath {
			t.Run(tt.name+" ("+name+")", func(t *testing.T) {
				srv := answering(t, http.StatusOK, tt.contentType, tt.body)
				e := mustFail(t, quickClient(), req(srv.URL), tt.kind)
				if e.StatusCode != http.StatusOK {
					t.Errorf("StatusCode = %d, want 200", e.StatusCode)
				}
			})
		}
	}
}

// TestEveryPathReadsAnswersAlike: the expiry follows the client's clock, and an error's
// kind and Retry-After do not depend on which path sent the request.
func TestEveryPathReadsAnswersAlike(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for name, req := range everyPath {
		t.Run(name+": an invalid_grant in a 200 is invalid_grant", func(t *testing.T) {
			srv, _ := captureServer(t, func(*http.Request) (int, string) { return http.StatusOK, `{"error":"invalid_grant"}` })
			e := mustFail(t, quickClient(), req(srv.URL), provider.InvalidGrant)
			if e.Code != "invalid_grant" {
				t.Errorf("code %q", e.Code)
			}
		})
		t.Run(name+": a 400 temporarily_unavailable is transient", func(t *testing.T) {
			srv, _ := captureServer(t, func(*http.Request) (int, string) { return http.StatusBadRequest, `{"error":"temporarily_unavailable"}` })
			_ = mustFail(t, quickClient(), req(srv.URL), provider.Transient)
		})
		t.Run(name+": the expiry follows the client's clock", func(t *testing.T) {
			srv, _ := captureServer(t, func(*http.Request) (int, string) {
				return http.StatusOK, `{"access_token":"a","token_type":"bearer","expires_in":"3600"}`
			})
			c := &provider.Client{Timeout: 5 * time.Second, Now: func() time.Time { return now }}
			tok, err := c.Token(context.Background(), req(srv.URL))
			if err != nil || !tok.Expiry.Equal(now.Add(time.Hour)) || tok.TokenType != "Bearer" {
				t.Errorf("token %+v, %v; want Bearer expiring at %s", tok, err, now.Add(time.Hour))
			}
		})
		t.Run(name+": an expires_in of 0 is no expiry, not an expired token", func(t *testing.T) {
			srv, _ := captureServer(t, func(*http.Request) (int, string) { return http.StatusOK, `{"access_token":"a","expires_in":0}` })
			if tok := mustToken(t, req(srv.URL)); !tok.Expiry.IsZero() {
				t.Errorf("expiry %s, want none", tok.Expiry)
			}
		})
		t.Run(name+": an absurd Retry-After is bounded", func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "99999999999999")
				w.WriteHeader(http.StatusTooManyRequests)
			}))
			defer srv.Close()
			e := mustFail(t, quickClient(), req(srv.URL), provider.Transient)
			if e.RetryAfter <= 0 || e.RetryAfter > provider.MaxRetryAfter {
				t.Errorf("RetryAfter = %s", e.RetryAfter)
			}
		})
	}
}

// TestTheFakesFaultsMeetTheClient: what real servers, and the boxes in front of them, send
// besides the documents, as the fakes inject it, and what the client makes of it.
func TestTheFakesFaultsMeetTheClient(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fault providertest.Fault
		check func(t *testing.T, fake *providertest.Server, rt string, tok *provider.Token, err error)
	}{
		{"a firewall's HTML 403 is transient", providertest.FaultHTMLForbidden, wantKind(provider.Transient, 403)},
		{"a load balancer's 408 is transient", providertest.FaultRequestTimeout, wantKind(provider.Transient, 408)},
		{"an error body on a 200 is classified like the error", providertest.FaultErrorIn200, wantKind(provider.InvalidGrant, 200)},
		{"JSON labelled text/plain is a token", providertest.FaultJSONAsTextPlain, func(t *testing.T, fake *providertest.Server, _ string, tok *provider.Token, err error) {
			if err != nil || !fake.ValidAccessToken(tok.AccessToken) {
				t.Errorf("Token() = %+v, %v; want a valid token", tok, err)
			}
		}},
		{"a fractional expires_in is a token of unknown lifetime", providertest.FaultFloatExpiresIn, func(t *testing.T, fake *providertest.Server, _ string, tok *provider.Token, err error) {
			if err != nil || !fake.ValidAccessToken(tok.AccessToken) || !tok.Expiry.IsZero() {
				t.Errorf("Token() = %+v, %v; want a valid token without expiry", tok, err)
			}
		}},
		{"a token all but expired comes with its expiry", providertest.FaultExpiredToken, func(t *testing.T, _ *providertest.Server, _ string, tok *provider.Token, err error) {
			if err != nil || tok.Expiry.IsZero() || time.Until(tok.Expiry) > 2*time.Second {
				t.Errorf("Token() = %+v, %v; want a token expiring within a second or so", tok, err)
			}
		}},
		{"a JWT already expired comes with its past exp", providertest.FaultExpiredJWT, func(t *testing.T, _ *providertest.Server, _ string, tok *provider.Token, err error) {
			if err != nil || tok.Expiry.IsZero() || !tok.Expiry.Before(time.Now()) {
				t.Errorf("Token() = %+v, %v; want a token whose expiry has passed", tok, err)
			}
		}},
		{"a rotated refresh token with an unreadable expires_in is kept", providertest.FaultRotatedRefreshTokenUnreadableExpiresIn,
			func(t *testing.T, fake *providertest.Server, rt string, tok *provider.Token, err error) {
				if err != nil || tok.RefreshToken == "" || tok.RefreshToken == rt || !fake.ValidAccessToken(tok.AccessToken) {
					t.Fatalf("Token() = %+v, %v; want a valid token and the rotated refresh token", tok, err)
				}
			}},
	} {
		for _, tg := range targets() {
			if tg.name == "Aurinko code" && tt.fault >= providertest.FaultFloatExpiresIn {
				continue // Aurinko's answers carry no lifetime and no refresh token
			}
			t.Run(tt.name+" ("+tg.name+")", func(t *testing.T) {
				fake := tg.start(providertest.Options{})
				defer fake.Close()
				req := tg.req(fake)
				if tt.fault == providertest.FaultRotatedRefreshTokenUnreadableExpiresIn && req.Grant.Type != provider.GrantRefreshToken {
					t.Skip("the fault rotates a refresh token; this target presents none")
				}
				fake.InjectFault(1, tt.fault)
				tok, err := quickClient().Token(context.Background(), req)
				tt.check(t, fake, req.Grant.RefreshToken, tok, err)
				noRejections(t, fake)
			})
		}
	}
}

// wantKind checks a failure's kind and status.
func wantKind(kind provider.Kind, status int) func(*testing.T, *providertest.Server, string, *provider.Token, error) {
	return func(t *testing.T, _ *providertest.Server, _ string, tok *provider.Token, err error) {
		t.Helper()
		e, ok := errors.AsType[*provider.Error](err)
		if !ok || e.Kind != kind || e.StatusCode != status || tok != nil {
			t.Errorf("Token() = %+v, %v; want a %s error with HTTP %d", tok, err, kind, status)
		}
	}
}
