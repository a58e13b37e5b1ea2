"""Writes docs/configuration.md from the settings classes (run after adding a setting).

uv run python scripts/gen_config_docs.py          # rewrite the file
uv run python scripts/gen_config_docs.py --check  # exit 1 if it is out of date (a test does this)
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from pydantic.fields import FieldInfo
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

HEADER = """# Configuration

Every setting is an environment variable. Every secret may instead be given as a file:
`<NAME>_FILE=/run/secrets/<name>` (Docker and Kubernetes secrets); the file wins over the plain
variable. A missing or invalid setting stops the process at start with one
`config error: NAME: ...` line per problem and exit code 2. `tgbot check-config` prints the
effective bot configuration with secrets masked.

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
