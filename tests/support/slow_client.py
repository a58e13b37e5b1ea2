"""A slowloris-style HTTP client: a webhook request sent one byte at a time."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class SlowClient:
    """A slowloris: sends a webhook request one byte at a time, ``interval`` apart (the headers,
    or only the body), then reads the status line."""

    host: str
    port: int
    path: str
    body: bytes
    interval: float
    slow_headers: bool
    secret: str
    status: int | None = None
    error: str | None = None
    seconds: float = 0.0
    _thread: threading.Thread = field(init=False)

    def start(self) -> SlowClient:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(self.body)}\r\n"
            f"X-Telegram-Bot-Api-Secret-Token: {self.secret}\r\nConnection: close\r\n\r\n"
        ).encode()
        slow, fast = (head, self.body) if self.slow_headers else (self.body, head)
        started = time.monotonic()
        try:
            with socket.create_connection((self.host, self.port), timeout=120) as sock:
                if not self.slow_headers:
                    sock.sendall(fast)
                for i in range(len(slow)):
                    sock.sendall(slow[i : i + 1])
                    time.sleep(self.interval)  # the attack itself: a slow sender
                if self.slow_headers:
                    sock.sendall(fast)
                reply = sock.recv(64)
            self.status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else None
            if self.status is None:
                self.error = "connection closed without an answer"
        except OSError as exc:
            self.error = type(exc).__name__
        self.seconds = round(time.monotonic() - started, 1)
