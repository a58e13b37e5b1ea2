"""The sandbox remembers messages as JSON text (never walked by the collector), hands out copies."""

from __future__ import annotations

import gc

from tgbot.sandbox.config import load_sandbox_config
from tgbot.sandbox.state import SandboxState


def test_messages_are_kept_as_text_and_handed_out_as_copies() -> None:
    state = SandboxState(load_sandbox_config())
    for n in range(3):
        state.bot_message(42, {"text": f"hello {n}", "reply_markup": {"inline_keyboard": []}})
    state.bot_message(43, {"text": "elsewhere"})

    first = state.message(42, 1)
    assert first is not None
    assert first["text"] == "hello 0"
    first["text"] = "changed by a caller"
    assert state.message(42, 1) == {**first, "text": "hello 0"}
    assert state.message(42, 99) is None
    assert [m["text"] for m in state.chat_messages(42)] == ["hello 0", "hello 1", "hello 2"]

    gc.collect()
    assert not any(gc.is_tracked(kept) for kept in state._messages.values())
