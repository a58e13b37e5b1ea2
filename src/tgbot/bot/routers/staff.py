"""The staff supergroup (STAFF_CHAT_ID): what staff write in a conversation's forum topic.

Only that chat reaches these handlers (every member of it is staff: Telegram delivers a group's
messages from its members only); another group's messages never get here, and a user's private
chat never does. In a topic: a command (``/close``, ``/reopen``, ``/ban``, ``/unban``,
``/note``) acts on the conversation; any other text or media goes to the user (copied from the
group, so media needs no download). Service messages, the General topic and the bot's own
messages (the unit of work skips bots) are left alone. See ``db.queries.staff``.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Filter
from aiogram.types import Message

from tgbot.bot.routers.support import media_file_id
from tgbot.db.queries.staff import StaffCommand, StaffMessage, StaffReply
from tgbot.updates.work import UpdateWork

# What copyMessage can copy and a staff member would write to a user.
RELAYED_CONTENT = frozenset(
    {
        "text",
        "photo",
        "video",
        "document",
        "voice",
        "audio",
        "animation",
        "sticker",
        "video_note",
        "location",
        "contact",
        "venue",
        "poll",
        "dice",
    }
)


class StaffChat(Filter):
    """Messages in the staff supergroup."""

    async def __call__(self, message: Message, staff_chat_id: int | None = None) -> bool:
        return staff_chat_id is not None and message.chat.id == staff_chat_id


def _source(message: Message) -> StaffMessage | None:
    if message.from_user is None or not message.is_topic_message or not message.message_thread_id:
        return None
    name = message.from_user.full_name or (message.from_user.username or str(message.from_user.id))
    return StaffMessage(
        chat_id=message.chat.id,
        thread_id=message.message_thread_id,
        message_id=message.message_id,
        author_id=message.from_user.id,
        author_name=name,
    )


async def staff_message(message: Message, work: UpdateWork) -> None:
    source = _source(message)
    if source is None:
        return  # the General topic, or no author
    body = message.text if message.text is not None else message.caption
    if body is not None and body.startswith("/"):
        command, _, argument = body[1:].partition(" ")
        command = command.split("@", 1)[0].lower()  # /close@SupportBot
        work.write(StaffCommand(source=source, command=command, argument=argument))
        return
    content_type = getattr(message.content_type, "value", str(message.content_type))
    if content_type not in RELAYED_CONTENT:
        return  # service messages (topic created, member joined, ...)
    work.write(
        StaffReply(
            source=source, content_type=content_type, text=body, file_id=media_file_id(message)
        )
    )


def create_router() -> Router:
    router = Router(name="staff")
    router.message.filter(StaffChat())
    router.message.register(staff_message)
    return router
