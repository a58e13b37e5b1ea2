"""Scenario 5: hostile webhook input (hypothesis over Update shapes, bad bodies, wrong secrets,
slowloris clients) gets 4xx or 200, never 5xx, while real updates keep being processed."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from hypothesis import HealthCheck, given, settings

from tests.integration.bot.conftest import WEBHOOK_SECRET, SandboxProcess
from tests.resilience.harness import (
    Injected,
    Replica,
    assert_exactly_once,
    exactly_once,
    inject,
    report,
    sandbox_stats,
    scale,
    set_webhook,
    stored_incoming,
    wait_delivered,
)
from tests.resilience.hostile import Secret, fixed_cases, updates
from tests.support.slow_client import SlowClient

SCALE = scale()
REAL_UPDATES = SCALE.updates // 4
SLOW_USER = 8_500_000


def _slow_update(i: int) -> bytes:
    update = {
        "update_id": 3_000_000_000 + i,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": SLOW_USER + i, "type": "private", "first_name": "Slow"},
            "from": {"id": SLOW_USER + i, "is_bot": False, "first_name": "Slow"},
            "text": f"slow {i}",
        },
    }
    return json.dumps(update).encode()


def _handler_errors(metrics: str) -> int:
    found = re.findall(r'tgbot_updates_total\{[^}]*result="error"[^}]*\} ([0-9.]+)', metrics)
    return int(sum(float(n) for n in found))


def test_hostile_input_is_never_5xx_while_real_updates_flow(
    fresh_migrated_db_url: str,
    clean_redis: str,
    patient_sandbox: SandboxProcess,
    replicas: Callable[..., Replica],
) -> None:
    bot = replicas(fresh_migrated_db_url, clean_redis)
    set_webhook(patient_sandbox, bot.bot.webhook_url)
    hook = urlsplit(bot.bot.webhook_url)
    assert hook.hostname is not None
    assert hook.port is not None

    injected = Injected()
    real = threading.Thread(
        target=lambda: asyncio.run(
            inject(
                patient_sandbox.base_url,
                REAL_UPDATES,
                users=SCALE.users,
                rate=SCALE.rate / 2,
                first_user=8_000_000,
                into=injected,
            )
        ),
        daemon=True,
    )
    real.start()
    slow = [
        SlowClient(
            hook.hostname, hook.port, hook.path, _slow_update(i), 0.04, i % 2 == 0, WEBHOOK_SECRET
        ).start()
        for i in range(SCALE.slow_clients)
    ]
    slow_started = time.monotonic()
    accepted_before = asyncio.run(sandbox_stats(patient_sandbox.base_url))["webhook"]["accepted"]

    statuses: Counter[int] = Counter()
    fixed: dict[str, int] = {}
    with httpx.Client(timeout=60) as http:

        def post(body: bytes, secret: Secret, headers: dict[str, str]) -> int:
            sent: list[tuple[str, str | bytes]] = [
                *{"Content-Type": "application/json", **headers}.items()
            ]
            values = [secret] if isinstance(secret, str) else secret or []
            sent += [("X-Telegram-Bot-Api-Secret-Token", value) for value in values]
            status = http.post(bot.bot.webhook_url, content=body, headers=sent).status_code
            statuses[status] += 1
            return status

        valid = {"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": {"id": 1}}}
        for name, body, secret, headers in fixed_cases(valid):
            fixed[name] = post(body, secret, headers)

        @settings(
            max_examples=SCALE.hostile_examples,
            deadline=None,
            derandomize=SCALE.name == "ci",
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(update=updates())
        def never_5xx(update: Any) -> None:
            status = post(json.dumps(update).encode(), WEBHOOK_SECRET, {})
            assert status < 500, (status, update)

        never_5xx()

    for client in slow:
        client.join(timeout=120)
    slow_seconds = round(time.monotonic() - slow_started, 1)
    accepted_during = (
        asyncio.run(sandbox_stats(patient_sandbox.base_url))["webhook"]["accepted"]
        - accepted_before
    )
    real.join(timeout=SCALE.deadline)
    stats = asyncio.run(wait_delivered(patient_sandbox.base_url, injected, SCALE.deadline))
    figures = exactly_once(fresh_migrated_db_url, patient_sandbox.base_url, injected, stats)
    stored = stored_incoming(fresh_migrated_db_url)
    slow_stored = [stored[(SLOW_USER + i, 1)] for i in range(len(slow))]
    handler_errors = _handler_errors(httpx.get(f"{bot.url}/metrics").text)
    report(
        "hostile_input",
        hostile_requests=sum(statuses.values()),
        hostile_statuses={str(k): v for k, v in sorted(statuses.items())},
        hostile_5xx=sum(n for s, n in statuses.items() if s >= 500),
        fixed_cases=fixed,
        handler_errors=handler_errors,
        slow_clients=len(slow),
        slow_statuses=dict(Counter(str(c.status or c.error) for c in slow)),
        slow_longest_seconds=max(c.seconds for c in slow),
        real_accepted_while_slow=accepted_during,
        slow_phase_seconds=slow_seconds,
        **{f"real_{k}": v for k, v in figures.items()},
    )
    assert all(s < 500 for s in statuses), statuses
    assert (fixed["two_megabytes"], fixed["empty"]) == (413, 400), fixed
    assert (fixed["wrong_secret"], fixed["missing_secret"]) == (401, 401), fixed
    assert {fixed[name] for name in fixed if name.startswith("secret_")} == {401}, fixed
    assert [c.status for c in slow] == [200] * len(slow), [(c.status, c.error) for c in slow]
    assert slow_stored == [1] * len(slow), slow_stored
    assert accepted_during > 0  # the slow clients did not hold real updates back
    assert_exactly_once(figures)
    assert figures["webhook_5xx"] == 0, figures
