"""Probes and metrics: /healthz, /readyz (database, Django and alembic migrations), /metrics."""

from __future__ import annotations

from django.db import connection
from django.test import Client

from tests.integration.admin import factories as f
from tgadmin.panel.alembic_head import head_revisions, known_revisions


def test_healthz(admin_db_url: str) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_when_everything_is_migrated(db: None) -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "django_migrations": "ok", "alembic": "ok"},
    }


def test_readyz_when_the_bot_schema_is_behind(db: None) -> None:
    older = sorted(known_revisions() - head_revisions())[0]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE alembic_version SET version_num = %s", [older])
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["alembic"].startswith(f"bot schema at ['{older}'], behind")


def test_readyz_accepts_a_newer_bot_schema_after_a_rollback(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE alembic_version SET version_num = 'f00dcafe0003'")
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["alembic"] == "ok"


def test_readyz_when_django_migrations_are_missing(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'panel' AND name ="
            " (SELECT max(name) FROM django_migrations WHERE app = 'panel')"
        )
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["django_migrations"] == "1 Django migration(s) not applied"


def test_metrics_count_requests_by_route(db: None) -> None:
    client = f.client_for(f.staff("operators"))
    client.get("/admin/panel/telegramuser/")
    body = Client().get("/metrics").content.decode()
    assert "tgadmin_http_request_duration_seconds_bucket" in body
    assert (
        'tgadmin_http_requests_total{method="GET",route="admin:panel_telegramuser_changelist",'
        'status="200"}'
    ) in body


def test_language_follows_the_browser(db: None) -> None:
    page = Client().get("/admin/login/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Имя пользователя" in page
    page = Client().get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Username" in page


def test_panel_speaks_russian(db: None) -> None:
    client = f.client_for(f.staff("admins"))
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Администрирование Telegram-бота" in page
    assert "Рассылки" in page
    assert "Тексты бота" in page
    users = client.get("/admin/panel/telegramuser/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Заблокировать выбранных пользователей" in users
