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
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// aurinko is Aurinko's user OAuth flow: the code goes in the path of a POST to
// {base}/{code}, with HTTP Basic clientId:secret as `curl -u` sends it, and no body. The
// answer is not RFC 6749: accessToken, userSession, accountId, userId, and no expiry.
type aurinko struct{}

const aurinkoTokenURL = "https://api.aurinko.io/v1/auth/token"

// Traits: a code, exchanged once; the answer has no refresh token, and the code travels in
// the URL path, with nothing else (no redirect_uri, no PKCE verifier).
// The documented User OAuth authorization endpoint, and the token path it replaces.
const (
	aurinkoAuthorizeURL  = "https://api.aurinko.io/v1/auth/authorizeUser"
	aurinkoTokenPath     = "/v1/auth/token"
	aurinkoAuthorizePath = "/v1/auth/authorizeUser"
)

func (aurinko) Traits() Traits { return Traits{Code: true} }

func (aurinko) Defaults(*Request) {}

func (aurinko) Token(ctx context.Context, c *Client, req *Request) (*Token, error) {
	if req.Grant.Code == "." || req.Grant.Code == ".." {
		// A path segment that servers and proxies resolve away.
		return nil, &Error{Kind: BadRequest, Err: errors.New("the code is not a valid path segment")}
	}
	base := req.TokenURL
	if base == "" {
		base = aurinkoTokenURL
	}
	if u, err := url.Parse(base); err == nil && (u.RawQuery != "" || u.Fragment != "") {
		return nil, &Error{Kind: BadRequest, Err: errors.New("spec.tokenURL must have no query or fragment: the code is appended to its path")}
	}
	// Path-escaped, a "/" or "?" in the code stays inside the last segment. The URL now
	// holds the code: the redactor knows its escaped form for transport errors.
	endpoint := strings.TrimRight(base, "/") + "/" + url.PathEscape(req.Grant.Code)
	status, header, raw, err := c.post(ctx, endpoint, nil, "", basicAuth(req.ClientID, req.ClientSecret, false))
	if err != nil {
		return nil, err
	}
	return c.answer(req, status, header, raw, parseAurinkoResponse)
}

// parseAurinkoResponse reads Aurinko's token response: accessToken, and the ids, which
// may come as numbers or as strings.
// Authorization: authorizeUser takes Aurinko's own names (clientId, returnUrl,
// responseType, scopes) and state; accountRole is primary (a new user session) unless the
// spec says secondary, and serviceType picks the sign-in (Google, Office365, ...), which has
// no default. No PKCE: the code exchange has no body to carry a verifier.
func (aurinko) Authorization() Authorization {
	return Authorization{
		Names: AuthorizationNames{
			ClientID: "clientId", RedirectURI: "returnUrl", ResponseType: "responseType", Scope: "scopes", State: "state",
		},
		DefaultParameters:  map[string]string{"accountRole": "primary"},
		RequiredParameters: []string{"serviceType"},
	}
}

// authorizeEndpoint is spec.tokenURL with /v1/auth/token replaced by
// /v1/auth/authorizeUser, else the documented one.
func (aurinko) authorizeEndpoint(_ context.Context, _ *Client, req *AuthorizationRequest) (string, error) {
	if req.TokenURL == "" {
		return aurinkoAuthorizeURL, nil
	}
	return replacePath(req.TokenURL, aurinkoTokenPath, aurinkoAuthorizePath)
}

// checkCallback: in code mode the document's redirect back says status=success beside the
// code; another status is Aurinko's refusal.
func (aurinko) checkCallback(query url.Values) error {
	switch status := query.Get("status"); status {
	case "success":
		return nil
	case "":
		return malformed("no status=success")
	default:
		return &CallbackError{Code: truncate(printable(status), maxErrorCode)}
	}
}

func parseAurinkoResponse(header http.Header, body []byte, _ time.Time) (*Token, error) {
	fields, err := decodeAnswer(header, body)
	if err != nil {
		return nil, err
	}
	at, _ := fields["accessToken"].(string)
	if at == "" {
		return nil, errors.New("malformed token response: no accessToken")
	}
	tok := &Token{
		AccessToken: at,
		TokenType:   "Bearer",
		Expiry:      jwtExpiry(at),
		Extra:       map[string]string{},
	}
	// What did not come, or came as neither a string nor a number, is left out rather
	// than written to the workload Secret empty.
	for key, field := range map[string]string{
		oauthv1alpha1.KeyUserSession: "userSession",
		oauthv1alpha1.KeyAccountID:   "accountId",
		oauthv1alpha1.KeyUserID:      "userId",
	} {
		if v := identifier(fields[field]); v != "" {
			tok.Extra[key] = v
		}
	}
	return tok, nil
}

// identifier renders an id as text: a string as it is; a number in plain decimal, an
// integer literal as it came (every digit, however large), an exponent form such as 1.23e2
// as 123; anything else as "".
func identifier(v any) string {
	switch id := v.(type) {
	case string:
		return id
	case json.Number:
		if strings.Trim(id.String(), "-0123456789") == "" {
			return id.String()
		}
		if f, err := id.Float64(); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	return ""
}
