"""How ``tgbot serve`` stops without failing a request its proxy already sent (docs/compose.md).

On SIGTERM (or SIGINT) the listener closes at once: the proxy's new connections are refused, and
its dialer moves on to another replica's address (compose/proxy/Caddyfile). Connections the kernel
had queued but the loop had not accepted yet are accepted first: closing the socket would reset
them. The connections already open stay open: their requests are answered as usual, every answer
with ``Connection: close``, and ``/readyz`` says 503 ``draining``. The process waits until the
clients have closed them all (the edge proxy closes an idle keep-alive connection after 5 s, see
compose/proxy/Caddyfile), for at most ``SHUTDOWN_DRAIN_SECONDS``; only then does aiohttp close
what is left and give in-flight updates ``SHUTDOWN_GRACE_SECONDS``. Closing an idle keep-alive
connection from this side instead races with the proxy sending a request on it: the request's body
is gone with the connection, so the proxy cannot resend it and answers 502.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

import structlog
from aiohttp import hdrs, web

log = structlog.get_logger(__name__)
POLL_SECONDS = 0.05
BACKLOG = 128


class Drain:
    """The draining state of one server: set once on the stop signal, never cleared."""

    def __init__(self) -> None:
        self.draining = False
        self._listeners: list[socket.socket] = []

    def listener(self, host: str, port: int) -> socket.socket:
        """The listening socket for ``web.SockSite``; the drain keeps a handle of its own on it."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family, backlog=BACKLOG)
        self._listeners.append(sock.dup())
        return sock

    async def on_response_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        if self.draining:
            # The connection ends with this answer; the header tells the client so (aiohttp has
            # computed the headers already when this hook runs).
            response.force_close()
            response.headers[hdrs.CONNECTION] = "close"

    async def run(self, runner: web.BaseRunner, *, within: float) -> None:
        """Stop listening, then wait (at most ``within`` s) until the clients closed their
        connections; ``runner.cleanup()`` afterwards closes whatever is still open."""
        self.draining = True
        for site in runner.sites:
            await site.stop()  # the event loop stops accepting; the socket still listens (ours)
        server = runner.server
        if server is None:
            return
        loop = asyncio.get_running_loop()
        # Connections the kernel has queued but the loop has not accepted yet would be reset
        # when the socket closes, their requests already sent: the proxy would answer 502.
        # Accept them all, then close the socket in the same step, with nothing queued.
        for listener in self._listeners:
            listener.setblocking(False)
            while True:
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    break
                await loop.connect_accepted_socket(server, conn)
            listener.close()
        started = loop.time()
        log.info("serve.draining", open_connections=len(server.connections))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                # aiohttp has no hook for a closed connection: look at its list.
                while server.connections:  # noqa: ASYNC110
                    await asyncio.sleep(POLL_SECONDS)
        log.info(
            "serve.drained",
            seconds=round(loop.time() - started, 3),
            left_open=len(server.connections),
        )
