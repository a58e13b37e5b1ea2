"""``tgadmin export-user TELEGRAM_ID [--output FILE]``: one user's data as JSON (audited)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tgadmin.panel.models import TelegramUser
from tgadmin.panel.user_data import export_user, record_export


class Command(BaseCommand):
    help = "Export one Telegram user's profile, conversations, messages and outbox rows as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("telegram_id", type=int)
        parser.add_argument(
            "--output", type=Path, help="write to this file (mode 0600) instead of stdout"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        telegram_id: int = options["telegram_id"]
        try:
            data = export_user(telegram_id)
        except TelegramUser.DoesNotExist:
            print(f"tgadmin export-user: no Telegram user {telegram_id}", file=sys.stderr)
            raise SystemExit(1) from None
        text = json.dumps(data, ensure_ascii=False, indent=2)
        output: Path | None = options["output"]
        if output is None:
            self.stdout.write(text)
        else:
            output.touch(mode=0o600)
            output.write_text(text + "\n", encoding="utf-8")
        record_export(None, telegram_id, by="tgadmin export-user")
