"""A local emulator of the Telegram Bot API for offline development and real-HTTP tests.

It shares no code with the bot: plain dicts and pydantic only (see docs/sandbox.md).
"""
