"""Files in the sandbox: a user sends a photo or a document (multipart to the control API, as the
chat page does), the bot finds it with getFile and downloads it from ``/file/bot<token>/<path>``
(aiogram's own download), the bot uploads a document once and sends it again by file_id."""

from __future__ import annotations

import io

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile

from tests.support.sandbox import SandboxHandle

USER = 4104
PDF = b"%PDF-1.4 a small invoice\n" * 40


async def send_file(
    sandbox: SandboxHandle, kind: str, data: bytes, name: str, mime: str, text: str = ""
) -> tuple[int, dict[str, object]]:
    form = aiohttp.FormData()
    form.add_field("text", text)
    form.add_field("first_name", "Fay")
    form.add_field("wait", "false")
    form.add_field(kind, data, filename=name, content_type=mime)
    status, body = await sandbox.request("POST", f"/sandbox/users/{USER}/messages", data=form)
    return status, body


async def download(bot: Bot, file_id: str) -> bytes:
    found = await bot.get_file(file_id)
    assert found.file_path is not None
    out = io.BytesIO()
    await bot.download_file(found.file_path, destination=out)
    return out.getvalue()


async def test_a_users_document_and_photo_reach_the_bot_and_download(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    status, _ = await send_file(sandbox, "document", PDF, "invoice.pdf", "application/pdf", "hi")
    assert status == 200
    status, _ = await send_file(sandbox, "photo", b"\xff\xd8jpeg-bytes", "cat.jpg", "image/jpeg")
    assert status == 200
    updates = await bot.get_updates(timeout=0)
    document = updates[0].message
    photo = updates[1].message
    assert document is not None
    assert photo is not None
    assert document.document is not None
    assert document.caption == "hi"
    assert (document.document.file_name, document.document.mime_type) == (
        "invoice.pdf",
        "application/pdf",
    )
    assert await download(bot, document.document.file_id) == PDF
    assert photo.photo is not None
    assert await download(bot, photo.photo[-1].file_id) == b"\xff\xd8jpeg-bytes"


async def test_photo_true_without_bytes_is_a_real_picture(bot: Bot, sandbox: SandboxHandle) -> None:
    await sandbox.send_user_message(USER, "look", photo=True, wait=False)
    message = (await bot.get_updates(timeout=0))[0].message
    assert message is not None
    assert message.photo is not None
    assert (await download(bot, message.photo[-1].file_id)).startswith(b"\x89PNG")


async def test_bad_files_are_refused_with_a_reason(bot: Bot, sandbox: SandboxHandle) -> None:
    status, body = await send_file(sandbox, "document", b"", "empty.txt", "text/plain")
    assert (status, body) == (400, {"error": "the document is empty"})
    big = b"x" * (10 * 1024 * 1024 + 1)
    status, body = await send_file(sandbox, "photo", big, "big.jpg", "image/jpeg")
    assert (status, body) == (400, {"error": "the photo is larger than Telegram's 10 MB"})
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("sbx_nope")
    status, _ = await sandbox.request("GET", f"/file/bot{sandbox.token}/documents/none.pdf")
    assert status == 404


async def test_the_bot_uploads_once_then_sends_by_file_id(bot: Bot, sandbox: SandboxHandle) -> None:
    first = await bot.send_document(USER, BufferedInputFile(PDF, "terms.pdf"), caption="Terms")
    assert first.document is not None
    assert first.document.file_name == "terms.pdf"
    again = await bot.send_document(USER + 1, first.document.file_id)
    assert again.document is not None
    assert again.document.file_id == first.document.file_id
    assert await download(bot, again.document.file_id) == PDF
