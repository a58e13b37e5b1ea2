"""What the inbox reads: the list (waiting first, filters, search) and a conversation's thread.

The list is ordered by conversation columns the database keeps (migration 0003), never by
aggregates over messages, so it stays an index read at any number of messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, F, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from tgadmin.panel.models import (
    CannedAnswer,
    Conversation,
    ConversationNote,
    Message,
    OutboxMessage,
    TelegramUser,
)

Filter = Literal["waiting", "mine", "unassigned", "open", "closed"]
FILTERS: tuple[Filter, ...] = ("waiting", "mine", "unassigned", "open", "closed")
LIST_LIMIT = 50  # rows of the list: an operator works from the top
THREAD_LIMIT = 200  # the newest messages shown on a conversation page
TEXT_SEARCH_MIN = 3  # characters; pg_trgm indexes trigrams


def waiting_count() -> int:
    return Conversation.objects.filter(status="open", waiting_since__isnull=False).count()


def waiting_summary() -> tuple[int, float]:
    """How many users wait for a reply, and the longest wait in seconds (0 when none)."""
    found = Conversation.objects.filter(status="open", waiting_since__isnull=False).aggregate(
        n=Count("id"), oldest=Min("waiting_since")
    )
    oldest = found["oldest"]
    wait = (timezone.now() - oldest).total_seconds() if oldest is not None else 0.0
    return int(found["n"]), max(wait, 0.0)


def search_condition(query: str) -> Q:
    """A Telegram id, an @username, or words of a name or of a message's text.

    Names and text are matched as two sets computed once (trigram indexes of migration 0008),
    not per listed conversation, so a search for a rare word stays fast over closed ones too.
    Message text is searched from TEXT_SEARCH_MIN characters: a trigram index cannot narrow a
    shorter substring, and the open page repeats its search every second.
    """
    if query.isdigit():
        return Q(user_id=int(query))
    if query.startswith("@") and len(query) > 1:
        return Q(user__username__iexact=query[1:])
    users = TelegramUser.objects.filter(
        Q(first_name__icontains=query) | Q(last_name__icontains=query) | Q(username__iexact=query)
    ).values("telegram_id")
    if len(query) < TEXT_SEARCH_MIN:
        return Q(user_id__in=users)
    in_messages = Message.objects.filter(text__icontains=query).values("conversation_id")
    return Q(user_id__in=users) | Q(pk__in=in_messages)


def inbox_conversations(
    *, selected: Filter, query: str, user: AbstractBaseUser | AnonymousUser
) -> QuerySet[Conversation]:
    conversations = Conversation.objects.select_related("user", "assigned_admin")
    if selected == "closed":
        conversations = conversations.filter(status="closed").order_by("-last_activity_at", "-id")
    else:
        conversations = conversations.filter(status="open")
        if selected == "waiting":
            conversations = conversations.filter(waiting_since__isnull=False)
        elif selected == "mine":
            conversations = conversations.filter(assigned_admin_id=user.pk)
        elif selected == "unassigned":
            conversations = conversations.filter(assigned_admin_id__isnull=True)
        conversations = conversations.order_by(
            F("waiting_since").asc(nulls_last=True),
            F("last_message_at").desc(nulls_last=True),
            "-id",
        )
    if query:
        conversations = conversations.filter(search_condition(query))
    return conversations[:LIST_LIMIT]


@dataclass(frozen=True)
class ThreadItem:
    """A message or an internal note, in the order they happened."""

    kind: Literal["message", "note"]
    created_at: dt.datetime
    message: Message | None = None
    note: ConversationNote | None = None

    @property
    def order(self) -> tuple[dt.datetime, int, int]:
        obj = self.message or self.note
        assert obj is not None
        return (self.created_at, 0 if self.kind == "message" else 1, obj.pk)


def thread(conversation_id: int) -> list[ThreadItem]:
    """The newest messages with their delivery, and the notes written since the oldest of them."""
    latest_delivery = OutboxMessage.objects.filter(message_id=OuterRef("pk")).order_by("-id")
    newest = list(
        Message.objects.filter(conversation_id=conversation_id)
        .annotate(
            delivery_status=Subquery(latest_delivery.values("status")[:1]),
            delivery_code=Subquery(latest_delivery.values("last_error_code")[:1]),
            delivery_reason=Subquery(latest_delivery.values("last_error")[:1]),
        )
        .order_by("-created_at", "-id")[:THREAD_LIMIT]
    )
    notes = ConversationNote.objects.filter(conversation_id=conversation_id)
    if len(newest) == THREAD_LIMIT:
        notes = notes.filter(created_at__gte=newest[-1].created_at)
    items = [ThreadItem("message", m.created_at, message=m) for m in newest]
    items += [ThreadItem("note", n.created_at, note=n) for n in notes.order_by("created_at")]
    return sorted(items, key=lambda item: item.order)


def last_message_id(conversation_id: int) -> int:
    found = (
        Message.objects.filter(conversation_id=conversation_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return found or 0


def canned_answers(language: str) -> list[CannedAnswer]:
    """Every canned answer, the user's language first (a handful: sorted here)."""
    return sorted(CannedAnswer.objects.all(), key=lambda a: (a.language != language, a.title))
