"""gunicorn with uvicorn workers starts for real, serves the login page and static files."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.admin.conftest import SECRET_KEY, base_env
from tests.support.waiting import wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def gunicorn_command() -> list[str]:
    return [
        str(Path(sys.executable).with_name("gunicorn")),
        "-c",
        "python:tgadmin.gunicorn_conf",
        "tgadmin.asgi:application",
    ]


def fetch(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - local test server
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


@pytest.fixture
def server(admin_db_url: str, static_root: str, tmp_path: Path) -> Iterator[str]:
    env = base_env(
        DATABASE_URL=admin_db_url,
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        STATIC_ROOT=static_root,
        PORT=str(free_port()),
        WEB_CONCURRENCY="1",
    )
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(gunicorn_command(), env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        wait_until(lambda: fetch(f"{base}/healthz")[0] == 200, timeout=60, what="gunicorn up")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


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
