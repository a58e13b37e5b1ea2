"""The control API under ``/sandbox/``: act as users, inject faults, read what the bot sent."""

from __future__ import annotations

import json
import time
from typing import Any

import structlog
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tgbot.sandbox.delivery import Delivery, Outcome
from tgbot.sandbox.files import MAX_PHOTO_BYTES, MAX_UPLOAD_BYTES, StoredFile, placeholder_png
from tgbot.sandbox.state import SandboxState
from tgbot.sandbox.updates import JsonDict, callback_query, my_chat_member, user_message

log = structlog.get_logger("tgbot.sandbox.control")


class UserMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=4096)
    first_name: str | None = Field(default=None, min_length=1, max_length=64)
    username: str | None = Field(default=None, min_length=1, max_length=32)
    language_code: str | None = Field(default=None, min_length=2, max_length=10)
    photo: bool = False
    wait: bool = True


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: int
    data: str = Field(max_length=64)
    wait: bool = True


def _error(status: int, message: Any) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _bad_input(message: Any) -> web.HTTPBadRequest:
    """A 400 with ``{"error": message}``, raised from helpers."""
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def _problems(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(e["loc"]), "msg": e["msg"]}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


async def _body(request: web.Request) -> Any:
    if not request.can_read_body:
        return {}
    try:
        return await request.json()
    except ValueError:
        raise _bad_input("body must be JSON") from None


