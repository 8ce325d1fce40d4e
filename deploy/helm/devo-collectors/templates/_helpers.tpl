{{/*
Every helper takes a context made by "dc.ctx": (dict "root" $ "name" <collector> "c" <its values>).
*/}}

{{- define "dc.fullname" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dc.selectorLabels" -}}
app.kubernetes.io/name: devo-collector-{{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "dc.labels" -}}
{{ include "dc.selectorLabels" . }}
app.kubernetes.io/component: {{ .name }}
app.kubernetes.io/part-of: devo-collectors
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/*
How a collector runs:
  queue       aws-sqs: Deployment (KEDA-scaled), state/ an emptyDir
  ha          pull collector, highAvailability.enabled: Deployment with N replicas, checkpoint and lease in Redis
  redis       pull collector, persistence.type redis: Deployment, 1 replica, Recreate
  filesystem  pull collector (default): StatefulSet, 1 replica, a ReadWriteOnce volume for state/
*/}}
{{- define "dc.mode" -}}
{{- if eq .c.kind "queue" -}}queue
{{- else if .c.highAvailability.enabled -}}ha
{{- else if eq .c.persistence.type "redis" -}}redis
{{- else -}}filesystem
{{- end -}}
{{- end -}}

{{- define "dc.usesRedis" -}}
{{- $mode := include "dc.mode" . -}}
{{- if or (eq $mode "ha") (eq $mode "redis") -}}true{{- end -}}
{{- end -}}

{{- define "dc.image" -}}
{{- $img := .root.Values.image -}}
{{- $repo := printf "%s/%s-%s" $img.registry $img.repository .name -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{- define "dc.credentialsSecret" -}}
{{- if .c.credentials.existingSecret -}}
{{- .c.credentials.existingSecret -}}
{{- else if .c.credentials.values -}}
{{- printf "%s-credentials" (include "dc.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/*
config.yaml: globals and outputs from the chart, inputs from the collector's values. The chart's globals
(name, persistence, http_server, high_availability) win over the collector's extra `globals`.
*/}}
{{- define "dc.config" -}}
{{- $root := .root -}}
{{- $persistence := dict "type" "filesystem" "config" (dict "directory_name" "state") -}}
{{- if include "dc.usesRedis" . -}}
{{- $redis := dict "host" (required "redis.host is required for Redis persistence" $root.Values.redis.host) "port" (int $root.Values.redis.port) -}}
{{- if $root.Values.redis.passwordSecret -}}
{{- $_ := set $redis "password" "${env:REDIS_PASSWORD}" -}}
{{- end -}}
{{- $persistence = dict "type" "redis" "config" $redis -}}
{{- end -}}
{{- $globals := dict "name" (printf "collector-%s" .name) "persistence" $persistence "http_server" (dict "enabled" true "address" "0.0.0.0" "port" 3000) -}}
{{- if eq (include "dc.mode" .) "ha" -}}
{{- $_ := set $globals "high_availability" (dict "enabled" true "lease_seconds" (int .c.highAvailability.leaseSeconds)) -}}
{{- end -}}
{{- $globals = merge $globals (deepCopy (default dict .c.globals)) -}}
{{- $devo := dict "address" $root.Values.devo.address "port" (int $root.Values.devo.port) "type" "SSL" "chain" "chain.crt" "cert" "collector.crt" "key" "collector.key" -}}
{{- $outputs := dict "devo_1" (dict "type" "devo_platform" "config" $devo) -}}
{{- toYaml (dict "globals" $globals "outputs" $outputs "inputs" .c.inputs) -}}
{{- end -}}
