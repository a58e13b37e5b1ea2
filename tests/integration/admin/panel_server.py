"""Run the real panel (gunicorn + uvicorn worker) for a test, and stop it afterwards."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.waiting import wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def gunicorn_command(*, config_module: bool = True, port: int = 0) -> list[str]:
    """The image's command, or (``config_module=False``) the bare one from the architecture doc."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    if config_module:
        return [gunicorn, "-c", "python:tgadmin.gunicorn_conf", "tgadmin.asgi:application"]
    return [
        gunicorn,
        "tgadmin.asgi:application",
        "-k",
        "uvicorn_worker.UvicornWorker",
        "--bind",
        f"127.0.0.1:{port}",
    ]


def fetch(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - local test server
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


@contextmanager
def running_panel(
    env: dict[str, str],
    log_path: Path,
    *,
    config_module: bool = True,
    workers: int = 1,
    port: int | None = None,
) -> Iterator[str]:
    """Start gunicorn with ``env`` (on ``port``, or a free one); yield its base URL once healthy."""
    port = port or free_port()
    env = {**env, "PORT": str(port), "WEB_CONCURRENCY": str(workers)}
    command = gunicorn_command(config_module=config_module, port=port)
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{env['PORT']}"
        try:
            wait_until(
                lambda: process.poll() is None and fetch(f"{base}/healthz")[0] == 200,
                timeout=60,
                what="the panel to answer /healthz",
            )
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)
