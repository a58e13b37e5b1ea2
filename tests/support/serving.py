"""An aiohttp application served on its own event loop in a daemon thread, on real sockets.

Running apart from the test's loop means sync tests (and processes the test starts) can use it
too, and an async test blocking on something cannot stall it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from aiohttp import web


class AppThread:
    """Serve ``make_app()`` on 127.0.0.1:<ephemeral port> until :meth:`stop`."""

    def __init__(self, make_app: Callable[[], web.Application], name: str = "app") -> None:
        self._make_app = make_app
        self.name = name
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._setup())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        if self._runner is not None:
            self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    async def _setup(self) -> None:
        self._runner = web.AppRunner(self._make_app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise TimeoutError(f"{self.name} did not start within 30 s")
        if self._error is not None:
            raise RuntimeError(f"{self.name} failed to start") from self._error

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
