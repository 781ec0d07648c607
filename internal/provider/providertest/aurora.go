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
	"net/http"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
	"github.com/tokenwarden/tokenwarden/internal/provider"
)

// aurora is Aurora's document: client credentials with the environment's audience,
// form-encoded, the client in the body or in HTTP Basic (not both), and OIDC discovery.
type aurora struct{ audience string }

// Aurora's documented audiences.
var auroraAudiences = map[oauthv1alpha1.Environment]string{
	oauthv1alpha1.EnvironmentLive: "https://api.client.integration.aurora.co.uk",
	oauthv1alpha1.EnvironmentDev:  "https://dev.client.integration.aurora.co.uk",
}

// NewAurora starts a fake Aurora: client credentials with the audience of o.Environment
// (default Live) alone, form-encoded, client credentials in the body or in HTTP Basic (not
// both), and OIDC discovery.
func NewAurora(o Options) *Server {
	env := o.Environment
	if env == "" {
		env = oauthv1alpha1.EnvironmentLive
	}
	return newServer(aurora{audience: auroraAudiences[env]}, o, time.Hour)
}

func (aurora) tokenPath() string { return "/oauth/token" }

func (aurora) servesDiscovery(path string) bool { return path == wellKnownOIDC }

func (aurora) read(_ *Server, r *http.Request, p *params, body []byte) (provider.GrantType, string) {
	if reason := readFields(r, p, body, contentForm); reason != "" {
		return "", reason
	}
	grant := provider.GrantType(p.fields["grant_type"])
	if reason := checkGrant(p.fields, grant, provider.GrantClientCredentials); reason != "" {
		return grant, reason
	}
	if p.fields["audience"] == "" {
		return grant, "no audience"
	}
	if reason := checkKnownFields(p.fields, grant, "audience", "scope"); reason != "" {
		return grant, reason
	}
	inBody := p.fields["client_secret"] != "" || p.fields["client_id"] != ""
	switch {
	case p.hasBasic && inBody:
		return grant, "client credentials both in HTTP Basic and in the body"
	case !p.hasBasic && (p.fields["client_id"] == "" || p.fields["client_secret"] == ""):
		return grant, "client_id or client_secret missing"
	}
	return grant, ""
}

func (aurora) authenticate(s *Server, p *params) (int, string, string) {
	return s.authenticateFormBasic(p)
}

func (d aurora) answer(s *Server, w http.ResponseWriter, _ *http.Request, p *params, grant provider.GrantType) {
	if p.fields["audience"] != d.audience {
		// What Auth0 answers for an API the client may not call.
		oauthError(w, http.StatusForbidden, "access_denied", "Service not enabled within domain: "+p.fields["audience"])
		return
	}
	s.writeToken(w, s.newTokenAnswer("Bearer"), p, grant)
}
