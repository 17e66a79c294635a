"""Shared deployment in a real browser: OpenID Connect login, per-user workspaces, safe defaults.

A real OpenID Connect provider (``oidc-provider-mock``) runs on loopback in the test process;
the real app is started by ``planner app`` with an ``[auth]`` section in
``.streamlit/secrets.toml`` in its working folder, and driven in Debian's chromium (headless,
via Playwright; ``playwright install`` is never used). Each user has their own browser context
(own cookies). Every check waits for what it asserts (Playwright ``expect``).

Skipped with a reason when ``/usr/bin/chromium`` or the provider package is absent.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._server import ForwardingProxy, free_port, stop, wait_healthy

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
TIMEOUT_MS = 90_000
USERS = {"alice": "alice@example.com", "bob": "bob@example.com"}
PLAN = "A secret plan"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is not installed (apt-get install chromium; .ci/run does it)",
    ),
]


@dataclass(frozen=True)
class App:
    """A running ``planner app``."""

    url: str
    port: int
    workspace: Path
    proc: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def planner_app(folder: Path, *flags: str, port: int | None = None) -> Iterator[App]:
    """Start ``planner app`` in ``folder`` (its .streamlit/ is read) and wait until healthy."""
    port = free_port() if port is None else port
    workspace = folder / "workspace.sqlite"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HOME": str(folder),  # no ~/.streamlit/secrets.toml of the machine's user
        "PLANNER_WORKSPACE": str(workspace),
        "PLANNER_APP_N_FARMS": "500",
        "PLANNER_APP_TIME_LIMIT": "3",
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
        "AUTHLIB_INSECURE_TRANSPORT": "1",  # plain http on loopback in the test only
    }
    env.pop("PLANNER_NO_LOGIN", None)
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"auth-app-{port}.log"
    log = log_path.open("w", encoding="utf-8")
    cmd = [sys.executable, "-m", "planner.cli", "app", "--port", str(port), *flags]
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, url, log_path, timeout_s=90)
        yield App(url, port, workspace, proc, log_path)
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def playwright_api() -> Any:  # noqa: ANN401
    return pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser(playwright_api: Any) -> Iterator[Any]:  # noqa: ANN401
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """A real OpenID Connect provider on loopback (its own process); yields its issuer URL."""
    if importlib.util.find_spec("oidc_provider_mock") is None:
        pytest.skip("oidc-provider-mock is not installed (pip install -e '.[test]')")
    port = free_port()
    # No predefined users: the sign-in form's subject field is typed in (the provider then
    # reports the subject as the e-mail claim too), as in every version of the provider.
    cmd = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"auth-provider-{port}.log"
    log = log_path.open("w", encoding="utf-8")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, issuer, log_path, path="/.well-known/openid-configuration")
        yield issuer
    finally:
        stop(proc, timeout_s=10)
        log.close()


@pytest.fixture(scope="module")
def auth_app(provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """``planner app`` with login configured for the provider (port known in advance)."""
    folder = tmp_path_factory.mktemp("auth_app")
    port = free_port()
    (folder / ".streamlit").mkdir()
    (folder / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "planner-test"\n'
        f'client_secret = "{secrets.token_hex(16)}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    with planner_app(folder, port=port) as app:
        yield app


def _expect(playwright_api: Any) -> Any:  # noqa: ANN401
    expect = playwright_api.expect
    expect.set_options(timeout=TIMEOUT_MS)
    return expect


def _sign_in(page: Any, expect: Any, app: App, sub: str) -> None:  # noqa: ANN401
    page.goto(f"{app.url}/scenario", wait_until="domcontentloaded")
    page.get_by_role("button", name="Sign in", exact=True).click()
    # the provider's own sign-in form
    page.get_by_placeholder("sub", exact=True).fill(USERS[sub])
    page.get_by_role("button", name="Authorize", exact=True).click()
    expect(page.get_by_text(f"Signed in as {USERS[sub]}")).to_be_visible()


def _idle(page: Any, expect: Any) -> None:  # noqa: ANN401
    """Wait until Streamlit has finished the current run (a click during a run can be lost)."""
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)
    page.wait_for_timeout(200)  # the status widget appears only after a short delay
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)


def _scenario_page(page: Any, expect: Any, app: App, query: str = "") -> None:  # noqa: ANN401
    page.goto(f"{app.url}/scenario{query}", wait_until="domcontentloaded")
    expect(page.get_by_text("Build and run a scenario")).to_be_visible()
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_enabled()
    _idle(page, expect)


def _open_workspace(page: Any, expect: Any, n: int) -> None:  # noqa: ANN401
    header = page.get_by_text(re.compile(rf"^Workspace \({n}\)$"))
    expect(header).to_be_visible()
    header.click()
    expect(page.get_by_text("Audit trail")).to_be_visible()
    _idle(page, expect)


def _alert(page: Any, text: str) -> Any:  # noqa: ANN401
    return page.locator("[data-testid='stAlert']", has_text=text)


def _owner_of(app: App, name: str) -> str:
    con = sqlite3.connect(app.workspace)
    try:
        rows = con.execute(
            "SELECT owner FROM scenarios WHERE name = ? AND deleted_at IS NULL", (name,)
        ).fetchall()
    finally:
        con.close()
    assert len(rows) == 1, rows
    return str(rows[0][0])


def _id_of(app: App, name: str) -> int:
    con = sqlite3.connect(app.workspace)
    try:
        row = con.execute("SELECT id FROM scenarios WHERE name = ?", (name,)).fetchone()
    finally:
        con.close()
    return int(row[0])


@dataclass(frozen=True)
class Two:
    """Two signed-in users' pages (own browser contexts) on one app."""

    app: App
    expect: Any
    a: Any
    b: Any


