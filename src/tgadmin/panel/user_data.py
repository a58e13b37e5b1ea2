"""One Telegram user's data on request: export it as JSON, erase it; and message retention.

Used by the panel's user actions and by ``tgadmin export-user``, ``erase-user`` and
``purge-messages``. Erasure deletes the user's row, conversations, messages (the database cascades
from ``tg_users``) and every outbox row addressed to them, and writes one audit row holding counts
only. Audit rows that name the user's id stay: the audit log is insert-only by design.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, transaction
from django.utils import timezone

from tgadmin.panel import audit
from tgadmin.panel.models import Conversation, Message, OutboxMessage, TelegramUser

EXPORT_FORMAT = 1
PURGE_BATCH = 5000


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_user(telegram_id: int) -> dict[str, Any]:
    """Everything stored about one Telegram user, as JSON-ready data.

    Raises :class:`TelegramUser.DoesNotExist` for an unknown id.
    """
    user = TelegramUser.objects.get(pk=telegram_id)
    conversations = []
    for conversation in Conversation.objects.filter(user_id=telegram_id).order_by("id"):
        messages = Message.objects.filter(conversation_id=conversation.pk).order_by("id")
        conversations.append(
            {
                "id": conversation.pk,
                "status": conversation.status,
                "created_at": _iso(conversation.created_at),
                "last_activity_at": _iso(conversation.last_activity_at),
                "closed_at": _iso(conversation.closed_at),
                "messages": [
                    {
                        "id": m.pk,
                        "direction": m.direction,
                        "content_type": m.content_type,
                        "text": m.text,
                        "file_id": m.file_id,
                        "created_at": _iso(m.created_at),
                    }
                    for m in messages
                ],
            }
        )
    outbox = [
        {
            "id": row.pk,
            "method": row.method,
            "payload": row.payload,
            "status": row.status,
            "created_at": _iso(row.created_at),
        }
        for row in OutboxMessage.objects.filter(chat_id=telegram_id).order_by("id")
    ]
    return {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "telegram_id": user.telegram_id,
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "language_code": user.language_code,
            "language": user.language,
            "is_subscribed": user.is_subscribed,
            "is_blocked": user.is_blocked,
            "is_banned": user.is_banned,
            "start_payload": user.start_payload,
            "first_seen_at": _iso(user.first_seen_at),
            "last_seen_at": _iso(user.last_seen_at),
        },
        "conversations": conversations,
        "outbox": outbox,
    }


def record_export(
    actor: AbstractBaseUser | AnonymousUser | None, telegram_id: int, by: str
) -> None:
    audit.record(
        actor,
        "user_exported",
        object_type="panel.telegramuser",
        object_id=telegram_id,
        details={"by": by},
        username=by if actor is None else None,
    )


def erase_user(
    telegram_id: int, actor: AbstractBaseUser | AnonymousUser | None, *, by: str
) -> dict[str, int]:
    """Delete everything about one Telegram user; returns what was deleted, per kind."""
    with transaction.atomic():
        user = TelegramUser.objects.select_for_update().get(pk=telegram_id)
        counts = {
            "conversations": Conversation.objects.filter(user_id=telegram_id).count(),
            "messages": Message.objects.filter(conversation__user_id=telegram_id).count(),
            "outbox": OutboxMessage.objects.filter(chat_id=telegram_id).delete()[0],
        }
        with connection.cursor() as cursor:  # the database cascades to conversations, messages
            cursor.execute("DELETE FROM tg_users WHERE telegram_id = %s", [user.pk])
        audit.record(
            actor,
            "user_erased",
            object_type="panel.telegramuser",
            object_id=telegram_id,
            details={"by": by, **counts},
            username=by if actor is None else None,
        )
    return counts


def purge_messages(older_than_days: int, *, batch_size: int = PURGE_BATCH) -> int:
    """Delete messages older than ``older_than_days`` days, ``batch_size`` rows per transaction
    (short locks, bounded WAL per commit), oldest first along ``ix_messages_created_at``
    (migration 0008), so each batch, and the last one that finds nothing, is an index range read;
    returns how many were deleted."""
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM messages WHERE id IN ("
                " SELECT id FROM messages WHERE created_at < %s ORDER BY created_at LIMIT %s"
                " FOR UPDATE SKIP LOCKED)",
                [cutoff, batch_size],
            )
            deleted: int = cursor.rowcount
        total += deleted
        if deleted < batch_size:
            return total
