"""Sign-in lockout (django-axes): which address a request comes from, and what gets audited.

Every failed sign-in is counted by axes (its tables, visible under "Axes" to admins); the audit
log gets at most :data:`FAILED_LOGIN_AUDIT_PER_HOUR` ``login_failed`` rows an hour, none while
the name or address is locked out, and one ``login_locked_out`` row per lockout — so a password
sprayer cannot grow the insert-only audit log without bound.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tgadmin.panel import audit
from tgadmin.panel.models import AdminAuditLog

FAILED_LOGIN_AUDIT_PER_HOUR = 100


def client_ip(request: HttpRequest) -> str:
    """The connection's address. gunicorn rewrites it from X-Forwarded-For only for trusted
    proxies (FORWARDED_ALLOW_IPS), so a client cannot choose a new address with a header."""
    return str(request.META.get("REMOTE_ADDR") or "")


def lockout_response(request: HttpRequest, *_axes_arguments: Any) -> HttpResponse:
    """The lockout page (429) in the admin's look (axes' AXES_LOCKOUT_CALLABLE)."""
    context = {
        **admin.site.each_context(request),
        "title": _("Sign-in locked"),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_timedelta": settings.AXES_COOLOFF_TIME,
    }
    return render(request, "admin/lockout.html", context, status=429)


def _recent(action: str, since: timedelta, match: Q | None = None) -> int:
    rows = AdminAuditLog.objects.filter(action=action, created_at__gte=timezone.now() - since)
    return (rows.filter(match) if match is not None else rows).count()


def record_failed_login(request: HttpRequest | None, username: str) -> None:
    """One ``login_failed`` audit row, unless locked out or over the hourly bound."""
    if request is not None and getattr(request, "axes_locked_out", False):
        return
    if _recent("login_failed", timedelta(hours=1)) >= FAILED_LOGIN_AUDIT_PER_HOUR:
        return
    audit.record(
        None,
        "login_failed",
        object_type="auth.user",
        object_id="",
        username=username or "?",
        details={"ip": client_ip(request) if request is not None else ""},
    )


def record_lockout(request: HttpRequest | None, username: str, ip_address: str) -> None:
    """One ``login_locked_out`` row per lockout period for a name or an address (a sprayer from
    one address, or many addresses after one name, make one row)."""
    name = (username or "?")[:150]
    object_id = (ip_address or "")[:64]
    cool_off: timedelta = settings.AXES_COOLOFF_TIME
    if _recent("login_locked_out", cool_off, Q(admin_username=name) | Q(object_id=object_id)):
        return
    audit.record(
        None,
        "login_locked_out",
        object_type="axes.accessattempt",
        object_id=object_id,
        username=name,
        details={"failure_limit": settings.AXES_FAILURE_LIMIT},
    )
