"""Reliable delivery: the outbox, its dispatcher, the shared rate limiter and broadcasts.

Writers call :func:`enqueue`; only the dispatcher (``tgbot dispatch``) calls Telegram.
"""

from tgbot.delivery.enqueue import enqueue

__all__ = ["enqueue"]
