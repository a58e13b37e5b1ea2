"""Chats and forum topics: getChat, getChatMember, getChatAdministrators, *ForumTopic methods.

Supergroups exist once a test creates them (``POST /sandbox/groups``); the checks and error
texts are Telegram's (see docs/sandbox.md for the few whose wording the sandbox chose).
"""

from __future__ import annotations

from typing import Any

from tgbot.sandbox.errors import bad_request
from tgbot.sandbox.groups import ICON_COLORS, MAX_TOPIC_NAME, Group, Topic, bot_member, user_member
from tgbot.sandbox.methods import Call, Method
from tgbot.sandbox.updates import JsonDict

# ChatFullInfo fields every chat has (aiogram requires them).
FULL_INFO: JsonDict = {
    "accent_color_id": 0,
    "max_reaction_count": 11,
    "accepted_gift_types": {
        "unlimited_gifts": False,
        "limited_gifts": False,
        "unique_gifts": False,
        "premium_subscription": False,
        "gifts_from_channels": False,
    },
}


async def get_chat(call: Call) -> JsonDict:
    chat_id = call.chat_id()
    group = call.state.groups.get(chat_id)
    if group is None:
        return {**call.state.chat(chat_id), **FULL_INFO}
    info: JsonDict = {**group.chat(), **FULL_INFO}
    if group.is_forum:
        info["is_forum"] = True
    return info


def _user_id(params: dict[str, Any]) -> int:
    user_id = params["user_id"]
    if not isinstance(user_id, int) or user_id <= 0:
        raise bad_request("invalid user_id specified")
    return user_id


async def get_chat_member(call: Call) -> JsonDict:
    chat_id = call.chat_id()
    user_id = _user_id(call.params)
    state = call.state
    group = state.groups.get(chat_id)
    if user_id == state.bot["id"]:
        return bot_member(group, state.bot) if group else {"status": "member", "user": state.bot}
    user = state.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    if group is None:
        return {"status": "member" if chat_id == user_id else "left", "user": user}
    return user_member(group.members.get(user_id, "left"), user)


async def get_chat_administrators(call: Call) -> list[JsonDict]:
    chat_id = call.chat_id()
    state = call.state
    group = state.groups.get(chat_id)
    if group is None:
        if chat_id > 0:
            raise bad_request("there are no administrators in the private chat")
        return []
    admins = [
        user_member(status, state.users.get(user_id) or state.upsert_user(user_id))
        for user_id, status in group.members.items()
        if status in ("creator", "administrator")
    ]
    if group.bot_status == "administrator":
        admins.append(bot_member(group, state.bot))
    return admins


def _forum(call: Call) -> Group:
    group = call.state.groups.get(call.chat_id())
    if group is None or not group.is_forum:
        raise bad_request("the chat is not a forum")
    return group


def _topic(call: Call, group: Group, *, delete: bool = False) -> Topic:
    """The topic named by ``message_thread_id`` if the bot may manage it."""
    thread_id = call.params["message_thread_id"]
    topic = group.live_topic(thread_id) if isinstance(thread_id, int) else None
    if topic is None:
        raise bad_request("TOPIC_ID_INVALID")
    if delete:
        allowed = group.bot_status == "administrator" and group.bot_can_delete_messages
    else:  # the bot may edit, close and reopen the topics it created without the right
        allowed = group.bot_manages_topics or topic.created_by == call.state.bot["id"]
    if not allowed:
        raise bad_request("CHAT_ADMIN_REQUIRED")
    return topic


def _name(value: Any) -> str:
    name = str(value)
    if len(name) > MAX_TOPIC_NAME:
        raise bad_request("TOPIC_TITLE_INVALID")
    return name


async def create_forum_topic(call: Call) -> JsonDict:
    p = call.params
    group = _forum(call)
    if not group.bot_manages_topics:
        raise bad_request("not enough rights to create a topic")
    name = _name(p["name"])
    color = p.get("icon_color")
    if color is not None and color not in ICON_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")  # the sandbox's wording
    emoji = p.get("icon_custom_emoji_id")
    topic, _ = call.state.create_topic(
        group,
        call.state.bot,
        name=name,
        icon_color=color,
        icon_custom_emoji_id=str(emoji) if emoji else None,
    )
    return topic.forum_topic()


async def edit_forum_topic(call: Call) -> bool:
    p = call.params
    group = _forum(call)
    topic = _topic(call, group)
    edited: JsonDict = {}
    name = p.get("name")
    if name not in (None, "") and _name(name) != topic.name:
        edited["name"] = topic.name = _name(name)
    emoji = p.get("icon_custom_emoji_id")
    if emoji is not None and (str(emoji) or None) != topic.icon_custom_emoji_id:
        topic.icon_custom_emoji_id = str(emoji) or None
        edited["icon_custom_emoji_id"] = str(emoji)
    if not edited:
        raise bad_request("TOPIC_NOT_MODIFIED")
    call.state.service_message(
        group, call.state.bot, topic.message_thread_id, {"forum_topic_edited": edited}
    )
    return True


async def _set_closed(call: Call, closed: bool) -> bool:
    group = _forum(call)
    topic = _topic(call, group)
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    kind = "forum_topic_closed" if closed else "forum_topic_reopened"
    call.state.service_message(group, call.state.bot, topic.message_thread_id, {kind: {}})
    return True


async def close_forum_topic(call: Call) -> bool:
    return await _set_closed(call, True)


async def reopen_forum_topic(call: Call) -> bool:
    return await _set_closed(call, False)


async def delete_forum_topic(call: Call) -> bool:
    group = _forum(call)
    call.state.delete_topic(group, _topic(call, group, delete=True))
    return True


FORUM_METHODS: dict[str, Method] = {
    "getchat": Method(get_chat, ("chat_id",)),
    "getchatmember": Method(get_chat_member, ("chat_id", "user_id")),
    "getchatadministrators": Method(get_chat_administrators, ("chat_id",)),
    "createforumtopic": Method(create_forum_topic, ("chat_id", "name")),
    "editforumtopic": Method(edit_forum_topic, ("chat_id", "message_thread_id")),
    "closeforumtopic": Method(close_forum_topic, ("chat_id", "message_thread_id")),
    "reopenforumtopic": Method(reopen_forum_topic, ("chat_id", "message_thread_id")),
    "deleteforumtopic": Method(delete_forum_topic, ("chat_id", "message_thread_id")),
}
