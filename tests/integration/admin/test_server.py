"""gunicorn with uvicorn workers starts for real, serves the login page and static files."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.integration.admin.conftest import SECRET_KEY, base_env
from tests.integration.admin.panel_server import (
    fetch,
    free_port,
    gunicorn_command,
    running_panel,
)
from tests.support.waiting import wait_until


@pytest.fixture(params=[True, False], ids=["gunicorn_conf", "bare_command"])
def server(
    request: pytest.FixtureRequest, admin_db_url: str, static_root: str, tmp_path: Path
) -> Iterator[str]:
    env = base_env(
        DATABASE_URL=admin_db_url,
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        STATIC_ROOT=static_root,
    )
    with running_panel(env, tmp_path / "gunicorn.log", config_module=request.param) as base:
        yield base


def test_serves_login_page_and_static(server: str) -> None:
    status, body, _ = fetch(f"{server}/admin/login/")
    assert status == 200
    assert "Telegram bot administration" in body
    assert 'name="csrfmiddlewaretoken"' in body
    stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]+\.css)"', body)
    assert stylesheet, "static files are served under hashed names"
    css_status, _, headers = fetch(server + stylesheet.group(1))
    assert css_status == 200
    assert "max-age" in headers.get("Cache-Control", "")

    status, _, _ = fetch(f"{server}/admin/panel/telegramuser/")
    assert status == 200  # followed the redirect to the login page
    status, body, _ = fetch(f"{server}/readyz")
    assert status == 200, body


def test_healthz_and_build_info_name_the_installed_release(
    admin_db_url: str, static_root: str, tmp_path: Path
) -> None:
    """The served panel reports the version hatch-vcs gave the installed distribution, also
    through prometheus-client's multiprocess directory (the image's set-up)."""
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    env = base_env(
        DATABASE_URL=admin_db_url,
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        STATIC_ROOT=static_root,
        PROMETHEUS_MULTIPROC_DIR=str(multiproc),
    )
    release = version("tgbot-platform")
    with running_panel(env, tmp_path / "gunicorn.log") as base:
        _, health, _ = fetch(f"{base}/healthz")
        _, metrics, _ = fetch(f"{base}/metrics")
    assert json.loads(health) == {"status": "ok", "version": release}
    assert f'tgadmin_build_info{{version="{release}"}} 1.0' in metrics.splitlines()


def test_bad_settings_stop_gunicorn_with_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        gunicorn_command(),
        env=base_env(DATABASE_URL="postgresql://x@localhost/db", PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "config error: SECRET_KEY: is required but not set"
    )
    assert "Traceback" not in result.stderr


def test_serving_without_allowed_hosts_is_refused(admin_db_url: str) -> None:
    result = subprocess.run(
        gunicorn_command(),
        env=base_env(DATABASE_URL=admin_db_url, SECRET_KEY=SECRET_KEY, PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("config error: ALLOWED_HOSTS: is required to serve unless DEBUG")
    )


def test_access_log_has_paths_without_query_strings(
    admin_db_url: str, static_root: str, tmp_path: Path
) -> None:
    """Searches put user names and message text in the query string: the log never has it."""
    env = base_env(
        DATABASE_URL=admin_db_url,
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        STATIC_ROOT=static_root,
    )
    # Letters only: a timestamp, a pid or a port number cannot contain it by accident.
    marker = "cardholder-Quixotic-Zebra"
    log_path = tmp_path / "gunicorn.log"
    with running_panel(env, log_path) as base:
        status, _, _ = fetch(f"{base}/admin/panel/telegramuser/?q={marker}")
        assert status == 200  # the login page, after the redirect
        access = wait_until(
            lambda: (
                [line for line in log_path.read_text().splitlines() if "telegramuser" in line]
                or None
            ),
            timeout=10,
            what="the access log line of the search",
        )
    request = re.search(r'"(GET \S+ HTTP/1\.1)" (\d+)', json.loads(access[0])["event"])
    assert request, access[0]
    assert request.groups() == ("GET /admin/panel/telegramuser/?... HTTP/1.1", "302")
    assert marker not in log_path.read_text()
