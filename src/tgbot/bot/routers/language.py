"""/language: an inline keyboard; the choice is saved and confirmed in the new language."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from tgbot.bot.filters import PrivateChat
from tgbot.bot.work import UpdateWork
from tgbot.db.queries.effects import SetLanguage
from tgbot.db.queries.users import SeenUser
from tgbot.services.texts import TextService
from tgbot.texts_defaults import SUPPORTED_LANGUAGES

router = Router(name="language")

LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


class LanguageChoice(CallbackData, prefix="lang"):
    code: str


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code in SUPPORTED_LANGUAGES:
        builder.button(text=LANGUAGE_NAMES[code], callback_data=LanguageChoice(code=code))
    return builder.as_markup()


@router.message(Command("language"), PrivateChat())
async def ask_language(
    message: Message, user: SeenUser, work: UpdateWork, texts: TextService
) -> None:
    prompt = await texts.get("language_prompt", user.language)
    work.reply(message.answer(prompt, reply_markup=language_keyboard()))


@router.callback_query(LanguageChoice.filter(F.code.in_(SUPPORTED_LANGUAGES)))
async def choose_language(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    user: SeenUser,
    work: UpdateWork,
    texts: TextService,
) -> None:
    work.write(SetLanguage(telegram_id=user.telegram_id, language=callback_data.code))
    confirmation = await texts.get("language_saved", callback_data.code)
    work.reply(query.answer(confirmation))
    if isinstance(query.message, Message):
        work.reply(query.message.edit_text(confirmation))
