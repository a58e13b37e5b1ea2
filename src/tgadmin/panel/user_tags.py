"""Tags on Telegram users (a broadcast segment): add and remove them, each change audited.

Used by the users list's "Tag" / "Untag" actions and by the inbox conversation page, so both
check a tag the same way and leave the same audit rows (``tag`` / ``untag`` on the user).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext

from tgadmin.panel import audit
from tgadmin.panel.models import TAG_RE, UserTag

PERMISSIONS = ("panel.add_usertag", "panel.delete_usertag")


class TagRefused(ValueError):
    """Not a tag; the message says why, for the operator."""


def clean_tag(raw: str | None) -> str:
    """A tag as stored (lower case), or :class:`TagRefused`."""
    tag = (raw or "").strip().lower()
    if not re.fullmatch(TAG_RE, tag):
        raise TagRefused(
            gettext("A tag is 1-32 lower-case letters, digits, _ or -; got %(tag)r.") % {"tag": tag}
        )
    return tag


def may_tag(request: HttpRequest) -> bool:
    return request.user.has_perms(PERMISSIONS)


def _audit(actor: AbstractBaseUser | AnonymousUser, action: str, ids: list[int], tag: str) -> None:
    for telegram_id in ids:
        audit.record(
            actor,
            action,
            object_type="panel.telegramuser",
            object_id=telegram_id,
            details={"tag": tag},
        )


def add_tag(actor: AbstractBaseUser | AnonymousUser, telegram_ids: Iterable[int], tag: str) -> int:
    """Tag the users; how many did not have it. A user who has it keeps it once, and only
    users whose tags changed get an audit row."""
    ids = set(telegram_ids)
    with transaction.atomic():
        had = set(
            UserTag.objects.filter(user_id__in=ids, tag=tag).values_list("user_id", flat=True)
        )
        new = sorted(ids - had)
        UserTag.objects.bulk_create(
            [UserTag(user_id=telegram_id, tag=tag) for telegram_id in new],
            ignore_conflicts=True,  # tagged by someone else meanwhile: still once
        )
        _audit(actor, "tag", new, tag)
    return len(new)


def remove_tag(
    actor: AbstractBaseUser | AnonymousUser, telegram_ids: Iterable[int], tag: str
) -> int:
    """Take the tag off the users; how many had it (each of them audited)."""
    ids = set(telegram_ids)
    with transaction.atomic():
        had = sorted(
            UserTag.objects.filter(user_id__in=ids, tag=tag)
            .select_for_update()
            .values_list("user_id", flat=True)
        )
        UserTag.objects.filter(user_id__in=had, tag=tag).delete()
        _audit(actor, "untag", had, tag)
    return len(had)


def tags_of(telegram_id: int) -> list[str]:
    return sorted(UserTag.objects.filter(user_id=telegram_id).values_list("tag", flat=True))
