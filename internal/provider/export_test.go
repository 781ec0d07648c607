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
	"net/http"
	"net/url"
	"time"
)

// What the tests in package provider_test reach inside for: the tests live there, beside
// the fakes of providertest, which imports this package.
var (
	Classify            = classify
	NewRedactor         = newRedactor
	RetryAfter          = retryAfter
	Identifier          = identifier
	ErrResponseTooLarge = errResponseTooLarge
)

const MaxDescription = maxDescription

// Error is the redactor's error, for the tests.
func (r redactor) Error(err error) error { return r.error(err) }

// HTTPClientForTest is the HTTP client a request would go through.
func (c *Client) HTTPClientForTest() *http.Client { return c.httpClient() }

// TimeoutForTest is the bound of one token request.
func (c *Client) TimeoutForTest() time.Duration { return c.timeout() }

// ProxyForTest is the policy's wrapper of a Transport's Proxy function.
func (p *AddressPolicy) ProxyForTest(next func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return p.proxy(next)
}
