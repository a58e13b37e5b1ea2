"""``tgadmin erase-user TELEGRAM_ID --yes``: delete everything about one Telegram user (audited)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tgadmin.panel.models import TelegramUser
from tgadmin.panel.user_data import erase_user


class Command(BaseCommand):
    help = (
        "Erase one Telegram user: profile, conversations, messages and outbox rows. "
        "Irreversible; needs --yes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("telegram_id", type=int)
        parser.add_argument("--yes", action="store_true", help="really erase (irreversible)")

    def handle(self, *args: Any, **options: Any) -> None:
        telegram_id: int = options["telegram_id"]
        if not options["yes"]:
            print("tgadmin erase-user: irreversible; add --yes to erase", file=sys.stderr)
            raise SystemExit(2)
        try:
            counts = erase_user(telegram_id, None, by="tgadmin erase-user")
        except TelegramUser.DoesNotExist:
            print(f"tgadmin erase-user: no Telegram user {telegram_id}", file=sys.stderr)
            raise SystemExit(1) from None
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        self.stdout.write(f"erased Telegram user {telegram_id}: {summary}")
