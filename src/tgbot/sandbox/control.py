"""The control API under ``/sandbox/``: act as users, inject faults, read what the bot sent."""

from __future__ import annotations

import json
import time
from typing import Any, Literal, TypeVar

import structlog
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tgbot.sandbox.delivery import Delivery, Outcome
from tgbot.sandbox.errors import ApiError
from tgbot.sandbox.files import MAX_PHOTO_BYTES, MAX_UPLOAD_BYTES, StoredFile, placeholder_png
from tgbot.sandbox.groups import MAX_TOPIC_NAME, BotStatus, Group, MemberStatus
from tgbot.sandbox.state import SandboxState
from tgbot.sandbox.updates import (
    MEDIA_KINDS,
    PLACEHOLDER_NAMES,
    JsonDict,
    callback_query,
    media_content,
    my_chat_member,
    user_message,
)

MediaKind = Literal[
    "photo", "document", "video", "animation", "voice", "audio", "sticker", "video_note"
]

log = structlog.get_logger("tgbot.sandbox.control")


class UserMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=4096)
    first_name: str | None = Field(default=None, min_length=1, max_length=64)
    username: str | None = Field(default=None, min_length=1, max_length=32)
    language_code: str | None = Field(default=None, min_length=2, max_length=10)
    photo: bool = False
    media: MediaKind | None = None
    wait: bool = True

    @property
    def kind(self) -> str | None:
        return "photo" if self.photo else self.media


M = TypeVar("M", bound=UserMessageIn)


class GroupMessageIn(UserMessageIn):
    user_id: int = Field(gt=0)
    message_thread_id: int | None = Field(default=None, gt=0)
    reply_to_message_id: int | None = Field(default=None, gt=0)


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(gt=0)
    first_name: str | None = Field(default=None, min_length=1, max_length=64)
    username: str | None = Field(default=None, min_length=1, max_length=32)
    language_code: str | None = Field(default=None, min_length=2, max_length=10)
    status: MemberStatus = "member"


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chat_id: int | None = Field(default=None, le=-1_000_000_000_001)
    title: str = Field(default="Staff", min_length=1, max_length=128)
    is_forum: bool = True
    members: list[MemberIn] = Field(default_factory=list)
    bot_status: BotStatus = "administrator"
    bot_can_manage_topics: bool = True
    bot_can_delete_messages: bool = True


class TopicActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int | None = Field(default=None, gt=0)
    wait: bool = True


class TopicIn(TopicActionIn):
    name: str = Field(min_length=1, max_length=MAX_TOPIC_NAME)


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


