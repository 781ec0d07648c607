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
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// aurinko is Aurinko's user OAuth flow: the code goes in the path of a POST to
// {base}/{code}, with HTTP Basic clientId:secret exactly as the document's `curl -u` sends
// it (raw, not form-urlencoded), and no body. The answer is not RFC 6749: accessToken,
// userSession, accountId (a number), userId, and no expiry.
type aurinko struct{}

const aurinkoTokenURL = "https://api.aurinko.io/v1/auth/token"

func (aurinko) Token(ctx context.Context, c *Client, req *Request) (*Token, error) {
	if req.Grant.Type != GrantAuthorizationCode {
		return nil, badRequest("grant type %q is not supported by Aurinko (a code exchange only)", req.Grant.Type)
	}
	code := req.Grant.Code
	switch code {
	case "":
		return nil, badRequest("grant has no code")
	case ".", "..":
		// A path segment a server or proxy would resolve away.
		return nil, badRequest("the code is not a valid path segment")
	}
	base, err := c.tokenEndpoint(ctx, req, aurinkoTokenURL, nil)
	if err != nil {
		return nil, err
	}
	if u, _ := url.Parse(base); u.RawQuery != "" {
		return nil, badRequest("spec.tokenURL must not have a query: the code is appended to its path")
	}
	// The code is path-escaped: a "/" or "?" in it must stay inside the last segment. The
	// URL now holds the code, so transport errors quoting it are redacted (newRedactor
	// lists the path-escaped form).
	endpoint := strings.TrimRight(base, "/") + "/" + url.PathEscape(code)
	return c.send(ctx, tokenRequest{
		endpoint: endpoint,
		basic:    &[2]string{req.ClientID, req.ClientSecret},
		parse:    parseAurinkoResponse,
	}, newRedactor(req))
}

// parseAurinkoResponse reads Aurinko's token response into a Token whose Extra holds
// user_session, account_id (the number in decimal) and user_id, each when present.
func parseAurinkoResponse(_ string, body []byte, now time.Time) (*Token, error) {
	var r struct {
		AccessToken string          `json:"accessToken"`
		UserSession string          `json:"userSession"`
		AccountID   json.RawMessage `json:"accountId"`
		UserID      json.RawMessage `json:"userId"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	if r.AccessToken == "" {
		return nil, errors.New("no accessToken")
	}
	accountID, err := decimalText(r.AccountID)
	if err != nil {
		return nil, errors.New("accountId is not a number")
	}
	userID, err := scalarText(r.UserID)
	if err != nil {
		return nil, errors.New("userId is not a string")
	}
	// No expires_in ever comes; a JWT access token's exp still counts.
	tok, err := tokenFields{accessToken: r.AccessToken}.normalise(now)
	if err != nil {
		return nil, err
	}
	tok.Extra = map[string]string{}
	for k, v := range map[string]string{
		oauthv1alpha1.KeyUserSession: r.UserSession,
		oauthv1alpha1.KeyAccountID:   accountID,
		oauthv1alpha1.KeyUserID:      userID,
	} {
		if v != "" {
			tok.Extra[k] = v
		}
	}
	return tok, nil
}

// decimalText renders a JSON number in plain decimal (123, not 1.23e+02; an integer keeps
// every digit however large). A string is kept as it is: an id is an id.
func decimalText(raw json.RawMessage) (string, error) {
	s, err := scalarText(raw)
	if err != nil || s == "" || strings.HasPrefix(strings.TrimSpace(string(raw)), `"`) || isInteger(s) {
		return s, err
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", err
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10), nil
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

func isInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	return s != "" && strings.Trim(s, "0123456789") == ""
}
