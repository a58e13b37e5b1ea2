"""Per-update facts the middlewares learn and the webhook reports (metrics, logs)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class UpdateContext:
    duplicate: bool = False
    ignored: str | None = None  # why no handler ran: "banned", "throttled", ...
    handler: str | None = None
    committed: bool = False  # the update's effects are in: it must not be answered 503
