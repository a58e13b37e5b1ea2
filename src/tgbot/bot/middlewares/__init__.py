"""Middlewares: database transaction + dedup record, user refresh and bans, throttling."""
