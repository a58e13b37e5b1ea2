"""Prometheus metrics of the bot service (``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from tgbot.build_info import BUILD_INFO as BUILD_INFO  # tgbot_build_info on this /metrics

UPDATES = Counter(
    "tgbot_updates_total",
    "Webhook/polling updates by kind and result",
    ["kind", "result"],
)
HANDLING_SECONDS = Histogram(
    "tgbot_update_handling_seconds",
    "Time from receiving an update to acknowledging it",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20),
)
DEDUP_HITS = Counter(
    "tgbot_dedup_hits_total",
    "Duplicate deliveries recognised, by where (redis fast path or database record)",
    ["source"],
)
IN_FLIGHT = Gauge("tgbot_updates_in_flight", "Updates being handled right now")
WEBHOOK_REJECTED = Counter(
    "tgbot_webhook_rejected_total", "Webhook requests refused before handling", ["reason"]
)
READY = Gauge(
    "tgbot_ready",
    "1 when the check /readyz makes passes (database at the expected alembic head, Redis "
    "reachable), else 0; evaluated on every /readyz and /metrics request",
    ["check"],
)
BATCH_SIZE = Histogram(
    "tgbot_batch_size",
    "Updates carried by one round trip of a batched step (admit, commit, finish)",
    ["step"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
