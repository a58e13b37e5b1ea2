"""Prometheus metrics of the panel: request counts and latency per route, and ``/metrics``."""

from __future__ import annotations

import time
from collections.abc import Callable

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


def metrics_view(request: HttpRequest) -> HttpResponse:
    from tgadmin.panel.health import readiness_checks

    ready, _ = readiness_checks()
    READY.set(1 if ready else 0)
    registry = REGISTRY
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
