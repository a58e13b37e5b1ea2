"""Hostile webhook input: hypothesis strategies over Update shapes and fixed bad bodies
(slowloris clients: tests/support/slow_client.py)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.integration.bot.conftest import WEBHOOK_SECRET

Json = Any

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def maybe(strategy: st.SearchStrategy[Json]) -> st.SearchStrategy[Json]:
    """Mostly the right type, sometimes anything at all."""
    return st.one_of(strategy, strategy, strategy, json_values)


ids = st.integers(min_value=1, max_value=2**52) | st.integers(min_value=-(2**64), max_value=2**64)
texts = st.text(max_size=300) | st.sampled_from(["/start", "/start ref42", "/help", "/language"])
user = st.fixed_dictionaries(
    {"id": maybe(ids), "is_bot": maybe(st.booleans()), "first_name": maybe(st.text(max_size=80))},
    optional={
        "username": maybe(st.text(max_size=40)),
        "last_name": maybe(st.text(max_size=80)),
        "language_code": maybe(st.sampled_from(["en", "ru", "xx", ""]) | st.text(max_size=12)),
        "is_premium": maybe(st.booleans()),
    },
)
chat = st.fixed_dictionaries(
    {
        "id": maybe(ids),
        "type": maybe(st.sampled_from(["private", "group", "supergroup", "channel", "other"])),
    },
    optional={"first_name": maybe(st.text(max_size=80)), "title": maybe(st.text(max_size=80))},
)
photo = st.fixed_dictionaries(
    {
        "file_id": maybe(st.text(max_size=80)),
        "file_unique_id": maybe(st.text(max_size=40)),
        "width": maybe(st.integers(0, 5000)),
        "height": maybe(st.integers(0, 5000)),
    }
)
entity = st.fixed_dictionaries(
    {
        "type": maybe(st.sampled_from(["bot_command", "bold", "url", "mention"])),
        "offset": maybe(st.integers(-5, 400)),
        "length": maybe(st.integers(-5, 400)),
    }
)
message = st.fixed_dictionaries(
    {
        "message_id": maybe(ids),
        "date": maybe(st.integers(0, 2**40)),
        "chat": maybe(chat),
    },
    optional={
        "from": maybe(user),
        "text": maybe(texts),
        "caption": maybe(st.text(max_size=300)),
        "photo": maybe(st.lists(photo, max_size=3)),
        "entities": maybe(st.lists(entity, max_size=3)),
        "sticker": json_values,
        "unknown_field": json_values,
    },
)
callback_query = st.fixed_dictionaries(
    {"id": maybe(st.text(max_size=30)), "from": maybe(user), "chat_instance": maybe(st.text())},
    optional={
        "data": maybe(st.text(max_size=80) | st.sampled_from(["lang:en", "lang:ru", "lang:xx"])),
        "message": maybe(message),
    },
)
member = st.fixed_dictionaries(
    {"status": maybe(st.sampled_from(["member", "kicked", "left", "administrator"])), "user": user}
)
my_chat_member = st.fixed_dictionaries(
    {
        "chat": maybe(chat),
        "from": maybe(user),
        "date": maybe(st.integers(0, 2**40)),
        "old_chat_member": maybe(member),
        "new_chat_member": maybe(member),
    }
)
KNOWN_KINDS = ["message", "edited_message", "channel_post", "callback_query", "my_chat_member"]
kind_and_payload = st.one_of(
    st.tuples(st.sampled_from(["message", "edited_message", "channel_post"]), maybe(message)),
    st.tuples(st.just("callback_query"), maybe(callback_query)),
    st.tuples(st.just("my_chat_member"), maybe(my_chat_member)),
    st.tuples(st.sampled_from(["inline_query", "poll", "chat_join_request"]), json_values),
    st.tuples(st.text(min_size=1, max_size=20), json_values),
)


@st.composite
def updates(draw: st.DrawFn) -> Json:
    """Update-shaped JSON: right or wrong types anywhere, unknown kinds and fields, extra kinds."""
    kind, payload = draw(kind_and_payload)
    # Ids far above the sandbox's own (which count from 1): a hostile update the bot accepts claims
    # its id, and a real update that later arrives with the same id is, rightly, a duplicate.
    update_id = draw(maybe(st.integers(10**12, 2**42)))
    update: dict[str, Json] = {"update_id": update_id, kind: payload}
    update.update(draw(st.dictionaries(st.text(max_size=15), json_values, max_size=2)))
    return update


Secret = str | list[bytes] | None  # one header value, the raw values of several, or none


def fixed_cases(valid: dict[str, Json]) -> list[tuple[str, bytes, Secret, dict[str, str]]]:
    """(name, body, secret, extra headers) of bodies every webhook must refuse politely."""
    right = WEBHOOK_SECRET.encode()
    big = json.dumps({**valid, "pad": "x" * 2_100_000}).encode()
    return [
        ("empty", b"", WEBHOOK_SECRET, {}),
        ("malformed", b'{"update_id": 1, "message": ', WEBHOOK_SECRET, {}),
        ("not_utf8", b"\xff\xfe\x00\x01", WEBHOOK_SECRET, {}),
        ("array", b"[1, 2, 3]", WEBHOOK_SECRET, {}),
        ("null", b"null", WEBHOOK_SECRET, {}),
        ("deep", b"[" * 100_000 + b"]" * 100_000, WEBHOOK_SECRET, {}),
        ("two_megabytes", big, WEBHOOK_SECRET, {}),
        ("wrong_secret", json.dumps(valid).encode(), "wrong", {}),
        ("missing_secret", json.dumps(valid).encode(), None, {}),
        # Bytes in the secret header: each one 401, never a 5xx.
        ("secret_not_utf8", json.dumps(valid).encode(), [b"\xff\xfe\x80"], {}),
        ("secret_then_not_utf8", json.dumps(valid).encode(), [right + b"\xff"], {}),
        ("secret_over_long", json.dumps(valid).encode(), [b"A" * 4000], {}),
        ("secret_repeated", json.dumps(valid).encode(), [right, right], {}),
        ("secret_right_then_wrong", json.dumps(valid).encode(), [right, b"wrong"], {}),
        ("text_plain", json.dumps(valid).encode(), WEBHOOK_SECRET, {"Content-Type": "text/plain"}),
    ]
