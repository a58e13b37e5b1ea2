"""Prometheus metrics of the panel: request counts and latency per route, and ``/metrics``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from tgbot.version import VERSION

if settings.PROMETHEUS_MULTIPROC_DIR:  # gunicorn prepares it; other processes (commands) may not
    Path(settings.PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)

REQUESTS = Counter(
    "tgadmin_http_requests_total",
    "HTTP requests answered by the admin panel.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "tgadmin_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
READY = Gauge(
    "tgadmin_ready",
    "1 when /readyz would answer 200 (database, Django migrations, alembic head), else 0; "
    "evaluated on every /metrics request",
    multiprocess_mode="livemostrecent",
)
BUILD_INFO = Gauge(
    "tgadmin_build_info",
    "The release this process runs (always 1; the version is the label).",
    ["version"],
    multiprocess_mode="livemax",
)
BUILD_INFO.labels(VERSION).set(1)
FIRST_RESPONSE = Histogram(
    "tgadmin_inbox_first_response_seconds",
    "Time from a user's first unanswered message to an operator's reply.",
    buckets=(30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400),
)
METHODS = {"GET", "POST", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}


PROBE_ROUTES = {"/healthz": "healthz", "/readyz": "readyz", "/metrics": "metrics"}


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name:
        return str(match.view_name)
    return PROBE_ROUTES.get(request.path_info, "unmatched")


class MetricsMiddleware:
    """Counts and times every request; the label is the route name, never the raw path."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in METHODS else "other"
        route = _route(request)
        LATENCY.labels(method, route).observe(time.perf_counter() - started)
        REQUESTS.labels(method, route, str(response.status_code)).inc()
        return response


class InboxCollector:
    """The inbox's reply-time state, read from the database at each scrape (one indexed query):
    every worker and replica reports the same numbers, so alerts and panels take the max."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from tgadmin.panel.inbox.queries import waiting_summary

        waiting, oldest = waiting_summary()
        yield GaugeMetricFamily(
            "tgadmin_inbox_waiting_conversations",
            "Open conversations whose user waits for a reply.",
            value=waiting,
        )
        yield GaugeMetricFamily(
            "tgadmin_inbox_oldest_wait_seconds",
            "How long the longest-waiting user has waited for a reply (0 when nobody waits).",
            value=oldest,
        )
        yield GaugeMetricFamily(
            "tgadmin_inbox_reply_target_seconds",
            "The reply-time target (INBOX_REPLY_TARGET_SECONDS); alerts compare the oldest wait "
            "with it.",
            value=settings.INBOX_REPLY_TARGET_SECONDS,
        )


def metrics_view(request: HttpRequest) -> HttpResponse:
    from tgadmin.panel.health import readiness_checks

    ready, _ = readiness_checks()
    READY.set(1 if ready else 0)
    registry = REGISTRY
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    inbox = CollectorRegistry(auto_describe=False)
    if ready:
        inbox.register(InboxCollector())
    body = generate_latest(registry) + generate_latest(inbox)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
