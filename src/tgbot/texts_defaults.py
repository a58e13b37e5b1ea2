"""Everything the bot says, per language: the languages, the built-in texts and the command menu.

The admin may override any text (bot_texts). Plain data with no imports: the admin panel reads it
too (its languages, the default beside an edit). Placeholders use str.format names: {name}.
Adding a language means a name here, a text for each key and a description for each command.
"""

# Code -> the language's name in itself (the /language keyboard, the panel's choices).
LANGUAGES = {"en": "English", "ru": "Русский"}
SUPPORTED_LANGUAGES = tuple(LANGUAGES)

# The command menu Telegram shows (setMyCommands, per language): command -> description.
COMMAND_MENU: dict[str, dict[str, str]] = {
    "start": {"en": "Start", "ru": "Начать"},
    "help": {"en": "What the bot can do", "ru": "Что умеет бот"},
    "language": {"en": "Choose the language", "ru": "Выбрать язык"},
    "subscribe": {"en": "Receive news", "ru": "Получать новости"},
    "unsubscribe": {"en": "Stop receiving news", "ru": "Отписаться от новостей"},
}

DEFAULT_TEXTS: dict[str, dict[str, str]] = {
    "start": {
        "en": "Hello, {name}! Write your question here and our team will answer. "
        "/help shows what I can do.",
        "ru": "Здравствуйте, {name}! Напишите свой вопрос здесь, и наша команда ответит. "
        "/help — что я умею.",
    },
    "help": {
        "en": "Send me a message and a person from our team will reply.\n"
        "/language — choose the language\n"
        "/subscribe — receive our news\n"
        "/unsubscribe — stop receiving news",
        "ru": "Напишите сообщение, и сотрудник нашей команды ответит.\n"
        "/language — выбрать язык\n"
        "/subscribe — получать новости\n"
        "/unsubscribe — отписаться от новостей",
    },
    "language_prompt": {
        "en": "Choose your language:",
        "ru": "Выберите язык:",
    },
    "language_saved": {
        "en": "Language set: English.",
        "ru": "Язык установлен: русский.",
    },
    "subscribed": {
        "en": "You are subscribed to our news. /unsubscribe to stop.",
        "ru": "Вы подписаны на новости. /unsubscribe — отписаться.",
    },
    "already_subscribed": {
        "en": "You are already subscribed.",
        "ru": "Вы уже подписаны.",
    },
    "unsubscribed": {
        "en": "You will no longer receive our news. /subscribe to come back.",
        "ru": "Вы больше не будете получать новости. /subscribe — подписаться снова.",
    },
    "already_unsubscribed": {
        "en": "You are not subscribed.",
        "ru": "Вы не подписаны.",
    },
    "message_received": {
        "en": "Thank you! Your message has been passed to our team.",
        "ru": "Спасибо! Ваше сообщение передано нашей команде.",
    },
    "conversation_closed": {
        "en": "Your question is closed. If you need anything else, just write here.",
        "ru": "Ваш вопрос закрыт. Если понадобится что-то ещё, просто напишите сюда.",
    },
    "throttled": {
        "en": "You are sending messages too fast. Please wait a moment.",
        "ru": "Вы отправляете сообщения слишком часто. Пожалуйста, подождите немного.",
    },
}
