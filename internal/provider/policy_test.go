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
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

func TestAddressPolicy(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		addr    string
		blocked bool
	}{
		{"blocks the cloud metadata address by default", "default", "169.254.169.254", true},
		{"blocks IPv4 link-local by default", "default", "169.254.1.1", true},
		{"blocks IPv6 link-local by default", "default", "fe80::1", true},
		{"blocks AWS's IPv6 metadata address by default", "default", "fd00:ec2::254", true},
		{"blocks an IPv4-mapped metadata address", "default", "::ffff:169.254.169.254", true},
		{"allows loopback by default", "default", "127.0.0.1", false},
		{"allows public addresses by default", "default", "93.184.216.34", false},
		{"blocks what an extra CIDR names", "default,10.0.0.0/8", "10.1.2.3", true},
		{"blocks a single address", "192.0.2.7", "192.0.2.7", true},
		{"blocks nothing with none", "none", "169.254.169.254", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseAddressPolicy(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Blocks(netip.MustParseAddr(tt.addr)); got != tt.blocked {
				t.Errorf("Blocks(%s) = %v, want %v", tt.addr, got, tt.blocked)
			}
		})
	}
	if _, err := ParseAddressPolicy("default,not-a-cidr"); err == nil {
		t.Error("an invalid entry was accepted")
	}
}

func TestPolicyRefusesBlockedTokenEndpoints(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer"}`))
	}))
	defer srv.Close()
	policy, err := ParseAddressPolicy("default,127.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Timeout: 5 * time.Second, Policy: policy}
	for _, req := range []*Request{
		{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: srv.URL + "/token", ClientID: "id", ClientSecret: "secret"},
		{Provider: oauthv1alpha1.ProviderGeneric, IssuerURL: srv.URL + "/", ClientID: "id", ClientSecret: "secret"},
		{Provider: oauthv1alpha1.ProviderGeneric, TokenURL: srv.URL + "/token", ClientID: "id", ClientSecret: "secret",
			RequestEncoding: oauthv1alpha1.RequestEncodingJSON},
	} {
		_, err := c.Token(context.Background(), req)
		if KindOf(err) != BadRequest || !strings.Contains(err.Error(), "--token-url-policy") {
			t.Errorf("Token(%s%s) = %v, want a BadRequest naming the policy", req.TokenURL, req.IssuerURL, err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the blocked server received %d requests", hits.Load())
	}
	if _, err := (&Client{Timeout: 5 * time.Second}).Token(context.Background(), &Request{
		Provider: oauthv1alpha1.ProviderGeneric, TokenURL: "https://169.254.169.254/token", ClientID: "id", ClientSecret: "secret",
	}); KindOf(err) != BadRequest {
		t.Errorf("the default policy let a request to the metadata address through: %v", err)
	}
}
