"""The Bot API methods the sandbox emulates, keyed by lower-cased name.

Each takes the call's typed parameters and returns the ``result`` Telegram would, or raises
:class:`ApiError`. Cross-cutting checks (token, faults, chat, rate limits) live in botapi.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tgbot.sandbox.delivery import Delivery
from tgbot.sandbox.errors import ApiError, bad_request
from tgbot.sandbox.files import MAX_DOWNLOAD_BYTES
from tgbot.sandbox.formatting import plain_text
from tgbot.sandbox.state import PollConflict, SandboxState
from tgbot.sandbox.updates import CAPTIONLESS, MEDIA_KINDS, JsonDict, media_content, media_kind

MAX_TEXT = 4096
MAX_CAPTION = 1024
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass
class Call:
    state: SandboxState
    delivery: Delivery
    params: dict[str, Any]

    def chat_id(self) -> int:
        chat_id = self.params["chat_id"]
        if not isinstance(chat_id, int):
            raise bad_request("chat not found")
        return chat_id

    def send(self, content: JsonDict) -> JsonDict:
        """The bot's message to ``chat_id`` (into topic ``message_thread_id`` when given)."""
        thread_id = self.params.get("message_thread_id")
        return self.state.bot_message(self.chat_id(), content, thread_id)


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Method:
    handler: Handler
    required: tuple[str, ...] = ()


def _text(text: Any, parse_mode: Any, *, limit: int, what: str) -> str:
    plain = plain_text(str(text), parse_mode if isinstance(parse_mode, str) else None)
    if what == "text" and not plain.strip():
        raise bad_request("message text is empty")
    if len(plain) > limit:
        raise bad_request(f"message {'caption' if what == 'caption' else 'text'} is too long")
    return plain


def _caption(params: dict[str, Any]) -> str:
    return _text(params["caption"], params.get("parse_mode"), limit=MAX_CAPTION, what="caption")


def _markup(params: dict[str, Any]) -> JsonDict:
    markup = params.get("reply_markup")
    if markup is None:
        return {}
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("can't parse inline keyboard button: field must be an Array")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request("can't parse inline keyboard button: Text must be a string")
                data = button.get("callback_data")
                if data is not None and len(str(data).encode()) > 64:
                    raise bad_request("BUTTON_DATA_INVALID")
        return {"reply_markup": markup}
    return {}  # reply keyboards are not part of the returned Message


async def get_me(call: Call) -> JsonDict:
    return {
        **call.state.bot,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


async def send_message(call: Call) -> JsonDict:
    p = call.params
    text = _text(p["text"], p.get("parse_mode"), limit=MAX_TEXT, what="text")
    return call.send({"text": text, **_markup(p)})


def _media(call: Call, kind: str) -> JsonDict:
    """sendPhoto, sendDocument, sendVideo, ...: the file parameter is named after the kind."""
    p = call.params
    file_ref = p[kind]
    if not isinstance(file_ref, str) or not file_ref:
        raise bad_request(f"wrong remote file identifier specified: {kind}")
    stored = call.state.files.get(file_ref)
    file: JsonDict = (
        dict(stored.as_document())
        if stored is not None
        else {"file_id": file_ref, "file_unique_id": f"{file_ref}_u"}
    )
    content = media_content(kind, file)
    if p.get("caption") and kind not in CAPTIONLESS:
        content["caption"] = _caption(p)
    return call.send({**content, **_markup(p)})


def _send_media(kind: str) -> Handler:
    async def send(call: Call) -> JsonDict:
        return _media(call, kind)

    return send


# What copyMessage carries over: the content, never the sender, date, thread or keyboard.
_COPYABLE = (
    "text",
    "entities",
    *MEDIA_KINDS,
    "caption",
    "caption_entities",
    "has_media_spoiler",
    "show_caption_above_media",
)


async def copy_message(call: Call) -> JsonDict:
    """A copy without a link to the original; ``caption`` replaces a media caption ("" drops it)."""
    p = call.params
    source = call.state.message(p["from_chat_id"], p["message_id"])
    if source is None:
        raise bad_request("message to copy not found")
    content = {k: source[k] for k in _COPYABLE if k in source}
    kind = media_kind(source)
    if "text" not in content and kind is None:  # a service message (topic created, ...)
        raise bad_request("message can't be copied")
    if "caption" in p and kind is not None and kind not in CAPTIONLESS:
        content.pop("caption_entities", None)
        if p["caption"] == "":
            content.pop("caption", None)
        else:
            content["caption"] = _caption(p)
    copied = call.send({**content, **_markup(p)})
    return {"message_id": copied["message_id"]}


async def edit_message_text(call: Call) -> JsonDict | bool:
    p = call.params
    text = _text(p["text"], p.get("parse_mode"), limit=MAX_TEXT, what="text")
    if "inline_message_id" in p:
        return True
    if "chat_id" not in p or "message_id" not in p:
        raise bad_request("message identifier is not specified")
    message = call.state.message(call.chat_id(), p["message_id"])
    if message is None or message.get("from", {}).get("id") != call.state.bot["id"]:
        raise bad_request("message to edit not found")
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    markup = _markup(p)
    if message["text"] == text and message.get("reply_markup") == markup.get("reply_markup"):
        raise bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )
    edited = {k: v for k, v in message.items() if k != "reply_markup"}
    edited.update(text=text, edit_date=int(time.time()), **markup)
    return call.state.store(edited)