def _a_signs_in_and_saves(u: Two) -> int:
    # Nobody signed in: only the sign-in screen, no page content, no workspace.
    u.a.goto(f"{u.app.url}/scenario", wait_until="domcontentloaded")
    u.expect(u.a.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    u.expect(u.a.get_by_text("Build and run a scenario")).to_have_count(0)
    _sign_in(u.a, u.expect, u.app, "alice")
    _scenario_page(u.a, u.expect, u.app)
    name_box = u.a.get_by_label("Scenario name")
    name_box.fill(PLAN)
    name_box.press("Enter")
    u.expect(name_box).to_have_value(PLAN)
    _idle(u.a, u.expect)
    u.a.get_by_role("button", name="Save scenario (without results)").click()
    u.expect(_alert(u.a, f"Saved `{PLAN}`")).to_be_visible()
    assert _owner_of(u.app, PLAN).endswith(f"|{USERS['alice']}")
    return _id_of(u.app, PLAN)


def _b_cannot_see_or_open_it(u: Two, plan_id: int) -> None:
    """B does not see it; opening it by id is refused like an id that does not exist."""
    _sign_in(u.b, u.expect, u.app, "bob")
    _scenario_page(u.b, u.expect, u.app)
    _open_workspace(u.b, u.expect, 0)
    u.expect(u.b.get_by_text("Shared with me (0)")).to_be_visible()
    u.expect(u.b.locator("[data-testid='stMain']")).not_to_contain_text(PLAN)
    for sid in (plan_id, plan_id + 1000):
        _scenario_page(u.b, u.expect, u.app, f"?scenario={sid}")
        u.expect(_alert(u.b, f"no scenario with id {sid} is shared with you")).to_be_visible()
        u.expect(u.b.get_by_label("Scenario name")).not_to_have_value(PLAN)
    u.expect(u.b.locator("[data-testid='stMain']")).not_to_contain_text(PLAN)


def _a_shares_with_b(u: Two) -> None:
    _scenario_page(u.a, u.expect, u.app)
    _open_workspace(u.a, u.expect, 1)
    u.expect(u.a.get_by_text("Not shared.")).to_be_visible()
    share_box = u.a.get_by_label("Share read-only with (e-mail, or * for everyone signed in)")
    share_box.fill(USERS["bob"])
    share_box.press("Enter")
    u.expect(share_box).to_have_value(USERS["bob"])
    _idle(u.a, u.expect)
    u.a.get_by_role("button", name="Share", exact=True).click()
    u.expect(_alert(u.a, f"is shared read-only with {USERS['bob']}")).to_be_visible()


def _b_sees_opens_and_copies_it(u: Two, plan_id: int) -> None:
    _scenario_page(u.b, u.expect, u.app)
    _open_workspace(u.b, u.expect, 0)
    u.expect(u.b.get_by_text("Shared with me (1)")).to_be_visible()
    u.expect(u.b.get_by_role("combobox", name="Shared with me")).to_have_value(
        re.compile(re.escape(f"{PLAN} · shared by {USERS['alice']}"))
    )
    _scenario_page(u.b, u.expect, u.app, f"?scenario={plan_id}")
    u.expect(_alert(u.b, f"Loaded `{PLAN}`")).to_be_visible()
    u.expect(u.b.get_by_label("Scenario name")).to_have_value(PLAN)
    # B's duplicate is B's; A's original stays A's.
    _scenario_page(u.b, u.expect, u.app)
    _open_workspace(u.b, u.expect, 0)
    u.b.get_by_role("button", name="Copy to mine").click()
    u.expect(_alert(u.b, f"Copied into your workspace as `{PLAN} (copy)`")).to_be_visible()
    alice, bob = _owner_of(u.app, PLAN), _owner_of(u.app, f"{PLAN} (copy)")
    assert bob.endswith(f"|{USERS['bob']}")
    assert alice.endswith(f"|{USERS['alice']}")
    _scenario_page(u.b, u.expect, u.app)
    _open_workspace(u.b, u.expect, 1)
    _scenario_page(u.a, u.expect, u.app)
    _open_workspace(u.a, u.expect, 1)  # A does not get B's copy
    # A's audit trail says who copied it
    u.expect(u.a.locator("[data-testid='stMain']")).to_contain_text(f"copied by {USERS['bob']}")


def _b_signs_out(u: Two, plan_id: int) -> None:
    """Logout ends B's session: the provider's end-session page, then the sign-in screen."""
    _idle(u.b, u.expect)
    u.b.get_by_role("button", name="Sign out").click()
    # Streamlit ends the provider's session too (the provider advertises end_session):
    # the provider's page asks to confirm, then returns to the app.
    u.b.wait_for_url(re.compile(r"/oauth2/end_session\b"), timeout=TIMEOUT_MS)
    u.b.get_by_role("button", name="End session").click()
    u.b.wait_for_url(re.compile(re.escape(u.app.url)), timeout=TIMEOUT_MS)
    u.expect(u.b.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    u.b.goto(f"{u.app.url}/scenario?scenario={plan_id}", wait_until="domcontentloaded")
    u.expect(u.b.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    u.expect(u.b.get_by_text("Signed in as")).to_have_count(0)
    u.expect(u.b.get_by_text("Build and run a scenario")).to_have_count(0)


def test_sign_in_isolation_sharing_duplicate_and_logout(
    auth_app: App,
    browser: Any,  # noqa: ANN401
    playwright_api: Any,  # noqa: ANN401
) -> None:
    ctx_a = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx_b = browser.new_context(viewport={"width": 1400, "height": 1000})
    u = Two(auth_app, _expect(playwright_api), ctx_a.new_page(), ctx_b.new_page())
    try:
        plan_id = _a_signs_in_and_saves(u)
        _b_cannot_see_or_open_it(u, plan_id)
        _a_shares_with_b(u)
        _b_sees_opens_and_copies_it(u, plan_id)
        _b_signs_out(u, plan_id)
    finally:
        with contextlib.suppress(Exception):
            u.a.screenshot(path=str(ARTIFACTS / "auth-alice.png"), full_page=True)
            u.b.screenshot(path=str(ARTIFACTS / "auth-bob.png"), full_page=True)
        ctx_a.close()
        ctx_b.close()


def _listening(port: int) -> list[str]:
    """Local addresses with a TCP socket listening on ``port`` (from /proc/net/tcp{,6})."""
    found = []
    for name in ("tcp", "tcp6"):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="ascii").splitlines()[1:]:
            fields = line.split()
            local, st = fields[1], fields[3]
            addr_hex, port_hex = local.rsplit(":", 1)
            if st == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.append(addr_hex)
    return found


def _is_loopback_hex(addr_hex: str) -> bool:
    if len(addr_hex) == 8:  # IPv4, little-endian: 0100007F is 127.0.0.1
        return addr_hex[-2:] == "7F"
    return addr_hex == "00000000000000000000000001000000"  # ::1


def test_without_login_the_app_listens_on_loopback_only(
    tmp_path: Path,
    browser: Any,  # noqa: ANN401
    playwright_api: Any,  # noqa: ANN401
) -> None:
    expect = _expect(playwright_api)
    # A non-loopback address without login configuration is refused before anything starts.
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    port = free_port()
    refused = subprocess.run(
        [sys.executable, "-m", "planner.cli", "app", "--address", "0.0.0.0", "--port", str(port)],  # noqa: S104
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2, refused.stderr
    assert "refusing to listen on 0.0.0.0 without login" in refused.stderr
    assert _listening(port) == []

    # No flags: single-user mode on 127.0.0.1 only, Streamlit's upload limit = the app's.
    with planner_app(tmp_path) as app:
        addrs = _listening(app.port)
        assert addrs, "nothing listens on the app's port"
        assert all(_is_loopback_hex(a) for a in addrs), addrs
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{app.url}/data", wait_until="domcontentloaded")
            expect(page.get_by_text("Single-user mode")).to_be_visible()
            expect(page.get_by_role("button", name="Sign in", exact=True)).to_have_count(0)
            expect(page.get_by_text("50MB per file").first).to_be_visible()
            expect(page.get_by_text("No login (started with --no-login)")).to_have_count(0)
        finally:
            page.close()
        # A request forwarded by a reverse proxy on this computer is not local: refused. Through
        # a real proxy: X-Forwarded-For (the server then reports the client's address) and
        # RFC 7239 Forwarded (which it does not read; the app's own header check refuses it).
        for header in ("X-Forwarded-For: 203.0.113.5", "Forwarded: for=203.0.113.5;proto=http"):
            ctx = browser.new_context()
            try:
                proxied = ctx.new_page()
                with ForwardingProxy(app.port, header) as proxy_url:
                    proxied.goto(f"{proxy_url}/scenario", wait_until="domcontentloaded")
                    refusal = proxied.get_by_text("only serves the computer it runs on")
                    expect(refusal).to_be_visible()
                    expect(proxied.get_by_text("Build and run a scenario")).to_have_count(0)
            finally:
                ctx.close()
    log = app.log.read_text(encoding="utf-8")
    assert "single-user, no login" in log

    # --no-login: a printed warning and a banner on every page.
    with planner_app(tmp_path, "--no-login") as app:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{app.url}/scenario", wait_until="domcontentloaded")
            expect(page.get_by_text("No login (started with --no-login)")).to_be_visible()
        finally:
            page.close()
    assert "WARNING: --no-login" in app.log.read_text(encoding="utf-8")
