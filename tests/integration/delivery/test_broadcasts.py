"""Broadcasts through real dispatcher processes: counters, skips, pause/resume/cancel, SIGKILL."""

from __future__ import annotations

import pytest
from psycopg.types.json import Jsonb
from sqlalchemy.ext.asyncio import create_async_engine

from tests.integration.delivery.harness import Db, Launcher, SandboxControl, per_chat
from tests.support.media import tiny_gif, tiny_mp4
from tests.support.waiting import async_wait_until
from tgbot.config import postgres_url_for
from tgbot.delivery.broadcasts import Broadcasts
from tgbot.sandbox.files import placeholder_png


async def _status(db: Db, broadcast_id: int, status: str) -> bool:
    return (await db.broadcast(broadcast_id))["status"] == status


async def test_broadcast_reaches_its_audience_with_correct_counters(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    await db.add_users(list(range(100, 130)))  # the audience (en)
    await db.add_users(list(range(200, 205)), language="ru")  # other language
    await db.add_users(list(range(300, 305)), subscribed=False)  # not subscribed
    await db.execute("UPDATE tg_users SET is_banned = true WHERE telegram_id = 100")
    await control.faults(blocked_chats=[101], unknown_chats=[102])
    broadcast_id = await db.add_broadcast(status="draft")
    await db.execute(
        "UPDATE broadcasts SET audience_language = 'en' WHERE id = %s", (broadcast_id,)
    )
    launch(outbox_global_rate=200, broadcast_expansion_batch=100)
    await db.set_broadcast_status(broadcast_id, "running")

    await async_wait_until(
        lambda: _status(db, broadcast_id, "done"), timeout=60, what="broadcast done"
    )
    b = await db.broadcast(broadcast_id)
    assert b["total_count"] == 29  # 30 "en" subscribers minus the banned one
    assert (b["sent_count"], b["blocked_count"], b["failed_count"]) == (27, 1, 1)
    assert b["skipped_count"] == 0
    assert b["expanded_at"] is not None
    assert b["finished_at"] is not None
    delivered = per_chat(await control.delivered())
    assert set(delivered) == set(range(103, 130))
    assert max(delivered.values()) == 1
    assert await db.scalar("SELECT is_blocked FROM tg_users WHERE telegram_id = 101")
    # A user who joins after the expansion is not added.
    await db.add_users([131])
    assert (await db.broadcast(broadcast_id))["total_count"] == 29


async def test_user_who_unsubscribes_before_the_send_is_skipped(
    db: Db, launch: Launcher, control: SandboxControl, delivery_db_url: str
) -> None:
    await db.add_users([11, 12, 13])
    broadcast_id = await db.add_broadcast(status="running")
    # Expand without any dispatcher running (the same library call a dispatcher makes).
    engine = create_async_engine(postgres_url_for(delivery_db_url))
    try:
        step = await Broadcasts(engine, batch_size=100).expand_batch(broadcast_id)
    finally:
        await engine.dispose()
    assert step is not None
    assert step.finished
    assert step.inserted == 3
    await db.execute("UPDATE tg_users SET is_subscribed = false WHERE telegram_id = 12")
    launch()
    await async_wait_until(
        lambda: _status(db, broadcast_id, "done"), timeout=30, what="broadcast done"
    )
    b = await db.broadcast(broadcast_id)
    assert (b["total_count"], b["sent_count"], b["skipped_count"]) == (3, 2, 1)
    assert per_chat(await control.delivered()) == {11: 1, 13: 1}
    assert (await db.statuses(broadcast_id))["cancelled"] == 1


async def test_pause_resume_and_cancel_take_effect_within_seconds(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    users = list(range(10_000, 10_200))
    await db.add_users(users)
    first = await db.add_broadcast(status="running", text="first")
    launch(outbox_global_rate=20)

    async def some_sent() -> bool:
        return len(await control.delivered()) >= 20

    await async_wait_until(some_sent, timeout=30, what="broadcast under way")
    await db.set_broadcast_status(first, "paused")

    async def quiet() -> bool:  # claimed rows were sent or given back
        return (await db.statuses(first))["sending"] == 0

    await async_wait_until(quiet, timeout=5, what="no row in flight after pause")
    at_pause = len(await control.delivered())
    # The dispatcher is alive: a reply written now is delivered while the broadcast is paused.
    await db.add_rows([42], prefix="reply")
    await async_wait_until(
        lambda: _chat_delivered(control, 42), timeout=5, what="reply delivered while paused"
    )
    assert len(await control.delivered()) == at_pause + 1
    assert (await db.broadcast(first))["status"] == "paused"

    await db.set_broadcast_status(first, "running")
    await async_wait_until(lambda: _status(db, first, "done"), timeout=60, what="first done")
    b = await db.broadcast(first)
    assert b["sent_count"] == len(users)
    broadcast_calls = [c for c in await control.delivered() if c["chat_id"] != 42]
    assert max(per_chat(broadcast_calls).values()) == 1

    # Cancel: pending rows become cancelled and nothing more of it is sent.
    second = await db.add_broadcast(status="running", text="second")

    async def second_under_way() -> bool:
        return (await db.broadcast(second))["sent_count"] >= 10

    await async_wait_until(second_under_way, timeout=30, what="second under way")
    await db.set_broadcast_status(second, "cancelled")

    async def cancelled() -> bool:
        s = await db.statuses(second)
        return s["pending"] == 0 and s["sending"] == 0

    await async_wait_until(cancelled, timeout=5, what="pending rows cancelled")
    b = await db.broadcast(second)
    s = await db.statuses(second)
    assert b["status"] == "cancelled"
    assert b["finished_at"] is not None
    assert s["sent"] == b["sent_count"]
    assert s["cancelled"] == b["total_count"] - s["sent"]
    before = len(await control.delivered())
    await db.add_rows([43], prefix="reply2")
    await async_wait_until(
        lambda: _chat_delivered(control, 43), timeout=5, what="reply delivered after cancel"
    )
    assert len(await control.delivered()) == before + 1


async def _chat_delivered(control: SandboxControl, chat_id: int) -> bool:
    return any(c["chat_id"] == chat_id for c in await control.delivered())


async def test_sigkill_mid_broadcast_loses_nothing_and_duplicates_are_bounded(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    users = list(range(50_000, 50_600))
    await db.add_users(users)
    broadcast_id = await db.add_broadcast(status="running")
    settings = {"outbox_global_rate": 100, "outbox_lease_seconds": 3, "outbox_batch_size": 50}
    victim = launch(**settings)

    async def halfway() -> bool:
        return len(await control.delivered()) >= 200

    await async_wait_until(halfway, timeout=60, what="broadcast under way")
    victim.kill()  # SIGKILL: no cleanup, its leased rows stay 'sending' until the lease ends
    in_flight = (await db.statuses(broadcast_id))["sending"]
    launch(**settings)
    await async_wait_until(
        lambda: _status(db, broadcast_id, "done"), timeout=90, what="broadcast done"
    )
    delivered = per_chat(await control.delivered())
    assert set(delivered) == set(users)  # every row delivered
    duplicates = sum(n - 1 for n in delivered.values())
    print(f"\nSIGKILL test: {in_flight} rows leased at the kill, {duplicates} duplicates")
    assert duplicates <= in_flight
    b = await db.broadcast(broadcast_id)
    assert b["sent_count"] == len(users)


async def test_a_formatted_broadcast_with_buttons_arrives_as_composed(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    await db.add_users([21, 22])
    text = (
        '<b>Big news!</b> Free shipping &lt;today&gt; <a href="https://shop.example.com/">shop</a>'
    )
    buttons = [
        [{"text": "Shop", "url": "https://shop.example.com"}],
        [
            {"text": "Help", "url": "https://example.com/help"},
            {"text": "Me", "url": "tg://user?id=1"},
        ],
    ]
    broadcast_id = await db.add_broadcast(status="draft", text=text)
    await db.execute(
        "UPDATE broadcasts SET parse_mode = 'HTML', buttons = %s WHERE id = %s",
        (Jsonb(buttons), broadcast_id),
    )
    launch()
    await db.set_broadcast_status(broadcast_id, "running")
    await async_wait_until(
        lambda: _status(db, broadcast_id, "done"), timeout=30, what="broadcast done"
    )
    calls = await control.delivered()
    assert per_chat(calls) == {21: 1, 22: 1}
    for call in calls:
        # As composed: the sandbox parsed the HTML as Telegram does (a 400 otherwise).
        assert call["params"]["text"] == text
        assert call["params"]["parse_mode"] == "HTML"
        assert call["params"]["reply_markup"] == {"inline_keyboard": buttons}


async def test_an_older_plain_broadcast_is_still_sent_as_plain_text(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    await db.add_users([31])
    # Written before formatting existed: parse_mode NULL, a bare "<" that HTML would refuse.
    broadcast_id = await db.add_broadcast(status="running", text="2 < 3, <sale>")
    launch()
    await async_wait_until(
        lambda: _status(db, broadcast_id, "done"), timeout=30, what="broadcast done"
    )
    [call] = await control.delivered()
    assert call["params"]["text"] == "2 < 3, <sale>"
    assert "parse_mode" not in call["params"]
    assert "reply_markup" not in call["params"]


async def test_a_segment_broadcast_reaches_exactly_its_segment(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    await db.add_users(list(range(40, 50)))  # en, subscribed
    await db.add_users([50, 51], language="ru")
    # In the segment: language en, tag "vip", came through /start spring, active lately,
    # subscribed after the cut-off. Each of 41-45 misses exactly one condition.
    await db.execute(
        "UPDATE tg_users SET start_payload = 'spring', subscribed_at = now() "
        "WHERE telegram_id IN (40, 41, 42, 43, 44, 46, 50)"
    )
    await db.execute(
        "INSERT INTO user_tags (telegram_id, tag) SELECT telegram_id, 'vip' FROM tg_users "
        "WHERE telegram_id IN (40, 42, 43, 44, 45, 46, 50)"
    )
    await db.execute("UPDATE tg_users SET start_payload = 'autumn' WHERE telegram_id = 42")
    await db.execute(
        "UPDATE tg_users SET last_seen_at = now() - interval '30 days' WHERE telegram_id = 43"
    )
    await db.execute(
        "UPDATE tg_users SET subscribed_at = now() - interval '30 days' WHERE telegram_id = 44"
    )
    # 41: no tag; 45: no payload; 50: Russian; 46 and 40: in.
    broadcast_id = await db.add_broadcast(status="draft")
    await db.execute(
        "UPDATE broadcasts SET audience_language = 'en', audience_tag = 'vip', "
        "audience_start_payload = 'spring', audience_active_days = 7, "
        "audience_subscribed_since = now() - interval '1 day' WHERE id = %s",
        (broadcast_id,),
    )
    launch()
    await db.set_broadcast_status(broadcast_id, "running")
    await async_wait_until(
        lambda: _status(db, broadcast_id, "done"), timeout=30, what="broadcast done"
    )
    assert per_chat(await control.delivered()) == {40: 1, 46: 1}
    assert (await db.broadcast(broadcast_id))["total_count"] == 2


async def test_a_photo_broadcast_uploads_once_then_sends_by_file_id(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    recipients = list(range(60, 100))
    await db.add_users(recipients)
    photo = placeholder_png((200, 80, 40), size=256)
    upload_id = await db.scalar(
        "INSERT INTO outbox_uploads (data, file_name, mime_type, size) "
        "VALUES (%s, 'sale.png', 'image/png', %s) RETURNING id",
        (photo, len(photo)),
    )
    broadcast_id = await db.add_broadcast(status="draft", text="<b>Sale</b> today")
    await db.execute(
        "UPDATE broadcasts SET parse_mode = 'HTML', method = 'sendPhoto', upload_id = %s "
        "WHERE id = %s",
        (upload_id, broadcast_id),
    )
    # Two dispatchers race for the first sends: still one upload.
    launch(outbox_global_rate=200)
    launch(outbox_global_rate=200)
    await db.set_broadcast_status(broadcast_id, "running")
    await async_wait_until(
        lambda: _status(db, broadcast_id, "done"), timeout=60, what="broadcast done"
    )
    assert (await control.stats())["bot_uploads"] == 1
    calls = [c for c in await control.all_calls() if c["method"] == "sendPhoto" and c["ok"]]
    assert sorted(int(c["chat_id"]) for c in calls) == recipients  # each once
    file_ids = {c["params"]["photo"] for c in calls}
    assert len(file_ids) == 1  # the uploaded file, then its file_id: one file for everyone
    assert all(c["params"]["caption"] == "<b>Sale</b> today" for c in calls)
    assert await db.scalar("SELECT data IS NULL FROM outbox_uploads WHERE id = %s", (upload_id,))


async def _media_broadcast(db: Db, method: str, file_name: str, mime: str, data: bytes) -> int:
    """A draft broadcast sending ``data`` with ``method``, as the panel stores it."""
    upload_id = await db.scalar(
        "INSERT INTO outbox_uploads (data, file_name, mime_type, size) "
        "VALUES (%s, %s, %s, %s) RETURNING id",
        (data, file_name, mime, len(data)),
    )
    broadcast_id = await db.add_broadcast(status="draft", text="<b>Watch</b> this")
    await db.execute(
        "UPDATE broadcasts SET parse_mode = 'HTML', method = %s, upload_id = %s WHERE id = %s",
        (method, upload_id, broadcast_id),
    )
    return broadcast_id


@pytest.mark.parametrize(
    ("method", "field", "file_name", "mime", "data"),
    [
        ("sendVideo", "video", "clip.mp4", "video/mp4", tiny_mp4(padding=200_000)),
        ("sendAnimation", "animation", "party.gif", "image/gif", tiny_gif()),
    ],
)
async def test_a_video_or_animation_broadcast_uploads_once_and_reaches_everyone_once(
    db: Db,
    launch: Launcher,
    control: SandboxControl,
    method: str,
    field: str,
    file_name: str,
    mime: str,
    data: bytes,
) -> None:
    recipients = list(range(70, 100))
    await db.add_users(recipients)
    broadcast_id = await _media_broadcast(db, method, file_name, mime, data)
    launch(outbox_global_rate=200)
    launch(outbox_global_rate=200)
    await db.set_broadcast_status(broadcast_id, "running")
    await async_wait_until(
        lambda: _status(db, broadcast_id, "done"), timeout=60, what="broadcast done"
    )
    assert (await control.stats())["bot_uploads"] == 1
    calls = [c for c in await control.all_calls() if c["method"] == method and c["ok"]]
    assert sorted(int(c["chat_id"]) for c in calls) == recipients  # each once
    # One file for everyone: the upload (the sandbox records it under the file_id it gave),
    # then that file_id.
    file_ids = {c["params"][field] for c in calls}
    assert len(file_ids) == 1
    assert {c["result"][field]["file_id"] for c in calls} == file_ids
    assert all(c["params"]["caption"] == "<b>Watch</b> this" for c in calls)
    b = await db.broadcast(broadcast_id)
    assert (b["sent_count"], b["failed_count"]) == (len(recipients), 0)


async def test_a_paused_then_resumed_photo_broadcast_still_uploads_once(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    recipients = list(range(20_000, 20_120))
    await db.add_users(recipients)
    photo = placeholder_png((30, 160, 90), size=256)
    broadcast_id = await _media_broadcast(db, "sendPhoto", "sale.png", "image/png", photo)
    launch(outbox_global_rate=20)
    launch(outbox_global_rate=20)
    await db.set_broadcast_status(broadcast_id, "running")

    async def photos_sent() -> list[dict[str, object]]:
        return [c for c in await control.all_calls() if c["method"] == "sendPhoto" and c["ok"]]

    async def some_sent() -> bool:
        return len(await photos_sent()) >= 15

    await async_wait_until(some_sent, timeout=30, what="the broadcast under way")
    await db.set_broadcast_status(broadcast_id, "paused")

    async def quiet() -> bool:  # rows claimed before the pause were sent or given back
        return (await db.statuses(broadcast_id))["sending"] == 0

    await async_wait_until(quiet, timeout=10, what="no row in flight after the pause")
    at_pause = len(await photos_sent())
    assert at_pause < len(recipients)  # paused part way
    assert (await db.broadcast(broadcast_id))["status"] == "paused"

    await db.set_broadcast_status(broadcast_id, "running")
    await async_wait_until(
        lambda: _status(db, broadcast_id, "done"), timeout=60, what="broadcast done"
    )
    calls = await photos_sent()
    assert sorted(int(str(c["chat_id"])) for c in calls) == recipients  # each exactly once
    assert len(calls) > at_pause  # the rest went after the resume
    assert (await control.stats())["bot_uploads"] == 1
    assert len({str(c["params"]["photo"]) for c in calls}) == 1  # one file for all
    b = await db.broadcast(broadcast_id)
    assert (b["sent_count"], b["failed_count"]) == (len(recipients), 0)


async def test_rows_waiting_for_the_upload_do_not_burst_past_the_rate_limit(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    # Telegram takes its time over an upload (every call here takes 0.4 s): the rows that wait
    # for its file_id must still go at the limit's pace afterwards, not all at once (429s).
    recipients = list(range(21_000, 21_060))
    await db.add_users(recipients)
    photo = placeholder_png((90, 30, 160), size=256)
    broadcast_id = await _media_broadcast(db, "sendPhoto", "sale.png", "image/png", photo)
    await control.faults(rate_limit=True, global_rate=20, per_chat_rate=1, latency_ms=400)
    launch(outbox_global_rate=20)
    await db.set_broadcast_status(broadcast_id, "running")
    await async_wait_until(
        lambda: _status(db, broadcast_id, "done"), timeout=60, what="broadcast done"
    )
    calls = [c for c in await control.all_calls() if c["method"] == "sendPhoto"]
    assert [c for c in calls if c["error_code"] == 429] == []
    assert sorted(int(c["chat_id"]) for c in calls if c["ok"]) == recipients
    assert (await control.stats())["bot_uploads"] == 1
