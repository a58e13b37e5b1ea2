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

{{/* Whether a TLS block of the Ingress covers the bot's host ("true" or ""). */}}
{{- define "tgbot.botHostHasTls" -}}
{{- range .Values.ingress.tls -}}
{{- if has $.Values.ingress.bot.host .hosts -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{/* WEBHOOK_URL, never a second value that can disagree with the route: with the Ingress,
https://<ingress.bot.host><config.webhookPath> (the route Telegram posts to); without it,
config.webhookUrl (TLS and routing done elsewhere); with the sandbox and neither, the bot's
Service inside the cluster. Empty when it cannot be derived (validateValues says why). */}}
{{- define "tgbot.webhookUrl" -}}
{{- if and .Values.gateway.enabled (not .Values.ingress.enabled) -}}
{{- printf "https://%s%s" .Values.ingress.bot.host .Values.config.webhookPath -}}
{{- else if .Values.ingress.enabled -}}
{{- if include "tgbot.botHostHasTls" . -}}
{{- printf "https://%s%s" .Values.ingress.bot.host .Values.config.webhookPath -}}
{{- else if .Values.sandbox.enabled -}}
{{- printf "http://%s-bot:8080%s" (include "tgbot.fullname" .) .Values.config.webhookPath -}}
{{- end -}}
{{- else if .Values.config.webhookUrl -}}
{{- .Values.config.webhookUrl -}}
{{- else if .Values.sandbox.enabled -}}
{{- printf "http://%s-bot:8080%s" (include "tgbot.fullname" .) .Values.config.webhookPath -}}
{{- end -}}
{{- end -}}

{{/* Whether the Secret has key database-direct-url ("true" or ""): PostgreSQL itself, for
migrations and LISTEN, when database-url goes through a transaction-mode pooler. */}}
{{- define "tgbot.hasDirectUrl" -}}
{{- if or .Values.secrets.databaseDirectUrl .Values.secrets.existingSecretHasDirectUrl -}}true{{- end -}}
{{- end -}}

{{/* The Secret key of one database user's PostgreSQL URL. Call with (dict "root" $ "user" "bot"):
"migrator" (owns the schema: migrations, Django's tables, the roles), "bot" (bot, dispatcher,
set-webhook; role tgbot_app), "admin" (admin, retention; tgbot_panel) or "backup" (tgbot_readonly).
With secrets.perServiceDatabaseUrls false every user is database-url. */}}
{{- define "tgbot.databaseKey" -}}
{{- if or (eq .user "migrator") (not .root.Values.secrets.perServiceDatabaseUrls) -}}
database-url
{{- else -}}
{{ .user }}-database-url
{{- end -}}
{{- end -}}

{{/* The key of the direct (unpooled) URL beside a database key: database-direct-url, bot-database-direct-url. */}}
{{- define "tgbot.directKey" -}}
{{- replace "database-url" "database-direct-url" . -}}
{{- end -}}

{{/* DATABASE_URL_FILE of one database user, and DATABASE_DIRECT_URL_FILE with a pooler for the
users that need PostgreSQL itself (the migrator's advisory lock, the bot's and dispatcher's LISTEN).
Call with (dict "root" $ "user" "bot"). */}}
{{- define "tgbot.databaseEnv" -}}
{{- $key := include "tgbot.databaseKey" . -}}
- {name: DATABASE_URL_FILE, value: /run/secrets/tgbot/{{ $key }}}
{{- if and (include "tgbot.hasDirectUrl" .root) (has .user (list "migrator" "bot")) }}
- {name: DATABASE_DIRECT_URL_FILE, value: /run/secrets/tgbot/{{ include "tgbot.directKey" $key }}}
{{- end }}
{{- end -}}

{{/* Environment of the migration Job's schema step: the migrator, and with migrations.databaseRoles
each service's URL, whose user `tgbot migrate --roles` creates (or sets the password of) and grants. */}}
{{- define "tgbot.migrateBotEnv" -}}
{{ include "tgbot.botEnv" . }}
{{ include "tgbot.databaseEnv" (dict "root" . "user" "migrator") }}
{{- if and .Values.migrations.databaseRoles .Values.secrets.perServiceDatabaseUrls }}
- {name: APP_DATABASE_URL_FILE, value: /run/secrets/tgbot/bot-database-url}
- {name: PANEL_DATABASE_URL_FILE, value: /run/secrets/tgbot/admin-database-url}
- {name: READONLY_DATABASE_URL_FILE, value: /run/secrets/tgbot/backup-database-url}
{{- end }}
{{- end -}}

{{/* Environment of the migration Job's setWebhook step: the bot's own database user. */}}
{{- define "tgbot.setWebhookEnv" -}}
{{ include "tgbot.botEnv" . }}
{{ include "tgbot.databaseEnv" (dict "root" . "user" "bot") }}
{{- end -}}

{{/* Environment of the migration Job's Django step: the admin's settings as the migrator, on the
direct URL if any (Django's migrate creates tables). */}}
{{- define "tgbot.adminMigrateEnv" -}}
{{ include "tgbot.adminEnv" . }}
- {name: DATABASE_URL_FILE, value: /run/secrets/tgbot/{{ ternary "database-direct-url" "database-url" (eq (include "tgbot.hasDirectUrl" .) "true") }}}
{{- end -}}

{{/* Environment of the bot processes (serve, dispatch, set-webhook) but the database, which is
each one's own (tgbot.databaseEnv). Secrets are files. */}}
{{- define "tgbot.botEnv" -}}
- {name: TELEGRAM_API_BASE, value: {{ include "tgbot.telegramApiBase" . | quote }}}
{{- if .Values.sandbox.enabled }}
- {name: TELEGRAM_API_ALLOW_HTTP, value: "true"}  # the sandbox speaks http (development only)
{{- end }}
- {name: WEBHOOK_URL, value: {{ include "tgbot.webhookUrl" . | quote }}}
- {name: WEBHOOK_PATH, value: {{ .Values.config.webhookPath | quote }}}
- {name: LOG_LEVEL, value: {{ .Values.config.logLevel | quote }}}
- {name: LOG_FORMAT, value: {{ .Values.config.logFormat | quote }}}
- {name: SHUTDOWN_DRAIN_SECONDS, value: {{ .Values.config.shutdownDrainSeconds | quote }}}
- {name: SHUTDOWN_GRACE_SECONDS, value: {{ .Values.config.shutdownGraceSeconds | quote }}}
- {name: OUTBOX_GROUP_RATE_PER_MINUTE, value: {{ .Values.config.groupRatePerMinute | toString | quote }}}
{{- with .Values.config.staffChatId }}
- {name: STAFF_CHAT_ID, value: {{ . | int64 | toString | quote }}}
- {name: PANEL_PUBLIC_URL, value: {{ default (printf "https://%s/%s" $.Values.ingress.admin.host $.Values.config.admin.urlPrefix) $.Values.config.panelPublicUrl | quote }}}
{{- end }}
- {name: REDIS_URL_FILE, value: /run/secrets/tgbot/redis-url}
- {name: TELEGRAM_BOT_TOKEN_FILE, value: /run/secrets/tgbot/telegram-bot-token}
- {name: WEBHOOK_SECRET_FILE, value: /run/secrets/tgbot/webhook-secret}
{{ include "tgbot.errorReportingEnv" . }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Error reporting (Sentry): the DSN from the Secret's optional key sentry-dsn (empty: off). */}}
{{- define "tgbot.errorReportingEnv" -}}
- name: SENTRY_DSN
  valueFrom:
    secretKeyRef: {name: {{ include "tgbot.secretName" . }}, key: sentry-dsn, optional: true}
{{- with .Values.config.sentryEnvironment }}
- {name: SENTRY_ENVIRONMENT, value: {{ . | quote }}}
{{- end }}
{{- end -}}

{{/* Environment of the admin processes (gunicorn, tgadmin migrate, purge-messages) but the
database (tgbot.databaseEnv, tgbot.adminMigrateEnv). */}}
{{- define "tgbot.adminEnv" -}}
{{- $host := .Values.ingress.admin.host -}}
- {name: ALLOWED_HOSTS, value: {{ default $host .Values.config.admin.allowedHosts | quote }}}
- {name: CSRF_TRUSTED_ORIGINS, value: {{ default (printf "https://%s" $host) .Values.config.admin.csrfTrustedOrigins | quote }}}
- {name: ADMIN_URL_PREFIX, value: {{ .Values.config.admin.urlPrefix | quote }}}
- {name: BEHIND_TLS, value: {{ .Values.config.admin.behindTls | toString | quote }}}
- {name: DEBUG, value: {{ .Values.config.admin.debug | toString | quote }}}
- {name: LOGIN_FAILURE_LIMIT, value: {{ .Values.config.admin.loginFailureLimit | toString | quote }}}
- {name: LOGIN_LOCKOUT_MINUTES, value: {{ .Values.config.admin.loginLockoutMinutes | toString | quote }}}
- {name: SESSION_IDLE_TIMEOUT, value: {{ .Values.config.admin.sessionIdleTimeout | toString | quote }}}
- {name: TWO_FACTOR_REQUIRED_FOR_ADMINS, value: {{ .Values.config.admin.twoFactorRequiredForAdmins | toString | quote }}}
- {name: MESSAGE_RETENTION_DAYS, value: {{ .Values.config.admin.messageRetentionDays | toString | quote }}}
- {name: LOG_LEVEL, value: {{ .Values.config.logLevel | quote }}}
- {name: REDIS_URL_FILE, value: /run/secrets/tgbot/redis-url}
- {name: SECRET_KEY_FILE, value: /run/secrets/tgbot/django-secret-key}
{{ include "tgbot.errorReportingEnv" . }}
- {name: TELEGRAM_API_BASE, value: {{ include "tgbot.telegramApiBase" . | quote }}}
- {name: INBOX_REPLY_TARGET_SECONDS, value: {{ .Values.config.admin.inboxReplyTargetSeconds | quote }}}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The secrets volume with only the named keys (and the direct URL beside database-url and
bot-database-url with a pooler). Call with (dict "root" $ "keys" (list ...)). */}}
{{- define "tgbot.secretVolume" -}}
- name: secrets
  secret:
    secretName: {{ include "tgbot.secretName" .root }}
    defaultMode: 0440
    items:
    {{- range .keys }}
      - {key: {{ . }}, path: {{ . }}}
    {{- end }}
    {{- if include "tgbot.hasDirectUrl" .root }}
    {{- range (list "database-url" "bot-database-url") }}
    {{- if has . $.keys }}
      - {key: {{ include "tgbot.directKey" . }}, path: {{ include "tgbot.directKey" . }}}
    {{- end }}
    {{- end }}
    {{- end }}
