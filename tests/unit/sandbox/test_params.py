from __future__ import annotations

import pytest

from tgbot.sandbox.errors import ApiError
from tgbot.sandbox.params import coerce


def test_form_fields_are_decoded_by_parameter_name() -> None:
    params = coerce(
        {
            "chat_id": "-100123",
            "text": "123",
            "message_id": "7",
            "disable_notification": "true",
            "reply_markup": '{"inline_keyboard": []}',
            "parse_mode": "HTML",
        }
    )

    assert params == {
        "chat_id": -100123,
        "text": "123",
        "message_id": 7,
        "disable_notification": True,
        "reply_markup": {"inline_keyboard": []},
        "parse_mode": "HTML",
    }


def test_json_values_pass_through_and_usernames_stay_strings() -> None:
    assert coerce({"chat_id": "@channel", "show_alert": False, "entities": []}) == {
        "chat_id": "@channel",
        "show_alert": False,
        "entities": [],
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [("message_id", "seven"), ("show_alert", "maybe"), ("reply_markup", "{not json")],
)
def test_garbage_is_a_bad_request(field: str, value: str) -> None:
    with pytest.raises(ApiError) as caught:
        coerce({field: value})
    assert caught.value.code == 400
    assert caught.value.description.startswith("Bad Request: ")
