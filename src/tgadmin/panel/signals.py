"""Sign-ins and sign-outs go to the audit log too."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from tgadmin.panel import audit


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(user, "login", object_type="auth.user", object_id=user.pk)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(user, "logout", object_type="auth.user", object_id=user.pk)


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    attempted = str(credentials.get("username", ""))
    audit.record(
        None, "login_failed", object_type="auth.user", object_id="", username=attempted or "?"
    )