async def answer_callback_query(call: Call) -> bool:
    if call.params["callback_query_id"] not in call.state.callback_queries:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = call.params.get("text")
    if text is not None and len(str(text)) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    return True


CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


async def send_chat_action(call: Call) -> bool:
    call.chat_id()
    if call.params["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


async def set_my_commands(call: Call) -> bool:
    commands = call.params["commands"]
    if not isinstance(commands, list) or not all(
        isinstance(c, dict) and isinstance(c.get("command"), str) and c.get("description")
        for c in commands
    ):
        raise bad_request("can't parse BotCommand")
    call.state.commands = commands
    return True


async def get_my_commands(call: Call) -> list[JsonDict]:
    return call.state.commands


async def set_webhook(call: Call) -> bool:
    p = call.params
    # An empty or missing url removes the webhook (aiogram omits empty fields altogether).
    url = str(p.get("url", ""))
    webhook = call.state.webhook
    if url and not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.get("secret_token")
    if secret is not None and not SECRET_TOKEN.match(str(secret)):
        raise bad_request("secret token contains unallowed characters")
    if p.get("drop_pending_updates"):
        await call.state.queue.clear()
    allowed = p.get("allowed_updates")
    if allowed is not None and not isinstance(allowed, list):
        raise bad_request("can't parse allowed_updates JSON array")
    was_set = bool(webhook.url)
    webhook.url = url
    webhook.secret_token = str(secret) if secret else None
    if allowed is not None:
        webhook.allowed_updates = allowed
    webhook.max_connections = int(p.get("max_connections", 40))
    if url and not was_set:
        await call.delivery.requeue_for_webhook()
    return True


async def delete_webhook(call: Call) -> bool:
    call.state.webhook.url = ""
    call.state.webhook.secret_token = None
    if call.params.get("drop_pending_updates"):
        await call.state.queue.clear()
        await call.delivery.clear()
    return True


async def get_webhook_info(call: Call) -> JsonDict:
    return call.state.webhook.info(call.delivery.pending())


async def get_updates(call: Call) -> list[JsonDict]:
    if call.state.webhook.url:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    p = call.params
    allowed = p.get("allowed_updates")
    if allowed is not None and not isinstance(allowed, list):
        raise bad_request("can't parse allowed_updates JSON array")
    try:
        return await call.state.queue.get(
            offset=p.get("offset", 0),
            limit=min(max(p.get("limit", 100), 1), 100),
            wait=max(p.get("timeout", 0), 0),
            allowed=allowed,
        )
    except PollConflict:
        raise ApiError(
            409,
            "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running",
        ) from None


async def get_file(call: Call) -> JsonDict:
    file_id = call.params["file_id"]
    stored = call.state.files.get(file_id) if isinstance(file_id, str) else None
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > MAX_DOWNLOAD_BYTES:
        raise bad_request("file is too big")
    return {**stored.as_file(), "file_id": file_id}


async def log_out(call: Call) -> bool:
    return True


METHODS: dict[str, Method] = {
    "getme": Method(get_me),
    "getfile": Method(get_file, ("file_id",)),
    "sendmessage": Method(send_message, ("chat_id", "text")),
    **{
        "send" + kind.replace("_", ""): Method(_send_media(kind), ("chat_id", kind))
        for kind in MEDIA_KINDS
    },
    "copymessage": Method(copy_message, ("chat_id", "from_chat_id", "message_id")),
    "editmessagetext": Method(edit_message_text, ("text",)),
    "answercallbackquery": Method(answer_callback_query, ("callback_query_id",)),
    "sendchataction": Method(send_chat_action, ("chat_id", "action")),
    "setmycommands": Method(set_my_commands, ("commands",)),
    "getmycommands": Method(get_my_commands),
    "setwebhook": Method(set_webhook),
    "deletewebhook": Method(delete_webhook),
    "getwebhookinfo": Method(get_webhook_info),
    "getupdates": Method(get_updates),
    "logout": Method(log_out),
    "close": Method(log_out),
}
