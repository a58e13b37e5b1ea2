"""Two-factor authentication (django-otp's TOTP devices) for the panel.

- The sign-in form asks for a code from an authenticator app; it is required from users who set
  one up, and a wrong code counts as a failed sign-in (lockout, audit).
- ``/<admin>/two-factor/`` lets every user set up or remove their authenticator.
- With ``TWO_FACTOR_REQUIRED_FOR_ADMINS``, members of the ``admins`` group and superusers reach no
  other panel page until their session is verified with a code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from tgadmin.panel import audit

ADMINS_GROUP = "admins"
DEVICE_NAME = "authenticator"

CODE_FIELD = forms.RegexField(
    regex=r"^\s*\d{6}\s*$",
    label=_("Authentication code"),
    max_length=12,
    widget=forms.TextInput(
        attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
    ),
)


def confirmed_device(user: AbstractBaseUser | AnonymousUser) -> TOTPDevice | None:
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("id").first()


def check_code(device: TOTPDevice, code: str) -> bool:
    """Verify ``code`` against ``device``, honouring django-otp's throttling after failures."""
    allowed, _extra = device.verify_is_allowed()
    return bool(allowed) and bool(device.verify_token(code.strip()))


def must_use_two_factor(user: Any) -> bool:
    if not settings.TWO_FACTOR_REQUIRED_FOR_ADMINS or not user.is_authenticated:
        return False
    return bool(user.is_superuser or user.groups.filter(name=ADMINS_GROUP).exists())


class TwoFactorLoginForm(AdminAuthenticationForm):
    """The admin's sign-in form plus the authenticator's code (needed once one is set up)."""

    otp_token = forms.CharField(
        label=_("Authentication code"),
        required=False,
        max_length=12,
        help_text=_("Only if you set up two-factor authentication."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
        ),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _(
            "Please enter the correct user name and password for a staff account, and the "
            "code from your authenticator app if you set one up. Note that both fields may be "
            "case-sensitive."
        ),
    }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user = self.get_user()
        device = confirmed_device(user)
        if device is None:
            return cleaned
        code = str(cleaned.get("otp_token") or "")
        if not code or not check_code(device, code):
            # Counted like a wrong password: axes locks out, the audit log records it.
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username()},
                request=self.request,
            )
            raise self.get_invalid_login_error()
        user.otp_device = device  # type: ignore[attr-defined]  # django-otp marks the session
        return cleaned


class CodeForm(forms.Form):
    otp_token = CODE_FIELD


def two_factor_view(request: HttpRequest) -> HttpResponse:
    """Set up, verify or remove the signed-in user's authenticator."""
    user = request.user
    device = confirmed_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["otp_token"]
        action = request.POST.get("action", "")
        if device is None:
            pending = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).first()
            if pending is not None and check_code(pending, code):
                pending.confirmed = True
                pending.save(update_fields=["confirmed"])
                otp_login(request, pending)
                audit.record_for(user, "two_factor_enabled", user)  # type: ignore[arg-type]
                messages.success(request, _("Two-factor authentication is on."))
                return redirect("admin:index")
        elif check_code(device, code):
            if action == "remove":
                device.delete()
                audit.record_for(user, "two_factor_disabled", user)  # type: ignore[arg-type]
                messages.success(request, _("Two-factor authentication is off."))
                return redirect("two_factor")
            otp_login(request, device)
            messages.success(request, _("This session is verified."))
            return redirect("admin:index")
        form.add_error("otp_token", _("That code is not right (or came too late). Try again."))
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": _("Two-factor authentication"),
        "form": form,
        "device": device,
        "verified": bool(getattr(user, "is_verified", lambda: False)()),
        "required": must_use_two_factor(user),
    }
    if device is None:
        pending, _created = TOTPDevice.objects.get_or_create(
            user_id=user.pk, confirmed=False, defaults={"name": DEVICE_NAME}
        )
        context["qr"] = segno.make(pending.config_url, error="m").svg_data_uri(scale=5)
        context["secret"] = _base32(pending)
    return TemplateResponse(request, "admin/two_factor.html", context)


def _base32(device: TOTPDevice) -> str:
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


class TwoFactorRequiredMiddleware:
    """With TWO_FACTOR_REQUIRED_FOR_ADMINS: admins see only the two-factor page until verified."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = request.user
        if (
            settings.TWO_FACTOR_REQUIRED_FOR_ADMINS
            and user.is_authenticated
            and request.path.startswith("/" + settings.ADMIN_URL_PREFIX)
            and not user.is_verified()  # type: ignore[attr-defined]
            and request.path not in self._open_paths()
            and must_use_two_factor(user)
        ):
            return HttpResponseRedirect(reverse("two_factor"))
        return self.get_response(request)

    @staticmethod
    def _open_paths() -> set[str]:
        return {reverse("two_factor"), reverse("admin:logout"), reverse("admin:jsi18n")}
