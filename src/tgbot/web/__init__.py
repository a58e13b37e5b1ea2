"""The aiohttp application of `tgbot serve`: webhook, health, readiness, metrics."""
