"""/metrics of a panel with two gunicorn workers counts every request, whichever worker served it
(prometheus-client's multiprocess directory, as every deployment sets it), and a restart starts
from what the new workers count, not from files an earlier run left behind."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.admin.conftest import SECRET_KEY, base_env
from tests.integration.admin.panel_server import fetch, running_panel
from tests.support.waiting import wait_until

ROUTE = "admin:login"


def login_requests_counted(base: str) -> float:
    status, body, _ = fetch(f"{base}/metrics")
    assert status == 200
    return sum(
        sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        if sample.name == "tgadmin_http_requests_total" and sample.labels["route"] == ROUTE
    )


def serve_until_both_workers_answered(base: str, directory: Path) -> int:
    """GET the login page until both workers have counted one; returns how many were sent."""
    sent = 0

    def one_more() -> bool:
        nonlocal sent
        assert fetch(f"{base}/admin/login/")[0] == 200
        sent += 1
        return len(list(directory.glob("counter_*.db"))) >= 2

    wait_until(one_more, timeout=60, what="both workers to serve a request")
    return sent


def test_metrics_sum_both_workers_and_restart_clean(
    admin_db_url: str, static_root: str, tmp_path: Path
) -> None:
    directory = tmp_path / "prometheus-multiproc"  # not there yet: gunicorn makes it
    env = base_env(
        DATABASE_URL=admin_db_url,
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        STATIC_ROOT=static_root,
        PROMETHEUS_MULTIPROC_DIR=str(directory),
    )
    with running_panel(env, tmp_path / "first.log", workers=2) as base:
        sent = serve_until_both_workers_answered(base, directory)
        # Each scrape lands on either worker; every one sees the sum.
        assert [login_requests_counted(base) for _ in range(6)] == [sent] * 6

    with running_panel(env, tmp_path / "second.log", workers=2) as base:
        assert login_requests_counted(base) == 0
        again = serve_until_both_workers_answered(base, directory)
        assert [login_requests_counted(base) for _ in range(6)] == [again] * 6
