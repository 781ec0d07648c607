{{/*
The chart name, or nameOverride.
*/}}
{{- define "tokenwarden.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: fullnameOverride, else the release name if it already
contains the chart name, else "<release>-<chart>". With the release name "tokenwarden" the
objects get the names that `make deploy` gives them (tokenwarden-controller-manager, ...).
*/}}
{{- define "tokenwarden.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Labels on every object.
*/}}
{{- define "tokenwarden.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tokenwarden.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels that tell this release's objects apart.
*/}}
{{- define "tokenwarden.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tokenwarden.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels that select the manager's Pods (the Deployment's and the metrics Service's selector).
*/}}
{{- define "tokenwarden.managerSelectorLabels" -}}
{{ include "tokenwarden.selectorLabels" . }}
control-plane: controller-manager
{{- end }}

{{/*
The manager's ServiceAccount.
*/}}
{{- define "tokenwarden.serviceAccountName" -}}
{{ include "tokenwarden.fullname" . }}-controller-manager
{{- end }}

{{/*
The manager image, repository:tag; the tag defaults to the chart's appVersion.
*/}}
{{- define "tokenwarden.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
The callback server's external base URL, checked: required when callback.enabled, https
(http only to a loopback host, as spec.authorization.redirectURI allows), and no path,
query or fragment, since the Ingress routes /connect/ and /callback at the host's root.
*/}}
{{- define "tokenwarden.callbackURL" -}}
{{- $url := .Values.callback.url | default "" | trim }}
{{- if not $url }}
{{- fail "callback.enabled is true but callback.url is empty: set callback.url to the external https URL of the callback server as the browser sees it, e.g. --set callback.url=https://connect.example.com (register https://connect.example.com/callback with the provider)" }}
{{- end }}
{{- $u := urlParse $url }}
{{- $loopback := has $u.hostname (list "localhost" "127.0.0.1" "::1") }}
{{- if not (or (eq $u.scheme "https") (and (eq $u.scheme "http") $loopback)) }}
{{- fail (printf "callback.url %q must be an https URL (http only to localhost, 127.0.0.1 or [::1]): browsers carry the callback server's cookie and the provider's code to it" $url) }}
{{- end }}
{{- if or (not $u.hostname) (and $u.path (ne $u.path "/")) $u.query $u.fragment $u.userinfo }}
{{- fail (printf "callback.url %q must be a base URL with a host and no path, query, fragment or user, such as https://connect.example.com: the callback server serves /connect/ and /callback at its root" $url) }}
{{- end }}
{{- printf "%s://%s" $u.scheme $u.host }}
{{- end }}

{{/*
The host the callback Ingress routes: callback.ingress.host, else the host of callback.url.
*/}}
{{- define "tokenwarden.callbackHost" -}}
{{- .Values.callback.ingress.host | default (urlParse (include "tokenwarden.callbackURL" .)).hostname }}
{{- end }}
