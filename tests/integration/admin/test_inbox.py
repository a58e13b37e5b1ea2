"""The operator inbox over the Django test client: the list's order, filters and search, the
conversation page, replies (once), notes, assignment, close/reopen, and who may do what."""

from __future__ import annotations

import datetime as dt
import json
import re

from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.integration.admin import factories as f
from tgadmin.panel.models import (
    AdminAuditLog,
    CannedAnswer,
    Conversation,
    ConversationNote,
    Message,
    OutboxMessage,
    UserTag,
)

SCRIPT = {"HTTP_X_INBOX": "1"}


def at(minutes_ago: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=minutes_ago)


def said(conv: Conversation, text: str, minutes_ago: int, direction: str = "in") -> Message:
    return Message.objects.create(
        conversation=conv, direction=direction, text=text, created_at=at(minutes_ago)
    )


def listed(client: Client, **params: str) -> list[str]:
    """The conversation ids of the inbox list, top to bottom."""
    response = client.get(reverse("inbox:list"), params)
    assert response.status_code == 200
    return re.findall(r'data-conversation="(\d+)"', response.content.decode())


def post(client: Client, name: str, conv: Conversation, **data: str) -> dict[str, object]:
    response = client.post(reverse(f"inbox:{name}", args=[conv.pk]), data, **SCRIPT)
    answer: dict[str, object] = json.loads(response.content)
    return answer


def test_waiting_first_oldest_wait_on_top_then_the_answered(db: None) -> None:
    answered = f.conversation(f.tg_user(first_name="Ann"))
    said(answered, "thanks", 30)
    said(answered, "You are welcome", 29, "out")
    recent = f.conversation(f.tg_user(first_name="Ben"))
    said(recent, "hello?", 2)
    oldest = f.conversation(f.tg_user(first_name="Cid"))
    said(oldest, "my parcel", 50)
    said(oldest, "still nothing", 10)
    client = f.client_for(f.staff("operators"))

    assert listed(client) == [str(oldest.pk), str(recent.pk)]
    assert listed(client, filter="open") == [str(oldest.pk), str(recent.pk), str(answered.pk)]
    page = client.get(reverse("inbox:index")).content.decode()
    assert "<title>(2) Inbox" in page
    assert "still nothing" in page  # the preview is the last message
    row = re.search(rf'data-conversation="{oldest.pk}".*?</tr>', page, re.S)
    assert row is not None
    assert '<span class="inbox-badge">2</span>' in row.group(0)


def test_filters_mine_unassigned_closed(db: None) -> None:
    me = f.staff("operators")
    mine = f.conversation(assigned_admin=me)
    said(mine, "a", 5)
    other = f.conversation()
    said(other, "b", 4)
    closed = f.conversation(status="closed", closed_at=timezone.now())
    client = f.client_for(me)
    assert listed(client, filter="mine") == [str(mine.pk)]
    assert listed(client, filter="unassigned") == [str(other.pk)]
    assert listed(client, filter="closed") == [str(closed.pk)]


def test_search_by_name_username_id_and_text(db: None) -> None:
    olga = f.conversation(f.tg_user(first_name="Olga", username="olga_k", telegram_id=77012))
    said(olga, "The invoice number is 4411", 5)
    other = f.conversation(f.tg_user(first_name="Petr", username="petr"))
    said(other, "hello", 3)
    client = f.client_for(f.staff("operators"))
    for query in ("olg", "@olga_k", "77012", "invoice number"):
        assert listed(client, filter="open", q=query) == [str(olga.pk)], query
    assert listed(client, filter="open", q="nobody-has-this") == []


def test_short_search_matches_names_but_not_message_text(db: None) -> None:
    """Below three characters only names are searched: a trigram index cannot narrow a shorter
    substring of ten million messages (docs/admin.md)."""
    xu = f.conversation(f.tg_user(first_name="Xu", username="xu_l"))
    said(xu, "hello", 3)
    talker = f.conversation(f.tg_user(first_name="Petr", username="petr"))
    said(talker, "my code is qz7", 2)
    client = f.client_for(f.staff("operators"))
    assert listed(client, filter="open", q="Xu") == [str(xu.pk)]
    assert listed(client, filter="open", q="qz") == []
    assert listed(client, filter="open", q="qz7") == [str(talker.pk)]


