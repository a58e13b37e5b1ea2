"""Broadcasts: compose, live audience count, start/pause/resume/cancel, progress counters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.integration.admin import factories as f
from tests.support.media import tiny_gif, tiny_mp4
from tgadmin.panel.models import (
    AdminAuditLog,
    Broadcast,
    OutboxMessage,
    OutboxUpload,
    TelegramUser,
    UserTag,
)
from tgbot.sandbox.files import placeholder_png


@pytest.fixture
def audience(db: None) -> None:
    """4 reachable subscribers (3 en, 1 ru) and 3 users a broadcast must skip."""
    for _ in range(3):
        f.tg_user(is_subscribed=True, language="en")
    f.tg_user(is_subscribed=True, language="ru")
    f.tg_user(is_subscribed=True, is_blocked=True)
    f.tg_user(is_subscribed=True, is_banned=True)
    f.tg_user(is_subscribed=False)


def transition(client: Client, broadcast: Broadcast, which: str) -> int:
    url = reverse("admin:panel_broadcast_transition", args=[broadcast.pk, which])
    status: int = client.post(url).status_code
    broadcast.refresh_from_db()
    return status


def progress(client: Client, broadcast: Broadcast) -> dict[str, object]:
    response = client.get(reverse("admin:panel_broadcast_progress", args=[broadcast.pk]))
    assert response.status_code == 200
    data: dict[str, object] = response.json()
    return data


def test_admin_composes_a_draft_with_preview_and_live_count(audience: None) -> None:
    admin_user = f.staff("admins")
    client = f.client_for(admin_user)
    response = client.post(
        reverse("admin:panel_broadcast_add"),
        {
            "title": "Sale",
            "text": '<b>Big</b> &lt;sale&gt;\n<a href="https://shop.example.com/">today</a>',
            "buttons_text": "Shop https://shop.example.com | Help tg://resolve?domain=help\n"
            "All offers https://shop.example.com/offers",
            "audience_language": "",
            "scheduled_at_0": "",
            "scheduled_at_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    broadcast = Broadcast.objects.get(title="Sale")
    assert broadcast.status == "draft"
    assert broadcast.parse_mode == "HTML"
    assert broadcast.buttons == [
        [
            {"text": "Shop", "url": "https://shop.example.com"},
            {"text": "Help", "url": "tg://resolve?domain=help"},
        ],
        [{"text": "All offers", "url": "https://shop.example.com/offers"}],
    ]
    assert broadcast.created_by_admin_id == admin_user.pk
    assert AdminAuditLog.objects.filter(
        action="add", object_type="panel.broadcast", object_id=str(broadcast.pk)
    ).exists()

    page = client.get(reverse("admin:panel_broadcast_change", args=[broadcast.pk])).content.decode()
    # The preview shows the formatting, re-rendered by the panel, the text escaped.
    assert (
        '<b>Big</b> &lt;sale&gt;\n<a href="https://shop.example.com/" '
        'rel="noopener noreferrer nofollow" target="_blank">today</a>'
    ) in page
    assert '<span class="tg-button" title="tg://resolve?domain=help">Help</span>' in page
    assert '<span id="tg-recipients"' in page

    count_url = reverse("admin:panel_broadcast_audience_count")
    assert client.get(count_url).json() == {"count": 4}
    assert client.get(count_url, {"audience_language": "en"}).json() == {"count": 3}
    assert client.get(count_url, {"audience_language": "ru"}).json() == {"count": 1}
    assert client.get(count_url, {"audience_language": "xx"}).status_code == 400


def test_start_pause_resume_cancel_and_progress(audience: None) -> None:
    broadcast = Broadcast.objects.create(title="News", text="hello", audience_language="en")
    client = f.client_for(f.staff("admins"))

    assert transition(client, broadcast, "resume") == 302
    assert broadcast.status == "draft"  # a draft cannot be resumed

    transition(client, broadcast, "start")
    assert broadcast.status == "running"
    assert broadcast.total_count == 0  # the dispatcher counts while it expands the audience
    assert progress(client, broadcast)["live"] is True

    # The dispatcher's expansion and counters, as it writes them.
    Broadcast.objects.filter(pk=broadcast.pk).update(total_count=3, started_at=timezone.now())
    data = progress(client, broadcast)
    assert (data["total"], data["pending"], data["sent"], data["live"]) == (3, 3, 0, True)
    Broadcast.objects.filter(pk=broadcast.pk).update(sent_count=1, failed_count=1)
    data = progress(client, broadcast)
    assert (data["sent"], data["failed"], data["blocked"], data["pending"]) == (1, 1, 0, 1)
    assert data["percent"] == {"sent": 33.3, "failed": 33.3, "blocked": 0.0, "pending": 33.3}
    page = client.get(reverse("admin:panel_broadcast_change", args=[broadcast.pk])).content.decode()
    assert 'class="tg-n-pending">1<' in page
    assert 'data-live="1"' in page

    transition(client, broadcast, "pause")
    assert broadcast.status == "paused"
    transition(client, broadcast, "resume")
    assert broadcast.status == "running"
    transition(client, broadcast, "cancel")
    assert broadcast.status == "cancelled"
    assert progress(client, broadcast)["live"] is False

    actions = list(
        AdminAuditLog.objects.filter(object_type="panel.broadcast", object_id=str(broadcast.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["start", "pause", "resume", "cancel"]


def test_start_with_future_time_schedules(audience: None) -> None:
    later = timezone.now() + dt.timedelta(hours=2)
    broadcast = Broadcast.objects.create(title="Later", text="x", scheduled_at=later)
    client = f.client_for(f.staff("admins"))
    transition(client, broadcast, "start")
    assert broadcast.status == "scheduled"
    transition(client, broadcast, "pause")
    transition(client, broadcast, "resume")
    assert broadcast.status == "scheduled"  # still waiting for its time


def test_list_action_starts_broadcasts(audience: None) -> None:
    one = Broadcast.objects.create(title="one", text="x")
    two = Broadcast.objects.create(title="two", text="x", status="cancelled")
    client = f.client_for(f.staff("admins"))
    client.post(
        reverse("admin:panel_broadcast_changelist"),
        {"action": "start", "_selected_action": [one.pk, two.pk]},
    )
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.status, two.status) == ("running", "cancelled")


def test_running_broadcast_cannot_be_edited(audience: None) -> None:
    buttons = [[{"text": "Shop", "url": "https://shop.example.com"}]]
    broadcast = Broadcast.objects.create(
        title="Live", text="x", status="running", parse_mode="HTML", buttons=buttons
    )
    client = f.client_for(f.staff("admins"))
    page = client.get(reverse("admin:panel_broadcast_change", args=[broadcast.pk])).content
    for name in ("title", "attachment", "send_as", "buttons_text"):
        assert f'name="{name}"' not in page.decode()
    client.post(
        reverse("admin:panel_broadcast_change", args=[broadcast.pk]),
        {
            "title": "Edited",
            "buttons_text": "",
            "attachment": SimpleUploadedFile("a.gif", tiny_gif()),
        },
    )
    broadcast.refresh_from_db()
    assert (broadcast.title, broadcast.buttons, broadcast.upload_id) == ("Live", buttons, None)
    assert broadcast.method == "sendMessage"


def test_operator_sees_but_cannot_control_broadcasts(audience: None) -> None:
    broadcast = Broadcast.objects.create(title="News", text="x")
    client = f.client_for(f.staff("operators"))
    page = client.get(reverse("admin:panel_broadcast_change", args=[broadcast.pk]))
    assert page.status_code == 200
    assert 'value="start"' not in page.content.decode()
    assert transition(client, broadcast, "start") == 403
    assert broadcast.status == "draft"
    assert client.get(reverse("admin:panel_broadcast_add")).status_code == 403


def test_only_drafts_can_be_deleted(audience: None) -> None:
    draft = Broadcast.objects.create(title="draft", text="x")
    running = Broadcast.objects.create(title="running", text="x", status="running")
    client = f.client_for(f.staff("admins"))
    listing = client.get(reverse("admin:panel_broadcast_changelist")).content.decode()
    assert 'value="delete_selected"' not in listing
    assert (
        client.post(
            reverse("admin:panel_broadcast_delete", args=[running.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    client.post(reverse("admin:panel_broadcast_delete", args=[draft.pk]), {"post": "yes"})
    assert list(Broadcast.objects.values_list("title", flat=True)) == ["running"]
    assert AdminAuditLog.objects.filter(action="delete", object_id=str(draft.pk)).exists()


@pytest.mark.parametrize(("text", "fits"), [("😀" * 2048, True), ("😀" * 2049, False)])
def test_broadcast_text_is_limited_as_telegram_counts(
    audience: None, text: str, fits: bool
) -> None:
    client = f.client_for(f.staff("admins"))
    response = client.post(
        reverse("admin:panel_broadcast_add"),
        {
            "title": "Long",
            "text": text,
            "audience_language": "",
            "scheduled_at_0": "",
            "scheduled_at_1": "",
        },
    )
    assert Broadcast.objects.filter(title="Long").exists() is fits
    if not fits:
        assert (
            "the text is 4098 characters as Telegram counts them; at most 4096"
            in response.content.decode()
        )


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("text", "Big <sale>", "&lt;sale&gt;: Telegram does not know this tag"),
        ("text", "<b>unclosed", "&lt;b&gt; is never closed"),
        (
            "text",
            '<a href="javascript:x()">go</a>',
            "links must start with http://, https:// or tg://",
        ),
        ("buttons_text", "Shop", "needs a label and a URL"),
        ("buttons_text", "Shop ftp://x.example.com", "links must start with http://"),
    ],
)
def test_what_telegram_would_refuse_is_refused_at_save(
    audience: None, field: str, value: str, reason: str
) -> None:
    client = f.client_for(f.staff("admins"))
    data = {
        "title": "Bad",
        "text": "<b>fine</b>",
        "buttons_text": "",
        "audience_language": "",
        "scheduled_at_0": "",
        "scheduled_at_1": "",
        field: value,
    }
    response = client.post(reverse("admin:panel_broadcast_add"), data)
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not Broadcast.objects.filter(title="Bad").exists()


def test_the_live_preview_renders_safely_and_names_problems(audience: None) -> None:
    client = f.client_for(f.staff("admins"))
    url = reverse("admin:panel_broadcast_preview")
    answer = client.post(
        url, {"text": "<b>hi</b> <script>x()</script>", "buttons": "Go https://e.com"}
    ).json()
    assert answer["html"] == "<b>hi</b> x()"
    [problem] = answer["problems"]
    assert problem.startswith("<script>: Telegram does not know this tag")
    assert answer["buttons"] == [[{"text": "Go", "url": "https://e.com"}]]


FORM = {
    "title": "Now",
    "text": "<b>hi</b>",
    "buttons_text": "",
    "audience_language": "",
    "scheduled_at_0": "",
    "scheduled_at_1": "",
}


def test_save_keeps_a_draft_and_start_now_starts(audience: None) -> None:
    client = f.client_for(f.staff("admins"))
    page = client.get(reverse("admin:panel_broadcast_add")).content.decode()
    assert 'name="_start" value="Start now"' in page
    assert 'data-confirm="Send this broadcast to {count} users?"' in page

    client.post(reverse("admin:panel_broadcast_add"), FORM)
    assert Broadcast.objects.get(title="Now").status == "draft"  # Save is only a save

    response = client.post(
        reverse("admin:panel_broadcast_add"), {**FORM, "title": "Go", "_start": "1"}
    )
    started = Broadcast.objects.get(title="Go")
    assert response.status_code == 302
    assert started.status == "running"
    assert AdminAuditLog.objects.filter(action="start", object_id=str(started.pk)).exists()


def test_a_future_time_is_scheduled_not_started(audience: None) -> None:
    client = f.client_for(f.staff("admins"))
    ahead = timezone.localtime(timezone.now() + dt.timedelta(days=1))
    form = {
        **FORM,
        "title": "Later",
        "scheduled_at_0": ahead.strftime("%Y-%m-%d"),
        "scheduled_at_1": ahead.strftime("%H:%M:%S"),
    }
    client.post(reverse("admin:panel_broadcast_add"), form)
    later = Broadcast.objects.get(title="Later")
    page = client.get(reverse("admin:panel_broadcast_change", args=[later.pk])).content.decode()
    assert 'name="_start" value="Schedule"' in page
    response = client.post(
        reverse("admin:panel_broadcast_change", args=[later.pk]), {**form, "_start": "1"}
    )
    assert response.status_code == 302
    assert Broadcast.objects.get(pk=later.pk).status == "scheduled"


def test_operators_cannot_start_from_the_form(audience: None) -> None:
    admin_client = f.client_for(f.staff("admins"))
    admin_client.post(reverse("admin:panel_broadcast_add"), FORM)
    draft = Broadcast.objects.get(title="Now")
    operator = f.client_for(f.staff("operators"))
    page = operator.get(reverse("admin:panel_broadcast_change", args=[draft.pk])).content.decode()
    assert 'name="_start"' not in page


def test_segments_narrow_the_live_count_and_are_saved(audience: None) -> None:
    users = list(TelegramUser.objects.filter(is_subscribed=True, is_blocked=False, is_banned=False))
    vip, campaign = users[0], users[1]
    UserTag.objects.create(user=vip, tag="vip")
    TelegramUser.objects.filter(pk=campaign.pk).update(
        start_payload="spring", subscribed_at=timezone.now()
    )
    TelegramUser.objects.filter(pk=vip.pk).update(
        last_seen_at=timezone.now() - dt.timedelta(days=40)
    )
    client = f.client_for(f.staff("admins"))
    count_url = reverse("admin:panel_broadcast_audience_count")

    def count(**params: str) -> int:
        return int(client.get(count_url, params).json()["count"])

    everyone = count()
    assert count(audience_tag="vip") == 1
    assert count(audience_start_payload="spring") == 1
    assert count(audience_active_days="30") == everyone - 1  # vip was last seen 40 days ago
    since = timezone.localtime(timezone.now() - dt.timedelta(hours=1))
    assert (
        count(
            audience_subscribed_since_0=since.strftime("%Y-%m-%d"),
            audience_subscribed_since_1=since.strftime("%H:%M:%S"),
        )
        == 1
    )
    assert client.get(count_url, {"audience_active_days": "-3"}).status_code == 400

    client.post(
        reverse("admin:panel_broadcast_add"),
        {**FORM, "title": "Seg", "audience_tag": "vip", "audience_active_days": "7"},
    )
    saved = Broadcast.objects.get(title="Seg")
    assert (saved.audience_tag, saved.audience_active_days) == ("vip", 7)


def test_operators_tag_users_from_the_list(audience: None) -> None:
    user = TelegramUser.objects.filter(is_subscribed=True).first()
    assert user is not None
    client = f.client_for(f.staff("operators"))
    url = reverse("admin:panel_telegramuser_changelist")
    tagged = client.post(
        url, {"action": "add_tag", "tag": "VIP", "_selected_action": [user.pk]}, follow=True
    )
    assert "Tagged 1 user vip." in tagged.content.decode()
    again = client.post(url, {"action": "add_tag", "tag": "vip", "_selected_action": [user.pk]})
    assert again.status_code == 302
    assert list(UserTag.objects.filter(user=user).values_list("tag", flat=True)) == ["vip"]
    bad = client.post(
        url, {"action": "add_tag", "tag": "no spaces!", "_selected_action": [user.pk]}, follow=True
    )
    assert "A tag is 1-32 lower-case letters" in bad.content.decode()
    client.post(url, {"action": "remove_tag", "tag": "vip", "_selected_action": [user.pk]})
    assert not UserTag.objects.filter(user=user).exists()
    assert AdminAuditLog.objects.filter(action="tag", object_id=str(user.pk)).exists()


def test_a_test_send_queues_the_exact_broadcast_for_one_chat(audience: None) -> None:
    client = f.client_for(f.staff("admins"))
    client.post(
        reverse("admin:panel_broadcast_add"),
        {**FORM, "title": "T", "text": "<i>x</i>", "buttons_text": "Go https://e.com"},
    )
    broadcast = Broadcast.objects.get(title="T")
    url = reverse("admin:panel_broadcast_test_send", args=[broadcast.pk])
    for bad in ("", "abc", "²", "9" * 30):
        page = client.post(url, {"chat_id": bad}, follow=True).content.decode()
        assert "A test goes to a Telegram id" in page, bad
    assert not OutboxMessage.objects.exists()
    client.post(url, {"chat_id": "777"})
    [row] = OutboxMessage.objects.all()
    assert (row.chat_id, row.broadcast_id, row.status) == (777, None, "pending")
    assert row.payload == {
        "text": "<i>x</i>",
        "parse_mode": "HTML",
        "reply_markup": {"inline_keyboard": [[{"text": "Go", "url": "https://e.com"}]]},
    }
    assert Broadcast.objects.get(pk=broadcast.pk).status == "draft"  # a test starts nothing
    operator = f.client_for(f.staff("operators"))
    assert operator.post(url, {"chat_id": "777"}).status_code == 403


def _post_with_file(
    client: Client, title: str, file: SimpleUploadedFile, send_as: str = ""
) -> HttpResponse:
    response: HttpResponse = client.post(
        reverse("admin:panel_broadcast_add"),
        {**FORM, "title": title, "attachment": file, "send_as": send_as},
    )
    return response


@pytest.mark.parametrize(
    ("name", "data", "mime", "send_as", "method"),
    [
        ("clip.mp4", tiny_mp4(sound=True), "video/mp4", "", "sendVideo"),
        ("party.gif", tiny_gif(), "image/gif", "", "sendAnimation"),
        ("loop.mp4", tiny_mp4(), "video/mp4", "animation", "sendAnimation"),
        ("cat.png", placeholder_png(), "image/png", "", "sendPhoto"),
        ("cat.png", placeholder_png(), "image/png", "document", "sendDocument"),
        ("terms.pdf", b"%PDF-1.4 terms", "application/pdf", "", "sendDocument"),
    ],
)
def test_a_broadcast_attaches_a_photo_video_animation_or_file(
    audience: None, name: str, data: bytes, mime: str, send_as: str, method: str
) -> None:
    client = f.client_for(f.staff("admins"))
    response = _post_with_file(client, "Media", SimpleUploadedFile(name, data, mime), send_as)
    assert response.status_code == 302, response.content.decode()[:3000]
    broadcast = Broadcast.objects.select_related("upload").get(title="Media")
    assert broadcast.method == method
    assert broadcast.upload is not None
    assert (bytes(broadcast.upload.data), broadcast.upload.file_name) == (data, name)
    page = client.get(reverse("admin:panel_broadcast_change", args=[broadcast.pk])).content
    kind = {"sendPhoto": "photo", "sendVideo": "video", "sendAnimation": "animation"}
    assert f"📎 {kind.get(method, 'file')}: {name}" in page.decode()


MB = 1024 * 1024


@pytest.mark.parametrize(
    ("name", "data", "mime", "send_as", "reason"),
    [
        (
            "talk.mp4",
            tiny_mp4(sound=True),
            "video/mp4",
            "animation",
            "talk.mp4 has sound, which an animation never plays: send it as a video.",
        ),
        (
            "notes.txt",
            b"hello",
            "text/plain",
            "video",
            "notes.txt is not an MP4 video: Telegram plays MP4; send other videos as a file.",
        ),
        (
            "cat.png",
            placeholder_png(),
            "image/png",
            "animation",
            "cat.png is neither a GIF nor an MP4 video",
        ),
        (
            "huge.png",
            b"\x89PNG" + b"\0" * (10 * MB),
            "image/png",
            "photo",
            "huge.png is 10.0 MB; Telegram lets a bot send a photo of up to 10.0 MB.",
        ),
        (
            "film.mp4",
            tiny_mp4(padding=50 * MB),
            "video/mp4",
            "",
            "film.mp4 is 50.0 MB; Telegram lets a bot send files up to 50 MB.",
        ),
        ("tool.exe", b"MZ...", "application/octet-stream", "", "this kind of file cannot be sent"),
    ],
)
def test_an_attachment_telegram_would_refuse_is_refused_with_the_reason(
    audience: None, name: str, data: bytes, mime: str, send_as: str, reason: str
) -> None:
    client = f.client_for(f.staff("admins"))
    response = _post_with_file(client, "Refused", SimpleUploadedFile(name, data, mime), send_as)
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not Broadcast.objects.filter(title="Refused").exists()
    assert not OutboxUpload.objects.exists()  # nothing stored
