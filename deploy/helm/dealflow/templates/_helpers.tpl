{{/* Names and labels. */}}
{{- define "dealflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dealflow.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "dealflow.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "dealflow.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's objects; call with (dict "root" $ "component" "deals"). */}}
{{- define "dealflow.componentName" -}}
{{- printf "%s-%s" (include "dealflow.fullname" .root | trunc 48 | trimSuffix "-") .component -}}
{{- end -}}

{{- define "dealflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dealflow.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "dealflow.labels" -}}
{{ include "dealflow.selectorLabels" . }}
app.kubernetes.io/part-of: dealflow
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "dealflow.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The components that run as Deployments, in a stable order. */}}
{{- define "dealflow.components" -}}
deals approvals finance notifications gateway worker intake
{{- end -}}

{{- define "dealflow.grpcServices" -}}
deals approvals finance notifications
{{- end -}}

{{- define "dealflow.secretName" -}}
{{- default (include "dealflow.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/*
Non-secret settings as KEY: "value" lines: the ConfigMap's data, and the migration hook's env
(the hook runs before the ConfigMap exists).
*/}}
{{- define "dealflow.configData" -}}
NATS_URL: {{ .Values.config.natsUrl | quote }}
TEMPORAL_ADDRESS: {{ .Values.config.temporal.address | quote }}
TEMPORAL_NAMESPACE: {{ .Values.config.temporal.namespace | quote }}
DEALFLOW_TASK_QUEUE: {{ .Values.config.temporal.taskQueue | quote }}
DEALFLOW_LOG_FORMAT: {{ .Values.config.logFormat | quote }}
DEALFLOW_LOG_LEVEL: {{ .Values.config.logLevel | quote }}
DEALFLOW_METRICS_PORT: {{ .Values.config.metricsPort | quote }}
{{- with .Values.config.otlpEndpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
{{- range $svc := splitList " " (include "dealflow.grpcServices" .) }}
{{- $port := (index $.Values $svc).port }}
{{ upper $svc }}_GRPC_PORT: {{ $port | quote }}
{{ upper $svc }}_GRPC_HOST: {{ $.Values.config.listenHost | quote }}
DEALFLOW_{{ upper $svc }}_ADDR: {{ printf "%s:%d" (include "dealflow.componentName" (dict "root" $ "component" $svc)) (int $port) | quote }}
{{- end }}
GATEWAY_PORT: {{ .Values.gateway.port | quote }}
GATEWAY_HOST: {{ .Values.config.listenHost | quote }}
DEALFLOW_SMTP_INTAKE_PORT: {{ .Values.intake.port | quote }}
DEALFLOW_SMTP_INTAKE_HOST: {{ .Values.config.listenHost | quote }}
{{- with .Values.config.smtp }}
{{- if .host }}
NOTIFICATIONS_SMTP_HOST: {{ .host | quote }}
NOTIFICATIONS_SMTP_PORT: {{ .port | default 587 | quote }}
NOTIFICATIONS_SMTP_FROM: {{ .from | default "dealflow@example.com" | quote }}
NOTIFICATIONS_SMTP_STARTTLS: {{ .starttls | default false | quote }}
{{- end }}
{{- end }}
NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE: {{ .Values.config.webhookAllowPrivate | default false | quote }}
{{- end -}}

{{- define "dealflow.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "dealflow.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Pod-level fields shared by the Deployments and the migration Job. */}}
{{- define "dealflow.podCommon" -}}
automountServiceAccountToken: false
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- include "dealflow.podSecurityContext" . | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  # The root filesystem is read-only; Python and its libraries may still want a scratch dir.
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- end -}}
