"""Both entry scripts are found by Streamlit as the planner's ASGI app (with its start-up hook).

``streamlit run FILE`` decides from FILE's source whether it is an ``st.App`` (it looks for
the ``st.App(...)`` call; an app merely imported from elsewhere is served as a blank plain
script). ``app.py`` is what a checkout runs; ``planner/ui/entry.py`` is what ``planner app``
serves, also from an installed wheel.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.web.server.app_discovery import discover_asgi_app

from planner import cli

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script", ["app.py", "planner/ui/entry.py"])
def test_entry_script_is_discovered_as_the_planner_app(script: str) -> None:
    found = discover_asgi_app(REPO / script)
    assert found.is_asgi_app, f"streamlit would serve {script} as a plain (blank) script"
    assert found.app_name == "app"


def test_planner_app_serves_the_packaged_entry_script(monkeypatch: pytest.MonkeyPatch) -> None:
    launched: list[list[str]] = []

    def fake_execve(path: str, cmd: list[str], env: dict[str, str]) -> None:
        assert path == cmd[0]
        assert env
        launched.append(cmd)
        raise SystemExit(0)  # the real execve never returns: this process becomes the server

    monkeypatch.setattr(cli.os, "execve", fake_execve)
    with pytest.raises(SystemExit, match="0"):
        cli.main(["app", "--port", "8765"])
    (cmd,) = launched
    assert cmd[1:4] == ["-m", "streamlit", "run"]
    assert Path(cmd[4]) == REPO / "planner" / "ui" / "entry.py"
    assert discover_asgi_app(Path(cmd[4])).is_asgi_app
