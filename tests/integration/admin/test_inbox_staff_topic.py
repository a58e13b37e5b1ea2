"""What operators do in the panel shows in the conversation's staff topic (docs/staff-topics.md):
an outbox row into the topic per action, sent by the dispatcher after the user's own rows."""

from __future__ import annotations

import json

from django.test import Client
from django.urls import reverse

from tests.integration.admin import factories as f
from tgadmin.panel.models import Conversation, Message, OutboxMessage

STAFF_CHAT = -1001234567890


def post(client: Client, name: str, conv: Conversation, **data: str) -> dict[str, object]:
    response = client.post(reverse(f"inbox:{name}", args=[conv.pk]), data, HTTP_X_INBOX="1")
    answer: dict[str, object] = json.loads(response.content)
    return answer


def topic_rows(conv: Conversation) -> list[tuple[str, dict[str, object]]]:
    rows = OutboxMessage.objects.filter(topic_conversation=conv).order_by("id")
    assert all(r.chat_id == STAFF_CHAT for r in rows)
    return [(r.method, r.payload) for r in rows]


def test_a_reply_note_and_close_in_the_panel_are_posted_into_the_topic(db: None) -> None:
    conv = f.conversation(f.tg_user(first_name="Ann"), staff_chat_id=STAFF_CHAT, staff_topic_id=7)
    question = Message.objects.create(conversation=conv, direction="in", text="where is it?")
    operator = f.staff("operators")
    client = f.client_for(operator)
    name = operator.get_username()
    page = client.get(reverse("inbox:conversation", args=[conv.pk])).content.decode()
    assert 'href="https://t.me/c/1234567890/7"' in page

    assert post(client, "reply", conv, text="Tomorrow.", seen=str(question.pk))["ok"] is True
    post(client, "reply", conv, text="Tomorrow.", seen=str(question.pk))  # the same reply again
    post(client, "note", conv, body="VIP customer")
    post(client, "close", conv)

    assert topic_rows(conv) == [
        ("sendMessage", {"text": f"Answered in the panel by {name}:\nTomorrow."}),
        ("sendMessage", {"text": f"Note by {name}:\nVIP customer"}),
        ("sendMessage", {"text": f"Closed in the panel by {name}."}),
        ("closeForumTopic", {}),
    ]
    # The user gets the reply once; nothing of the note.
    user_rows = OutboxMessage.objects.filter(chat_id=conv.user_id)
    assert [r.payload for r in user_rows] == [{"text": "Tomorrow."}]


def test_a_conversation_without_a_staff_group_gets_no_topic_rows(db: None) -> None:
    conv = f.conversation(f.tg_user(first_name="Ben"))
    question = Message.objects.create(conversation=conv, direction="in", text="hello")
    client = f.client_for(f.staff("operators"))
    assert post(client, "reply", conv, text="Hi!", seen=str(question.pk))["ok"] is True
    post(client, "note", conv, body="first contact")
    assert not OutboxMessage.objects.filter(topic_conversation__isnull=False).exists()
    assert OutboxMessage.objects.filter(chat_id=conv.user_id).count() == 1
