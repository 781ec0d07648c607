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
	"bufio"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider/providertest"
)

// golden is a provider document's literal example request (testdata/golden), and the
// fields of the answer its example response shows.
type golden struct {
	method, url string
	header      map[string]string
	body        string
	basic       []string // curl -u
	answer      []string
}

// readGolden reads a request as the documents write them: "METHOD URL", header lines, the
// body (after a blank line, or from its opening brace); or a curl command line.
func readGolden(t *testing.T, path string) golden {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	g := golden{header: map[string]string{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var body []string
	state := "request"
	for sc.Scan() {
		line := sc.Text()
		if a, ok := strings.CutPrefix(line, "# answer:"); ok {
			g.answer = strings.Fields(a)
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		switch state {
		case "request":
			if rest, ok := strings.CutPrefix(line, "curl -u "); ok {
				var userinfo, method, u string
				if _, err := splitCurl(rest, &userinfo, &method, &u); err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				id, secret, _ := strings.Cut(userinfo, ":")
				g.basic, g.method, g.url = []string{id, secret}, "POST", u
				state = "done"
				continue
			}
			g.method, g.url, _ = strings.Cut(line, " ")
			state = "header"
		case "header":
			if line == "" || strings.HasPrefix(line, "{") {
				state = "body"
				if line == "" {
					continue
				}
				body = append(body, line)
				continue
			}
			name, value, _ := strings.Cut(line, ":")
			// "Content Type", as Aston Club's document spells it.
			g.header[strings.ReplaceAll(strings.TrimSpace(name), " ", "-")] = strings.TrimSpace(value)
		case "body":
			body = append(body, line)
		}
	}
	g.body = strings.Join(body, "\n")
	return g
}

// splitCurl splits "USER:PASS -X POST URL".
func splitCurl(s string, userinfo, method, u *string) (int, error) {
	f := strings.Fields(s)
	if len(f) != 4 || f[1] != "-X" {
		return 0, os.ErrInvalid
	}
	*userinfo, *method, *u = f[0], f[2], f[3]
	return 4, nil
}

// TestDocumentsExampleRequestsAreAccepted sends each document's literal example request to
// its fake: a fake stricter than the document it stands for would fail the client that
// follows the document.
func TestDocumentsExampleRequestsAreAccepted(t *testing.T) {
	const astonID, astonSecret = "test_client", "asdajsjk@#$fjaksbfgjsabglbuwe@#@bfjesbj"
	for _, tt := range []struct {
		file  string
		start func() *providertest.Server
		// prepare registers the example's credentials and fills the document's
		// placeholders.
		prepare func(s *providertest.Server, g *golden)
	}{
		{"astonclub-code.http", func() *providertest.Server {
			return providertest.NewAstonClub(providertest.Options{ClientID: astonID, ClientSecret: astonSecret, RedirectURI: "https://youwebapp.com/oauth"})
		}, func(s *providertest.Server, _ *golden) { s.AcceptCode("abcd1234") }},
		{"astonclub-refresh.http", func() *providertest.Server {
			return providertest.NewAstonClub(providertest.Options{ClientID: astonID, ClientSecret: astonSecret})
		}, func(s *providertest.Server, _ *golden) {
			s.AcceptRefreshToken("a324cc213e3c2ff25d1e62c6a81463de8f5ff7a2")
		}},
		{"aura-code.http", func() *providertest.Server {
			return providertest.NewAura(providertest.Options{RedirectURI: "https://aura.example.com/auth/callback"})
		}, func(s *providertest.Server, g *golden) { fillAura(s, g); s.AcceptCode(field(g.body, "code")) }},
		{"aura-refresh.http", func() *providertest.Server { return providertest.NewAura(providertest.Options{}) },
			func(s *providertest.Server, g *golden) {
				fillAura(s, g)
				s.AcceptRefreshToken(field(g.body, "refresh_token"))
			}},
		{"aurinko-code.http", func() *providertest.Server {
			return providertest.NewAurinko(providertest.Options{ClientID: "ClientId", ClientSecret: "Secret"})
		}, func(s *providertest.Server, g *golden) { g.url = strings.ReplaceAll(g.url, "{code}", s.IssueCode()) }},
		{"aurora-live.http", func() *providertest.Server { return providertest.NewAurora(providertest.Options{}) }, unmask},
		{"aurora-dev.http", func() *providertest.Server {
			return providertest.NewAurora(providertest.Options{Environment: oauthv1alpha1.EnvironmentDev})
		}, unmask},
	} {
		t.Run(tt.file, func(t *testing.T) {
			g := readGolden(t, filepath.Join("testdata", "golden", tt.file))
			fake := tt.start()
			defer fake.Close()
			tt.prepare(fake, &g)
			docURL, err := url.Parse(g.url)
			if err != nil {
				t.Fatal(err)
			}
			tokenPath := strings.TrimPrefix(fake.TokenURL(), fake.URL())
			if docURL.Path != tokenPath && !strings.HasPrefix(docURL.Path, tokenPath+"/") {
				t.Fatalf("the document posts to %s, the fake serves %s", docURL.Path, tokenPath)
			}
			c := call{method: g.method, url: fake.URL() + docURL.EscapedPath(), ctype: g.header["Content-Type"], body: g.body, basic: g.basic}
			if strings.HasPrefix(c.ctype, "multipart/form-data") {
				// The document's header has no boundary: the client that writes the
				// parts adds one.
				c.ctype, c.body = multipartOf(t, fields(g.body)...)
			}
			got := do(t, c)
			at := got.str("access_token") + got.str("accessToken")
			if got.status != 200 || !fake.ValidAccessToken(at) {
				t.Fatalf("answer %d %v, want a token", got.status, got.body)
			}
			keys := make([]string, 0, len(got.body))
			for k := range got.body {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			want := slices.Sorted(slices.Values(g.answer))
			if !slices.Equal(keys, want) {
				t.Errorf("answer fields %q, want the document's example's %q", keys, want)
			}
			if r := fake.Rejections(); len(r) > 0 {
				t.Errorf("the fake refused the document's own example: %q", r)
			}
		})
	}
}

// fillAura fills Aura's placeholders: the fake's client, and a domain.
func fillAura(s *providertest.Server, g *golden) {
	r := strings.NewReplacer("{client_id}", s.ClientID(), "{client_secret}", s.ClientSecret(), "{domain}", "aura.example.com")
	g.body, g.url = r.Replace(g.body), r.Replace(g.url)
}

// unmask puts the fake's client id and secret where Aurora's document masks them.
func unmask(s *providertest.Server, g *golden) {
	g.body = strings.Replace(g.body, "**********", url.QueryEscape(s.ClientID()), 1)
	g.body = strings.Replace(g.body, "**********", url.QueryEscape(s.ClientSecret()), 1)
}

// fields reads "name: value" lines as key, value pairs.
func fields(body string) []string {
	var kv []string
	for line := range strings.SplitSeq(body, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			kv = append(kv, k, v)
		}
	}
	return kv
}

// field is the value of one "name: value" line.
func field(body, name string) string {
	kv := fields(body)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == name {
			return kv[i+1]
		}
	}
	return ""
}
