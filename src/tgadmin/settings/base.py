"""Django settings built from :class:`tgadmin.config.AdminSettings` (the environment).

A bad or missing setting prints one ``config error: NAME: ...`` line per problem and exits with
status 2 — for every command and server that loads these settings.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import django_stubs_ext

from tgadmin.config import ConfigError, settings_from_environment, webauthn_origins
from tgadmin.dburl import database_settings
from tgbot.texts_defaults import LANGUAGES as BOT_LANGUAGES

try:
    ENV = settings_from_environment()
except ConfigError as exc:
    for line in exc.lines:
        print(line, file=sys.stderr)
    raise SystemExit(2) from None

# Error reporting (Sentry) when SENTRY_DSN is set: unhandled errors and error log lines, with
# message text, tokens and credentials scrubbed (tgbot.observability.scrub_event).
if ENV.sentry_dsn is not None:
    from sentry_sdk.integrations.django import DjangoIntegration

    from tgbot.observability import configure_error_reporting
    from tgbot.version import VERSION

    configure_error_reporting(
        ENV.sentry_dsn.get_secret_value(),
        environment=ENV.sentry_environment,
        service="tgadmin",
        release=VERSION,
        integrations=[DjangoIntegration()],
        secrets=[
            ENV.secret_key.get_secret_value(),
            urlsplit(ENV.database_url.get_secret_value()).password,
        ],
    )

# Lets admin and form classes be subscripted at runtime (ModelAdmin[Model]).
django_stubs_ext.monkeypatch()

DEBUG = ENV.debug
SECRET_KEY = ENV.secret_key.get_secret_value()
ALLOWED_HOSTS = ENV.allowed_hosts or (["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = ENV.csrf_trusted_origins
ADMIN_URL_PREFIX = ENV.admin_url_prefix

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp_webauthn",
]
LOCAL_APPS = ["tgadmin.panel", "tgadmin.panel.inbox"]
# Local apps first: their templates override the admin's.
INSTALLED_APPS = LOCAL_APPS + DJANGO_APPS + THIRD_PARTY_APPS

MIDDLEWARE = [
    "tgadmin.panel.metrics.MetricsMiddleware",
    "tgadmin.panel.probes.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tgadmin.panel.two_factor.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the lockout page
]

ROOT_URLCONF = "tgadmin.urls"
ASGI_APPLICATION = "tgadmin.asgi.application"
WSGI_APPLICATION = "tgadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": database_settings(
        ENV.database_url.get_secret_value(),
        connect_timeout=ENV.database_connect_timeout,
        conn_max_age=ENV.database_conn_max_age,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- i18n ----------------------------------------------------------------------------------
LANGUAGE_CODE = ENV.language_code
LANGUAGES = list(BOT_LANGUAGES.items())  # the panel speaks the bot's languages
USE_I18N = True
TIME_ZONE = ENV.time_zone
USE_TZ = True

# --- static files (whitenoise) -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT: Path | None = ENV.static_root.resolve()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- security ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if ENV.behind_tls:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True  # /healthz, /readyz, /metrics answer before it (ProbeMiddleware)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = ENV.hsts_seconds
    SECURE_HSTS_INCLUDE_SUBDOMAINS = ENV.hsts_include_subdomains
    SECURE_HSTS_PRELOAD = ENV.hsts_preload

PROMETHEUS_MULTIPROC_DIR = ENV.prometheus_multiproc_dir

# --- the inbox's media proxy (tgadmin.panel.inbox.media) -------------------------------------
TELEGRAM_BOT_TOKEN = ENV.telegram_bot_token.get_secret_value() if ENV.telegram_bot_token else None
TELEGRAM_API_BASE = str(ENV.telegram_api_base).rstrip("/")
INBOX_REPLY_TARGET_SECONDS = ENV.inbox_reply_target_seconds

# --- logging: never message texts ----------------------------------------------------------
# Configured once at the process edge (tgadmin.cli, tgadmin.gunicorn_conf): JSON lines on stdout
# in the bot's shape (tgbot.observability). Django must not replace that with its own.
LOGGING_CONFIG = None

# --- sign-in hardening: lockout, two factors, idle sessions, CSP ----------------------------
# Axes first: a locked-out user name or address is refused before its password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = ENV.login_failure_limit
AXES_COOLOFF_TIME = timedelta(minutes=ENV.login_lockout_minutes)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each counted on its own
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tgadmin.panel.lockout.lockout_response"
# The address is the connection's: gunicorn sets it from X-Forwarded-For only for
# FORWARDED_ALLOW_IPS, so a client cannot pick a fresh address per attempt with a header.
AXES_CLIENT_IP_CALLABLE = "tgadmin.panel.lockout.client_ip"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT = 100
AXES_VERBOSE = False  # axes' own log lines would carry user names outside our JSON shape

OTP_TOTP_ISSUER = "Telegram bot admin"
TWO_FACTOR_REQUIRED_FOR_ADMINS = ENV.two_factor_required_for_admins

# Security keys (django-otp-webauthn, tgadmin.panel.security_keys). The relying party is the
# panel's own origin: the CSRF_TRUSTED_ORIGINS that browsers accept for WebAuthn (https://, or
# http://localhost in development) sharing the first one's host. Without one, keys are not offered
# (the two-factor page says why) and the library's checks for its settings are silenced.
WEBAUTHN_ORIGINS = webauthn_origins(CSRF_TRUSTED_ORIGINS)
OTP_WEBAUTHN_ALLOWED_ORIGINS = WEBAUTHN_ORIGINS
OTP_WEBAUTHN_RP_ID = urlsplit(WEBAUTHN_ORIGINS[0]).hostname if WEBAUTHN_ORIGINS else ""
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False  # a key is the second factor, never the only one
OTP_WEBAUTHN_HELPER_CLASS = "tgadmin.panel.security_keys.PanelWebAuthnHelper"
OTP_WEBAUTHN_EXCEPTION_LOGGER_NAME = "tgadmin.security_keys"
SILENCED_SYSTEM_CHECKS = [] if WEBAUTHN_ORIGINS else ["otp_webauthn.E010", "otp_webauthn.E030"]
LOGIN_REDIRECT_URL = f"/{ADMIN_URL_PREFIX}"  # where a verified key sends the browser

MESSAGE_RETENTION_DAYS = ENV.message_retention_days  # tgadmin purge-messages

SESSION_COOKIE_AGE = ENV.session_idle_timeout
SESSION_SAVE_EVERY_REQUEST = True  # the age counts from the last request: an idle timeout

# No inline script or style anywhere in the panel (static files only).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
