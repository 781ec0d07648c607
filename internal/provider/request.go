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
	"io"
	"mime/multipart"
	"net/url"
	"strings"
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
	status, header, raw, err := c.post(ctx, endpoint, body, contentType, authorization)
	if err != nil {
		return nil, err
	}
	return c.answer(req, status, header, raw, parseTokenResponse)
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
