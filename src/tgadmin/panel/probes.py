"""Probes and metrics answer before host validation and the TLS redirect.

Docker, Kubernetes and Prometheus reach the panel by its IP address over plain HTTP, a host name
that ``ALLOWED_HOSTS`` rightly refuses. These three read-only endpoints expose nothing private,
so this middleware (first in the chain) answers them itself.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tgadmin.panel.health import healthz, readyz
from tgadmin.panel.metrics import metrics_view

PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
    "/metrics": metrics_view,
}


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = PROBES.get(request.path_info)
        if view is not None:
            return view(request)
        return self.get_response(request)
