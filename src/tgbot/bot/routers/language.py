"""/language: an inline keyboard; the choice is saved and confirmed in the new language."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from tgbot.bot.filters import PrivateChat
from tgbot.db.queries.effects import SetLanguage
from tgbot.services.texts import TextService
from tgbot.texts_defaults import LANGUAGES, SUPPORTED_LANGUAGES
from tgbot.updates.work import UpdateWork


class LanguageChoice(CallbackData, prefix="lang"):
    code: str


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code in SUPPORTED_LANGUAGES:
        builder.button(text=LANGUAGES[code], callback_data=LanguageChoice(code=code))
    return builder.as_markup()


async def ask_language(message: Message, work: UpdateWork) -> None:
    work.answer(message, "language_prompt", options={"reply_markup": language_keyboard()})


async def choose_language(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    work: UpdateWork,
    texts: TextService,
) -> None:
    work.write(SetLanguage(telegram_id=query.from_user.id, language=callback_data.code))
    # In the language chosen, whatever the user's was.
    confirmation = await texts.get("language_saved", callback_data.code)
    work.reply(query.answer(confirmation))
    if isinstance(query.message, Message):
        work.reply(query.message.edit_text(confirmation))


def create_router() -> Router:
    router = Router(name="language")
    router.message.register(ask_language, Command("language"), PrivateChat())
    router.callback_query.register(
        choose_language, LanguageChoice.filter(F.code.in_(SUPPORTED_LANGUAGES))
    )
    return router
