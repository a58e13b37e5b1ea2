{{/* The chart name, honouring nameOverride. */}}
{{- define "tgbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* release-chart, or fullnameOverride; truncated to 63 characters. */}}
{{- define "tgbot.fullname" -}}
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

{{/* chart-version for the helm.sh/chart label. */}}
{{- define "tgbot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels (immutable): name, instance, component. Call with (dict "root" $ "component" "bot"). */}}
{{- define "tgbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tgbot.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Standard labels for metadata. Call with (dict "root" $ "component" "bot"). */}}
{{- define "tgbot.labels" -}}
{{ include "tgbot.selectorLabels" . }}
helm.sh/chart: {{ include "tgbot.chart" .root }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: tgbot
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Full image reference. Call with (dict "root" $ "image" .Values.image.bot). */}}
{{- define "tgbot.image" -}}
{{- $repository := .image.repository -}}
{{- if .root.Values.image.registry -}}
{{- $repository = printf "%s/%s" .root.Values.image.registry .image.repository -}}
{{- end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Name of the Secret holding the application secrets. */}}
{{- define "tgbot.secretName" -}}
{{- default (include "tgbot.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Name of the ServiceAccount. */}}
{{- define "tgbot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tgbot.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* TELEGRAM_API_BASE: the sandbox's Service when the sandbox is enabled. */}}
{{- define "tgbot.telegramApiBase" -}}
{{- if .Values.sandbox.enabled -}}
{{- printf "http://%s-sandbox:8081" (include "tgbot.fullname" .) -}}
{{- else -}}
{{- .Values.config.telegramApiBase -}}
{{- end -}}
{{- end -}}

{{/* WEBHOOK_URL: with the sandbox, the bot's Service inside the cluster. */}}
{{- define "tgbot.webhookUrl" -}}
{{- if and .Values.sandbox.enabled (not .Values.config.webhookUrl) -}}
{{- printf "http://%s-bot:8080%s" (include "tgbot.fullname" .) .Values.config.webhookPath -}}
{{- else -}}
{{- .Values.config.webhookUrl -}}
{{- end -}}
{{- end -}}

{{/* Environment of the bot processes (serve, dispatch, set-webhook). Secrets are files. */}}
{{- define "tgbot.botEnv" -}}
- {name: TELEGRAM_API_BASE, value: {{ include "tgbot.telegramApiBase" . | quote }}}
- {name: WEBHOOK_URL, value: {{ include "tgbot.webhookUrl" . | quote }}}
- {name: WEBHOOK_PATH, value: {{ .Values.config.webhookPath | quote }}}
- {name: LOG_LEVEL, value: {{ .Values.config.logLevel | quote }}}
- {name: LOG_FORMAT, value: {{ .Values.config.logFormat | quote }}}
- {name: SHUTDOWN_GRACE_SECONDS, value: {{ .Values.config.shutdownGraceSeconds | quote }}}
- {name: DATABASE_URL_FILE, value: /run/secrets/tgbot/database-url}
- {name: REDIS_URL_FILE, value: /run/secrets/tgbot/redis-url}
- {name: TELEGRAM_BOT_TOKEN_FILE, value: /run/secrets/tgbot/telegram-bot-token}
- {name: WEBHOOK_SECRET_FILE, value: /run/secrets/tgbot/webhook-secret}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Environment of the admin processes (gunicorn, tgadmin migrate). */}}
{{- define "tgbot.adminEnv" -}}
{{- $host := .Values.ingress.admin.host -}}
- {name: ALLOWED_HOSTS, value: {{ default $host .Values.config.admin.allowedHosts | quote }}}
- {name: CSRF_TRUSTED_ORIGINS, value: {{ default (printf "https://%s" $host) .Values.config.admin.csrfTrustedOrigins | quote }}}
- {name: ADMIN_URL_PREFIX, value: {{ .Values.config.admin.urlPrefix | quote }}}
- {name: BEHIND_TLS, value: {{ .Values.config.admin.behindTls | toString | quote }}}
- {name: LOGIN_FAILURE_LIMIT, value: {{ .Values.config.admin.loginFailureLimit | toString | quote }}}
- {name: LOGIN_LOCKOUT_MINUTES, value: {{ .Values.config.admin.loginLockoutMinutes | toString | quote }}}
- {name: SESSION_IDLE_TIMEOUT, value: {{ .Values.config.admin.sessionIdleTimeout | toString | quote }}}
- {name: TWO_FACTOR_REQUIRED_FOR_ADMINS, value: {{ .Values.config.admin.twoFactorRequiredForAdmins | toString | quote }}}
- {name: MESSAGE_RETENTION_DAYS, value: {{ .Values.config.admin.messageRetentionDays | toString | quote }}}
- {name: LOG_LEVEL, value: {{ .Values.config.logLevel | quote }}}
- {name: DATABASE_URL_FILE, value: /run/secrets/tgbot/database-url}
- {name: REDIS_URL_FILE, value: /run/secrets/tgbot/redis-url}
- {name: SECRET_KEY_FILE, value: /run/secrets/tgbot/django-secret-key}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The secrets volume with only the named keys. Call with (dict "root" $ "keys" (list ...)). */}}
{{- define "tgbot.secretVolume" -}}
- name: secrets
  secret:
    secretName: {{ include "tgbot.secretName" .root }}
    defaultMode: 0440
    items:
    {{- range .keys }}
      - {key: {{ . }}, path: {{ . }}}
    {{- end }}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}

{{/* Mounts of the secrets volume and /tmp. */}}
{{- define "tgbot.volumeMounts" -}}
- {name: secrets, mountPath: /run/secrets/tgbot, readOnly: true}
- {name: tmp, mountPath: /tmp}
{{- end -}}

{{/* An HTTP GET probe. Call with (dict "probe" .Values.bot.livenessProbe "path" "/healthz" "port" "http"). */}}
{{- define "tgbot.httpProbe" -}}
httpGet:
  path: {{ .path }}
  port: {{ .port }}
periodSeconds: {{ .probe.periodSeconds }}
timeoutSeconds: {{ .probe.timeoutSeconds }}
failureThreshold: {{ .probe.failureThreshold }}
{{- end -}}

{{/* Pod-level settings shared by every pod. */}}
{{- define "tgbot.podCommon" -}}
serviceAccountName: {{ include "tgbot.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Spread a workload's pods across nodes. Call with (dict "root" $ "component" "bot"). */}}
{{- define "tgbot.topologySpread" -}}
{{- if .root.Values.topologySpread.enabled -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: {{ .root.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "tgbot.selectorLabels" . | nindent 8 }}
    matchLabelKeys:
      - pod-template-hash
{{- end }}
{{- end -}}

{{/* Collects every problem with the values, then fails once with all of them. */}}
{{- define "tgbot.validateValues" -}}
{{- $msgs := list -}}
{{- if not (include "tgbot.webhookUrl" .) -}}
{{- $msgs = append $msgs "config.webhookUrl: set the public HTTPS URL of the webhook (or enable sandbox)" -}}
{{- end -}}
{{- if and (not .Values.secrets.existingSecret) (not .Values.devServices.enabled) -}}
{{- range $k := list "databaseUrl" "redisUrl" "telegramBotToken" "webhookSecret" "djangoSecretKey" -}}
{{- if not (index $.Values.secrets $k) -}}
{{- $msgs = append $msgs (printf "secrets.%s: required unless secrets.existingSecret is set" $k) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and .Values.bot.hpa.enabled (gt (int .Values.bot.hpa.minReplicas) (int .Values.bot.hpa.maxReplicas)) -}}
{{- $msgs = append $msgs "bot.hpa: minReplicas exceeds maxReplicas" -}}
{{- end -}}
{{- if and .Values.admin.hpa.enabled (gt (int .Values.admin.hpa.minReplicas) (int .Values.admin.hpa.maxReplicas)) -}}
{{- $msgs = append $msgs "admin.hpa: minReplicas exceeds maxReplicas" -}}
{{- end -}}
{{- if le (int .Values.bot.terminationGracePeriodSeconds) (add (int .Values.bot.preStopSleepSeconds) (int .Values.config.shutdownGraceSeconds)) -}}
{{- $msgs = append $msgs "bot.terminationGracePeriodSeconds: must exceed bot.preStopSleepSeconds + config.shutdownGraceSeconds" -}}
{{- end -}}
{{- if $msgs -}}
{{- fail (printf "\nVALUES VALIDATION:\n%s" (join "\n" $msgs)) -}}
{{- end -}}
{{- end -}}

{{/* One step of the migration Job. Call with (dict "root" $ "step" (dict "name" "image" "command" "env")). */}}
{{- define "tgbot.migrateContainer" -}}
- name: {{ .step.name }}
  image: {{ include "tgbot.image" (dict "root" .root "image" .step.image) }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  command: {{ toJson .step.command }}
  env:
    {{- include .step.env .root | nindent 4 }}
  securityContext:
    {{- toYaml .root.Values.containerSecurityContext | nindent 4 }}
  resources:
    {{- toYaml .root.Values.migrations.resources | nindent 4 }}
  volumeMounts:
    {{- include "tgbot.volumeMounts" .root | nindent 4 }}
{{- end -}}
