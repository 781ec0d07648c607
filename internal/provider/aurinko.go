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
	"net/url"
	"strings"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// aurinko is Aurinko's user OAuth flow: the code goes in the path of a POST to
// {base}/{code}, with HTTP Basic clientId:secret as `curl -u` sends it, and no body. The
// answer is not RFC 6749: accessToken, userSession, accountId, userId, and no expiry.
type aurinko struct{}

const aurinkoTokenURL = "https://api.aurinko.io/v1/auth/token"

func (aurinko) Token(ctx context.Context, c *Client, req *Request) (*Token, error) {
	if req.Grant.Type != GrantAuthorizationCode || req.Grant.Code == "" {
		return nil, unsupported(req.Provider, req.Grant.Type)
	}
	base := req.TokenURL
	if base == "" {
		base = aurinkoTokenURL
	}
	endpoint := strings.TrimRight(base, "/") + "/" + url.PathEscape(req.Grant.Code)
	status, header, raw, err := c.post(ctx, req, endpoint, nil, "", basicAuth(req.ClientID, req.ClientSecret, false))
	if err != nil {
		return nil, err
	}
	return c.answer(req, status, header, raw, parseAurinkoResponse)
}

// parseAurinkoResponse reads Aurinko's token response.
func parseAurinkoResponse(body []byte, _ time.Time) (*Token, error) {
	var r struct {
		AccessToken string          `json:"accessToken"`
		UserSession string          `json:"userSession"`
		AccountID   json.RawMessage `json:"accountId"`
		UserID      string          `json:"userId"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, errors.New("malformed token response: not a JSON object")
	}
	if r.AccessToken == "" {
		return nil, errors.New("malformed token response: no accessToken")
	}
	tok := &Token{
		AccessToken: r.AccessToken,
		TokenType:   "Bearer",
		Expiry:      jwtExpiry(r.AccessToken),
		Extra: map[string]string{
			oauthv1alpha1.KeyUserSession: r.UserSession,
			oauthv1alpha1.KeyAccountID:   strings.Trim(string(r.AccountID), `"`),
			oauthv1alpha1.KeyUserID:      r.UserID,
		},
	}
	if string(r.AccountID) == "null" {
		tok.Extra[oauthv1alpha1.KeyAccountID] = ""
	}
	return tok, nil
}
