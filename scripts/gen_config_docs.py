"""Writes docs/configuration.md from the settings classes (run after adding a setting).

uv run python scripts/gen_config_docs.py          # rewrite the file
uv run python scripts/gen_config_docs.py --check  # exit 1 if it is out of date (a test does this)
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from pathlib import Path

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"

# The bot's settings come in groups; each command reads the groups its class is made of
# (tgbot.config.COMMANDS). (title, "module:Class"): a group's own fields and who reads them.
BOT_GROUPS: list[tuple[str, str]] = [
    ("Bot: database", "tgbot.config.settings:DatabaseSettings"),
    ("Bot: Redis", "tgbot.config.settings:RedisSettings"),
    ("Bot: Telegram", "tgbot.config.settings:TelegramSettings"),
    ("Bot: webhook", "tgbot.config.settings:WebhookSettings"),
    ("Bot: HTTP server", "tgbot.config.settings:HttpSettings"),
    ("Bot: handling updates", "tgbot.config.settings:UpdateSettings"),
    ("Bot: outbox dispatcher", "tgbot.config.settings:OutboxSettings"),
    ("Bot: group rate limit", "tgbot.config.settings:GroupRateSettings"),
    ("Bot: staff topics (dispatcher)", "tgbot.config.settings:StaffTopicSettings"),
    ("Bot: staff supergroup", "tgbot.config.settings:StaffChatSettings"),
    ("Bot: polling", "tgbot.config.settings:PollSettings"),
    ("Bot: serving", "tgbot.config.settings:ServeSettings"),
    ("Logging", "tgbot.config.sources:LoggingSettings"),
    ("Error reporting", "tgbot.config.sources:ErrorReportingSettings"),
]

# (title, "module:Class", what reads it)
SECTIONS: list[tuple[str, str, str]] = [
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
effective configuration of one bot command with secrets masked (`--for serve` by default;
`migrate`, `dispatch`, `poll`, `set-webhook`). Each bot command requires what it uses and only
that: `tgbot migrate` needs `DATABASE_URL` alone, `tgbot serve` cannot start without
`WEBHOOK_SECRET`.

This file is generated from the settings classes by `scripts/gen_config_docs.py`; a test fails
when it is out of date.
"""


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "**required**"
    # A default_factory (lists) has no `default`: call it for the value the process starts with.
    value = field.get_default(call_default_factory=True, validated_data={})
    if isinstance(value, list | tuple | set | frozenset):
        value = ",".join(str(item) for item in value)
    if value is None or value == "":
        return "—"
    return f"`{value}`"


def _class(target: str) -> type[BaseSettings]:
    module_name, class_name = target.split(":")
    cls: type[BaseSettings] = getattr(importlib.import_module(module_name), class_name)
    return cls


def _table(cls: type[BaseSettings], names: list[str], note: dict[str, str]) -> list[str]:
    prefix = cls.model_config.get("env_prefix", "") or ""
    rows = ["| variable | default | meaning |\n| --- | --- | --- |"]
    for name in names:
        field = cls.model_fields[name]
        env = f"{prefix}{field.alias or name}".upper()
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{env}` | {_default(field)}{note.get(name, '')} | {description} |")
    return [*rows, ""]


def _bot_sections() -> list[str]:
    from tgbot.config import COMMANDS

    parts = []
    for title, target in BOT_GROUPS:
        group = _class(target)
        readers = [c for c, cls in COMMANDS.items() if issubclass(cls, group)]
        own = [n for n in inspect.get_annotations(group) if n in group.model_fields]
        # A field optional in its group that a command requires (WEBHOOK_URL for set-webhook).
        note = {
            name: " (**required** by " + ", ".join(f"`{c}`" for c in required) + ")"
            for name in own
            if not group.model_fields[name].is_required()
            and (required := [c for c in readers if COMMANDS[c].model_fields[name].is_required()])
        }
        read_by = ", ".join(f"`tgbot {c}`" for c in readers)
        parts.append(f"\n## {title}\n\nRead by {read_by}.\n")
        parts.extend(_table(group, own, note))
    return parts


def render() -> str:
    parts = [HEADER, *_bot_sections()]
    for title, target, readers in SECTIONS:
        cls = _class(target)
        parts.append(f"\n## {title}\n\nRead by {readers}.\n")
        parts.extend(_table(cls, list(cls.model_fields), {}))
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
