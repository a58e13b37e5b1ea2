"""Broadcast state changes made by admins. The dispatcher expands the audience and sends.

The admin writes only ``broadcasts.status``; the dispatcher (``tgbot.delivery.broadcasts``) starts
due scheduled broadcasts, holds back paused ones, cancels the pending rows of cancelled ones and
marks finished ones ``done``.

Every change is one conditional UPDATE, so two admins (or the dispatcher) cannot race a
broadcast into an impossible state.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from tgadmin.panel.models import Broadcast, TelegramUser
from tgbot.db.broadcast_payload import BROADCAST_PAYLOAD_SQL

Status = Broadcast.Status


class Transition(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


ALLOWED_FROM: dict[Transition, tuple[str, ...]] = {
    Transition.START: (Status.DRAFT,),
    Transition.PAUSE: (Status.RUNNING, Status.SCHEDULED),
    Transition.RESUME: (Status.PAUSED,),
    Transition.CANCEL: (Status.DRAFT, Status.SCHEDULED, Status.RUNNING, Status.PAUSED),
}


@dataclass(frozen=True)
class Segment:
    """Who a broadcast goes to, besides "subscribed, not blocked, not banned": each condition
    narrows it, None means any. The dispatcher's expansion (``tgbot.delivery.broadcasts``)
    applies the same conditions; a test holds the two to the same count."""

    language: str | None = None
    active_days: int | None = None
    start_payload: str | None = None
    subscribed_since: dt.datetime | None = None
    tag: str | None = None

    @classmethod
    def of(cls, broadcast: Broadcast) -> Segment:
        return cls(
            language=broadcast.audience_language,
            active_days=broadcast.audience_active_days,
            start_payload=broadcast.audience_start_payload,
            subscribed_since=broadcast.audience_subscribed_since,
            tag=broadcast.audience_tag,
        )


def audience(segment: Segment) -> QuerySet[TelegramUser]:
    """Who a broadcast reaches: subscribed, not blocked, not banned (ix_tg_users_audience)."""
    users = TelegramUser.objects.filter(is_subscribed=True, is_blocked=False, is_banned=False)
    if segment.language:
        users = users.filter(language=segment.language)
    if segment.active_days:
        users = users.filter(
            last_seen_at__gte=timezone.now() - dt.timedelta(days=segment.active_days)
        )
    if segment.start_payload:
        users = users.filter(start_payload=segment.start_payload)
    if segment.subscribed_since:
        users = users.filter(subscribed_at__gte=segment.subscribed_since)
    if segment.tag:
        users = users.filter(tags__tag=segment.tag)
    return users


def audience_count(segment: Segment) -> int:
    return audience(segment).count()


_TEST_SEND = f"""
    INSERT INTO outbox (chat_id, method, payload, idempotency_key, upload_id)
    SELECT %s, b.method, {BROADCAST_PAYLOAD_SQL}, %s, b.upload_id FROM broadcasts b WHERE b.id = %s
"""  # noqa: S608 - SQL from constants only


def test_send(broadcast: Broadcast, chat_id: int) -> None:
    """Queue the broadcast, exactly as its recipients will get it, for one chat (the operator's
    own): one outbox row, sent by the dispatcher like any reply, outside the broadcast's counts."""
    with connection.cursor() as cursor:
        cursor.execute(
            _TEST_SEND, [chat_id, f"test:{broadcast.pk}:{uuid.uuid4().hex}", broadcast.pk]
        )


def _still_waiting(broadcast: Broadcast, now: dt.datetime) -> bool:
    """Scheduled for later and not started yet."""
    return (
        broadcast.started_at is None
        and broadcast.scheduled_at is not None
        and broadcast.scheduled_at > now
    )


def apply(broadcast: Broadcast, transition: Transition, now: dt.datetime | None = None) -> bool:
    """Move ``broadcast`` along ``transition``; False if its current status does not allow it.

    Only ``status`` (and ``updated_at``) is written: the dispatcher stamps ``started_at`` and
    ``finished_at``, expands the audience (adding to ``total_count``) and keeps the counters.
    """
    now = now or timezone.now()
    rows = Broadcast.objects.filter(pk=broadcast.pk, status__in=ALLOWED_FROM[transition])
    if transition in (Transition.START, Transition.RESUME):
        target = Status.SCHEDULED if _still_waiting(broadcast, now) else Status.RUNNING
    elif transition is Transition.PAUSE:
        target = Status.PAUSED
    else:
        target = Status.CANCELLED
    changed = rows.update(status=target, updated_at=now)
    broadcast.refresh_from_db()
    return changed == 1
