{{/* The chart name, or nameOverride. */}}
{{- define "countersign.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The full name of resources: fullnameOverride, or the release name with the chart name in it. */}}
{{- define "countersign.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "countersign.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select the pods; never change them in an upgrade. */}}
{{- define "countersign.selectorLabels" -}}
app.kubernetes.io/name: {{ include "countersign.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "countersign.labels" -}}
helm.sh/chart: {{ include "countersign.chart" . }}
{{ include "countersign.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* metadata.annotations, indented for metadata, from the given annotations and commonAnnotations,
     or nothing. Call it as: include "countersign.annotations" (list . extraAnnotations) */}}
{{- define "countersign.annotations" -}}
{{- $root := index . 0 -}}
{{- $annotations := merge (deepCopy (index . 1)) (deepCopy $root.Values.commonAnnotations) -}}
{{- with $annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
{{- end -}}
{{- end -}}

{{- define "countersign.image" -}}
{{- $registry := .Values.image.registry -}}
{{- $repository := ternary (printf "%s/%s" $registry .Values.image.repository) .Values.image.repository (ne $registry "") -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "countersign.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "countersign.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* "true" when the chart creates the Secret with the tokens. */}}
{{- define "countersign.createSecret" -}}
{{- if and (not .Values.auth.existingSecret) (or .Values.auth.adminToken .Values.auth.upstreamTokens) -}}
true
{{- end -}}
{{- end -}}

{{- define "countersign.secretName" -}}
{{- default (include "countersign.fullname" .) .Values.auth.existingSecret -}}
{{- end -}}

{{/* The environment variable holding an upstream's token: include "countersign.upstreamTokenEnv" "my-registry" */}}
{{- define "countersign.upstreamTokenEnv" -}}
{{- printf "COUNTERSIGN_UPSTREAM_%s_TOKEN" (. | upper | replace "-" "_") -}}
{{- end -}}

{{- define "countersign.publicUrl" -}}
{{- printf "%s://%s/" (ternary "https" "http" .Values.ingress.tls) .Values.ingress.hostname -}}
{{- end -}}

{{/* countersign's config.yaml: .Values.config plus what the chart decides (see values.yaml). */}}
{{- define "countersign.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- $server := deepCopy (default (dict) .Values.config.server) -}}
{{- $_ := set $server "host" "0.0.0.0" -}}
{{- $_ := set $server "port" (int .Values.containerPorts.http) -}}
{{- $_ := set $server "dataDir" "/data" -}}
{{- if and .Values.ingress.enabled (not (hasKey $server "publicUrl")) -}}
{{- $_ := set $server "publicUrl" (include "countersign.publicUrl" .) -}}
{{- end -}}
{{- $_ := set $config "server" $server -}}
{{- $upstreams := dict -}}
{{- range $name, $upstream := .Values.config.upstreams -}}
{{- $copy := deepCopy $upstream -}}
{{- if not (hasKey $copy "token") -}}
{{- $_ := set $copy "token" (printf "${%s:-}" (include "countersign.upstreamTokenEnv" $name)) -}}
{{- end -}}
{{- $_ := set $upstreams $name $copy -}}
{{- end -}}
{{- $_ := set $config "upstreams" $upstreams -}}
{{- toYaml $config -}}
{{- end -}}

{{/* Refuses values that cannot work together, before anything is applied. */}}
{{- define "countersign.validate" -}}
{{- if and .Values.persistence.enabled .Values.persistence.existingClaim (gt (int .Values.replicaCount) 1) -}}
{{- fail "persistence.existingClaim cannot be shared by several pods: each pod needs its own trust store (SQLite, one writer). Use replicaCount 1, or a claim template (existingClaim empty)." -}}
{{- end -}}
{{- if and .Values.auth.existingSecret (or .Values.auth.adminToken .Values.auth.upstreamTokens) -}}
{{- fail "auth.existingSecret is set: put the tokens in that Secret and leave auth.adminToken and auth.upstreamTokens empty." -}}
{{- end -}}
{{- range $name, $token := .Values.auth.upstreamTokens -}}
{{- if not (hasKey $.Values.config.upstreams $name) -}}
{{- fail (printf "auth.upstreamTokens.%s: there is no upstream %s in config.upstreams" $name $name) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.config.server (hasKey .Values.config.server "port") -}}
{{- fail "config.server.port is set by the chart: use containerPorts.http." -}}
{{- end -}}
{{- end -}}
