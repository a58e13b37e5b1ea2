"""The panel app: unmanaged models of the bot's tables, their admin, health and metrics."""
