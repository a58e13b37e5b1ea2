"""``/bot<token>/<method>``: reads the request, applies faults and Telegram's checks, records."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import structlog
from aiohttp import web

from tgbot.sandbox.delivery import Delivery
from tgbot.sandbox.errors import (
    BLOCKED,
    SERVER_ERRORS,
    ApiError,
    bad_request,
    missing,
    not_found,
    too_many_requests,
)
from tgbot.sandbox.files import MAX_PHOTO_BYTES, MAX_UPLOAD_BYTES, FileStore
from tgbot.sandbox.forum import FORUM_METHODS
from tgbot.sandbox.methods import METHODS, Call
from tgbot.sandbox.params import coerce, new_file_id, resolve_attachments
from tgbot.sandbox.recorder import is_sending
from tgbot.sandbox.state import SandboxState

log = structlog.get_logger("tgbot.sandbox.botapi")

TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
ALL_METHODS = {**METHODS, **FORUM_METHODS}
NOT_IN_GROUP = {
    "left": "Forbidden: bot is not a member of the supergroup chat",
    "kicked": "Forbidden: bot was kicked from the supergroup chat",
}
SUCCESS_DESCRIPTIONS = {
    "setwebhook": "Webhook was set",
    "deletewebhook": "Webhook was deleted",
}


async def read_raw_params(request: web.Request, store: FileStore | None = None) -> dict[str, Any]:
    """Query string plus a JSON, form-urlencoded or multipart body, as raw values.

    Uploaded files become sandbox file ids (kept in ``store`` when given, so ``getFile`` finds
    them), and ``attach://<part>`` references to them are replaced by those ids.
    """
    raw: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return raw
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON body must be an object")
        raw.update(body)
        return raw
    form = await request.post()
    files: dict[str, str] = {}
    for name, value in form.items():
        if isinstance(value, web.FileField):
            if store is None:
                files[name] = new_file_id()
                continue
            data = value.file.read()
            limit = MAX_PHOTO_BYTES if name == "photo" else MAX_UPLOAD_BYTES
            if len(data) > limit:
                raise ApiError(413, "Request Entity Too Large")
            store.bot_uploads += 1
            files[name] = store.put(
                data, file_name=value.filename, mime_type=value.content_type, photo=name == "photo"
            ).file_id
        else:
            raw[name] = value
    return resolve_attachments(raw, files)


class BotApi:
    def __init__(self, state: SandboxState, delivery: Delivery) -> None:
        self.state = state
        self.delivery = delivery
        self.last_token: str | None = None

    async def handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        try:
            raw = await read_raw_params(request, self.state.files)
        except ApiError as exc:
            self._record(method, {}, exc)
            return web.json_response(exc.payload(), status=exc.code)
        status, body = await self.call(token, method, raw)
        return web.json_response(body, status=status)

    async def call(self, token: str, method: str, raw: dict[str, Any]) -> tuple[int, Any]:
        """Run one Bot API call; (HTTP status, Telegram JSON body). Every call is recorded."""
        params: dict[str, Any] = dict(raw)
        try:
            if not TOKEN.match(token):
                raise ApiError(401, "Unauthorized")
            self.state.seen_token(token)
            self.last_token = token
            spec = ALL_METHODS.get(method.lower())
            if spec is None:
                raise not_found()
            params = coerce(raw)
            faults = self.state.faults
            if faults.latency_ms:
                await asyncio.sleep(faults.latency_ms / 1000)
            self._server_fault(method)
            for name in spec.required:
                if params.get(name) in (None, ""):
                    raise missing(name)
            self._chat_checks(method, params)
            result = await spec.handler(Call(self.state, self.delivery, params))
        except ApiError as exc:
            self._record(method, params, exc)
            return exc.code, exc.payload()
        self._record(method, params, None, result)
        body: dict[str, Any] = {"ok": True, "result": result}
        if method.lower() in SUCCESS_DESCRIPTIONS:
            body["description"] = SUCCESS_DESCRIPTIONS[method.lower()]
        return 200, body

    async def run_webhook_reply(self, reply: dict[str, Any]) -> None:
        """Execute a method the bot returned in its webhook response."""
        if self.last_token is None:
            return
        params = {k: v for k, v in reply.items() if k != "method"}
        await self.call(self.last_token, str(reply["method"]), params)

    def _server_fault(self, method: str) -> None:
        fail = self.state.faults.fail_next
        if fail is not None and fail.matches(method):
            fail.count -= 1
            if fail.count == 0:
                self.state.faults.fail_next = None
            raise ApiError(fail.status, SERVER_ERRORS[fail.status])

    def _chat_checks(self, method: str, params: dict[str, Any]) -> None:
        if "chat_id" not in params:
            return
        chat_id = params["chat_id"]
        faults = self.state.faults
        if not isinstance(chat_id, int) or chat_id in faults.unknown_chats:
            raise bad_request("chat not found")
        if chat_id in faults.blocked_chats:
            raise ApiError(403, BLOCKED)
        group = self.state.groups.get(chat_id)
        if group is not None and not group.bot_is_in:
            raise ApiError(403, NOT_IN_GROUP[group.bot_status])
        if faults.rate_limit and is_sending(method):
            retry_after = self.state.limiter.check(
                chat_id,
                time.monotonic(),
                global_rate=faults.global_rate,
                per_chat_rate=faults.per_chat_rate,
                group_per_minute=faults.group_per_minute,
            )
            if retry_after:
                raise too_many_requests(retry_after)

    def _chat_of(self, method: str, params: dict[str, Any]) -> int | str | None:
        chat_id = params.get("chat_id")
        if chat_id is None and method.lower() == "answercallbackquery":
            return self.state.callback_queries.get(str(params.get("callback_query_id")))
        return chat_id if isinstance(chat_id, int | str) else None

    def _record(
        self, method: str, params: dict[str, Any], error: ApiError | None, result: Any = None
    ) -> None:
        chat_id = self._chat_of(method, params)
        thread_id = params.get("message_thread_id")
        self.state.recorder.record(
            time=time.time(),
            method=method,
            chat_id=chat_id,
            thread_id=thread_id if isinstance(thread_id, int) else None,
            params=params,
            ok=error is None,
            error_code=None if error is None else error.code,
            result=result,
        )
        # Never the text: method, chat and outcome only.
        log.info(
            "bot_api_call",
            method=method,
            chat_id=chat_id,
            ok=error is None,
            error_code=None if error is None else error.code,
        )
