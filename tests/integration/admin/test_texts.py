"""Bot texts: per key and language, the built-in default shown beside, one row per pair."""

from __future__ import annotations

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
