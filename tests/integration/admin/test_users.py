"""The user list: search by id or username, filters, and no COUNT(*) or N+1 per page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.integration.admin import factories as f
from tgadmin.panel import pagination

URL = "admin:panel_telegramuser_changelist"


def listed(client: object, **params: str) -> str:
    return client.get(reverse(URL), params).content.decode()  # type: ignore[attr-defined]


def test_search_by_id_and_username(db: None) -> None:
    alice = f.tg_user(username="Alice")
    f.tg_user(username="bob")
    client = f.client_for(f.staff("operators"))
    for term in (str(alice.telegram_id), "alice", "@ALICE"):
        page = listed(client, q=term)
        assert ">Alice<" in page, term
        assert ">bob<" not in page, term


@pytest.mark.parametrize(
    "term",
    ["²", "١٢٣", "-", "9" * 19, "9" * 40, "-" + "9" * 30, "12\u00a034", "%00", "'; --"],
    ids=[
        "superscript",
        "arabic-digits",
        "minus",
        "past-bigint",
        "huge",
        "huge-negative",
        "nbsp",
        "percent",
        "quote",
    ],
)
@pytest.mark.parametrize("url", [URL, "admin:panel_conversation_changelist"])
def test_unusual_search_terms_answer_normally(db: None, term: str, url: str) -> None:
    f.tg_user(username="Alice")
    client = f.client_for(f.staff("operators"))
    response = client.get(reverse(url), {"q": term})
    assert response.status_code == 200
    assert ">Alice<" not in response.content.decode()


def test_filters(db: None) -> None:
    now = timezone.now()
    f.tg_user(username="fresh", last_seen_at=now, is_subscribed=True, language="ru")
    f.tg_user(username="stale", last_seen_at=now - dt.timedelta(days=60), is_banned=True)
    client = f.client_for(f.staff("operators"))
    recent = listed(client, active="7d")
    assert ">fresh<" in recent
    assert ">stale<" not in recent
    banned = listed(client, is_banned__exact="1")
    assert ">stale<" in banned
    assert ">fresh<" not in banned
    russian = listed(client, language__exact="ru", is_subscribed__exact="1")
    assert ">fresh<" in russian
    assert ">stale<" not in russian


def count_list_queries(client: object) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        listed(client)
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def test_query_count_does_not_grow_with_rows(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pagination, "EXACT_COUNT_BELOW", 0)  # behave as on a big table
    client = f.client_for(f.staff("operators"))
    for _ in range(3):
        f.tg_user()
    few, _ = count_list_queries(client)
    for _ in range(30):
        f.tg_user()
    many, sqls = count_list_queries(client)
    assert few == many
    on_users = [s for s in sqls if '"tg_users"' in s]
    assert any(s.startswith("EXPLAIN") for s in on_users)
    assert not any("COUNT(" in s.upper() for s in on_users), on_users


def test_conversation_list_has_no_n_plus_one(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pagination, "EXACT_COUNT_BELOW", 0)
    client = f.client_for(f.staff("operators"))
    url = reverse("admin:panel_conversation_changelist")
    f.conversation()
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(20):
        f.conversation()
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(few.captured_queries) == len(many.captured_queries)


def test_no_facet_counts_on_big_lists(db: None) -> None:
    client = f.client_for(f.staff("admins"))
    for name in ("telegramuser", "conversation", "broadcast", "outboxmessage", "adminauditlog"):
        page = client.get(reverse(f"admin:panel_{name}_changelist"), {"_facets": "True"})
        assert page.status_code == 200
        assert "Show counts" not in page.content.decode(), name
