"""The bot's built-in texts, per key and language. Admins override them in ``bot_texts``.

A plain dict with no imports: the admin panel reads it too (its image has no bot dependencies).
"""

DEFAULT_TEXTS: dict[str, dict[str, str]] = {
    "start": {
        "en": "Hello! Write your question here and our team will answer you.",
        "ru": "Здравствуйте! Напишите ваш вопрос здесь, и наша команда ответит вам.",
    },
    "help": {
        "en": "Send a message to reach support. /subscribe for news, /unsubscribe to stop, "
        "/language to change the language.",
        "ru": "Отправьте сообщение, чтобы связаться с поддержкой. /subscribe — подписаться на "
        "новости, /unsubscribe — отписаться, /language — сменить язык.",
    },
    "language_prompt": {
        "en": "Choose your language:",
        "ru": "Выберите язык:",
    },
    "language_saved": {
        "en": "Language saved: English.",
        "ru": "Язык сохранён: русский.",
    },
    "subscribed": {
        "en": "You are subscribed to our news.",
        "ru": "Вы подписаны на наши новости.",
    },
    "unsubscribed": {
        "en": "You are unsubscribed. /subscribe to come back.",
        "ru": "Вы отписались. /subscribe — чтобы вернуться.",
    },
    "message_received": {
        "en": "Thanks! We received your message and will reply soon.",
        "ru": "Спасибо! Мы получили ваше сообщение и скоро ответим.",
    },
    "throttled": {
        "en": "You are sending messages too fast. Please wait a moment.",
        "ru": "Вы отправляете сообщения слишком часто. Подождите немного.",
    },
    "blocked_notice": {
        "en": "You cannot send messages to support.",
        "ru": "Вы не можете отправлять сообщения в поддержку.",
    },
}
