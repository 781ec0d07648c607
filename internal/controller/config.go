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

package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// connectionConfig is a connection's spec resolved to what one token request and the
// workload Secret need, with the defaults of api.md applied.
type connectionConfig struct {
	request       provider.Request // without client credentials and grant
	secretName    string
	secretType    string
	templates     map[string]*template.Template
	refreshBefore time.Duration // zero: a third of the lifetime
}

// resolveConfig applies the defaults and checks what the API server's validation cannot
// (template syntax). Its error is an invalid spec: permanent until the spec changes.
func resolveConfig(conn *oauthv1alpha1.OAuthConnection) (*connectionConfig, error) {
	spec := &conn.Spec
	cfg := &connectionConfig{
		request: provider.Request{
			Provider:             spec.Provider,
			Environment:          spec.Environment,
			TokenURL:             string(spec.TokenURL),
			IssuerURL:            string(spec.IssuerURL),
			Audience:             spec.Audience,
			ClientAuthentication: spec.ClientAuthentication,
			RequestEncoding:      spec.RequestEncoding,
		},
		secretName: conn.Name,
		secretType: "Opaque",
	}
	cfg.request = provider.WithDefaults(cfg.request)
	for _, s := range spec.Scopes {
		cfg.request.Scopes = append(cfg.request.Scopes, string(s))
	}
	if len(spec.ExtraParameters) > 0 {
		cfg.request.ExtraParameters = make(map[string]string, len(spec.ExtraParameters))
		for k, v := range spec.ExtraParameters {
			cfg.request.ExtraParameters[k] = string(v)
		}
	}
	if spec.SecretName != "" {
		cfg.secretName = string(spec.SecretName)
	}
	if spec.RefreshBefore != nil {
		cfg.refreshBefore = spec.RefreshBefore.Duration
	}
	if t := spec.SecretTemplate; t != nil {
		if t.Type != "" {
			cfg.secretType = t.Type
		}
		templates, err := parseTemplates(t.Data)
		if err != nil {
			return nil, err
		}
		cfg.templates = templates
	}
	return cfg, nil
}

// fingerprint identifies the token a connection asks for: a token obtained under another
// fingerprint (other endpoint, client, audience or scopes) is not reused, and its refresh
// token is never presented to a different endpoint or client.
func (c *connectionConfig) fingerprint(clientID string) string {
	r := &c.request
	parts := make([]string, 0, 9+len(r.ExtraParameters))
	parts = append(parts,
		string(r.Provider), string(r.Environment), r.TokenURL, r.IssuerURL, r.Audience,
		strings.Join(r.Scopes, " "), string(r.ClientAuthentication), string(r.RequestEncoding), clientID)
	for _, k := range slices.Sorted(maps.Keys(r.ExtraParameters)) {
		parts = append(parts, k+"="+r.ExtraParameters[k])
	}
	return hash(parts...)
}

// hash is a SHA-256 over length-prefixed parts, so that no two part lists collide.
func hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		_, _ = fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