def test_reply_is_queued_once_and_answers_the_wait(db: None) -> None:
    conv = f.conversation(f.tg_user(first_name="Ann"))
    question = said(conv, "where is it?", 7)
    operator = f.staff("operators")
    client = f.client_for(operator)
    page = client.get(reverse("inbox:conversation", args=[conv.pk])).content.decode()
    assert "where is it?" in page
    assert f'name="seen" value="{question.pk}"' in page

    first = post(client, "reply", conv, text="Tomorrow.", seen=str(question.pk))
    second = post(client, "reply", conv, text="Tomorrow.", seen=str(question.pk))
    assert first["ok"] is True
    assert first["duplicate"] is False
    assert second["ok"] is True
    assert second["duplicate"] is True
    assert second["message_id"] == first["message_id"]
    rows = OutboxMessage.objects.filter(chat_id=conv.user_id)
    assert [(r.payload, r.status) for r in rows] == [({"text": "Tomorrow."}, "pending")]
    conv.refresh_from_db()
    assert (conv.waiting_since, conv.unread_count) == (None, 0)
    assert AdminAuditLog.objects.filter(action="reply", object_id=str(conv.pk)).count() == 1

    # The same words later, after the first reply was seen, are a new reply.
    again = post(client, "reply", conv, text="Tomorrow.", seen=str(first["message_id"]))
    assert again["duplicate"] is False
    assert OutboxMessage.objects.filter(chat_id=conv.user_id).count() == 2


def test_bad_replies_are_refused_with_a_reason(db: None) -> None:
    conv = f.conversation()
    said(conv, "hi", 1)
    client = f.client_for(f.staff("operators"))
    empty = post(client, "reply", conv, text="   ", seen="0")
    assert empty == {"ok": False, "error": "Write a reply first."}
    long = post(client, "reply", conv, text="x" * 4097, seen="0")
    assert long["ok"] is False
    assert "at most 4096 characters (it has 4097)" in str(long["error"])
    assert not OutboxMessage.objects.exists()
    Conversation.objects.filter(pk=conv.pk).update(status="closed")
    closed = post(client, "reply", conv, text="late", seen="0")
    assert closed == {"ok": False, "error": "The conversation is closed: reopen it first."}


def test_delivery_status_in_the_thread(db: None) -> None:
    conv = f.conversation()
    said(conv, "hi", 3)
    client = f.client_for(f.staff("operators"))
    sent = post(client, "reply", conv, text="one", seen="0")
    failed = post(client, "reply", conv, text="two", seen="0")
    OutboxMessage.objects.filter(message_id=sent["message_id"]).update(status="sent")
    OutboxMessage.objects.filter(message_id=failed["message_id"]).update(
        status="failed", last_error_code=403, last_error="Forbidden: bot was blocked by the user"
    )
    thread = client.get(reverse("inbox:thread", args=[conv.pk])).content.decode()
    statuses = [
        " ".join(s.split()) for s in re.findall(r'class="delivery[^"]*">(.*?)</div>', thread, re.S)
    ]
    assert statuses == ["sent", "blocked: Forbidden: bot was blocked by the user"]


def test_notes_are_internal_and_audited(db: None) -> None:
    conv = f.conversation()
    said(conv, "hi", 3)
    client = f.client_for(f.staff("operators"))
    assert post(client, "note", conv, body="")["ok"] is False
    assert post(client, "note", conv, body="VIP: <b>be nice</b>")["ok"] is True
    thread = client.get(reverse("inbox:thread", args=[conv.pk])).content.decode()
    assert "VIP: &lt;b&gt;be nice&lt;/b&gt;" in thread
    assert 'class="bubble note"' in thread
    assert ConversationNote.objects.get().body == "VIP: <b>be nice</b>"
    assert not OutboxMessage.objects.exists()
    assert AdminAuditLog.objects.filter(action="note", object_id=str(conv.pk)).exists()


def test_assign_close_with_text_and_reopen(db: None) -> None:
    user = f.tg_user(first_name="Ann", language="ru")
    conv = f.conversation(user)
    said(conv, "hi", 3)
    operator = f.staff("operators")
    client = f.client_for(operator)
    assert post(client, "assign", conv, to="me")["ok"] is True
    conv.refresh_from_db()
    assert conv.assigned_admin_id == operator.pk
    assert post(client, "assign", conv, to="999999")["error"] == "No such operator."

    assert post(client, "close", conv, send_closing_text="1")["ok"] is True
    conv.refresh_from_db()
    assert conv.status == "closed"
    assert conv.waiting_since is None
    closing = OutboxMessage.objects.get(chat_id=user.telegram_id)
    assert closing.payload["text"].startswith("Ваш вопрос закрыт")
    assert post(client, "close", conv)["error"] == "The conversation is already closed."

    f.conversation(user)  # the user wrote again: a new open conversation
    refused = post(client, "reopen", conv)
    assert refused["error"] == "The user already has an open conversation; answer there."
    actions = set(
        AdminAuditLog.objects.filter(object_id=str(conv.pk)).values_list("action", flat=True)
    )
    assert actions == {"assign", "close"}


