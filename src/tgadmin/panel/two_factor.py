"""Two-factor authentication for the panel: django-otp's TOTP devices and security keys
(WebAuthn, :mod:`tgadmin.panel.security_keys`).

- The sign-in form asks for a code from an authenticator app; it is required from users who set
  one up and have no security key, and a wrong code counts as a failed sign-in (lockout, audit).
  A user with a security key may leave it empty: the password opens a session that reaches only
  ``/<admin>/two-factor/`` until the key (or a code) verifies it.
- ``/<admin>/two-factor/`` lets every user set up or remove their authenticator, and add (named)
  or remove security keys.
- With ``TWO_FACTOR_REQUIRED_FOR_ADMINS``, members of the ``admins`` group and superusers reach no
  other panel page until their session is verified with a code or a key.
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

from tgadmin.panel import audit, security_keys

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


def needs_verification(user: Any) -> bool:
    """A signed-in session still waiting for its second factor: the user has a device, or must
    have one, and the session is not verified with it yet."""
    if not user.is_authenticated or user.is_verified():
        return False
    return (
        must_use_two_factor(user)
        or confirmed_device(user) is not None
        or security_keys.has_key(user)
    )


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
        help_text=_(
            "Only if you set up an authenticator app. With a security key, leave it empty: "
            "the key comes next."
        ),
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
        code = str(cleaned.get("otp_token") or "")
        if not code and security_keys.has_key(user):
            return cleaned  # unverified: the key verifies the session on the two-factor page
        if device is None:
            return cleaned
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
    """Set up, verify or remove the signed-in user's authenticator and security keys."""
    user = request.user
    device = confirmed_device(user)
    verified = bool(getattr(user, "is_verified", lambda: False)())
    keys = security_keys.keys_of(user)
    # A new second factor needs a verified session once any exists: otherwise a password alone
    # would let anyone add (and verify with) a factor of their own (the library agrees for keys).
    may_add = verified or (device is None and not keys)
    action = request.POST.get("action", "")
    if request.method == "POST" and action in {"name_key", "cancel_key", "remove_key"}:
        return _security_key_action(request, action, verified=verified)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["otp_token"]
        if device is None and may_add:
            pending = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).first()
            if pending is not None and check_code(pending, code):
                pending.confirmed = True
                pending.save(update_fields=["confirmed"])
                otp_login(request, pending)
                audit.record_for(user, "two_factor_enabled", user)  # type: ignore[arg-type]
                messages.success(request, _("Two-factor authentication is on."))
                return redirect("admin:index")
        elif device is not None and check_code(device, code):
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
        "verified": verified,
        "required": must_use_two_factor(user),
        "keys": keys,
        "keys_available": bool(settings.WEBAUTHN_ORIGINS),
        "key_name": request.session.get(security_keys.KEY_NAME_SESSION, ""),
        "key_name_max": security_keys.KEY_NAME_MAX,
        "may_add": may_add,
    }
    if device is None and may_add:
        pending, _created = TOTPDevice.objects.get_or_create(
            user_id=user.pk, confirmed=False, defaults={"name": DEVICE_NAME}
        )
        context["qr"] = segno.make(pending.config_url, error="m").svg_data_uri(scale=5)
        context["secret"] = _base32(pending)
    return TemplateResponse(request, "admin/two_factor.html", context)


def _security_key_action(request: HttpRequest, action: str, *, verified: bool) -> HttpResponse:
    """Name a key about to be added, or remove one: both need a verified session, except the
    first second factor of a user who has none yet."""
    user = request.user
    if action == "cancel_key":
        request.session.pop(security_keys.KEY_NAME_SESSION, None)
        return redirect("two_factor")
    has_factor = confirmed_device(user) is not None or security_keys.has_key(user)
    if not verified and (has_factor or action == "remove_key"):
        messages.error(request, _("Verify this session first."))
        return redirect("two_factor")
    if action == "name_key":
        name = " ".join(request.POST.get("key_name", "").split())[: security_keys.KEY_NAME_MAX]
        if not name:
            messages.error(request, _("Give the key a name, so you can tell your keys apart."))
            return redirect("two_factor")
        request.session[security_keys.KEY_NAME_SESSION] = name
        return redirect(reverse("two_factor") + "#security-keys")
    removed = security_keys.remove_key(user, request.POST.get("key_id", ""))  # type: ignore[arg-type]
    if removed is None:
        messages.error(request, _("No such security key."))
    else:
        messages.success(request, _("Security key “%(name)s” removed.") % {"name": removed.name})
    return redirect("two_factor")


def _base32(device: TOTPDevice) -> str:
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


class TwoFactorRequiredMiddleware:
    """A session waiting for its second factor (see :func:`needs_verification`) sees only the
    two-factor page: users with a device until they verify, and, with
    TWO_FACTOR_REQUIRED_FOR_ADMINS, admins until they set one up and verify."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = request.user
        if (
            user.is_authenticated
            and request.path.startswith("/" + settings.ADMIN_URL_PREFIX)
            and not self._is_open(request.path)
            and needs_verification(user)
        ):
            return HttpResponseRedirect(reverse("two_factor"))
        return self.get_response(request)

    @staticmethod
    def _is_open(path: str) -> bool:
        """The two-factor page with its security-key endpoints, sign-out, the admin's JS catalog."""
        return path.startswith(reverse("two_factor")) or path in {
            reverse("admin:logout"),
            reverse("admin:jsi18n"),
        }
