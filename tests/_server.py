"""Helpers for tests that start a real server process (``planner app`` or ``streamlit run``)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    """Return a free TCP port on localhost."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(
    proc: subprocess.Popen[bytes],
    url: str,
    log_path: Path,
    *,
    timeout_s: float = 60.0,
    path: str = "/_stcore/health",
) -> None:
    """Wait until the server at ``url`` answers ``path`` with 200; fail with the server's log.

    ``path`` is Streamlit's health check by default. Fails at once when the process exits, and
    after ``timeout_s`` without an answer.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            pytest.fail(f"the server exited early:\n{log_path.read_text(encoding='utf-8')}")
        try:
            with urllib.request.urlopen(f"{url}{path}", timeout=5) as r:  # noqa: S310
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            log = log_path.read_text(encoding="utf-8")
            pytest.fail(f"no answer from {url} within {timeout_s:.0f} s:\n{log}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen[bytes], *, timeout_s: float = 15.0) -> None:
    """Terminate a server process (kill it if it does not stop within ``timeout_s``)."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout_s)


class ForwardingProxy:
    """A reverse proxy on loopback that adds one header to every request (tests only).

    What a real reverse proxy (nginx, Caddy) in front of the app does: the browser talks to
    the proxy, the proxy to the app, and every request the app sees -- page loads and the
    WebSocket upgrade of Streamlit's session alike -- carries ``X-Forwarded-For``. Browsers
    differ in whether headers set through automation reach WebSocket upgrades (Chromium 150
    does not send Playwright's ``extra_http_headers`` there, 156 does), so a test of the
    app's proxy rule goes through this proxy rather than relying on the browser.

    Requests are parsed from the client side only (head up to the blank line, then
    ``Content-Length`` bytes of body); after a WebSocket upgrade both directions are piped
    unchanged. Used as a context manager: ``with ForwardingProxy(app_port, header) as url``.
    """

    def __init__(self, target_port: int, header: str) -> None:
        self.target_port = target_port
        self.header = header.encode("latin-1")
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._stopped: asyncio.Event | None = None

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        writer.close()

    async def _client(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        self._writers.add(c_writer)
        try:
            s_reader, s_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except ConnectionError:
            c_writer.close()
            return
        self._writers.add(s_writer)
        back = asyncio.ensure_future(self._pipe(s_reader, c_writer))
        try:
            while True:
                head = await c_reader.readuntil(b"\r\n\r\n")
                first, _, rest = head.partition(b"\r\n")
                s_writer.write(first + b"\r\n" + self.header + b"\r\n" + rest)
                lower = head.lower()
                length = 0
                for line in lower.split(b"\r\n"):
                    if line.startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    s_writer.write(await c_reader.readexactly(length))
                await s_writer.drain()
                if b"upgrade: websocket" in lower:
                    await self._pipe(c_reader, s_writer)
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            s_writer.close()
            await back

    async def _serve(self, ready: threading.Event) -> None:
        self._stopped = asyncio.Event()
        server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        ready.set()
        await self._stopped.wait()
        server.close()
        for w in list(self._writers):
            w.close()
        await server.wait_closed()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for w in list(self._writers):
            with contextlib.suppress(ConnectionError):
                await w.wait_closed()

    def __enter__(self) -> str:
        ready = threading.Event()
        self._thread = threading.Thread(
            target=lambda: self._loop.run_until_complete(self._serve(ready)),
            name="test-forwarding-proxy",
            daemon=True,
        )
        self._thread.start()
        ready.wait(10)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        if self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)
        self._loop.close()
