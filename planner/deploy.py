"""Deployment settings shared by ``planner app`` and the app: bind address, login, upload limit.

No Streamlit here (the CLI reads these without starting a server). Rules:

* Single-user mode is the default: no login, the server listens on 127.0.0.1 only, and every
  visitor is the local owner of the workspace.
* Listening on any other address needs login configured -- an ``[auth]`` section in a
  Streamlit ``secrets.toml`` for an OpenID Connect provider (see the README) -- or the explicit
  ``--no-login`` flag, which the launcher passes to the app as ``$PLANNER_NO_LOGIN`` so that it
  shows a warning banner.
* Streamlit's own upload limit (``server.maxUploadSize``) is set from the app's limit
  (``$PLANNER_MAX_UPLOAD_MB``, default :data:`DEFAULT_MAX_UPLOAD_MB`), so the upload widget,
  the app's message and the server agree and a bigger file is refused before it is
  transferred.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

ENV_MAX_UPLOAD_MB = "PLANNER_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 50
ENV_NO_LOGIN = "PLANNER_NO_LOGIN"
LOOPBACK = "127.0.0.1"
# Settings Streamlit needs for a provider, besides redirect_uri and cookie_secret.
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def max_upload_mb() -> int:
    """Return the app's upload limit in MB (``$PLANNER_MAX_UPLOAD_MB`` or 50).

    Returns
    -------
    limit_mb
        Whole megabytes (Streamlit's ``server.maxUploadSize`` is an integer of MB).
    """
    raw = os.environ.get(ENV_MAX_UPLOAD_MB, "").strip()
    try:
        value = int(raw) if raw else DEFAULT_MAX_UPLOAD_MB
    except ValueError:
        return DEFAULT_MAX_UPLOAD_MB
    return value if value > 0 else DEFAULT_MAX_UPLOAD_MB


def no_login_requested() -> bool:
    """Return whether the app was started with ``planner app --no-login``."""
    return os.environ.get(ENV_NO_LOGIN, "").strip() == "1"


def is_loopback(address: str | None) -> bool:
    """Return whether an address (or host name ``localhost``) is on the loopback interface.

    Parameters
    ----------
    address
        IPv4/IPv6 address or host name; ``None`` or ``""`` means all interfaces.

    Returns
    -------
    loopback
        True for 127.0.0.0/8, ::1 and ``localhost``.
    """
    if not address:
        return False
    host = address.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secrets_files(cwd: Path | None = None) -> list[Path]:
    """Return the ``secrets.toml`` files Streamlit reads, in its order (later ones win).

    Parameters
    ----------
    cwd
        Folder the server is started in (default: the current one).

    Returns
    -------
    paths
        ``~/.streamlit/secrets.toml`` and ``<cwd>/.streamlit/secrets.toml``.
    """
    base = Path.cwd() if cwd is None else cwd
    return [Path.home() / ".streamlit" / "secrets.toml", base / ".streamlit" / "secrets.toml"]


def auth_problems(section: Mapping[str, object]) -> list[str]:
    """Return what is missing from an ``[auth]`` section (empty when login can work).

    Parameters
    ----------
    section
        The parsed ``[auth]`` table.

    Returns
    -------
    problems
        One sentence per missing setting (values are never echoed: they may be secrets).
    """
    problems = [
        f"`[auth]` has no `{key}`"
        for key in ("redirect_uri", "cookie_secret")
        if not str(section.get(key, "")).strip()
    ]
    redirect = str(section.get("redirect_uri", ""))
    if redirect and not redirect.rstrip("/").endswith("/oauth2callback"):
        problems.append("`[auth] redirect_uri` must end with `/oauth2callback`")
    providers = {k: v for k, v in section.items() if isinstance(v, Mapping)}
    if not providers:
        providers = {"(default)": section}
    for name, provider in providers.items():
        missing = [k for k in PROVIDER_KEYS if not str(provider.get(k, "")).strip()]
        if missing:
            where = "`[auth]`" if name == "(default)" else f"`[auth.{name}]`"
            problems.append(f"{where} has no {', '.join(f'`{k}`' for k in missing)}")
    return problems


def login_config(paths: Sequence[Path] | None = None) -> tuple[bool, list[str]]:
    """Return whether login is configured, and what is wrong with an incomplete ``[auth]``.

    Parameters
    ----------
    paths
        ``secrets.toml`` files to read (default: :func:`secrets_files`).

    Returns
    -------
    configured, problems
        ``configured`` is True when an ``[auth]`` section is complete; ``problems`` lists
        what is missing when a section exists but is incomplete, or a file is unreadable.
    """
    merged: dict[str, object] = {}
    problems: list[str] = []
    for path in secrets_files() if paths is None else paths:
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"{path} cannot be read: {type(exc).__name__}")
            continue
        section = data.get("auth")
        if isinstance(section, dict):
            merged.update(section)
    if not merged:
        return False, problems
    problems += auth_problems(merged)
    return not problems, problems
