"""Both outbox senders upload a file (multipart) and learn Telegram's file_id, then send by it."""

from __future__ import annotations

import pytest

from tests.support.media import tiny_gif, tiny_mp4
from tests.support.sandbox import SandboxHandle
from tgbot.delivery.sender import AiogramSender, FileUpload, HttpSender, Kind, Sender, make_bot

USER = 4205
PDF = FileUpload(b"%PDF-1.4 terms\n" * 20, "terms.pdf", "application/pdf")


def senders(sandbox: SandboxHandle) -> dict[str, Sender]:
    return {
        "aiohttp": HttpSender(sandbox.token, sandbox.base_url, connection_limit=4),
        "aiogram": AiogramSender(make_bot(sandbox.token, sandbox.base_url, connection_limit=4)),
    }


@pytest.mark.parametrize("name", ["aiohttp", "aiogram"])
async def test_upload_once_then_by_file_id(sandbox: SandboxHandle, name: str) -> None:
    sender = senders(sandbox)[name]
    try:
        first = await sender.upload("sendDocument", USER, {"caption": "Terms"}, "document", PDF)
        assert first.kind is Kind.SENT
        assert first.file_id is not None
        again = await sender("sendDocument", USER, {"document": first.file_id})
        assert again.kind is Kind.SENT
        assert again.file_id == first.file_id
        photo = await sender.upload(
            "sendPhoto", USER, {}, "photo", FileUpload(b"\x89PNG...", "a.png", "image/png")
        )
        assert photo.kind is Kind.SENT
        assert photo.file_id is not None
    finally:
        await sender.close()
    calls = await sandbox.sent(chat_id=USER)
    assert [(c["method"], c["ok"]) for c in calls] == [
        ("sendDocument", True),
        ("sendDocument", True),
        ("sendPhoto", True),
    ]
    assert calls[0]["params"]["caption"] == "Terms"
    assert calls[0]["result"]["document"]["file_name"] == "terms.pdf"


@pytest.mark.parametrize("name", ["aiohttp", "aiogram"])
@pytest.mark.parametrize(
    ("method", "field", "file"),
    [
        ("sendVideo", "video", FileUpload(tiny_mp4(), "clip.mp4", "video/mp4")),
        ("sendAnimation", "animation", FileUpload(tiny_gif(), "party.gif", "image/gif")),
    ],
)
async def test_a_video_or_animation_uploads_once_then_goes_by_file_id(
    sandbox: SandboxHandle, name: str, method: str, field: str, file: FileUpload
) -> None:
    sender = senders(sandbox)[name]
    try:
        first = await sender.upload(method, USER, {"caption": "Watch"}, field, file)
        assert first.kind is Kind.SENT
        assert first.file_id is not None
        again = await sender(method, USER + 1, {field: first.file_id})
        assert again.kind is Kind.SENT
        assert again.file_id == first.file_id
    finally:
        await sender.close()
    assert (await sandbox.stats())["bot_uploads"] == 1
    calls = await sandbox.sent()
    assert [(c["method"], c["ok"]) for c in calls] == [(method, True), (method, True)]
    assert calls[0]["result"][field]["file_name"] == file.file_name
    assert calls[1]["result"][field]["file_id"] == first.file_id
