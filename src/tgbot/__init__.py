"""The bot service: webhook/polling bot, outbox dispatcher and a local Bot API sandbox."""

from tgbot.version import VERSION as __version__

__all__ = ["__version__"]
