"""Conversations: read-only history, the reply box writing outbox rows, close and reopen."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from tests.integration.admin import factories as f
from tgadmin.panel.models import AdminAuditLog, Conversation, Message, OutboxMessage


def change_url(conv: Conversation) -> str:
    return reverse("admin:panel_conversation_change", args=[conv.pk])


def delivery_column(html: str) -> list[str]:
    """The history's delivery column, top to bottom."""
    return re.findall(r'field-delivery">\s*<p>([^<]*)</p>', html)


def post_reply(client: Client, conv: Conversation, text: str) -> object:
    page = client.get(change_url(conv))
    data = f.form_data(page.content.decode())
    data["reply"] = text
    return client.post(change_url(conv), data)


def test_operator_reply_queues_outbox_row_and_shows_status(db: None) -> None:
    user = f.tg_user(username="alice")
    conv = f.conversation(user)
    question = f.incoming(conv, "Where is my order?")
    operator = f.staff("operators")
    client = f.client_for(operator)

    page = client.get(change_url(conv))
    assert page.status_code == 200
    assert "Where is my order?" in page.content.decode()
    assert 'name="reply"' in page.content.decode()

    response = post_reply(client, conv, "It ships tomorrow.")
    assert response.status_code == 302

    reply = Message.objects.get(conversation=conv, direction="out")
    assert reply.text == "It ships tomorrow."
    assert reply.author_admin_id == operator.pk
    assert reply.author_admin_username == operator.username
    row = OutboxMessage.objects.get(message=reply)
    assert row.idempotency_key == f"reply:{reply.pk}"
    assert row.method == "sendMessage"
    assert row.payload == {"text": "It ships tomorrow."}
    assert row.chat_id == user.telegram_id
    assert row.status == "pending"
    assert row.broadcast_id is None
    assert Message.objects.get(pk=question.pk).direction == "in"
    assert AdminAuditLog.objects.filter(
        action="reply", object_type="panel.conversation", object_id=str(conv.pk)
    ).exists()

    history = client.get(change_url(conv)).content.decode()
    assert "It ships tomorrow." in history
    assert delivery_column(history) == ["—", "pending"]  # the question, then the reply

    OutboxMessage.objects.filter(pk=row.pk).update(status="sent")  # what the dispatcher does
    history = client.get(change_url(conv)).content.decode()
    assert delivery_column(history) == ["—", "sent"]


def test_reply_to_user_who_blocked_the_bot_is_refused(db: None) -> None:
    conv = f.conversation(f.tg_user(is_blocked=True))
    response = post_reply(f.client_for(f.staff("operators")), conv, "hello")
    assert response.status_code == 200
    assert "blocked the bot" in response.content.decode()
    assert not OutboxMessage.objects.exists()
    assert not Message.objects.filter(direction="out").exists()


def test_history_is_read_only_and_reply_box_needs_permission(db: None) -> None:
    conv = f.conversation()
    f.incoming(conv, "hi")
    viewer = f.staff()
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_conversation"))
    client = f.client_for(viewer)
    page = client.get(change_url(conv)).content.decode()
    assert "hi" in page
    assert 'name="reply"' not in page
    assert 'name="messages-0-text"' not in page  # the inline is not editable
    response = client.post(change_url(conv), {"reply": "sneaky"})
    assert response.status_code == 403
    assert not OutboxMessage.objects.exists()


def test_close_and_reopen(db: None) -> None:
    user = f.tg_user()
    old = f.conversation(user, status="closed")
    current = f.conversation(user)
    client = f.client_for(f.staff("operators"))
    changelist = reverse("admin:panel_conversation_changelist")

    client.post(changelist, {"action": "reopen", "_selected_action": [old.pk]})
    old.refresh_from_db()
    assert old.status == "closed"  # the user already has an open conversation

    client.post(changelist, {"action": "close", "_selected_action": [current.pk]})
    current.refresh_from_db()
    assert current.status == "closed"
    assert current.closed_at is not None

    client.post(changelist, {"action": "reopen", "_selected_action": [old.pk]})
    old.refresh_from_db()
    assert old.status == "open"
    assert old.closed_at is None
    actions = set(AdminAuditLog.objects.values_list("action", flat=True))
    assert {"close", "reopen"} <= actions


def test_conversation_list_latest_first_and_filtered_by_user(db: None) -> None:
    alice, bob = f.tg_user(username="alice_x"), f.tg_user(username="bob_x")
    f.conversation(alice)
    f.conversation(bob)
    client = f.client_for(f.staff("operators"))
    url = reverse("admin:panel_conversation_changelist")
    page = client.get(url).content.decode()
    assert page.index("@bob_x") < page.index("@alice_x")
    only_alice = client.get(url, {"user": alice.telegram_id}).content.decode()
    assert "@alice_x" in only_alice
    assert "@bob_x" not in only_alice
    searched = client.get(url, {"q": "@BOB_X"}).content.decode()
    assert "@bob_x" in searched
    assert "@alice_x" not in searched


def test_long_history_shows_the_newest_messages(db: None) -> None:
    import datetime as dt

    from django.utils import timezone

    from tgadmin.panel.admin.conversations import HISTORY_LIMIT

    conv = f.conversation()
    start = timezone.now() - dt.timedelta(days=1)
    Message.objects.bulk_create(
        Message(
            conversation=conv,
            direction="in",
            text=f"note-{i:03d}",
            created_at=start + dt.timedelta(seconds=i),
        )
        for i in range(HISTORY_LIMIT + 5)
    )
    page = f.client_for(f.staff("operators")).get(change_url(conv)).content.decode()
    shown = re.findall(r"note-(\d{3})", page)
    assert len(shown) == HISTORY_LIMIT
    assert shown[0] == "005"
    assert shown[-1] == f"{HISTORY_LIMIT + 4:03d}"


def test_a_reply_longer_than_telegram_accepts_is_refused(db: None) -> None:
    conv = f.conversation(f.tg_user(username="long"))
    client = f.client_for(f.staff("operators"))
    # 2,049 characters, 4,098 as Telegram counts them (each emoji is two UTF-16 units).
    response = post_reply(client, conv, "😀" * 2049)
    assert response.status_code == 200  # the form again, with the reason
    page = response.content.decode()  # type: ignore[attr-defined]
    assert "Telegram accepts at most 4096 characters; this text has 4098." in page
    assert not Message.objects.filter(conversation=conv, direction="out").exists()