def test_canned_answers_fill_the_name_in_the_users_language_first(db: None) -> None:
    CannedAnswer.objects.create(title="Hello", language="en", body="Hello, {name}!")
    CannedAnswer.objects.create(title="Hello", language="ru", body="Здравствуйте, {name}!")
    conv = f.conversation(f.tg_user(first_name="Olga", language="ru"))
    page = f.client_for(f.staff("operators")).get(reverse("inbox:conversation", args=[conv.pk]))
    bodies = re.findall(r'data-body="([^"]*)"', page.content.decode())
    assert bodies == ["Здравствуйте, Olga!", "Hello, Olga!"]


def test_operators_use_the_inbox_but_not_settings_or_users(db: None) -> None:
    operator = f.client_for(f.staff("operators"))
    assert operator.get(reverse("inbox:index")).status_code == 200
    assert "inbox-home" in operator.get(reverse("admin:index")).content.decode()
    assert operator.get(reverse("admin:panel_cannedanswer_add")).status_code == 403
    assert operator.get(reverse("admin:auth_user_changelist")).status_code == 403
    nobody = f.client_for(f.staff())  # staff without a role
    assert nobody.get(reverse("inbox:index")).status_code == 403
    conv = f.conversation()
    assert (
        nobody.post(reverse("inbox:reply", args=[conv.pk]), {"text": "x", "seen": "0"}).status_code
        == 403
    )
    anonymous = Client().get(reverse("inbox:index"))
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]


def post_file(
    client: Client, conv: Conversation, name: str, data: bytes, mime: str, text: str = ""
) -> dict[str, object]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(name, data, content_type=mime)
    response = client.post(
        reverse("inbox:reply", args=[conv.pk]),
        {"text": text, "seen": "0", "attachment": upload},
        **SCRIPT,
    )
    answer: dict[str, object] = json.loads(response.content)
    return answer


def test_a_file_reply_is_stored_once_for_the_dispatcher(db: None) -> None:
    conv = f.conversation()
    said(conv, "send me the invoice", 2)
    client = f.client_for(f.staff("operators"))
    pdf = b"%PDF-1.4 invoice"
    first = post_file(client, conv, "invoice.pdf", pdf, "application/pdf", "Here it is")
    again = post_file(client, conv, "invoice.pdf", pdf, "application/pdf", "Here it is")
    photo = post_file(client, conv, "shot.png", b"\x89PNG....", "image/png")
    assert first["duplicate"] is False
    assert again["duplicate"] is True
    assert photo["ok"] is True
    rows = list(OutboxMessage.objects.order_by("id").select_related("upload", "message"))
    assert [(r.method, r.payload) for r in rows] == [
        ("sendDocument", {"caption": "Here it is"}),
        ("sendPhoto", {}),
    ]
    assert rows[0].upload is not None
    assert bytes(rows[0].upload.data) == pdf
    assert (rows[0].upload.file_name, rows[0].upload.size) == ("invoice.pdf", len(pdf))
    assert rows[0].message is not None
    assert (rows[0].message.content_type, rows[0].message.text) == ("document", "Here it is")


def test_bad_files_are_refused_with_a_reason_and_nothing_stored(db: None) -> None:
    conv = f.conversation()
    said(conv, "hi", 1)
    client = f.client_for(f.staff("operators"))
    empty = post_file(client, conv, "notes.txt", b"", "text/plain")
    assert empty["error"] == "The file notes.txt is empty."
    exe = post_file(client, conv, "tool.exe", b"MZ", "application/octet-stream")
    assert str(exe["error"]).startswith("tool.exe: this kind of file cannot be sent (allowed: ")
    big = post_file(client, conv, "scan.pdf", b"x" * (50 * 1024 * 1024 + 1), "application/pdf")
    assert big["error"] == "scan.pdf is 50.0 MB; Telegram lets a bot send files up to 50 MB."
    caption = post_file(client, conv, "a.pdf", b"%PDF", "application/pdf", "c" * 1025)
    assert caption["error"] == "Telegram accepts at most 1024 characters; this text has 1025."
    assert not OutboxMessage.objects.exists()
    assert not Message.objects.filter(direction="out").exists()


