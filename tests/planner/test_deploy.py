"""Safe defaults of ``planner app`` (without starting a server) and ``planner workspace audit``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from planner import cli, deploy
from planner.store import Workspace

GOOD_AUTH = (
    "[auth]\n"
    'redirect_uri = "https://planner.example.org/oauth2callback"\n'
    'cookie_secret = "0123456789abcdef0123456789abcdef"\n'
    'client_id = "planner"\n'
    'client_secret = "s3cr3t-value"\n'
    'server_metadata_url = "https://id.example.org/.well-known/openid-configuration"\n'
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder and home (no secrets.toml anywhere)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the streamlit command instead of starting it."""
    calls: list[list[str]] = []

    def fake_serve(cmd: list[str], env: dict[str, str]) -> int:
        calls.append(cmd)
        calls.append([f"{deploy.ENV_NO_LOGIN}={env.get(deploy.ENV_NO_LOGIN, '')}"])
        return 0

    monkeypatch.setattr(cli, "_serve", fake_serve)
    return calls


def _secrets(folder: Path, text: str) -> None:
    (folder / ".streamlit").mkdir(exist_ok=True)
    (folder / ".streamlit" / "secrets.toml").write_text(text, encoding="utf-8")


def _flag(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


def test_default_is_loopback_with_the_apps_upload_limit(
    folder: Path, no_server: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    del folder
    assert cli.main(["app"]) == 0
    cmd = no_server[0]
    assert _flag(cmd, "--server.address") == "127.0.0.1"
    assert _flag(cmd, "--server.maxUploadSize") == str(deploy.DEFAULT_MAX_UPLOAD_MB) == "50"
    assert no_server[1] == [f"{deploy.ENV_NO_LOGIN}="]
    assert "single-user, no login" in capsys.readouterr().err


def test_upload_limit_follows_the_environment(
    folder: Path, no_server: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    del folder
    monkeypatch.setenv(deploy.ENV_MAX_UPLOAD_MB, "12")
    assert cli.main(["app"]) == 0
    assert _flag(no_server[0], "--server.maxUploadSize") == "12"


@pytest.mark.parametrize("address", ["0.0.0.0", "192.0.2.7", "::", ""])  # noqa: S104
def test_other_address_without_login_is_refused(
    folder: Path,
    no_server: list[list[str]],
    capsys: pytest.CaptureFixture[str],
    address: str,
) -> None:
    del folder
    assert cli.main(["app", "--address", address]) == cli.EXIT_USAGE
    assert no_server == []
    assert "without login" in capsys.readouterr().err


def test_no_login_flag_warns_and_tells_the_app(
    folder: Path, no_server: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    del folder
    assert cli.main(["app", "--address", "0.0.0.0", "--no-login"]) == 0  # noqa: S104
    assert _flag(no_server[0], "--server.address") == "0.0.0.0"  # noqa: S104
    assert no_server[1] == [f"{deploy.ENV_NO_LOGIN}=1"]
    assert "WARNING: --no-login" in capsys.readouterr().err


def test_login_configured_allows_other_addresses(
    folder: Path, no_server: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    _secrets(folder, GOOD_AUTH)
    assert cli.main(["app", "--address", "0.0.0.0"]) == 0  # noqa: S104
    assert _flag(no_server[0], "--server.address") == "0.0.0.0"  # noqa: S104
    err = capsys.readouterr().err
    assert "with login" in err
    assert "s3cr3t" not in err
    assert cli.main(["app", "--no-login"]) == cli.EXIT_USAGE


def test_incomplete_login_config_is_refused_without_echoing_secrets(
    folder: Path, no_server: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    _secrets(folder, GOOD_AUTH.replace('client_id = "planner"\n', ""))
    assert cli.main(["app"]) == cli.EXIT_INVALID
    err = capsys.readouterr().err
    assert "`[auth]` has no `client_id`" in err
    assert "s3cr3t" not in err
    assert "0123456789abcdef" not in err
    assert no_server == []


def test_named_providers_and_redirect_uri_are_checked() -> None:
    section = {
        "redirect_uri": "https://x/callback",
        "cookie_secret": "c",
        "keycloak": {"client_id": "a", "client_secret": "b"},
    }
    problems = deploy.auth_problems(section)
    assert problems == [
        "`[auth] redirect_uri` must end with `/oauth2callback`",
        "`[auth.keycloak]` has no `server_metadata_url`",
    ]


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("", False), (None, False),  # noqa: S104
     ("192.0.2.1", False), ("example.org", False)],
)  # fmt: skip
def test_is_loopback(address: str | None, loopback: bool) -> None:
    assert deploy.is_loopback(address) is loopback


def test_streamlit_config_file_agrees_with_the_app() -> None:
    import tomllib  # noqa: PLC0415

    config = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    assert data["server"]["maxUploadSize"] == deploy.DEFAULT_MAX_UPLOAD_MB
    assert data["server"]["address"] == deploy.LOOPBACK


def test_workspace_audit_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ws.sqlite"
    ws = Workspace(path)
    ws.save("plan", "x = 1\n")
    ws.rename("plan", "plan, v2")
    Workspace(path, owner="other").save("theirs", "y = 2\n")
    assert cli.main(["workspace", "audit", "--workspace", str(path)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["action"], r["name"], r["owner"]) for r in rows] == [
        ("save", "plan", "local"),
        ("rename", "plan", "local"),
    ]
    assert rows[1]["detail"] == "renamed to `plan, v2`"
    out = tmp_path / "audit.csv"
    args = ["workspace", "audit", "--workspace", str(path), "--owner", "other", "--out", str(out)]
    assert cli.main(args) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["action"], r["name"], r["actor"]) for r in rows] == [("save", "theirs", "other")]
