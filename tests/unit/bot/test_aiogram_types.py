"""aiogram imported with its models built on first use (``tgbot.aiogram_types``).

Each check runs in a fresh interpreter: the import has to be the process's first of aiogram.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    from tgbot.aiogram_types import import_aiogram
    import_aiogram()

    from aiogram.methods import EditMessageText, SendMessage
    from aiogram.methods.base import Response
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

    # Built now: every update is validated with it. Built later, on first use: the rest.
    assert Update.__pydantic_complete__
    assert not Message.__pydantic_complete__
    assert not EditMessageText.__pydantic_complete__

    chat = {"id": 5, "type": "private"}
    update = Update.model_validate({
        "update_id": 1,
        "message": {
            "message_id": 1, "date": 1700000000, "chat": chat, "text": "hi",
            "from": {"id": 5, "is_bot": False, "first_name": "A"},
            "reply_to_message": {"message_id": 0, "date": 1700000000, "chat": chat},
        },
    })
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="English", callback_data="lang:en")]]
    )
    request = update.message.answer("hello", reply_markup=keyboard)
    assert isinstance(request, SendMessage)
    dumped = request.model_dump(exclude_none=True)
    assert dumped["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "lang:en"
    answer = Response[Message].model_validate(
        {"ok": True, "result": {"message_id": 2, "date": 1700000000, "chat": chat, "text": "ok"}}
    )
    assert answer.result.text == "ok"
    assert Message.model_validate(
        {"message_id": 3, "date": 1700000000, "chat": chat, "text": "direct"}
    ).text == "direct"
    print("ok")
    """
)


def test_models_build_on_first_use_and_validate_like_eagerly_built_ones() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert "aiogram.lazy_models_failed" not in done.stdout + done.stderr


def test_a_process_that_imported_aiogram_already_is_left_as_it_is() -> None:
    script = (
        "import aiogram.types\n"
        "from tgbot.aiogram_types import import_aiogram\n"
        "import_aiogram()\n"
        "assert aiogram.types.Message.__pydantic_complete__\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
