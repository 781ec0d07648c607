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

// Helpers the provider tests share: clients, fixtures and the small servers they
// answer from.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
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

// countingTransport counts round trips and refuses them all.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("no request should have been sent")
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

// sent is a request an offline client or a capture server received.
type sent struct {
	method, url, path string
	header            http.Header
	body              string
}

// offlineClient answers every request with 200 and body, without a network, and reports
// what was sent.
func offlineClient(body string) (*provider.Client, func() []sent) {
	var mu sync.Mutex
	var log []sent
	rt := roundTrip(func(r *http.Request) (*http.Response, error) {
		var b []byte
		if r.Body != nil {
			b, _ = io.ReadAll(r.Body)
		}
		mu.Lock()
		log = append(log, sent{r.Method, r.URL.String(), r.URL.EscapedPath(), r.Header.Clone(), string(b)})
		mu.Unlock()
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})
	c := &provider.Client{HTTPClient: &http.Client{Transport: rt}, Timeout: 5 * time.Second}
	return c, func() []sent { mu.Lock(); defer mu.Unlock(); return slices.Clone(log) }
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// captureServer answers each request with handle's status and body, and reports what came.
func captureServer(t *testing.T, handle func(r *http.Request) (int, string)) (*httptest.Server, func() []sent) {
	t.Helper()
	var mu sync.Mutex
	var log []sent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		log = append(log, sent{r.Method, r.URL.String(), r.URL.EscapedPath(), r.Header.Clone(), string(b)})
		mu.Unlock()
		status, body := handle(r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []sent { mu.Lock(); defer mu.Unlock(); return slices.Clone(log) }
}

func wantForm(t *testing.T, s sent, key, want string) {
	t.Helper()
	v, err := url.ParseQuery(s.body)
	if err != nil || v.Get(key) != want {
		t.Errorf("%s = %q, want %q (body %q)", key, v.Get(key), want, s.body)
	}
}

// answering serves every request with status, content type and body.
func answering(t *testing.T, status int, contentType, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// everyPath is one request per way the package sends a token request, against base.
var everyPath = map[string]func(base string) *provider.Request{
	"Aurora client credentials": func(u string) *provider.Request {
		return &provider.Request{Provider: oauthv1alpha1.ProviderAurora, TokenURL: u + "/oauth/token", ClientID: "id", ClientSecret: "s"}
	},
	"Generic client credentials, Basic, form": func(u string) *provider.Request {
		return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u + "/token", ClientID: "id", ClientSecret: "s"}
	},
	"Generic refresh, Body, JSON": func(u string) *provider.Request {
		return &provider.Request{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: u + "/token", ClientID: "id", ClientSecret: "s",
			ClientAuthentication: oauthv1alpha1.ClientAuthenticationBody, RequestEncoding: oauthv1alpha1.RequestEncodingJSON,
			Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-old"}}
	},
	"Aura refresh": func(u string) *provider.Request {
		return &provider.Request{Provider: oauthv1alpha1.ProviderAura, TokenURL: u + "/oauth/token", ClientID: "id", ClientSecret: "s",
			Grant: provider.Grant{Type: provider.GrantRefreshToken, RefreshToken: "rt-old"}}
	},
	"Aston Club code": func(u string) *provider.Request {
		return &provider.Request{Provider: oauthv1alpha1.ProviderAstonClub, TokenURL: u + "/v1/token", ClientID: "id", ClientSecret: "s",
			Grant: provider.Grant{Type: provider.GrantAuthorizationCode, Code: "code-1", RedirectURI: "https://app.example.com/cb"}}
	},
}

// leaked reports which of secrets, raw, query- or path-escaped, err's text or chain holds.
func leaked(err error, secrets ...string) []string {
	var out []string
	texts := []string{err.Error()}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		texts = append(texts, ue.Error())
	}
	for _, s := range secrets {
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			for _, text := range texts {
				if strings.Contains(text, form) {
					out = append(out, form)
				}
			}
		}
	}
	return out
}
