"""Telegram Update objects built from what a fake user does (pure functions over dicts)."""

from __future__ import annotations

from typing import Any

JsonDict = dict[str, Any]

# Sent to getUpdates/webhooks unless asked for explicitly (Telegram's default).
OPT_IN_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def update_type(update: JsonDict) -> str | None:
    return next((key for key in update if key != "update_id"), None)


def is_allowed(update: JsonDict, allowed: list[str] | None) -> bool:
    kind = update_type(update)
    if allowed:
        return kind in allowed
    return kind not in OPT_IN_TYPES


def chat_key(update: JsonDict) -> int | str:
    """The chat an update belongs to: updates of one chat are delivered in order."""
    for kind in ("message", "edited_message", "my_chat_member", "chat_member"):
        body = update.get(kind)
        if isinstance(body, dict) and isinstance(body.get("chat"), dict):
            chat_id = body["chat"].get("id")
            if isinstance(chat_id, int | str):
                return chat_id
    query = update.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("from"), dict):
        user_id = query["from"].get("id")
        if isinstance(user_id, int | str):
            return user_id
    return ""


def make_user(
    user_id: int,
    *,
    first_name: str | None = None,
    username: str | None = None,
    language_code: str | None = None,
) -> JsonDict:
    user: JsonDict = {"id": user_id, "is_bot": False, "first_name": first_name or f"User {user_id}"}
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    return user


def private_chat(user: JsonDict) -> JsonDict:
    chat: JsonDict = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    if "username" in user:
        chat["username"] = user["username"]
    return chat


def chat_for_id(chat_id: int) -> JsonDict:
    """A plausible chat for an id the sandbox has not seen a user for."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    if str(chat_id).startswith("-100"):
        return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
    return {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}


def photo_sizes(file_id: str) -> list[JsonDict]:
    return [
        {"file_id": f"{file_id}_s", "file_unique_id": f"{file_id}_us", "width": 90, "height": 90},
        {"file_id": file_id, "file_unique_id": f"{file_id}_u", "width": 800, "height": 800},
    ]


# The media a message can carry, as the Bot API names its fields (and the send methods' file
# parameter): sendPhoto's ``photo``, sendVideoNote's ``video_note`` and so on.
MEDIA_KINDS = ("photo", "document", "video", "animation", "voice", "audio", "sticker", "video_note")
# Kinds whose messages have no caption (sendSticker and sendVideoNote take none).
CAPTIONLESS = frozenset({"sticker", "video_note"})
# What a placeholder file of each kind is called when a test sends one without bytes.
PLACEHOLDER_NAMES = {
    "photo": ("photo.png", "image/png"),
    "document": ("file.txt", "text/plain"),
    "video": ("video.mp4", "video/mp4"),
    "animation": ("animation.mp4", "video/mp4"),
    "voice": ("voice.ogg", "audio/ogg"),
    "audio": ("audio.mp3", "audio/mpeg"),
    "sticker": ("sticker.webp", "image/webp"),
    "video_note": ("video_note.mp4", "video/mp4"),
}


def media_content(kind: str, file: JsonDict) -> JsonDict:
    """A message's media fields for a file of ``kind``.

    ``file`` has ``file_id`` and ``file_unique_id`` and, for a file the sandbox holds, the
    ``file_name``, ``mime_type`` and ``file_size`` of a Document. Dimensions and durations are
    plausible constants (the sandbox does not decode media).
    """
    ids: JsonDict = {"file_id": file["file_id"], "file_unique_id": file["file_unique_id"]}
    size: JsonDict = {"file_size": file["file_size"]} if "file_size" in file else {}
    named: JsonDict = {k: file[k] for k in ("file_name", "mime_type") if k in file}
    if kind == "photo":
        return {"photo": photo_sizes(str(file["file_id"]))}
    if kind == "document":
        return {"document": {**ids, **named, **size}}
    if kind == "video":
        return {"video": {**ids, "width": 640, "height": 360, "duration": 3, **named, **size}}
    if kind == "animation":
        animation: JsonDict = {**ids, "width": 320, "height": 240, "duration": 2, **named, **size}
        return {"animation": animation, "document": {**ids, **named, **size}}
    if kind == "voice":
        return {"voice": {**ids, "duration": 2, "mime_type": "audio/ogg", **size}}
    if kind == "audio":
        return {"audio": {**ids, "duration": 3, **named, **size}}
    if kind == "sticker":
        sticker: JsonDict = {
            **ids,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            **size,
        }
        return {"sticker": sticker}
    if kind == "video_note":
        return {"video_note": {**ids, "length": 240, "duration": 2, **size}}
    raise ValueError(f"not a media kind: {kind}")


def media_kind(message: JsonDict) -> str | None:
    """The kind of media a message carries (an animation also has a ``document``)."""
    if "animation" in message:
        return "animation"
    return next((kind for kind in MEDIA_KINDS if kind in message), None)


def command_entities(text: str) -> list[JsonDict]:
    """A ``bot_command`` entity for ``/start payload`` style text."""
    if not text.startswith("/") or len(text) < 2:
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]


def user_message(
    *,
    message_id: int,
    user: JsonDict,
    text: str,
    date: int,
    photo_file_id: str | None = None,
    document: JsonDict | None = None,
    media: JsonDict | None = None,
    chat: JsonDict | None = None,
    extra: JsonDict | None = None,
) -> JsonDict:
    """A message a user writes: in their private chat, or in ``chat`` (a group) when given.

    ``media`` is :func:`media_content`'s result (``photo_file_id`` and ``document`` are
    shorthands for a photo or a document); ``extra`` adds fields such as a topic's
    ``message_thread_id``.
    """
    message: JsonDict = {
        "message_id": message_id,
        "from": user,
        "chat": chat if chat is not None else private_chat(user),
        "date": date,
        **(extra or {}),
    }
    if photo_file_id is not None:
        media = {"photo": photo_sizes(photo_file_id)}
    elif document is not None:
        media = {"document": document}
    if media:
        message.update(media)
        if text and media_kind(media) not in CAPTIONLESS:
            message["caption"] = text
    else:
        message["text"] = text
        entities = command_entities(text)
        if entities:
            message["entities"] = entities
    return message


def callback_query(*, query_id: str, user: JsonDict, message: JsonDict, data: str) -> JsonDict:
    return {
        "id": query_id,
        "from": user,
        "message": message,
        "chat_instance": str(user["id"]),
        "data": data,
    }


def my_chat_member(*, user: JsonDict, bot: JsonDict, blocked: bool, date: int) -> JsonDict:
    old, new = ("member", "kicked") if blocked else ("kicked", "member")
    new_member: JsonDict = {"status": new, "user": bot}
    if new == "kicked":
        new_member["until_date"] = 0
    old_member: JsonDict = {"status": old, "user": bot}
    if old == "kicked":
        old_member["until_date"] = 0
    return {
        "chat": private_chat(user),
        "from": user,
        "date": date,
        "old_chat_member": old_member,
        "new_chat_member": new_member,
    }
