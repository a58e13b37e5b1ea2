"""Writes docs/configuration.md from the settings classes (run after adding a setting).

uv run python scripts/gen_config_docs.py          # rewrite the file
uv run python scripts/gen_config_docs.py --check  # exit 1 if it is out of date (a test does this)
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from pydantic_settings import BaseSettings

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"

# (title, "module:Class", what reads it)
SECTIONS: list[tuple[str, str, str]] = [
    (
        "Bot service",
        "tgbot.config:Settings",
        "`tgbot serve`, `poll`, `dispatch`, `migrate`, `set-webhook`",
    ),
    ("Bot API sandbox", "tgbot.sandbox.config:SandboxConfig", "`tgbot sandbox`"),
    ("Admin panel", "tgadmin.config:AdminSettings", "`tgadmin`, gunicorn"),
    ("Admin panel server", "tgadmin.config:ServerSettings", "gunicorn (`tgadmin.gunicorn_conf`)"),
    ("First superuser", "tgadmin.config:SuperuserSettings", "`tgadmin ensure-superuser`"),
]

# Settings read by something other than a settings class: (title, what reads it, rows of
# (variable, default, meaning)). Kept here so the one generated file lists every setting.
OTHER_SECTIONS: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    (
        "Edge proxy (compose staging and prod)",
        "the `proxy` service (Caddy, `compose/proxy/`), from `.env`",
        [
            (
                "WEBHOOK_URL",
                "**required**",
                "The webhook's public URL; its host gets a certificate "
                "and only its path is forwarded to the bot (POST).",
            ),
            (
                "ADMIN_HOST",
                "**required**",
                "The admin's host name; gets a certificate, HSTS, and "
                "only the admin prefix, /static/ and /i18n/ are forwarded.",
            ),
            ("ACME_EMAIL", "**required**", "Contact address for the certificate authority."),
            (
                "ACME_CA",
                "Let's Encrypt production",
                "ACME directory URL (e.g. Let's Encrypt staging, or Pebble in the tests).",
            ),
            (
                "ACME_CA_ROOT",
                "the system's CA bundle",
                "PEM file of the roots to trust for the ACME server's own TLS.",
            ),
            (
                "HTTP_BIND / HTTP_PORT",
                "`0.0.0.0` / `80`",
                "Published HTTP (ACME challenges, redirect to HTTPS).",
            ),
            ("HTTPS_BIND / HTTPS_PORT", "`0.0.0.0` / `443`", "Published HTTPS."),
            ("PROXY_WEBHOOK_MAX_BODY", "`1MB`", "Largest webhook request body."),
            ("PROXY_ADMIN_MAX_BODY", "`20MB`", "Largest admin request body."),
            ("PROXY_CPUS / PROXY_MEMORY", "`1` / `256m`", "Resource limits of the proxy."),
        ],
    ),
    (
        "Backups",
        "`tgbot-backup` (backup/tgbot-backup.sh: compose `backup`, k8s CronJob `tgbot-backup`)",
        [
            ("DATABASE_URL", "**required**", "PostgreSQL URL to dump or restore into. Secret."),
            ("BACKUP_DIR", "`/backups`", "Where dumps are written."),
            (
                "BACKUP_KEEP_DAILY / _WEEKLY / _MONTHLY",
                "`7` / `4` / `6`",
                "Retention, applied locally and in the bucket.",
            ),
            ("BACKUP_INTERVAL_SECONDS", "`86400`", "Period of `tgbot-backup loop`."),
            (
                "BACKUP_METRICS_PATH",
                "`$BACKUP_DIR/metrics/tgbot_backup.prom`",
                "node-exporter textfile written after each success (empty: none).",
            ),
            (
                "BACKUP_AGE_RECIPIENT",
                "— (required in compose staging/prod)",
                "age public key the "
                "dumps are encrypted to; the private key never goes on the server.",
            ),
            ("BACKUP_AGE_IDENTITY_FILE", "—", "age private key file; read by `restore` only."),
            (
                "BACKUP_S3_BUCKET",
                "— (required in compose staging/prod)",
                "Off-site bucket; empty: no off-site copy.",
            ),
            ("BACKUP_S3_ENDPOINT", "—", "S3 endpoint URL of the provider."),
            ("BACKUP_S3_REGION", "`us-east-1`", "S3 region."),
            ("BACKUP_S3_PREFIX", "`tgbot/`", "Key prefix of the backups in the bucket."),
            ("BACKUP_S3_ACCESS_KEY_ID", "—", "Bucket credentials. Secret."),
            ("BACKUP_S3_SECRET_ACCESS_KEY", "—", "Bucket credentials. Secret."),
        ],
    ),
]

HEADER = """# Configuration

Every setting is an environment variable. Every secret may instead be given as a file:
`<NAME>_FILE=/run/secrets/<name>` (Docker and Kubernetes secrets); the file wins over the plain
variable. A missing or invalid setting stops the process at start with one
`config error: NAME: ...` line per problem and exit code 2. `tgbot check-config` prints the
effective bot configuration with secrets masked.

This file is generated from the settings classes by `scripts/gen_config_docs.py`; a test fails
when it is out of date.
"""


def _default(field: object) -> str:
    if getattr(field, "is_required")():  # noqa: B009
        return "**required**"
    value = getattr(field, "default", None)
    if value is None or value == "":
        return "—"
    return f"`{value}`"


def render() -> str:
    parts = [HEADER]
    for title, target, readers in SECTIONS:
        module_name, class_name = target.split(":")
        cls: type[BaseSettings] = getattr(importlib.import_module(module_name), class_name)
        prefix = cls.model_config.get("env_prefix", "") or ""
        parts.append(f"\n## {title}\n\nRead by {readers}.\n")
        parts.append("| variable | default | meaning |\n| --- | --- | --- |")
        for name, field in cls.model_fields.items():
            env = f"{prefix}{field.alias or name}".upper()
            description = (field.description or "").replace("|", "\\|")
            parts.append(f"| `{env}` | {_default(field)} | {description} |")
        parts.append("")
    for title, readers, rows in OTHER_SECTIONS:
        parts.append(f"\n## {title}\n\nRead by {readers}.\n")
        parts.append("| variable | default | meaning |\n| --- | --- | --- |")
        parts.extend(f"| `{env}` | {default} | {meaning} |" for env, default, meaning in rows)
        parts.append("")
    return "\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC} is out of date: run uv run python scripts/gen_config_docs.py")
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
