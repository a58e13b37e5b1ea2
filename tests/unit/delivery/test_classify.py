"""How a Bot API answer decides a row's fate (the plain aiohttp sender)."""

from __future__ import annotations

from tgbot.delivery.sender import Kind, classify


def test_ok_carries_the_message_id() -> None:
    outcome = classify(200, {"ok": True, "result": {"message_id": 77}})
    assert outcome.kind is Kind.SENT
    assert outcome.telegram_message_id == 77


def test_retry_after_wins_over_the_status() -> None:
    body = {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    outcome = classify(429, body)
    assert outcome.kind is Kind.RETRY_AFTER
    assert outcome.retry_after == 7


def test_blocked_and_chat_not_found_are_permanent() -> None:
    blocked = classify(403, {"ok": False, "description": "Forbidden: bot was blocked by the user"})
    missing = classify(400, {"ok": False, "description": "Bad Request: chat not found"})
    assert (blocked.kind, blocked.code) == (Kind.BLOCKED, "403")
    assert (missing.kind, missing.code) == (Kind.REJECTED, "400")
    assert missing.error == "Bad Request: chat not found"


def test_server_errors_and_unexpected_codes_are_retried() -> None:
    assert classify(502, {"ok": False, "description": "Bad Gateway"}).kind is Kind.TRANSIENT
    assert classify(401, {"ok": False, "description": "Unauthorized"}).kind is Kind.TRANSIENT


def test_a_sent_photo_or_document_carries_telegrams_file_id() -> None:
    photo = {"message_id": 1, "photo": [{"file_id": "small"}, {"file_id": "large"}]}
    document = {"message_id": 2, "document": {"file_id": "doc", "file_name": "a.pdf"}}
    assert classify(200, {"ok": True, "result": photo}).file_id == "large"
    assert classify(200, {"ok": True, "result": document}).file_id == "doc"
    assert classify(200, {"ok": True, "result": {"message_id": 3, "text": "x"}}).file_id is None


def test_the_file_id_of_a_sent_photo_video_animation_or_document() -> None:
    def sent(**media: object) -> str | None:
        return classify(200, {"ok": True, "result": {"message_id": 1, **media}}).file_id

    photo = [{"file_id": "small"}, {"file_id": "large"}]
    assert sent(photo=photo) == "large"  # the largest size
    assert sent(video={"file_id": "v1"}) == "v1"
    # Telegram repeats an animation as a document; both name the same file.
    assert sent(animation={"file_id": "a1"}, document={"file_id": "a1"}) == "a1"
    assert sent(document={"file_id": "d1"}) == "d1"
    assert sent(text="no file") is None
