"""Every user flow end to end: sandbox user → webhook → bot → PostgreSQL, replies over HTTP."""

from __future__ import annotations

import itertools
import json

import pytest

from tests.integration.bot.conftest import Bot, SandboxClient, wait_for_text
from tests.support.waiting import wait_until
from tgbot.texts_defaults import DEFAULT_TEXTS

_ids = itertools.count(700_000_001)


@pytest.fixture
def uid() -> int:
    return next(_ids)


def test_start_registers_user_with_payload_and_greets_in_their_language(
    user_side: SandboxClient, bot: Bot, uid: int
) -> None:
    result = user_side.message(uid, "/start promo-42", language_code="ru-RU", username="ivan")
    assert result["delivered"] is True
    greeting = wait_for_text(user_side, uid, "Здравствуйте")
    assert "User" in greeting
    [(language, payload, username, subscribed)] = bot.query(
        "SELECT language, start_payload, username, is_subscribed FROM tg_users"
        " WHERE telegram_id = %s",
        uid,
    )
    assert (language, payload, username, subscribed) == ("ru", "promo-42", "ivan", False)

    # A second /start keeps where the user first came from.
    user_side.message(uid, "/start other")
    wait_until(lambda: len(user_side.texts_to(uid)) == 2, what="second greeting")
    assert bot.query("SELECT start_payload FROM tg_users WHERE telegram_id=%s", uid) == [
        ("promo-42",)
    ]


def test_unsupported_language_falls_back_to_default(
    user_side: SandboxClient, bot: Bot, uid: int
) -> None:
    user_side.message(uid, "/help", language_code="de")
    wait_for_text(user_side, uid, DEFAULT_TEXTS["help"]["en"].splitlines()[0])
    assert bot.query("SELECT language FROM tg_users WHERE telegram_id=%s", uid) == [("en",)]


def test_help_text_edited_in_admin_takes_effect_within_seconds(
    user_side: SandboxClient, bot: Bot, uid: int
) -> None:
    edited = f"Edited help {uid}"
    bot.execute(
        "INSERT INTO bot_texts (key, language, body) VALUES ('help', 'en', %s)"
        " ON CONFLICT (key, language) DO UPDATE SET body = EXCLUDED.body",
        edited,
    )
    try:

        def asks_and_gets_edited() -> bool:
            user_side.message(uid, "/help")
            return edited in user_side.texts_to(uid)

        wait_until(asks_and_gets_edited, timeout=5, interval=0.5, what="edited help text")
    finally:
        bot.execute("DELETE FROM bot_texts WHERE key = 'help' AND language = 'en'")


def test_language_keyboard_saves_choice(user_side: SandboxClient, bot: Bot, uid: int) -> None:
    user_side.message(uid, "/language", language_code="en")
    prompt = wait_until(
        lambda: next(
            (c for c in user_side.sent(uid, "sendMessage") if c["params"].get("reply_markup")),
            None,
        ),
        what="language keyboard",
    )
    markup = prompt["params"]["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    buttons = {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}
    assert set(buttons) == {"English", "Русский"}

    message_id = prompt["result"]["message_id"]
    user_side.press(uid, message_id, buttons["Русский"])
    wait_until(
        lambda: bot.query("SELECT language FROM tg_users WHERE telegram_id=%s", uid) == [("ru",)],
        what="language saved",
    )
    edits = wait_until(lambda: user_side.sent(uid, "editMessageText"), what="confirmation edit")
    assert edits[0]["params"]["text"] == DEFAULT_TEXTS["language_saved"]["ru"]
    assert user_side.sent(method="answerCallbackQuery")


def test_subscribe_and_unsubscribe(user_side: SandboxClient, bot: Bot, uid: int) -> None:
    def subscribed() -> bool:
        return bool(bot.query("SELECT is_subscribed FROM tg_users WHERE telegram_id=%s", uid)[0][0])

    user_side.message(uid, "/subscribe")
    wait_for_text(user_side, uid, DEFAULT_TEXTS["subscribed"]["en"])
    assert subscribed()
    user_side.message(uid, "/subscribe")
    wait_for_text(user_side, uid, DEFAULT_TEXTS["already_subscribed"]["en"])
    user_side.message(uid, "/unsubscribe")
    wait_for_text(user_side, uid, DEFAULT_TEXTS["unsubscribed"]["en"])
    assert not subscribed()


def test_messages_go_into_one_open_conversation_with_ack(
    user_side: SandboxClient, bot: Bot, uid: int
) -> None:
    user_side.message(uid, "My order did not arrive")
    user_side.message(uid, "Order #123")
    user_side.message(uid, "the box", photo=True)  # a photo with a caption
    wait_until(
        lambda: (
            len(
                [t for t in user_side.texts_to(uid) if t == DEFAULT_TEXTS["message_received"]["en"]]
            )
            == 3
        ),
        what="three acknowledgements",
    )
    conversations = bot.query("SELECT id, status FROM conversations WHERE user_id = %s", uid)
    assert len(conversations) == 1
    assert conversations[0][1] == "open"
    rows = bot.query(
        "SELECT direction, content_type, text, file_id IS NOT NULL FROM messages"
        " WHERE conversation_id = %s ORDER BY id",
        conversations[0][0],
    )
    assert rows == [
        ("in", "text", "My order did not arrive", False),
        ("in", "text", "Order #123", False),
        ("in", "photo", "the box", True),
    ]


def test_blocking_and_unblocking_the_bot(user_side: SandboxClient, bot: Bot, uid: int) -> None:
    user_side.message(uid, "/start")
    wait_for_text(user_side, uid, "Hello")

    def blocked() -> bool:
        return bool(bot.query("SELECT is_blocked FROM tg_users WHERE telegram_id=%s", uid)[0][0])

    user_side.block(uid)
    wait_until(blocked, what="user marked blocked")
    user_side.block(uid, blocked=False)
    wait_until(lambda: not blocked(), what="user unmarked blocked")


def test_banned_user_is_ignored(user_side: SandboxClient, bot: Bot, uid: int) -> None:
    user_side.message(uid, "/start")
    wait_for_text(user_side, uid, "Hello")
    bot.execute("UPDATE tg_users SET is_banned = true WHERE telegram_id = %s", uid)
    before = len(user_side.sent(uid))
    result = user_side.message(uid, "let me in")
    assert result["status"] == 200
    assert len(user_side.sent(uid)) == before
    assert bot.query(
        "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.user_id = %s",
        uid,
    ) == [(0,)]


def test_throttling_replies_politely_once(user_side: SandboxClient, bot: Bot, uid: int) -> None:
    for i in range(8):  # the session bot allows 5 messages per window
        user_side.message(uid, f"message {i}")
    texts = user_side.texts_to(uid)
    assert texts.count(DEFAULT_TEXTS["message_received"]["en"]) == 5
    assert texts.count(DEFAULT_TEXTS["throttled"]["en"]) == 1
    assert bot.query(
        "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.user_id = %s",
        uid,
    ) == [(5,)]
