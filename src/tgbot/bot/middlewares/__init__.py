"""Middlewares: the update's transaction (dedup record, user, bans), throttling, reply errors."""
