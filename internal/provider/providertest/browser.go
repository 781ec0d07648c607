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

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Browser is a person at the fakes' login pages: a cookie jar, and no redirect followed, so
// that the redirect back to the client is read rather than fetched. It reads the fakes' own
// pages, not HTML at large.
type Browser struct {
	// Username and Password are typed into the login page; NewBrowser sets the fakes'
	// LoginUsername and LoginPassword.
	Username, Password string
	// Choice is picked on a consent page that asks for one (Aston Club's merchant or
	// organization); "": the first listed.
	Choice string

	client *http.Client
}

// NewBrowser returns a browser with an empty cookie jar and the fakes' account.
func NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil) // no options, no error
	return &Browser{
		Username: LoginUsername, Password: LoginPassword,
		client: &http.Client{
			Jar:           jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Timeout:       10 * time.Second,
		},
	}
}

// Client is the browser's HTTP client: its cookie jar, no redirect followed.
func (b *Browser) Client() *http.Client { return b.client }

// Approve opens authorizeURL, logs in, approves where the provider asks, and returns the URL
// the provider sent the browser back to.
func (b *Browser) Approve(ctx context.Context, authorizeURL string) (*url.URL, error) {
	return b.walk(ctx, authorizeURL, "approve")
}

// Deny opens authorizeURL, logs in, denies, and returns the URL the provider sent the
// browser back to. A provider that asks no consent (Aura) approves on login: that is an
// error here, its code issued all the same.
func (b *Browser) Deny(ctx context.Context, authorizeURL string) (*url.URL, error) {
	return b.walk(ctx, authorizeURL, "deny")
}

// ErrNoConsent is Deny's error when the login itself approved.
var ErrNoConsent = errors.New("the provider asked no consent: the login approved")

// The fakes' forms, as authorize.go writes them.
var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	formInput  = regexp.MustCompile(`<input type="(hidden|radio|text|password)" name="([^"]*)"(?: value="([^"]*)")?`)
	pageError  = regexp.MustCompile(`<p class="error">([^<]*)</p>`)
)

func (b *Browser) walk(ctx context.Context, authorizeURL, decision string) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizeURL, nil)
	if err != nil {
		return nil, err
	}
	consented := false
	for range 3 { // the login page, the consent page, the redirect back
		resp, body, err := b.do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther {
			back, err := resp.Location()
			if err == nil && decision == "deny" && !consented {
				return back, ErrNoConsent
			}
			return back, err
		}
		if resp.StatusCode != http.StatusOK {
			msg := "no reason given"
			if m := pageError.FindStringSubmatch(body); m != nil {
				msg = html.UnescapeString(m[1])
			}
			return nil, fmt.Errorf("%s %s: HTTP %d: %s", req.Method, req.URL.Path, resp.StatusCode, msg)
		}
		form, action, err := b.fill(body, decision)
		if err != nil {
			return nil, err
		}
		consented = form.Has("decision")
		target, err := req.URL.Parse(action)
		if err != nil {
			return nil, err
		}
		if req, err = http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode())); err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return nil, errors.New("the provider did not send the browser back")
}

func (b *Browser) do(req *http.Request) (*http.Response, string, error) {
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, string(body), err
}

// fill fills in a login or consent page's form.
func (b *Browser) fill(page, decision string) (url.Values, string, error) {
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		return nil, "", errors.New("a page without a form")
	}
	form := url.Values{}
	login := false
	for _, in := range formInput.FindAllStringSubmatch(page, -1) {
		kind, name, value := in[1], html.UnescapeString(in[2]), html.UnescapeString(in[3])
		switch kind {
		case "hidden":
			form.Set(name, value)
		case "text":
			form.Set(name, b.Username)
		case "password":
			form.Set(name, b.Password)
			login = true
		case "radio":
			if !form.Has(name) && (b.Choice == "" || b.Choice == value) {
				form.Set(name, value)
			}
		}
	}
	if !login {
		form.Set("decision", decision)
	}
	return form, html.UnescapeString(m[1]), nil
}
