"""Rows for the admin tests, written with the admin's own models."""

from __future__ import annotations

import itertools
import re
from typing import Any

from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from tgadmin.panel.models import Conversation, Message, TelegramUser

_ids = itertools.count(1_000_001)


def tg_user(**fields: Any) -> TelegramUser:
    telegram_id = fields.pop("telegram_id", next(_ids))
    fields.setdefault("username", f"user{telegram_id}")
    fields.setdefault("first_name", "Test")
    return TelegramUser.objects.create(telegram_id=telegram_id, **fields)


def conversation(user: TelegramUser | None = None, **fields: Any) -> Conversation:
    return Conversation.objects.create(user=user or tg_user(), **fields)


def incoming(conv: Conversation, text: str) -> Message:
    return Message.objects.create(
        conversation=conv, direction="in", text=text, created_at=timezone.now()
    )


def staff(role: str | None = None, *, superuser: bool = False) -> User:
    name = f"{role or 'super'}{next(_ids)}"
    if superuser:
        return User.objects.create_superuser(name, f"{name}@example.com", "pw")
    user = User.objects.create_user(name, password="pw", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(html: str) -> dict[str, str]:
    """The hidden inputs of a page (management forms, CSRF), as POST data."""
    data = {}
    for match in re.finditer(r"<input([^>]*)>", html):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if attrs.get("type") == "hidden" and "name" in attrs:
            data[attrs["name"]] = attrs.get("value", "")
    return data
