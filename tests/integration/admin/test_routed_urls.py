"""Every URL the admin's pages link to, load or post to reaches the admin through the rendered
Ingress of each overlay and of the chart, and through the chart's Gateway API HTTPRoute: the
pages are crawled as a signed-in superuser (and the login page as a visitor), and each same-site
URL is matched against the admin host's paths.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tests.integration.admin import factories as f
from tests.k8s.manifests import (
    TARGETS,
    Target,
    by_kind,
    httproute_routes,
    ingress_routes,
    is_routed,
    render,
)
from tests.k8s.tools import find_tools

# Attributes that make the browser request a URL: links, assets, forms, htmx.
URL_ATTR = re.compile(
    r"""\b(?:href|src|action|hx-get|hx-post|hx-put|hx-delete|sse-connect)\s*=\s*["']([^"']*)["']"""
)
MAX_PAGES = 120


def page_urls(html: str, base: str) -> set[str]:
    """Same-site paths a page refers to ("" action posts to the page itself)."""
    found = set()
    for raw in URL_ATTR.findall(html):
        if raw.startswith(("#", "javascript:", "mailto:", "data:")):
            continue
        parts = urlsplit(urljoin(f"http://testserver{base}", raw))
        if parts.netloc == "testserver":
            found.add(parts.path)
    return found


def crawl(client: Client, start: str) -> set[str]:
    """Every path the pages reachable from ``start`` refer to (links followed with GET only)."""
    seen: set[str] = set()
    referred: set[str] = {start}
    queue = deque([start])
    admin_root = reverse("admin:index")
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code in (301, 302):
            target = urlsplit(urljoin(f"http://testserver{path}", response["Location"]))
            if target.netloc == "testserver":
                referred.add(target.path)
                queue.append(target.path)
            continue
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for url in page_urls(response.content.decode(), path):
            referred.add(url)
            if url.startswith(admin_root) and not url.endswith(("/delete/", "/logout/")):
                queue.append(url)
    return referred


@pytest.fixture(scope="module")
def admin_ingress_routes() -> dict[str, list[tuple[str, str]]]:
    tools = find_tools()
    if isinstance(tools, str):
        pytest.fail(tools)
    routes = {}
    for target in TARGETS:
        (ingress,) = by_kind(render(tools, target), "Ingress")
        routes[target.id] = ingress_routes(ingress, "admin")
    # The Gateway API option routes the admin host with an HTTPRoute instead.
    gateway = Target("chart", "prod", ("gateway.enabled=true", "gateway.parentRefs[0].name=gw"))
    httproutes = by_kind(render(tools, gateway), "HTTPRoute")
    (route,) = [r for r in httproutes if r["metadata"]["name"].endswith("-admin")]
    routes[f"{gateway.id} HTTPRoute"] = httproute_routes(route)
    return routes


def test_every_url_the_admin_pages_use_is_routed(
    db: None, admin_ingress_routes: dict[str, list[tuple[str, str]]]
) -> None:
    user = f.tg_user()
    f.incoming(f.conversation(user), "hello")
    referred = crawl(Client(), "/") | crawl(f.client_for(f.staff(superuser=True)), "/")
    # The crawl reached the pages that matter, and what they post to.
    assert reverse("admin:panel_telegramuser_change", args=[user.pk]) in referred
    assert reverse("set_language") in referred
    assert any(url.startswith("/static/") for url in referred)

    for target_id, routes in admin_ingress_routes.items():
        unrouted = sorted(url for url in referred if not is_routed(url, routes))
        assert unrouted == [], f"{target_id}: not routed to the admin by the Ingress"


@pytest.mark.parametrize(
    ("url", "routed"),
    [("/static/admin/css/base.css", True), ("/adminx/", False), ("/metrics", False)],
)
def test_route_matching_follows_ingress_path_types(url: str, routed: bool) -> None:
    routes = [("/admin/", "Prefix"), ("/static/", "Prefix"), ("/", "Exact")]

    assert is_routed(url, routes) is routed
