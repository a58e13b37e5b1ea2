"""Sign-in hardening: lockout per user name and per address, bounded audit of failures, password
rules, idle sessions, the Content-Security-Policy, audited account changes, two factors."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from tests.integration.admin import factories as f
from tgadmin.panel import lockout
from tgadmin.panel.models import AdminAuditLog

LIMIT = 5  # LOGIN_FAILURE_LIMIT's default


def sign_in(address: str, username: str, password: str, code: str = "") -> int:
    response = Client(REMOTE_ADDR=address).post(
        reverse("admin:login"),
        {"username": username, "password": password, "otp_token": code},
    )
    return response.status_code


def actions(name: str) -> list[AdminAuditLog]:
    return list(AdminAuditLog.objects.filter(action=name).order_by("id"))


def test_a_user_name_is_locked_out_from_every_address(db: None) -> None:
    user = f.staff("operators")
    for attempt in range(LIMIT - 1):
        assert sign_in(f"10.0.0.{attempt}", user.username, "wrong") == 200
    assert sign_in("10.0.0.9", user.username, "wrong") == 429  # the LIMIT-th failure locks
    # The right password, from an address never seen before: still locked.
    response = Client(REMOTE_ADDR="10.9.9.9").post(
        reverse("admin:login"), {"username": user.username, "password": "pw"}
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins (5)" in response.content.decode()
    assert "_auth_user_id" not in response.client.session
    # Another user from the same addresses is not affected.
    other = f.staff("operators")
    assert sign_in("10.0.0.1", other.username, "pw") == 302

    # An admin lifts the lock under "Access attempts" (axes' admin).
    AccessAttempt.objects.filter(username=user.username).delete()
    assert sign_in("10.9.9.9", user.username, "pw") == 302


def test_an_address_is_locked_out_for_every_user_name(db: None) -> None:
    user = f.staff("operators")
    for attempt in range(LIMIT - 1):
        assert sign_in("192.0.2.7", f"guess{attempt}", "wrong") == 200
    assert sign_in("192.0.2.7", "guess-last", "wrong") == 429
    assert sign_in("192.0.2.7", user.username, "pw") == 429
    assert sign_in("192.0.2.8", user.username, "pw") == 302
    # A forged X-Forwarded-For does not buy a fresh address.
    forged = Client(REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="203.0.113.1")
    response = forged.post(reverse("admin:login"), {"username": user.username, "password": "pw"})
    assert response.status_code == 429


def test_failed_sign_ins_are_audited_within_a_bound(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lockout, "FAILED_LOGIN_AUDIT_PER_HOUR", 3)
    user = f.staff("operators")
    for attempt in range(LIMIT + 4):  # locked out after LIMIT, and keeps trying
        sign_in(f"198.51.100.{attempt}", user.username, "wrong")
    for attempt in range(4):  # a sprayer: new names, new addresses
        sign_in(f"203.0.113.{attempt}", f"spray{attempt}", "wrong")
    failed = actions("login_failed")
    assert [row.admin_username for row in failed] == [user.username] * 3
    assert failed[0].details == {"ip": "198.51.100.0"}
    locked = actions("login_locked_out")
    assert [(row.admin_username, row.object_type) for row in locked] == [
        (user.username, "axes.accessattempt")
    ]


def test_lockouts_are_visible_to_admins_not_operators(db: None) -> None:
    sign_in("10.1.1.1", "someone", "wrong")
    url = reverse("admin:axes_accessattempt_changelist")
    page = f.client_for(f.staff("admins")).get(url)
    assert page.status_code == 200
    assert "someone" in page.content.decode()
    assert f.client_for(f.staff("operators")).get(url).status_code == 403


def test_passwords_need_twelve_characters(db: None) -> None:
    client = f.client_for(f.staff(superuser=True))
    url = reverse("admin:auth_user_add")
    short = client.post(
        url,
        {
            "username": "newbie",
            "password1": "Kx9-short-1",
            "password2": "Kx9-short-1",
            "usable_password": "true",
        },
    )
    assert short.status_code == 200
    assert "at least 12 characters" in short.content.decode()
    assert not User.objects.filter(username="newbie").exists()
    ok = client.post(
        url,
        {
            "username": "newbie",
            "password1": "Kx9-long-enough",
            "password2": "Kx9-long-enough",
            "usable_password": "true",
        },
    )
    assert ok.status_code == 302
    assert User.objects.filter(username="newbie").exists()


def test_a_session_expires_after_inactivity_and_each_request_extends_it(db: None) -> None:
    client = f.client_for(f.staff("operators"))
    key = client.session.session_key
    before = timezone.now()
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    expiry = Session.objects.get(session_key=key).expire_date
    assert (
        timedelta(hours=8) - timedelta(minutes=1)
        <= expiry - before
        <= timedelta(hours=8, minutes=1)
    )
    assert response.cookies["sessionid"]["max-age"] == 8 * 3600
    # Idle past the timeout: the session is gone, the next page asks to sign in again.
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    again = client.get(reverse("admin:index"))
    assert again.status_code == 302
    assert again["Location"].startswith(reverse("admin:login"))


def test_content_security_policy_forbids_inline_script(db: None) -> None:
    client = f.client_for(f.staff(superuser=True))
    for url in (reverse("admin:index"), reverse("admin:panel_telegramuser_changelist")):
        response = client.get(url)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        html = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"\son[a-z]+=", html), url
        assert 'style="' not in html, url
    login = Client().get(reverse("admin:login"))
    assert "script-src 'self'" in login["Content-Security-Policy"]


def test_account_changes_land_in_the_audit_log(db: None) -> None:
    boss = f.staff(superuser=True)
    client = f.client_for(boss)
    client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "recruit",
            "password1": "Kx9-long-enough",
            "password2": "Kx9-long-enough",
            "usable_password": "true",
        },
    )
    recruit = User.objects.get(username="recruit")
    admins = Group.objects.get(name="admins")
    permissions = list(admins.permissions.values_list("pk", flat=True))[:2]
    client.post(
        reverse("admin:auth_group_change", args=[admins.pk]),
        {"name": "admins", "permissions": permissions},
    )
    client.post(reverse("admin:auth_user_delete", args=[recruit.pk]), {"post": "yes"})

    added, changed, deleted = (
        actions("account_added"),
        actions("account_changed"),
        actions("account_deleted"),
    )
    assert [(a.object_type, a.object_id, a.admin_username) for a in added] == [
        ("auth.user", str(recruit.pk), boss.username)
    ]
    assert added[0].details["is_superuser"] is False
    assert [(c.object_type, c.details["name"]) for c in changed] == [("auth.group", "admins")]
    assert len(changed[0].details["permissions"]) == 2
    assert [(d.object_type, d.details["username"]) for d in deleted] == [("auth.user", "recruit")]


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_two_factor_sign_in(db: None) -> None:
    user = f.staff("operators")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    assert sign_in("10.2.0.1", user.username, "pw") == 200  # the code is missing
    client = Client(REMOTE_ADDR="10.2.0.1")
    response = client.post(
        reverse("admin:login"),
        {"username": user.username, "password": "pw", "otp_token": current_code(device)},
    )
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    assert actions("login")[-1].details == {"two_factor": True}
    # A wrong code counts as a failed sign-in.
    assert sign_in("10.2.0.2", user.username, "pw", code="000000") == 200
    attempt = AccessAttempt.objects.get(username=user.username, ip_address="10.2.0.2")
    assert attempt.failures_since_start == 1


@override_settings(TWO_FACTOR_REQUIRED_FOR_ADMINS=True)
def test_admins_must_set_up_two_factor_when_required(db: None) -> None:
    operator = f.client_for(f.staff("operators"))
    assert operator.get(reverse("admin:index")).status_code == 200  # not required of operators

    admin_user = f.staff("admins")
    client = f.client_for(admin_user)
    blocked = client.get(reverse("admin:panel_telegramuser_changelist"))
    assert blocked.status_code == 302
    assert blocked["Location"] == reverse("two_factor")

    page = client.get(reverse("two_factor"))
    assert page.status_code == 200
    assert "data:image/svg+xml" in page.content.decode()
    pending = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    wrong = client.post(reverse("two_factor"), {"otp_token": "000000", "action": "enable"})
    assert "That code is not right" in wrong.content.decode()
    pending.refresh_from_db()
    pending.throttling_failure_count = 0  # the test does not wait for the throttle
    pending.throttling_failure_timestamp = None
    pending.save()
    done = client.post(
        reverse("two_factor"), {"otp_token": current_code(pending), "action": "enable"}
    )
    assert done.status_code == 302
    assert TOTPDevice.objects.get(pk=pending.pk).confirmed is True
    assert client.get(reverse("admin:panel_telegramuser_changelist")).status_code == 200
    assert [row.admin_username for row in actions("two_factor_enabled")] == [admin_user.username]


def security_key(user: User, name: str = "blue key") -> WebAuthnCredential:
    """A registered key as the library stores it (the browser test registers real ones)."""
    credential_id = secrets.token_bytes(32)
    return WebAuthnCredential.objects.create(
        user=user,
        name=name,
        credential_id=credential_id,
        public_key=secrets.token_bytes(77),
        sign_count=0,
        confirmed=True,
    )


KEYS_ON = override_settings(
    WEBAUTHN_ORIGINS=["https://testserver"],
    OTP_WEBAUTHN_ALLOWED_ORIGINS=["https://testserver"],
    OTP_WEBAUTHN_RP_ID="testserver",
)


@KEYS_ON
def test_a_key_holder_signs_in_with_the_password_then_verifies(db: None) -> None:
    """No enforcement needed: whoever has a second factor must use it. The password alone opens
    only the two-factor page; a code (with both kinds) verifies at once."""
    user = f.staff("operators")
    security_key(user)
    client = Client(REMOTE_ADDR="10.3.0.1")
    signed_in = client.post(reverse("admin:login"), {"username": user.username, "password": "pw"})
    assert signed_in.status_code == 302
    blocked = client.get(reverse("admin:panel_telegramuser_changelist"))
    assert blocked["Location"] == reverse("two_factor")
    page = client.get(reverse("two_factor")).content.decode()
    assert 'id="passkey-verification-placeholder"' in page
    assert "otp_webauthn_auth.js" in page
    assert client.get(reverse("otp_webauthn:js-i18n-catalog")).status_code == 200  # reachable

    # With an authenticator as well, the code at sign-in verifies the session directly.
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    both = Client(REMOTE_ADDR="10.3.0.2")
    response = both.post(
        reverse("admin:login"),
        {"username": user.username, "password": "pw", "otp_token": current_code(device)},
    )
    assert response.status_code == 302
    assert both.get(reverse("admin:panel_telegramuser_changelist")).status_code == 200


@KEYS_ON
def test_an_unverified_session_cannot_add_or_remove_a_factor(db: None) -> None:
    """The password alone must not buy a factor of the attacker's own, nor remove the owner's."""
    user = f.staff("operators")
    key = security_key(user)
    client = Client(REMOTE_ADDR="10.3.0.3")
    client.post(reverse("admin:login"), {"username": user.username, "password": "pw"})

    page = client.get(reverse("two_factor")).content.decode()
    assert "data:image/svg+xml" not in page  # no authenticator set-up offered
    assert not TOTPDevice.objects.filter(user=user).exists()
    named = client.post(reverse("two_factor"), {"action": "name_key", "key_name": "mine"})
    assert "Verify this session first." in client.get(named["Location"]).content.decode()
    assert client.post(reverse("two_factor"), {"action": "remove_key", "key_id": str(key.pk)})
    assert WebAuthnCredential.objects.filter(pk=key.pk).exists()
    # The library's registration refuses too (the session is not verified).
    begin = client.post(reverse("otp_webauthn:credential-registration-begin"))
    assert begin.status_code == 403
    assert actions("security_key_removed") == []


@KEYS_ON
def test_a_verified_user_removes_only_their_own_keys(db: None) -> None:
    owner, other = f.staff("operators"), f.staff("operators")
    mine, theirs = security_key(owner, "mine"), security_key(other, "theirs")
    client = f.client_for(owner)
    session = client.session
    session["otp_device_id"] = mine.persistent_id  # verified with the key (django_otp.login)
    session.save()
    client.post(reverse("two_factor"), {"action": "remove_key", "key_id": str(theirs.pk)})
    assert WebAuthnCredential.objects.filter(pk=theirs.pk).exists()
    removed = client.post(reverse("two_factor"), {"action": "remove_key", "key_id": str(mine.pk)})
    assert removed.status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=mine.pk).exists()
    # Naming a new key, then thinking better of it.
    client.post(reverse("two_factor"), {"action": "name_key", "key_name": "  spare   key "})
    assert "add it as “spare key”" in client.get(reverse("two_factor")).content.decode()
    client.post(reverse("two_factor"), {"action": "cancel_key"})
    assert 'id="id_key_name"' in client.get(reverse("two_factor")).content.decode()
    [row] = actions("security_key_removed")
    assert (row.admin_username, row.details) == (
        owner.username,
        {"name": "mine", "key_id": mine.pk},
    )


@override_settings(WEBAUTHN_ORIGINS=[])
def test_without_a_usable_origin_keys_are_not_offered(db: None) -> None:
    page = f.client_for(f.staff("operators")).get(reverse("two_factor")).content.decode()
    assert "own https:// address in CSRF_TRUSTED_ORIGINS" in page
    assert "otp_webauthn" not in page
    assert "data:image/svg+xml" in page  # the authenticator app still is
