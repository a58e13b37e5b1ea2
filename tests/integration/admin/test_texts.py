"""Bot texts: per key and language, the built-in default shown beside, one row per pair."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.integration.admin import factories as f
from tgadmin.panel.models import AdminAuditLog, BotText
from tgbot.texts_defaults import DEFAULT_TEXTS


def test_admin_overrides_a_text_and_sees_the_default(db: None) -> None:
    client = f.client_for(f.staff("admins"))
    response = client.post(
        reverse("admin:panel_bottext_add"),
        {"key": "start", "language": "ru", "body": "Привет!"},
    )
    assert response.status_code == 302
    text = BotText.objects.get(key="start", language="ru")
    assert text.body == "Привет!"
    assert AdminAuditLog.objects.filter(action="add", object_type="panel.bottext").exists()

    page = client.get(reverse("admin:panel_bottext_change", args=[text.pk])).content.decode()
    assert DEFAULT_TEXTS["start"]["ru"] in page
    assert "Привет!" in page

    duplicate = client.post(
        reverse("admin:panel_bottext_add"), {"key": "start", "language": "ru", "body": "again"}
    )
    assert duplicate.status_code == 200
    assert "already exists" in duplicate.content.decode()
    assert BotText.objects.filter(key="start").count() == 1


def test_only_known_keys(db: None) -> None:
    client = f.client_for(f.staff("admins"))
    response = client.post(
        reverse("admin:panel_bottext_add"), {"key": "nope", "language": "en", "body": "x"}
    )
    assert response.status_code == 200
    assert not BotText.objects.exists()


def test_every_default_key_is_offered_in_both_languages(db: None) -> None:
    client = f.client_for(f.staff("admins"))
    page = client.get(reverse("admin:panel_bottext_add")).content.decode()
    for key, by_language in DEFAULT_TEXTS.items():
        assert f'<option value="{key}">' in page, key
        assert {"en", "ru"} <= set(by_language), key


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("Hi {name:>999999999}!", "placeholders take no format or conversion"),
        ("Hi {name.__class__}!", "is not a placeholder of this text"),
        ("Hi {user}!", "is not a placeholder of this text (it has: {name})"),
        ("Hi {name!r}", "placeholders take no format or conversion"),
        ("Hi {name", "Braces do not match"),
        ("x" * 4097, "Longer than Telegram&#x27;s 4096 characters"),
        ("😀" * 2049, "Longer than Telegram&#x27;s 4096 characters"),  # 4098 UTF-16 units
    ],
)
def test_unsafe_texts_are_refused_with_a_reason(db: None, body: str, problem: str) -> None:
    client = f.client_for(f.staff("admins"))
    response = client.post(
        reverse("admin:panel_bottext_add"), {"key": "start", "language": "en", "body": body}
    )
    assert response.status_code == 200
    assert problem in response.content.decode()
    assert not BotText.objects.exists()


def test_documented_placeholders_and_literal_braces_are_accepted(db: None) -> None:
    client = f.client_for(f.staff("admins"))
    body = "Hello, {name}! Our hours: {{9-18}}. " + "😀" * 2000
    response = client.post(
        reverse("admin:panel_bottext_add"), {"key": "start", "language": "en", "body": body}
    )
    assert response.status_code == 302
    assert BotText.objects.get(key="start", language="en").body == body


def test_a_text_without_placeholders_refuses_name(db: None) -> None:
    client = f.client_for(f.staff("admins"))
    response = client.post(
        reverse("admin:panel_bottext_add"), {"key": "help", "language": "en", "body": "{name}"}
    )
    assert response.status_code == 200
    assert "it has: none" in response.content.decode()
