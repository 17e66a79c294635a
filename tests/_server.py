"""Helpers for tests that start a real server process (``planner app`` or ``streamlit run``)."""

from __future__ import annotations

import socket
import subprocess
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
