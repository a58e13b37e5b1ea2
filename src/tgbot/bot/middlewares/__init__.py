"""Middlewares: the unit of work (commit, then replies), throttling, the handler's name."""
