"""A staff topic's name and header, and which of Telegram's answers mean the topic is gone."""

from __future__ import annotations

from tgbot.delivery.sender import Kind, Outcome
from tgbot.delivery.staff_topics import TOPIC_NAME_MAX, _Conversation, header_text, thread_gone
from tgbot.delivery.staff_topics import topic_name as name


def test_the_topic_is_named_after_the_user_and_the_conversation() -> None:
    assert name(1042, "Anna", "Smirnova", "anna_s") == "Anna Smirnova · @anna_s · #1042"
    assert name(7, "Bob", None, None) == "Bob · #7"
    assert name(8, "", None, None) == "User · #8"


def test_a_long_name_is_cut_and_the_number_kept() -> None:
    long = name(123456, "W" * 300, "X" * 300, "u" * 32)
    assert len(long) == TOPIC_NAME_MAX
    assert long.endswith(f" · @{'u' * 32} · #123456")
    assert "…" in long


def test_the_header_shows_language_payload_and_the_panel_link() -> None:
    conversation = _Conversation(
        id=55,
        status="open",
        topic=None,
        user_id=501,
        first_name="Anna",
        last_name=None,
        username=None,
        language="ru",
        language_code="uk",
        start_payload="promo-2026",
    )
    text = header_text(conversation, "https://admin.example.com/admin/")
    assert "Conversation #55 with user 501" in text
    assert "Language: ru (Telegram: uk)" in text
    assert "Start payload: promo-2026" in text
    assert "Panel: https://admin.example.com/admin/inbox/55/" in text
    assert "Panel:" not in header_text(conversation, None)


def test_only_a_refusal_naming_the_thread_means_it_is_gone() -> None:
    gone = Outcome(Kind.REJECTED, "400", "Bad Request: message thread not found")
    assert thread_gone(gone)
    assert thread_gone(Outcome(Kind.REJECTED, "400", "Bad Request: TOPIC_DELETED"))
    assert not thread_gone(Outcome(Kind.REJECTED, "400", "Bad Request: chat not found"))
    assert not thread_gone(Outcome(Kind.TRANSIENT, "5xx", "message thread not found"))
    assert not thread_gone(Outcome(Kind.SENT, "200"))
