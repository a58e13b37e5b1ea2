"""Users' media in the inbox: the panel fetches it from the Bot API (the sandbox here, over real
HTTP) and serves it under its own URL; the token never reaches the page."""

from __future__ import annotations

import asyncio

from django.test import override_settings
from django.urls import reverse

from tests.integration.admin import factories as f
from tests.support.sandbox import (
    SandboxHandle,
    sandbox,  # noqa: F401 - the shared sandbox fixture
)
from tgadmin.panel.models import Message

USER = 6601


def users_photo_file_id(sandbox: SandboxHandle) -> str:  # noqa: F811
    async def send() -> str:
        await sandbox.send_user_message(USER, "the receipt", photo=True, wait=False)
        message = (await sandbox.chat(USER))[-1]
        return str(message["photo"][-1]["file_id"])

    return asyncio.run(send())


def test_a_photo_is_shown_through_the_panel(db: None, sandbox: SandboxHandle) -> None:  # noqa: F811
    conv = f.conversation()
    photo = Message.objects.create(
        conversation=conv,
        direction="in",
        content_type="photo",
        text="the receipt",
        file_id=users_photo_file_id(sandbox),
    )
    client = f.client_for(f.staff("operators"))
    with override_settings(TELEGRAM_BOT_TOKEN=sandbox.token, TELEGRAM_API_BASE=sandbox.base_url):
        page = client.get(reverse("inbox:conversation", args=[conv.pk])).content.decode()
        image = client.get(reverse("inbox:media", args=[photo.pk]))
    assert f'src="{reverse("inbox:media", args=[photo.pk])}"' in page
    assert sandbox.token not in page
    assert image.status_code == 200
    assert image["Content-Type"] == "image/jpeg"
    assert image.content.startswith(b"\x89PNG")  # the sandbox's generated picture


def test_unavailable_media_says_why(db: None, sandbox: SandboxHandle) -> None:  # noqa: F811
    conv = f.conversation()
    gone = Message.objects.create(
        conversation=conv, direction="in", content_type="document", file_id="sbx_unknown"
    )
    client = f.client_for(f.staff("operators"))
    url = reverse("inbox:media", args=[gone.pk])
    with override_settings(TELEGRAM_BOT_TOKEN=sandbox.token, TELEGRAM_API_BASE=sandbox.base_url):
        answer = client.get(url)
    assert answer.status_code == 502
    assert answer.content.decode() == "Bad Request: invalid file_id"
    with override_settings(TELEGRAM_BOT_TOKEN=None):
        answer = client.get(url)
    assert answer.content.decode() == "media previews need TELEGRAM_BOT_TOKEN"
    assert f.client_for(f.staff()).get(url).status_code == 403
