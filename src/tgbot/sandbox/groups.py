"""Supergroups the sandbox knows: members, the bot's rights, forum topics (plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tgbot.sandbox.updates import JsonDict

MemberStatus = Literal["creator", "administrator", "member"]
BotStatus = Literal["administrator", "member", "left", "kicked"]

# The six colours Telegram allows for a topic icon (RGB), in the order it offers them.
ICON_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)
MAX_TOPIC_NAME = 128


@dataclass
class Topic:
    """A forum topic; its id is the id of the ``forum_topic_created`` service message."""

    message_thread_id: int
    name: str
    icon_color: int
    created_by: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False

    def forum_topic(self) -> JsonDict:
        """The Bot API ``ForumTopic`` object."""
        topic: JsonDict = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


@dataclass
class Group:
    """A supergroup (``-100...``), a forum when ``is_forum``."""

    id: int
    title: str
    is_forum: bool = True
    members: dict[int, MemberStatus] = field(default_factory=dict)
    bot_status: BotStatus = "administrator"
    bot_can_manage_topics: bool = True
    bot_can_delete_messages: bool = True
    topics: dict[int, Topic] = field(default_factory=dict)

    def chat(self) -> JsonDict:
        """The ``Chat`` object messages carry."""
        chat: JsonDict = {"id": self.id, "type": "supergroup", "title": self.title}
        if self.is_forum:
            chat["is_forum"] = True
        return chat

    @property
    def bot_is_in(self) -> bool:
        return self.bot_status in ("administrator", "member")

    @property
    def bot_manages_topics(self) -> bool:
        return self.bot_status == "administrator" and self.bot_can_manage_topics

    def is_admin(self, user_id: int) -> bool:
        """May post into closed topics and close, reopen or delete them."""
        return self.members.get(user_id) in ("creator", "administrator")

    def live_topic(self, thread_id: int) -> Topic | None:
        topic = self.topics.get(thread_id)
        return None if topic is None or topic.deleted else topic


def _administrator(user: JsonDict, *, delete: bool, topics: bool, others: bool) -> JsonDict:
    """A ``ChatMemberAdministrator`` (``others``: the rights beyond messages and topics)."""
    return {
        "status": "administrator",
        "user": user,
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": delete,
        "can_manage_video_chats": others,
        "can_restrict_members": True,
        "can_promote_members": False,
        "can_change_info": others,
        "can_invite_users": True,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
        "can_send_welcome_messages": False,
        "can_pin_messages": True,
        "can_manage_topics": topics,
    }


def bot_member(group: Group, bot: JsonDict) -> JsonDict:
    """The bot as a ``ChatMember`` of ``group``."""
    if group.bot_status == "administrator":
        return _administrator(
            bot,
            delete=group.bot_can_delete_messages,
            topics=group.bot_can_manage_topics,
            others=False,
        )
    member: JsonDict = {"status": group.bot_status, "user": bot}
    if group.bot_status == "kicked":
        member["until_date"] = 0
    return member


def user_member(status: str, user: JsonDict) -> JsonDict:
    """A person as a ``ChatMember`` (administrators hold every right but promoting)."""
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "administrator":
        return _administrator(user, delete=True, topics=True, others=True)
    return {"status": status, "user": user}
