"""Real service processes for tests: start, wait until they answer, stop with a signal."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.waiting import wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(**overrides: str) -> dict[str, str]:
    """The test process's environment minus the service settings, plus ``overrides``."""
    drop = {"DATABASE_URL", "REDIS_URL", "TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET", "WEBHOOK_URL"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(overrides)
    return env


def run_tgbot(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one ``python -m tgbot`` command to completion; its output is captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "tgbot", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class ServiceProcess:
    """A ``python -m tgbot <command>`` child process with its log in a file."""

    args: list[str]
    env: Mapping[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> ServiceProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tgbot", *self.args],
            env=dict(self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def wait_http(self, url: str, *, status: int = 200, timeout: float = 90.0) -> None:
        # A deadline, not a delay: importing aiogram alone takes seconds of CPU on a busy host.
        def answers() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"process exited with {self.proc.returncode}:\n{self.log()}")
            return httpx.get(url, timeout=1.0).status_code == status

        wait_until(answers, timeout=timeout, interval=0.1, what=f"{url} -> {status}")

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