def test_metrics_report_the_wait_and_first_responses(db: None) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    def scraped() -> dict[str, float]:
        body = Client().get("/metrics").content.decode()
        return {
            s.name + (f"[{s.labels['le']}]" if "le" in s.labels else ""): s.value
            for family in text_string_to_metric_families(body)
            for s in family.samples
            if s.name.startswith("tgadmin_inbox_")
        }

    conv = f.conversation()
    said(conv, "anyone?", 20)
    f.conversation()  # nobody waits there
    before = scraped()
    assert before["tgadmin_inbox_waiting_conversations"] == 1
    assert 20 * 60 <= before["tgadmin_inbox_oldest_wait_seconds"] < 21 * 60
    assert before["tgadmin_inbox_reply_target_seconds"] == 900
    post(f.client_for(f.staff("operators")), "reply", conv, text="Here!", seen="0")
    after = scraped()
    assert after["tgadmin_inbox_waiting_conversations"] == 0
    assert after["tgadmin_inbox_oldest_wait_seconds"] == 0
    assert after["tgadmin_inbox_first_response_seconds_count"] == (
        before["tgadmin_inbox_first_response_seconds_count"] + 1
    )
    # About 20 minutes: in the 30-minute bucket, not in the 15-minute one.
    bucket = "tgadmin_inbox_first_response_seconds_bucket"
    assert after[f"{bucket}[1800.0]"] == before[f"{bucket}[1800.0]"] + 1
    assert after[f"{bucket}[900.0]"] == before[f"{bucket}[900.0]"]


def test_the_inbox_speaks_russian(db: None) -> None:
    conv = f.conversation()
    said(conv, "привет", 1)
    client = f.client_for(f.staff("operators"))
    page = client.get(reverse("inbox:index"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "<title>(1) Входящие" in page
    assert "Ждут ответа" in page
    empty = client.post(
        reverse("inbox:reply", args=[conv.pk]),
        {"text": "", "seen": "0"},
        HTTP_ACCEPT_LANGUAGE="ru",
        **SCRIPT,
    )
    assert json.loads(empty.content)["error"] == "Сначала напишите ответ."


def test_operators_tag_and_untag_the_user_from_the_conversation(db: None) -> None:
    user = f.tg_user(first_name="Tia")
    other = f.tg_user(first_name="Oz")
    UserTag.objects.create(user=other, tag="vip")
    conv = f.conversation(user)
    said(conv, "hi", 3)
    operator = f.client_for(f.staff("operators"))
    page = operator.get(reverse("inbox:conversation", args=[conv.pk])).content.decode()
    assert 'id="tag-form"' in page

    added = post(operator, "tag", conv, op="add", tag=" VIP ")
    assert (added["ok"], added["notice"], added["tags"]) == (True, "Tagged vip.", ["vip"])
    again = post(operator, "tag", conv, op="add", tag="vip")
    assert again["notice"] == "Already tagged vip."
    post(operator, "tag", conv, op="add", tag="spring-2026")
    page = operator.get(reverse("inbox:conversation", args=[conv.pk])).content.decode()
    assert re.findall(r'<span class="tag-name">([^<]*)<', page) == ["spring-2026", "vip"]

    bad = post(operator, "tag", conv, op="add", tag="no spaces!")
    assert bad["ok"] is False
    assert "A tag is 1-32 lower-case letters" in str(bad["error"])
    assert post(operator, "tag", conv, op="rename", tag="vip")["ok"] is False

    removed = post(operator, "tag", conv, op="remove", tag="vip")
    assert (removed["notice"], removed["tags"]) == ("Untagged vip.", ["spring-2026"])
    # Only this user's tags changed, and each change is audited on the user, as the list does.
    assert sorted(UserTag.objects.values_list("user_id", "tag")) == [
        (user.telegram_id, "spring-2026"),
        (other.telegram_id, "vip"),
    ]
    audited = list(
        AdminAuditLog.objects.filter(object_type="panel.telegramuser", object_id=str(user.pk))
        .order_by("id")
        .values_list("action", "details")
    )
    assert audited == [  # what changed: tagging again changed nothing
        ("tag", {"tag": "vip"}),
        ("tag", {"tag": "spring-2026"}),
        ("untag", {"tag": "vip"}),
    ]
    in_russian = operator.post(
        reverse("inbox:tag", args=[conv.pk]),
        {"op": "add", "tag": "vip"},
        HTTP_ACCEPT_LANGUAGE="ru",
        **SCRIPT,
    )
    assert json.loads(in_russian.content)["notice"] == "Метка vip поставлена."
    # A plain form post (no script) is redirected back to the conversation.
    plain = operator.post(reverse("inbox:tag", args=[conv.pk]), {"op": "remove", "tag": "x"})
    assert plain.status_code == 302


def test_staff_without_the_tag_permissions_cannot_tag(db: None) -> None:
    conv = f.conversation()
    viewer = f.staff()
    viewer.user_permissions.add(Permission.objects.get(codename="view_conversation"))
    client = f.client_for(viewer)
    page = client.get(reverse("inbox:conversation", args=[conv.pk])).content.decode()
    assert 'id="tag-form"' not in page
    response = client.post(reverse("inbox:tag", args=[conv.pk]), {"op": "add", "tag": "vip"})
    assert response.status_code == 403
    assert not UserTag.objects.exists()