def _parse(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _bad_input(_problems(exc)) from None


def _user_id(request: web.Request) -> int:
    try:
        user_id = int(request.match_info["user_id"])
    except ValueError:
        user_id = 0
    if user_id <= 0:
        raise _bad_input("user_id must be a positive integer")
    return user_id


class ControlApi:
    def __init__(self, state: SandboxState, delivery: Delivery) -> None:
        self.state = state
        self.delivery = delivery

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/sandbox/users/{user_id}/messages", self.user_message),
            web.post("/sandbox/users/{user_id}/callback", self.user_callback),
            web.post("/sandbox/users/{user_id}/block", self.block),
            web.post("/sandbox/users/{user_id}/unblock", self.unblock),
            web.get("/sandbox/users", self.users),
            web.get("/sandbox/files/{file_id}", self.file),
            web.get("/sandbox/chats/{chat_id}/messages", self.chat_messages),
            web.post("/sandbox/updates", self.raw_update),
            web.get("/sandbox/sent", self.sent),
            web.get("/sandbox/stats", self.stats),
            web.post("/sandbox/reset", self.reset),
            web.get("/sandbox/faults", self.get_faults),
            web.post("/sandbox/faults", self.set_faults),
            web.get("/sandbox/webhook", self.webhook),
        ]

    async def _send(self, update: JsonDict, wait: bool) -> dict[str, Any]:
        update = {"update_id": self.state.next_update_id(), **update}
        if wait:
            outcome = await self.delivery.deliver(update)
        else:
            self.delivery.submit(update)
            outcome = Outcome(delivered=False, queued=True)
        return {"update_id": update["update_id"], **outcome.public()}

    async def _user_message_input(
        self, request: web.Request
    ) -> tuple[UserMessageIn, StoredFile | None]:
        """JSON, or a multipart form whose ``photo`` or ``document`` part is the file sent."""
        if not request.content_type.startswith("multipart/"):
            body: UserMessageIn = _parse(UserMessageIn, await _body(request))
            if not body.photo:
                return body, None
            placeholder = placeholder_png()
            return body, self.state.files.put(
                placeholder, file_name="photo.png", mime_type="image/png", photo=True
            )
        form = await request.post()
        fields: dict[str, Any] = {}
        upload: tuple[str, web.FileField] | None = None
        for name, value in form.items():
            if isinstance(value, web.FileField):
                if name not in {"photo", "document"} or upload is not None:
                    raise _bad_input("send one file, as the part 'photo' or 'document'")
                upload = (name, value)
            elif value != "":
                fields[name] = value
        fields["photo"] = upload is not None and upload[0] == "photo"
        body = _parse(UserMessageIn, fields)
        if upload is None:
            return body, None
        kind, part = upload
        data = part.file.read()
        limit = MAX_PHOTO_BYTES if kind == "photo" else MAX_UPLOAD_BYTES
        if not data:
            raise _bad_input(f"the {kind} is empty")
        if len(data) > limit:
            raise _bad_input(f"the {kind} is larger than Telegram's {limit // (1024 * 1024)} MB")
        stored = self.state.files.put(
            data, file_name=part.filename, mime_type=part.content_type, photo=kind == "photo"
        )
        return body, stored

    async def user_message(self, request: web.Request) -> web.Response:
        user_id = _user_id(request)
        body, upload = await self._user_message_input(request)
        if not body.text and upload is None:
            return _error(400, "text is required unless a photo or document is sent")
        user = self.state.upsert_user(
            user_id,
            first_name=body.first_name,
            username=body.username,
            language_code=body.language_code,
        )
        message = self.state.store(
            user_message(
                message_id=self.state.next_message_id(user_id),
                user=user,
                text=body.text,
                date=int(time.time()),
                photo_file_id=upload.file_id if upload is not None and body.photo else None,
                document=upload.as_document() if upload is not None and not body.photo else None,
            )
        )
        result = await self._send({"message": message}, body.wait)
        return web.json_response({**result, "message_id": message["message_id"]})

    async def file(self, request: web.Request) -> web.Response:
        """A file as a user's Telegram app shows it (the chat page's images and downloads)."""
        stored = self.state.files.get(request.match_info["file_id"])
        if stored is None:
            return _error(404, "no such file")
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type,
            headers={"Content-Disposition": f'inline; filename="{stored.file_name}"'},
        )

    async def user_callback(self, request: web.Request) -> web.Response:
        user_id = _user_id(request)
        body: CallbackIn = _parse(CallbackIn, await _body(request))
        message = self.state.message(user_id, body.message_id)
        if message is None:
            return _error(404, "no such message in this user's chat")
        user = self.state.users.get(user_id) or self.state.upsert_user(user_id)
        query_id = self.state.new_callback_query(user_id)
        update = {
            "callback_query": callback_query(
                query_id=query_id, user=user, message=message, data=body.data
            )
        }
        result = await self._send(update, body.wait)
        return web.json_response({**result, "callback_query_id": query_id})

    async def _membership(self, request: web.Request, *, blocked: bool) -> web.Response:
        user_id = _user_id(request)
        user = self.state.users.get(user_id) or self.state.upsert_user(user_id)
        chats = set(self.state.faults.blocked_chats)
        if blocked:
            chats.add(user_id)
        else:
            chats.discard(user_id)
        self.state.faults = self.state.faults.merged({"blocked_chats": chats})
        update = {
            "my_chat_member": my_chat_member(
                user=user, bot=self.state.bot, blocked=blocked, date=int(time.time())
            )
        }
        return web.json_response(await self._send(update, True))

    async def block(self, request: web.Request) -> web.Response:
        return await self._membership(request, blocked=True)

    async def unblock(self, request: web.Request) -> web.Response:
        return await self._membership(request, blocked=False)

    async def users(self, request: web.Request) -> web.Response:
        return web.json_response({"users": list(self.state.users.values())})

    async def chat_messages(self, request: web.Request) -> web.Response:
        """The chat as the user sees it now (edits applied), oldest first."""
        try:
            chat_id = int(request.match_info["chat_id"])
        except ValueError:
            return _error(400, "chat_id must be an integer")
        return web.json_response({"messages": self.state.chat_messages(chat_id)})

    async def raw_update(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if not isinstance(body, dict):
            return _error(400, "an Update must be a JSON object")
        update_id = body.get("update_id")
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            self.state.claim_update_id(update_id)
        else:
            body = {**body, "update_id": self.state.next_update_id()}
        outcome = await self.delivery.deliver(body)
        return web.json_response({"update_id": body["update_id"], **outcome.public()})

    async def sent(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            after = int(query.get("after", "0") or 0)
        except ValueError:
            return _error(400, "after must be an integer")
        calls = self.state.recorder.calls(
            chat_id=query.get("chat_id") or None, method=query.get("method") or None, after=after
        )
        return web.json_response({"calls": [c.public() for c in calls]})

    async def stats(self, request: web.Request) -> web.Response:
        stats = self.state.recorder.stats()
        stats["long_polls_waiting"] = self.state.queue.waiting
        stats["pending_updates"] = self.delivery.pending()
        stats["webhook"] = self.delivery.counters.public()
        stats["bot_uploads"] = self.state.files.bot_uploads
        return web.json_response(stats)

    async def reset(self, request: web.Request) -> web.Response:
        await self.state.reset()
        await self.delivery.clear()
        log.info("sandbox_reset")
        return web.json_response({"ok": True})

    async def get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.state.faults.public())

    async def set_faults(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if not isinstance(body, dict):
            return _error(400, "faults must be a JSON object")
        try:
            self.state.faults = self.state.faults.merged(body)
        except ValidationError as exc:
            return _error(400, _problems(exc))
        log.info("faults_set", fields=sorted(body))
        return web.json_response(self.state.faults.public())

    async def webhook(self, request: web.Request) -> web.Response:
        return web.json_response(self.state.webhook.info(self.delivery.pending()))
