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
