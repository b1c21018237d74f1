{{/* The chart's names and labels. */}}
{{- define "forgehook.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "forgehook.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "forgehook.labels" -}}
{{ include "forgehook.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "forgehook.secretName" -}}
{{- default (include "forgehook.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{/* The store URL: the NATS chart's service, or store.url. */}}
{{- define "forgehook.storeURL" -}}
{{- if .Values.nats.enabled -}}
{{- printf "nats://%s-nats:4222" .Release.Name -}}
{{- else -}}
{{- .Values.store.url -}}
{{- end -}}
{{- end -}}

{{/* Refuse what cannot work. */}}
{{- define "forgehook.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not (include "forgehook.storeURL" .)) -}}
{{- fail "replicaCount > 1 needs an external JetStream store (nats.enabled=true or store.url): the embedded store lives in one pod's data directory" -}}
{{- end -}}
{{- if and (not .Values.existingSecret) (not .Values.adminToken) -}}
{{- fail "adminToken is required (or existingSecret): the admin listener listens on the pod's address" -}}
{{- end -}}
{{- end -}}

{{/* forgehook.yaml: the user's config with what the chart decides. */}}
{{- define "forgehook.config" -}}
{{- $c := deepCopy (default dict .Values.config) -}}
{{- $_ := set $c "listen" (printf ":%d" (int .Values.service.port)) -}}
{{- $_ := set $c "data_dir" "/var/lib/forgehook" -}}
{{- $admin := default dict (get $c "admin") -}}
{{- $_ := set $admin "listen" (printf ":%d" (int .Values.service.adminPort)) -}}
{{- $_ := set $admin "token_file" "/etc/forgehook/secrets/admin-token" -}}
{{- $_ := set $c "admin" $admin -}}
{{- $url := include "forgehook.storeURL" . -}}
{{- if $url -}}
{{- $store := default dict (get $c "store") -}}
{{- $_ := set $store "url" $url -}}
{{- $_ := set $store "replicas" (int .Values.store.replicas) -}}
{{- $_ := set $c "store" $store -}}
{{- end -}}
{{- toYaml $c -}}
{{- end -}}
