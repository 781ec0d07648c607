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

package provider

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// form is a token request's parameters in order of insertion.
type form struct {
	keys   []string
	values map[string]string
}

func newForm() *form { return &form{values: map[string]string{}} }

func (f *form) set(k, v string) {
	if v == "" {
		return
	}
	if _, ok := f.values[k]; !ok {
		f.keys = append(f.keys, k)
	}
	f.values[k] = v
}

// paramAudience is the token request parameter Aurora and many RFC 6749 servers read the
// audience from.
const paramAudience = "audience"

// encoding is how a token request's body is written.
type encoding int

const (
	encodeForm encoding = iota
	encodeJSON
	encodeMultipart
)

func (f *form) body(enc encoding) (io.Reader, string, error) {
	switch enc {
	case encodeJSON:
		m := make(map[string]string, len(f.keys))
		for _, k := range f.keys {
			m[k] = f.values[k]
		}
		raw, err := json.Marshal(m)
		return bytes.NewReader(raw), "application/json", err
	case encodeMultipart:
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for _, k := range f.keys {
			if err := w.WriteField(k, f.values[k]); err != nil {
				return nil, "", err
			}
		}
		if err := w.Close(); err != nil {
			return nil, "", err
		}
		return &buf, w.FormDataContentType(), nil
	default:
		v := url.Values{}
		for _, k := range f.keys {
			v.Set(k, f.values[k])
		}
		return strings.NewReader(v.Encode()), "application/x-www-form-urlencoded", nil
	}
}

// basicAuth is an Authorization header value; formEncoded applies RFC 6749 section 2.3.1
// (id and secret form-urlencoded before base64), raw sends them as `curl -u` does.
func basicAuth(id, secret string, formEncoded bool) string {
	if formEncoded {
		id, secret = url.QueryEscape(id), url.QueryEscape(secret)
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// exchange posts a token request and parses an RFC 6749 answer.
func (c *Client) exchange(ctx context.Context, req *Request, endpoint string, f *form, enc encoding, authorization string) (*Token, error) {
	body, contentType, err := f.body(enc)
	if err != nil {
		return nil, &Error{Kind: BadRequest, Err: err}
	}
	status, header, raw, err := c.post(ctx, req, endpoint, body, contentType, authorization)
	if err != nil {
		return nil, err
	}
	return c.answer(req, status, header, raw, ParseTokenResponse)
}

// clientCredentials runs the client credentials grant through x/oauth2, with the client
// authentication style stated, never auto-detected.
func (c *Client) clientCredentials(ctx context.Context, req *Request, endpoint string, style oauth2.AuthStyle, params map[string]string) (*Token, error) {
	if err := checkURL(endpoint); err != nil {
		return nil, err
	}
	cc := clientcredentials.Config{
		ClientID:       req.ClientID,
		ClientSecret:   req.ClientSecret,
		TokenURL:       endpoint,
		Scopes:         req.Scopes,
		AuthStyle:      style,
		EndpointParams: url.Values{},
	}
	for k, v := range params {
		if v != "" {
			cc.EndpointParams.Set(k, v)
		}
	}
	red := newRedactor(req)
	// The HTTP client in the context carries the body cap and the no-redirect rule; the
	// answer is then classified and normalised like a hand-written request's.
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, c.httpClient()))
	if err != nil {
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.Response != nil {
			// A non-2xx, or an error code in a 2xx: re.Body is whole (cappedTransport).
			return nil, classify(re.Response.StatusCode, re.Response.Header, re.Body, red)
		}
		if _, ok := errors.AsType[*url.Error](err); ok {
			return nil, &Error{Kind: dialKind(err), Err: red.error(err)}
		}
		// What else x/oauth2 reports concerns a 2xx body: unparseable, or no access_token.
		return nil, &Error{Kind: Transient, StatusCode: http.StatusOK, Err: red.error(fmt.Errorf("malformed token response: %w", err))}
	}
	out := &Token{
		AccessToken:  tok.AccessToken,
		TokenType:    normaliseType(tok.TokenType),
		RefreshToken: tok.RefreshToken,
	}
	if s, ok := tok.Extra("scope").(string); ok {
		out.Scope = s
	}
	// x/oauth2 computes Expiry with time.Now; expires_in is read again so that c.Now, the
	// clock the caller schedules with, is the one used.
	seconds, present, err := parseExpiresIn(extraNumber(tok.Extra("expires_in")))
	switch {
	case err != nil:
		return nil, &Error{Kind: Transient, StatusCode: http.StatusOK, Err: err}
	case present:
		out.Expiry = c.now().Add(time.Duration(seconds) * time.Second)
	default:
		out.Expiry = jwtExpiry(out.AccessToken)
	}
	return out, nil
}

// extraNumber renders a value of oauth2.Token.Extra (decoded from JSON or a form) as the
// JSON text parseExpiresIn reads.
func extraNumber(v any) json.RawMessage {
	switch n := v.(type) {
	case float64:
		return json.RawMessage(strconv.FormatFloat(n, 'f', -1, 64))
	case int64:
		return json.RawMessage(strconv.FormatInt(n, 10))
	case string:
		return json.RawMessage(strconv.Quote(n))
	}
	return nil
}

// grantForm starts a token request body with the grant's parameters.
func grantForm(req *Request) *form {
	f := newForm()
	switch req.Grant.Type {
	case GrantRefreshToken:
		f.set("grant_type", string(GrantRefreshToken))
		f.set("refresh_token", req.Grant.RefreshToken)
	case GrantAuthorizationCode:
		f.set("grant_type", string(GrantAuthorizationCode))
		f.set("code", req.Grant.Code)
		f.set("redirect_uri", req.Grant.RedirectURI)
		f.set("code_verifier", req.Grant.CodeVerifier) // RFC 7636 section 4.5
	case GrantClientCredentials, "":
		f.set("grant_type", string(GrantClientCredentials))
	}
	return f
}