- name: tmp
  emptyDir:
    # Django spools uploads over 2.5 MB here: inbox attachments are up to 50 MB each.
    sizeLimit: 256Mi
{{- with .root.Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Mounts of the secrets volume and /tmp. */}}
{{- define "tgbot.volumeMounts" -}}
- {name: secrets, mountPath: /run/secrets/tgbot, readOnly: true}
- {name: tmp, mountPath: /tmp}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
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

{{/* Annotations of the application pods: a checksum of the application secrets, so that a
changed secret rolls the pods on the next upgrade (the values' secrets, or the data of
secrets.existingSecret as `lookup` reads it during install/upgrade; `helm template` and GitOps
tools that render offline see no data, see docs/operations.md "Rotate a secret"), then
podAnnotations. */}}
{{- define "tgbot.podAnnotations" -}}
{{- $data := dict -}}
{{- if .Values.secrets.existingSecret -}}
{{- $found := lookup "v1" "Secret" .Release.Namespace .Values.secrets.existingSecret | default dict -}}
{{- $data = get $found "data" | default dict -}}
{{- else -}}
{{- $data = omit .Values.secrets "existingSecret" -}}
{{- end -}}
checksum/secrets: {{ toJson $data | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
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
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
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
  # Across zones too, where nodes carry the zone label; never blocks scheduling.
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
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
{{- if .Values.gateway.enabled -}}
{{- if and .Values.gateway.create (not (and .Values.gateway.className .Values.gateway.tlsSecretName)) -}}
{{- $msgs = append $msgs "gateway.create: needs gateway.className and gateway.tlsSecretName (the HTTPS listeners' certificate)" -}}
{{- end -}}
{{- if and (not .Values.gateway.create) (not .Values.gateway.parentRefs) -}}
{{- $msgs = append $msgs "gateway.parentRefs: name the Gateway the routes attach to, or set gateway.create" -}}
{{- end -}}
{{- end -}}
{{- if and (or .Values.ingress.enabled .Values.gateway.enabled) .Values.config.webhookUrl -}}
{{- $msgs = append $msgs (printf "config.webhookUrl: leave it empty with the Ingress, which makes it https://%s%s from ingress.bot.host and config.webhookPath" .Values.ingress.bot.host .Values.config.webhookPath) -}}
{{- end -}}
{{- if not (include "tgbot.webhookUrl" .) -}}
{{- if .Values.ingress.enabled -}}
{{- $msgs = append $msgs (printf "ingress.tls: no TLS block covers ingress.bot.host (%s); Telegram posts only to HTTPS" .Values.ingress.bot.host) -}}
{{- else -}}
{{- $msgs = append $msgs "config.webhookUrl: set the public HTTPS URL of the webhook when ingress.enabled is false (or enable sandbox)" -}}
{{- end -}}
{{- end -}}
{{- with .Values.config.webhookUrl -}}
{{- if ne (urlParse .).path $.Values.config.webhookPath -}}
{{- $msgs = append $msgs (printf "config.webhookUrl: its path must be config.webhookPath (%s), the only path the bot serves updates on" $.Values.config.webhookPath) -}}
{{- end -}}
{{- end -}}
{{- if and (not .Values.secrets.existingSecret) (not .Values.devServices.enabled) -}}
{{- $required := list "databaseUrl" "redisUrl" "telegramBotToken" "webhookSecret" "djangoSecretKey" -}}
{{- if .Values.secrets.perServiceDatabaseUrls -}}
{{- $required = concat $required (list "botDatabaseUrl" "adminDatabaseUrl" "backupDatabaseUrl") -}}
{{- end -}}
{{- range $k := $required -}}
{{- if not (index $.Values.secrets $k) -}}
{{- $msgs = append $msgs (printf "secrets.%s: required unless secrets.existingSecret is set" $k) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and (not .Values.secrets.existingSecret) .Values.secrets.perServiceDatabaseUrls (ne (empty .Values.secrets.databaseDirectUrl) (empty .Values.secrets.botDatabaseDirectUrl)) -}}
{{- $msgs = append $msgs "secrets.databaseDirectUrl, secrets.botDatabaseDirectUrl: set both or neither (the migrator's and the bot's user, each straight to PostgreSQL)" -}}
{{- end -}}
{{- /* A real Telegram (no sandbox) never runs with a development placeholder: the values' secrets
(with devServices, its defaults), or the existingSecret's data where `lookup` can read it (install
and upgrade on a cluster; `helm template` sees none). */ -}}
{{- if not .Values.sandbox.enabled -}}
{{- $data := dict -}}
{{- if .Values.secrets.existingSecret -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace .Values.secrets.existingSecret | default dict -}}
{{- range $key, $encoded := get $existing "data" | default dict -}}
{{- $_ := set $data $key (b64dec $encoded) -}}
{{- end -}}
{{- else -}}
{{- $data = fromYaml (include "tgbot.secretData" .) -}}
{{- end -}}
{{- with include "tgbot.placeholderKeys" (dict "data" $data) -}}
{{- $msgs = append $msgs (printf "secrets: development placeholders in %s while sandbox.enabled is false (the real Telegram): set real secrets, or enable the sandbox" .) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.config.admin.debug (not .Values.sandbox.enabled) -}}
{{- $msgs = append $msgs "config.admin.debug: development only (Django DEBUG); not with the real Telegram (sandbox.enabled is false)" -}}
{{- end -}}
{{- if and .Values.bot.hpa.enabled (gt (int .Values.bot.hpa.minReplicas) (int .Values.bot.hpa.maxReplicas)) -}}
{{- $msgs = append $msgs "bot.hpa: minReplicas exceeds maxReplicas" -}}
{{- end -}}
{{- if and .Values.admin.hpa.enabled (gt (int .Values.admin.hpa.minReplicas) (int .Values.admin.hpa.maxReplicas)) -}}
{{- $msgs = append $msgs "admin.hpa: minReplicas exceeds maxReplicas" -}}
{{- end -}}
{{- if le (int .Values.bot.terminationGracePeriodSeconds) (add (int .Values.bot.preStopSleepSeconds) (int .Values.config.shutdownDrainSeconds) (int .Values.config.shutdownGraceSeconds)) -}}
{{- $msgs = append $msgs "bot.terminationGracePeriodSeconds: must exceed bot.preStopSleepSeconds + config.shutdownDrainSeconds + config.shutdownGraceSeconds" -}}
{{- end -}}
{{- if $msgs -}}
{{- fail (printf "\nVALUES VALIDATION:\n%s" (join "\n" $msgs)) -}}
{{- end -}}
{{- end -}}

{{/* The init container of the bot and dispatcher pods: their database user may not migrate, so
it waits (up to 10 min, then the kubelet retries) until the migration Job has brought the schema
to this image's head; with devServices the Job runs after the first install's pods start. */}}
{{- define "tgbot.waitForSchema" -}}
- name: wait-for-schema
  image: {{ include "tgbot.image" (dict "root" . "image" .Values.image.bot) }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: ["migrate", "--wait", "600", "--no-upgrade"]
  env:
    - {name: LOG_FORMAT, value: {{ .Values.config.logFormat | quote }}}
    {{- include "tgbot.databaseEnv" (dict "root" . "user" "bot") | nindent 4 }}
    {{- with .Values.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  resources:
    {{- toYaml .Values.migrations.resources | nindent 4 }}
  volumeMounts:
    {{- include "tgbot.volumeMounts" . | nindent 4 }}
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

{{/* The data of the Secret the chart creates (without secrets.existingSecret): secrets.*, and with
devServices the development defaults for the empty ones. A YAML map of key to value. */}}
{{- define "tgbot.secretData" -}}
{{- $fullname := include "tgbot.fullname" . -}}
{{- $s := .Values.secrets -}}
{{- if .Values.devServices.enabled }}
database-url: {{ default (printf "postgresql://tgbot:%s@%s-postgres:5432/tgbot" .Values.devServices.postgresPassword $fullname) $s.databaseUrl | quote }}
{{- if $s.perServiceDatabaseUrls }}
{{- /* One user per service, made by the migration Job (tgbot migrate --roles) as in compose. */}}
{{- range $user, $value := dict "bot" $s.botDatabaseUrl "admin" $s.adminDatabaseUrl "backup" $s.backupDatabaseUrl }}
{{ $user }}-database-url: {{ default (printf "postgresql://tgbot_%s:tgbot-%s-dev@%s-postgres:5432/tgbot" $user $user $fullname) $value | quote }}
{{- end }}
{{- end }}
redis-url: {{ default (printf "redis://%s-redis:6379/0" $fullname) $s.redisUrl | quote }}
telegram-bot-token: {{ default "123456:dev-sandbox-token" $s.telegramBotToken | quote }}
webhook-secret: {{ default "dev-webhook-secret" $s.webhookSecret | quote }}
django-secret-key: {{ default "django-insecure-dev-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz" $s.djangoSecretKey | quote }}
{{- else }}
database-url: {{ $s.databaseUrl | quote }}
{{- if $s.perServiceDatabaseUrls }}
bot-database-url: {{ $s.botDatabaseUrl | quote }}
admin-database-url: {{ $s.adminDatabaseUrl | quote }}
backup-database-url: {{ $s.backupDatabaseUrl | quote }}
{{- end }}
redis-url: {{ $s.redisUrl | quote }}
telegram-bot-token: {{ $s.telegramBotToken | quote }}
webhook-secret: {{ $s.webhookSecret | quote }}
django-secret-key: {{ $s.djangoSecretKey | quote }}
{{- end }}
{{- with $s.sentryDsn }}
sentry-dsn: {{ . | quote }}
{{- end }}
{{- with $s.databaseDirectUrl }}
database-direct-url: {{ . | quote }}
{{- end }}
{{- if $s.perServiceDatabaseUrls }}
{{- with $s.botDatabaseDirectUrl }}
bot-database-direct-url: {{ . | quote }}
{{- end }}
{{- end }}
{{- if $s.backupS3AccessKeyId }}
backup-s3-access-key-id: {{ $s.backupS3AccessKeyId | quote }}
backup-s3-secret-access-key: {{ $s.backupS3SecretAccessKey | quote }}
{{- end }}
{{- end -}}

{{/* Known development placeholders: compose/dev/secrets, the dev-secrets component and this
chart's dev defaults (values, or passwords inside URLs). */}}
{{- define "tgbot.devPlaceholders" -}}
values: ["123456:dev-sandbox-token", "123456789:sandbox-development-token", "dev-webhook-secret",
  "django-insecure-dev-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz", "admin-dev-password",
  "dev-placeholder", "dev-unused", "change-me", "changeme", "changethis"]
prefixes: ["django-insecure"]
passwords: ["tgbot-dev", "tgbot-bot-dev", "tgbot-admin-dev", "tgbot-backup-dev", "dev-redis-password"]
{{- end -}}

{{/* The keys of a Secret's data (a map of key to value) that hold a development placeholder,
sorted and comma-separated; empty when none does. */}}
{{- define "tgbot.placeholderKeys" -}}
{{- $known := fromYaml (include "tgbot.devPlaceholders" .) -}}
{{- $found := list -}}
{{- range $key, $raw := .data -}}
{{- $value := toString $raw -}}
{{- $hit := has $value $known.values -}}
{{- range $known.prefixes -}}
{{- if hasPrefix . $value -}}{{- $hit = true -}}{{- end -}}
{{- end -}}
{{- range $known.passwords -}}
{{- if contains (printf ":%s@" .) $value -}}{{- $hit = true -}}{{- end -}}
{{- end -}}
{{- if $hit -}}{{- $found = append $found $key -}}{{- end -}}
{{- end -}}
{{- $found | sortAlpha | join ", " -}}
{{- end -}}
