"""Security keys and passkeys (WebAuthn, django-otp-webauthn) as a second factor for the panel.

The library does the ceremonies (its views answer its vendored JavaScript, which talks to the
browser's ``navigator.credentials``); this module only adapts it to the panel:

- the key's name is the one the user typed on the two-factor page (kept in the session until the
  key is registered);
- registering a key and verifying a session with one land in the audit log; a refused assertion
  counts as a failed sign-in (lockout, audit), like a wrong authenticator code;
- the relying party is the panel's own origin, taken from ``CSRF_TRUSTED_ORIGINS`` (settings).
  Passwordless sign-in is off: a key is only ever the second factor after the password.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from tgadmin.panel import audit

KEY_NAME_SESSION = "tgadmin_security_key_name"
KEY_NAME_MAX = 64  # django-otp's Device.name is 64 characters


def keys_of(user: AbstractBaseUser | AnonymousUser) -> list[WebAuthnCredential]:
    if not user.is_authenticated:
        return []
    return list(WebAuthnCredential.objects.filter(user_id=user.pk, confirmed=True).order_by("id"))


def has_key(user: AbstractBaseUser | AnonymousUser) -> bool:
    return (
        user.is_authenticated
        and WebAuthnCredential.objects.filter(user_id=user.pk, confirmed=True).exists()
    )


def remove_key(user: AbstractBaseUser, key_id: str) -> WebAuthnCredential | None:
    """Delete one of ``user``'s keys (never another user's); audited. None if there is no such."""
    if not key_id.isdigit():
        return None
    key = WebAuthnCredential.objects.filter(user_id=user.pk, pk=key_id).first()
    if key is None:
        return None
    details = {"name": key.name, "key_id": key.pk}
    key.delete()
    audit.record_for(user, "security_key_removed", user, details)
    return key


class PanelWebAuthnHelper(WebAuthnHelper):  # type: ignore[misc]  # the library is untyped
    """The library's helper, naming a new key with the name the user gave it."""

    def create_credential(self, *args: Any, **kwargs: Any) -> WebAuthnCredential:
        device: WebAuthnCredential = super().create_credential(*args, **kwargs)
        name = str(self.request.session.get(KEY_NAME_SESSION) or "") or _("Security key")
        device.name = name[:KEY_NAME_MAX]
        return device


class CompleteRegistrationView(CompleteCredentialRegistrationView):  # type: ignore[misc]
    """The library's view; a registered key is audited (and its pending name forgotten)."""

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().post(*args, **kwargs)
        if response.status_code == 200:
            key = WebAuthnCredential.objects.get(pk=_response_id(response))
            self.request.session.pop(KEY_NAME_SESSION, None)
            messages.success(self.request, _("Security key “%(name)s” added.") % {"name": key.name})
            audit.record_for(
                self.request.user,
                "security_key_added",
                self.request.user,
                {"name": key.name, "key_id": key.pk},
            )
        return response


class CompleteAuthenticationView(CompleteCredentialAuthenticationView):  # type: ignore[misc]
    """The library's view: a key verifies the signed-in user's session.

    A refused assertion (wrong key, forged or replayed response) counts as a failed sign-in; a
    verification is audited.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().dispatch(request, *args, **kwargs)
        user = request.user
        if not user.is_authenticated:
            return response
        if response.status_code == 200:
            audit.record(
                user,
                "two_factor_verified",
                object_type="auth.user",
                object_id=user.pk,
                details={"security_key_id": _response_id(response)},
            )
        elif response.status_code >= 400:
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username()},
                request=request,
            )
        return response


def _response_id(response: HttpResponse) -> int:
    return int(json.loads(response.content)["id"])


# Under the two-factor page's path, so a session still waiting for its second factor reaches them.
# The names are the library's (its template tags reverse "otp_webauthn:...").
urlpatterns = [
    path(
        "registration/begin/",
        BeginCredentialRegistrationView.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        CompleteRegistrationView.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        BeginCredentialAuthenticationView.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        CompleteAuthenticationView.as_view(),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]