def _query_int(request: web.Request, name: str) -> int | None:
    value = request.query.get(name) or None
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise _bad_input(f"{name} must be an integer") from None


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
            web.post("/sandbox/groups", self.put_group),
            web.get("/sandbox/groups", self.list_groups),
            web.get("/sandbox/groups/{chat_id}", self.get_group),
            web.post("/sandbox/groups/{chat_id}/members", self.add_member),
            web.delete("/sandbox/groups/{chat_id}/members/{user_id}", self.remove_member),
            web.post("/sandbox/groups/{chat_id}/messages", self.group_message),
            web.post("/sandbox/groups/{chat_id}/topics", self.create_topic),
            web.post("/sandbox/groups/{chat_id}/topics/{thread_id}/close", self.close_topic),
            web.post("/sandbox/groups/{chat_id}/topics/{thread_id}/reopen", self.reopen_topic),
            web.post("/sandbox/groups/{chat_id}/topics/{thread_id}/delete", self.delete_topic),
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

    async def _message_input(
        self, request: web.Request, model: type[M]
    ) -> tuple[M, JsonDict | None]:
        """JSON, or a multipart form whose one file part (named ``photo``, ``document``,
        ``voice``, ...) is the file sent. Returns the input and the message's media fields."""
        if not request.content_type.startswith("multipart/"):
            body: M = _parse(model, await _body(request))
            kind = body.kind
            if kind is None:
                return body, None
            file_name, mime_type = PLACEHOLDER_NAMES[kind]
            data = placeholder_png() if kind in ("photo", "sticker") else f"{kind}\n".encode()
            stored = self.state.files.put(
                data, file_name=file_name, mime_type=mime_type, photo=kind == "photo"
            )
            return body, media_content(kind, dict(stored.as_document()))
        form = await request.post()
        fields: dict[str, Any] = {}
        upload: tuple[str, web.FileField] | None = None
        for name, value in form.items():
            if isinstance(value, web.FileField):
                if name not in MEDIA_KINDS or upload is not None:
                    raise _bad_input(
                        "send one file, as a part named after its kind: " + ", ".join(MEDIA_KINDS)
                    )
                upload = (name, value)
            elif value != "":
                fields[name] = value
        if upload is not None:
            fields["media"] = upload[0]
        body = _parse(model, fields)
        if upload is None:
            return body, None
        stored = await self._stored_upload(*upload)
        return body, media_content(upload[0], dict(stored.as_document()))

    async def _stored_upload(self, kind: str, part: web.FileField) -> StoredFile:
        data = part.file.read()
        limit = MAX_PHOTO_BYTES if kind == "photo" else MAX_UPLOAD_BYTES
        if not data:
            raise _bad_input(f"the {kind} is empty")
        if len(data) > limit:
            raise _bad_input(f"the {kind} is larger than Telegram's {limit // (1024 * 1024)} MB")
        return self.state.files.put(
            data, file_name=part.filename, mime_type=part.content_type, photo=kind == "photo"
        )

    async def user_message(self, request: web.Request) -> web.Response:
        user_id = _user_id(request)
        body, media = await self._message_input(request, UserMessageIn)
        if not body.text and media is None:
            return _error(400, "text is required unless a file is sent")
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
                media=media,
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
        """The chat as the user sees it now (edits applied), oldest first; one topic's messages
        with ``?message_thread_id=``."""
        try:
            chat_id = int(request.match_info["chat_id"])
        except ValueError:
            return _error(400, "chat_id must be an integer")
        thread_id = _query_int(request, "message_thread_id")
        return web.json_response({"messages": self.state.chat_messages(chat_id, thread_id)})

    # --- supergroups, staff and topics ----------------------------------------------------
    def _group(self, request: web.Request) -> Group:
        try:
            chat_id = int(request.match_info["chat_id"])
        except ValueError:
            raise _bad_input("chat_id must be an integer") from None
        group = self.state.groups.get(chat_id)
        if group is None:
            raise web.HTTPNotFound(
                text=json.dumps(
                    {"error": f"no group {chat_id}: create it with POST /sandbox/groups"}
                ),
                content_type="application/json",
            )
        return group

    def _group_public(self, group: Group) -> JsonDict:
        messages = self.state.chat_messages(group.id)
        counts: dict[int, int] = {}
        for message in messages:
            thread = message.get("message_thread_id")
            if isinstance(thread, int):
                counts[thread] = counts.get(thread, 0) + 1
        return {
            "chat": group.chat(),
            "bot": {
                "status": group.bot_status,
                "can_manage_topics": group.bot_can_manage_topics,
                "can_delete_messages": group.bot_can_delete_messages,
            },
            "members": [
                {"user": self.state.users[user_id], "status": status}
                for user_id, status in group.members.items()
            ],
            "topics": [
                {
                    **topic.forum_topic(),
                    "is_closed": topic.closed,
                    "is_deleted": topic.deleted,
                    "message_count": counts.get(topic.message_thread_id, 0),
                }
                for topic in group.topics.values()
            ],
            "message_count": len(messages),
        }

    def _add_member(self, group: Group, member: MemberIn) -> None:
        self.state.upsert_user(
            member.user_id,
            first_name=member.first_name,
            username=member.username,
            language_code=member.language_code,
        )
        group.members[member.user_id] = member.status

    async def put_group(self, request: web.Request) -> web.Response:
        """Create a supergroup, or update the one with this ``chat_id`` (topics are kept)."""
        body: GroupIn = _parse(GroupIn, await _body(request))
        chat_id = body.chat_id if body.chat_id is not None else self.state.new_group_id()
        group = self.state.groups.get(chat_id)
        if group is None:
            group = self.state.groups[chat_id] = Group(id=chat_id, title=body.title)
        for name in body.model_fields_set - {"chat_id", "members"}:
            setattr(group, name, getattr(body, name))
        for member in body.members:
            self._add_member(group, member)
        log.info("sandbox_group_set", chat_id=chat_id, forum=group.is_forum)
        return web.json_response(self._group_public(group))

    async def list_groups(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"groups": [self._group_public(g) for g in self.state.groups.values()]}
        )

    async def get_group(self, request: web.Request) -> web.Response:
        return web.json_response(self._group_public(self._group(request)))

    async def add_member(self, request: web.Request) -> web.Response:
        group = self._group(request)
        self._add_member(group, _parse(MemberIn, await _body(request)))
        return web.json_response(self._group_public(group))

    async def remove_member(self, request: web.Request) -> web.Response:
        group = self._group(request)
        group.members.pop(_user_id(request), None)
        return web.json_response(self._group_public(group))

    def _member(self, group: Group, user_id: int | None, *, admin: bool = False) -> JsonDict:
        """The member acting in ``group`` (its first administrator when ``user_id`` is None)."""
        if user_id is None:
            admins = [u for u in group.members if group.is_admin(u)]
            if not admins:
                raise _bad_input("the group has no administrator to act; give user_id")
            user_id = admins[0]
        if user_id not in group.members:
            raise web.HTTPForbidden(
                text=json.dumps({"error": f"user {user_id} is not a member of group {group.id}"}),
                content_type="application/json",
            )
        if admin and not group.is_admin(user_id):
            raise web.HTTPForbidden(
                text=json.dumps({"error": f"user {user_id} is not an administrator"}),
                content_type="application/json",
            )
        return self.state.users.get(user_id) or self.state.upsert_user(user_id)

    async def _to_bot(self, group: Group, message: JsonDict, wait: bool) -> dict[str, Any]:
        """Deliver a group message to the bot if it is in the group (as an admin it sees all)."""
        if not group.bot_is_in:
            return {"update_id": None, "delivered": False, "status": None, "queued": False}
        return await self._send({"message": message}, wait)

    async def group_message(self, request: web.Request) -> web.Response:
        """A member writes in the group, into topic ``message_thread_id`` when given."""
        group = self._group(request)
        body, media = await self._message_input(request, GroupMessageIn)
        if not body.text and media is None:
            return _error(400, "text is required unless a file is sent")
        user = self._member(group, body.user_id)
        user = self.state.upsert_user(
            user["id"],
            first_name=body.first_name,
            username=body.username,
            language_code=body.language_code,
        )
        try:
            extra = self.state.thread_fields(
                group.id, body.message_thread_id, by_admin=group.is_admin(user["id"])
            )
        except ApiError as exc:
            return _error(400, exc.description.removeprefix("Bad Request: "))
        if body.reply_to_message_id is not None:
            replied = self.state.message(group.id, body.reply_to_message_id)
            if replied is None:
                return _error(404, "no such message to reply to in this group")
            extra["reply_to_message"] = replied
        message = self.state.store(
            user_message(
                message_id=self.state.next_message_id(group.id),
                user=user,
                text=body.text,
                date=int(time.time()),
                media=media,
                chat=group.chat(),
                extra=extra,
            )
        )
        result = await self._to_bot(group, message, body.wait)
        return web.json_response({**result, "message_id": message["message_id"]})

    def _topic_id(self, request: web.Request, group: Group) -> int:
        try:
            thread_id = int(request.match_info["thread_id"])
        except ValueError:
            raise _bad_input("thread_id must be an integer") from None
        if group.live_topic(thread_id) is None:
            raise web.HTTPNotFound(
                text=json.dumps({"error": f"no topic {thread_id} in group {group.id}"}),
                content_type="application/json",
            )
        return thread_id

    async def create_topic(self, request: web.Request) -> web.Response:
        """A staff member creates a topic (``forum_topic_created`` reaches the bot)."""
        group = self._group(request)
        body: TopicIn = _parse(TopicIn, await _body(request))
        if not group.is_forum:
            return _error(400, "the chat is not a forum")
        user = self._member(group, body.user_id, admin=True)
        topic, message = self.state.create_topic(group, user, name=body.name)
        result = await self._to_bot(group, message, body.wait)
        return web.json_response({**result, "topic": topic.forum_topic()})

    async def _set_closed(self, request: web.Request, closed: bool) -> web.Response:
        group = self._group(request)
        thread_id = self._topic_id(request, group)
        body: TopicActionIn = _parse(TopicActionIn, await _body(request))
        user = self._member(group, body.user_id, admin=True)
        topic = group.topics[thread_id]
        if topic.closed == closed:
            return _error(400, f"the topic is already {'closed' if closed else 'open'}")
        topic.closed = closed
        kind = "forum_topic_closed" if closed else "forum_topic_reopened"
        message = self.state.service_message(group, user, thread_id, {kind: {}})
        return web.json_response(await self._to_bot(group, message, body.wait))

    async def close_topic(self, request: web.Request) -> web.Response:
        return await self._set_closed(request, True)

    async def reopen_topic(self, request: web.Request) -> web.Response:
        return await self._set_closed(request, False)

    async def delete_topic(self, request: web.Request) -> web.Response:
        """A staff member deletes a topic: its messages go, and sending there fails from now on
        with "message thread not found" (Telegram sends the bot no update for this)."""
        group = self._group(request)
        thread_id = self._topic_id(request, group)
        body: TopicActionIn = _parse(TopicActionIn, await _body(request))
        self._member(group, body.user_id, admin=True)
        self.state.delete_topic(group, group.topics[thread_id])
        log.info("sandbox_topic_deleted", chat_id=group.id, thread_id=thread_id)
        return web.json_response({"ok": True})

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
            chat_id=query.get("chat_id") or None,
            method=query.get("method") or None,
            after=after,
            thread_id=_query_int(request, "message_thread_id"),
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
