"""The bot service: webhook/polling bot, outbox dispatcher and a local Bot API sandbox."""

__version__ = "0.1.0"
