"""Prometheus metrics of the panel: request counts and latency per route, and ``/metrics``."""

from __future__ import annotations

import time
from collections.abc import Callable
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


def metrics_view(request: HttpRequest) -> HttpResponse:
    from tgadmin.panel.health import readiness_checks

    ready, _ = readiness_checks()
    READY.set(1 if ready else 0)
    registry = REGISTRY
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
