"""``tgadmin purge-messages``: delete messages older than MESSAGE_RETENTION_DAYS, in batches.

Meant for a daily schedule (docs/security.md, "User data"); with MESSAGE_RETENTION_DAYS=0 (the
default) it keeps everything and says so.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from tgadmin.panel.user_data import PURGE_BATCH, purge_messages


class Command(BaseCommand):
    help = "Delete messages older than MESSAGE_RETENTION_DAYS (0: keep all), in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=PURGE_BATCH)

    def handle(self, *args: Any, **options: Any) -> None:
        days: int = settings.MESSAGE_RETENTION_DAYS
        if days <= 0:
            self.stdout.write("message retention is off (MESSAGE_RETENTION_DAYS=0): kept all")
            return
        deleted = purge_messages(days, batch_size=max(1, options["batch_size"]))
        self.stdout.write(f"deleted {deleted} message(s) older than {days} day(s)")
