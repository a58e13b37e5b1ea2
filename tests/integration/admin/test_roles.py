"""Roles: operators read and reply; admins also ban, broadcast and edit texts; login required."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.integration.admin import factories as f
from tgadmin.panel.models import AdminAuditLog, TelegramUser


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:index",
        "admin:panel_telegramuser_changelist",
        "admin:panel_conversation_changelist",
        "admin:panel_broadcast_changelist",
        "admin:panel_bottext_changelist",
        "admin:panel_adminauditlog_changelist",
        "admin:panel_broadcast_audience_count",
    ],
)
def test_login_required(db: None, url_name: str) -> None:
    response = Client().get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_operator_permissions(db: None) -> None:
    client = f.client_for(f.staff("operators"))
    for name in ("telegramuser", "conversation", "broadcast", "bottext"):
        assert client.get(reverse(f"admin:panel_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:panel_adminauditlog_changelist")).status_code == 403
    assert client.get(reverse("admin:panel_bottext_add")).status_code == 403
    assert client.get(reverse("admin:panel_broadcast_add")).status_code == 403

    user = f.tg_user()
    page = client.get(reverse("admin:panel_telegramuser_changelist")).content.decode()
    assert "Ban selected users" not in page
    client.post(
        reverse("admin:panel_telegramuser_changelist"),
        {"action": "ban", "_selected_action": [user.pk]},
    )
    user.refresh_from_db()
    assert user.is_banned is False


def test_admin_bans_and_unbans(db: None) -> None:
    admin_user = f.staff("admins")
    client = f.client_for(admin_user)
    spammer, other = f.tg_user(), f.tg_user()
    url = reverse("admin:panel_telegramuser_changelist")
    assert "Ban selected users" in client.get(url).content.decode()

    client.post(url, {"action": "ban", "_selected_action": [spammer.pk]})
    spammer.refresh_from_db()
    other.refresh_from_db()
    assert (spammer.is_banned, other.is_banned) == (True, False)
    entry = AdminAuditLog.objects.get(action="ban")
    assert entry.object_id == str(spammer.pk)
    assert entry.admin_user_id == admin_user.pk
    assert entry.admin_username == admin_user.username

    client.post(url, {"action": "unban", "_selected_action": [spammer.pk]})
    assert TelegramUser.objects.get(pk=spammer.pk).is_banned is False
    assert AdminAuditLog.objects.filter(action="unban").count() == 1


def test_audit_log_is_read_only_even_for_superusers(db: None) -> None:
    client = f.client_for(f.staff(superuser=True))
    entry = AdminAuditLog.objects.create(
        admin_username="x", action="ban", object_type="panel.telegramuser", object_id="1"
    )
    listing = client.get(reverse("admin:panel_adminauditlog_changelist"))
    assert listing.status_code == 200
    assert "panel.telegramuser" in listing.content.decode()
    assert client.get(reverse("admin:panel_adminauditlog_add")).status_code == 403
    change_url = reverse("admin:panel_adminauditlog_change", args=[entry.pk])
    client.post(change_url, {"action": "unban"})
    entry.refresh_from_db()
    assert entry.action == "ban"
    delete_url = reverse("admin:panel_adminauditlog_delete", args=[entry.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert AdminAuditLog.objects.filter(pk=entry.pk).exists()


def test_sign_in_is_audited(db: None) -> None:
    user = f.staff("operators")
    client = Client()
    client.post(reverse("admin:login"), {"username": user.username, "password": "pw"})
    client.post(reverse("admin:login"), {"username": user.username, "password": "wrong"})
    actions = list(
        AdminAuditLog.objects.filter(action__startswith="login")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["login", "login_failed"]
