"""Sign-ins, sign-outs, failed sign-ins and lockouts go to the audit log too."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from tgadmin.panel import audit, lockout


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    details = {"two_factor": True} if getattr(user, "otp_device", None) is not None else None
    audit.record(user, "login", object_type="auth.user", object_id=user.pk, details=details)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(user, "logout", object_type="auth.user", object_id=user.pk)


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    lockout.record_failed_login(request, str(credentials.get("username", "")))


@receiver(user_locked_out)
def _locked_out(sender: Any, request: Any, username: str, ip_address: str, **kwargs: Any) -> None:
    lockout.record_lockout(request, username, ip_address)
