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
	"html/template"
	"net/http"
)

// pageKind is what a page of the callback server says. Its detail is a message of the
// operator's own or the provider's error as provider.ParseCallback cleans it, and the
// template escapes it all the same: no request value is ever written back unescaped.
type pageKind struct {
	title, lead string
}

var (
	pageConnected      = pageKind{"Account connected", "The account is connected. You can close this window."}
	pageReceived       = pageKind{"Sign-in received", "The sign-in was received and the operator is completing it. You can close this window; the connection's status says when it is done."}
	pageExchangeFailed = pageKind{"Sign-in not completed", "The provider did not accept the sign-in:"}
	pageDenied         = pageKind{"Account not connected", "The provider did not authorize the account:"}
	pageRefused        = pageKind{"Sign-in refused", "This sign-in cannot be used:"}
	pageFailed         = pageKind{"Sign-in failed", "Something went wrong:"}
	pageTooMany        = pageKind{"Too many requests", "Too many requests from this address. Try again in a minute."}
	pageTooLarge       = pageKind{"Request too large", "The request is larger than a sign-in needs."}
)

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}} · tokenwarden</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}h1{font-size:1.4rem}</style>
</head>
<body>
<main>
<h1 id="title">{{.Title}}</h1>
<p id="lead">{{.Lead}}</p>
{{- if .Detail}}
<p id="detail">{{.Detail}}</p>
{{- end}}
</main>
</body>
</html>
`))

// securityHeaders forbid caching, framing, referrers and any script.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
}

// page writes one of the callback server's pages.
func (s *callbackServer) page(w http.ResponseWriter, status int, kind pageKind, detail string) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, struct{ Title, Lead, Detail string }{kind.title, kind.lead, detail})
}
