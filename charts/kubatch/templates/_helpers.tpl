{{/*
Names and labels shared by every template.
*/}}

{{- define "kubatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name. A release called "kubatch" (the usual case) gives "kubatch",
not "kubatch-kubatch". Truncated to 63 characters because names end up in labels.
*/}}
{{- define "kubatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if eq $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kubatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Each workload selects its own pods only: the operator's and the API's Deployments must
never match each other's pods.
*/}}
{{- define "kubatch.operatorSelectorLabels" -}}
{{ include "kubatch.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "kubatch.apiSelectorLabels" -}}
{{ include "kubatch.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{- define "kubatch.apiFullname" -}}
{{- printf "%s-api" (include "kubatch.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kubatch.apiServiceAccountName" -}}
{{- if .Values.api.serviceAccount.create }}
{{- default (include "kubatch.apiFullname" .) .Values.api.serviceAccount.name }}
{{- else }}
{{- required "api.serviceAccount.name is required when api.serviceAccount.create is false" .Values.api.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
KUBATCH_ARCHIVE_URL for the operator and the API: the SQLite file on the archive volume,
or the PostgreSQL URL from the user's Secret. Nothing for archive.type=none.
*/}}
{{- define "kubatch.archiveEnv" -}}
{{- if eq .Values.archive.type "sqlite" -}}
- name: KUBATCH_ARCHIVE_URL
  value: sqlite:///var/lib/kubatch/archive/jobs.sqlite
{{- else if eq .Values.archive.type "postgresql" -}}
- name: KUBATCH_ARCHIVE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "archive.postgresql.urlSecret is required when archive.type is postgresql: create a Secret with the connection URL" .Values.archive.postgresql.urlSecret }}
      key: {{ .Values.archive.postgresql.urlSecretKey }}
{{- end -}}
{{- end }}

{{- define "kubatch.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kubatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubatch
{{- end }}

{{- define "kubatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kubatch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kubatch.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
