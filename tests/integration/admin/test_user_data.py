"""A Telegram user's data on request: export as JSON and erasure (panel actions and tgadmin
commands, audited), and message retention in batches."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tests.integration.admin import factories as f
from tests.integration.admin.conftest import SECRET_KEY
from tests.integration.admin.test_cli import run_tgadmin
from tgadmin.panel.models import (
    AdminAuditLog,
    Conversation,
    Message,
    OutboxMessage,
    TelegramUser,
)

URL = "admin:panel_telegramuser_changelist"


def person_with_history(text: str) -> TelegramUser:
    user = f.tg_user()
    conv = f.conversation(user)
    f.incoming(conv, text)
    f.incoming(conv, f"{text} (again)")
    OutboxMessage.objects.create(
        chat_id=user.pk,
        payload={"chat_id": user.pk, "text": f"reply to {text}"},
        idempotency_key=f"test-{user.pk}",
    )
    return user


def test_a_superuser_exports_one_users_data_as_json(db: None) -> None:
    ann, bob = person_with_history("Ann's parcel"), person_with_history("Bob's parcel")
    boss = f.staff(superuser=True)
    response = f.client_for(boss).post(
        reverse(URL), {"action": "export_data", "_selected_action": [ann.pk]}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="telegram-user-{ann.pk}.json"'
    )
    data = json.loads(response.content)
    assert data["profile"]["telegram_id"] == ann.pk
    (conversation,) = data["conversations"]
    assert [m["text"] for m in conversation["messages"]] == ["Ann's parcel", "Ann's parcel (again)"]
    assert [row["payload"]["text"] for row in data["outbox"]] == ["reply to Ann's parcel"]
    assert "Bob" not in response.content.decode()
    entry = AdminAuditLog.objects.get(action="user_exported")
    assert (entry.object_id, entry.admin_username) == (str(ann.pk), boss.username)
    assert bob.pk != ann.pk


def test_admins_and_operators_cannot_export_or_erase(db: None) -> None:
    ann = person_with_history("Ann's parcel")
    for role in ("admins", "operators"):
        client = f.client_for(f.staff(role))
        page = client.get(reverse(URL)).content.decode()
        assert "erase_data" not in page
        for action in ("export_data", "erase_data"):
            response = client.post(
                reverse(URL), {"action": action, "_selected_action": [ann.pk], "confirm": "yes"}
            )
            assert "Content-Disposition" not in response
    assert TelegramUser.objects.filter(pk=ann.pk).exists()
    assert not AdminAuditLog.objects.filter(action__startswith="user_").exists()


def test_a_superuser_erases_a_user_after_confirming(db: None) -> None:
    ann, bob = person_with_history("Ann's parcel"), person_with_history("Bob's parcel")
    client = f.client_for(f.staff(superuser=True))
    asked = client.post(reverse(URL), {"action": "erase_data", "_selected_action": [ann.pk]})
    assert asked.status_code == 200
    assert f"({ann.pk})" in asked.content.decode()
    assert TelegramUser.objects.filter(pk=ann.pk).exists()  # nothing yet

    done = client.post(
        reverse(URL), {"action": "erase_data", "_selected_action": [ann.pk], "confirm": "yes"}
    )
    assert done.status_code == 302
    assert not TelegramUser.objects.filter(pk=ann.pk).exists()
    assert not Conversation.objects.filter(user_id=ann.pk).exists()
    assert not Message.objects.filter(text__startswith="Ann").exists()
    assert not OutboxMessage.objects.filter(chat_id=ann.pk).exists()
    assert Message.objects.filter(conversation__user_id=bob.pk).count() == 2
    assert OutboxMessage.objects.filter(chat_id=bob.pk).count() == 1
    entry = AdminAuditLog.objects.get(action="user_erased")
    assert entry.object_id == str(ann.pk)
    assert entry.details == {"by": "panel", "conversations": 1, "messages": 2, "outbox": 1}


def test_the_commands_export_and_erase(db: None) -> None:
    ann = person_with_history("Ann's parcel")
    out = io.StringIO()
    call_command("export_user", str(ann.pk), stdout=out)
    assert json.loads(out.getvalue())["profile"]["telegram_id"] == ann.pk
    with pytest.raises(SystemExit) as refused:
        call_command("erase_user", str(ann.pk))
    assert refused.value.code == 2
    out = io.StringIO()
    call_command("erase_user", str(ann.pk), "--yes", stdout=out)
    assert out.getvalue().strip() == (
        f"erased Telegram user {ann.pk}: 1 conversations, 2 messages, 1 outbox"
    )
    assert not TelegramUser.objects.filter(pk=ann.pk).exists()
    actions = (
        AdminAuditLog.objects.filter(action__startswith="user_")
        .order_by("id")
        .values_list("action", "admin_username")
    )
    assert list(actions) == [
        ("user_exported", "tgadmin export-user"),
        ("user_erased", "tgadmin erase-user"),
    ]
    with pytest.raises(SystemExit) as unknown:
        call_command("erase_user", str(ann.pk), "--yes")
    assert unknown.value.code == 1


def test_the_console_script_knows_the_commands(admin_db_url: str) -> None:
    result = run_tgadmin("erase-user", "424242", DATABASE_URL=admin_db_url, SECRET_KEY=SECRET_KEY)
    assert result.returncode == 2
    assert result.stderr.strip() == "tgadmin erase-user: irreversible; add --yes to erase"


@override_settings(MESSAGE_RETENTION_DAYS=30)
def test_retention_deletes_old_messages_in_batches(db: None) -> None:
    conv = f.conversation(f.tg_user())
    old = [f.incoming(conv, f"old {i}") for i in range(3)]
    recent = f.incoming(conv, "recent")
    Message.objects.filter(pk__in=[m.pk for m in old]).update(
        created_at=timezone.now() - dt.timedelta(days=31)
    )
    Message.objects.filter(pk=recent.pk).update(created_at=timezone.now() - dt.timedelta(days=29))
    out = io.StringIO()
    call_command("purge_messages", "--batch-size", "2", stdout=out)
    assert out.getvalue().strip() == "deleted 3 message(s) older than 30 day(s)"
    assert list(Message.objects.filter(conversation=conv).values_list("text", flat=True)) == [
        "recent"
    ]


def test_retention_is_off_by_default(db: None) -> None:
    conv = f.conversation(f.tg_user())
    message = f.incoming(conv, "ancient")
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3650)
    )
    out = io.StringIO()
    call_command("purge_messages", stdout=out)
    assert "nothing" not in out.getvalue()
    assert "kept all" in out.getvalue()
    assert Message.objects.filter(pk=message.pk).exists()
