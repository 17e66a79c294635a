"""Who is using the app: sign-in through Streamlit's OpenID Connect support, or single-user mode.

* Login configured (an ``[auth]`` section in ``.streamlit/secrets.toml``): every page needs a
  signed-in user (``st.login`` / ``st.user`` / ``st.logout``, Authlib underneath); the user's
  workspace owner id is the token's issuer and subject. Tokens are never exposed to the app,
  logged or stored; only the subject, e-mail and name are read.
* No login configured: single-user mode. The app serves only clients on the loopback interface
  (``planner app`` binds to 127.0.0.1 by default) unless started with ``--no-login``, which
  shows a warning banner on every page. Everyone is :data:`planner.store.LOCAL_OWNER`.

Nothing is kept in module globals: the owner is read from ``st.user`` on every call.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from planner import deploy
from planner.store import LOCAL_OWNER, Workspace, default_path
from planner.ui.i18n import md, t

REMEMBERED = "auth_remembered_owner"  # session key: owner whose contact was recorded


def login_configured() -> bool:
    """Return whether an ``[auth]`` section is configured in Streamlit's secrets."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # StreamlitSecretNotFoundError: no secrets.toml at all
        return False


def _providers() -> list[str]:
    """Named providers (``[auth.<name>]`` sections); empty for a single ``[auth]``."""
    section = st.secrets["auth"]
    return sorted(k for k, v in section.items() if isinstance(v, Mapping))


def signed_in() -> bool:
    """Return whether a user is signed in (always false without login)."""
    return login_configured() and bool(st.user.is_logged_in)


def current_owner() -> str:
    """Return the workspace owner of this session.

    Returns
    -------
    owner
        ``"<issuer>|<subject>"`` of the signed-in user, or the local owner in single-user
        mode.

    Raises
    ------
    PermissionError
        When login is configured and nobody is signed in (the gate stops such runs first).
    """
    if not login_configured():
        return LOCAL_OWNER
    if not st.user.is_logged_in:
        msg = "sign in first."
        raise PermissionError(msg)
    sub = str(st.user.get("sub") or "").strip()
    if not sub:
        msg = "the identity provider returned no subject (`sub`); sign-in cannot be used."
        raise PermissionError(msg)
    iss = str(st.user.get("iss") or "oidc").strip()
    return f"{iss}|{sub}"


def user_label() -> str:
    """Return how the signed-in user is shown (e-mail, else name, else subject)."""
    for claim in ("email", "name", "sub"):
        value = str(st.user.get(claim) or "").strip()
        if value:
            return value
    return "?"


def _local_client() -> bool:
    """Whether this session's browser runs on the server's own computer.

    The client address is ``None`` for loopback clients (and not a string under AppTest,
    which has no network client). A request forwarded by a reverse proxy on the same computer
    comes from loopback but names the real client in ``X-Forwarded-For`` / ``Forwarded``:
    such a request is not local.
    """
    ip = st.context.ip_address
    if isinstance(ip, str) and ip and not deploy.is_loopback(ip):
        return False
    headers = st.context.headers
    forwarded = [str(headers.get(h) or "") for h in ("X-Forwarded-For", "Forwarded", "X-Real-Ip")]
    return not any(v.strip() for v in forwarded)


def _login_screen() -> None:
    st.title(t("app_title"))
    st.subheader(t("sign_in_title"))
    st.markdown(t("sign_in_text"))
    providers = _providers()
    if not providers:
        st.button(t("sign_in"), key="auth_sign_in", type="primary", on_click=st.login)
        return
    for name in providers:
        st.button(
            t("sign_in_with", provider=name),
            key=f"auth_sign_in_{name}",
            type="primary",
            on_click=st.login,
            args=(name,),
        )


def gate() -> None:
    """Stop the run unless this session may use the app; draw who is using it in the sidebar.

    Call it once per run, before any page reads the workspace.
    """
    if login_configured():
        if not st.user.is_logged_in:
            _login_screen()
            st.stop()
        owner = current_owner()
        if st.session_state.get(REMEMBERED) != owner:
            # others share by e-mail: an address the provider marks unverified is not used
            verified = st.user.get("email_verified", True) is not False
            email = str(st.user.get("email") or "") if verified else ""
            Workspace(default_path(), owner=owner).remember_user(
                email, str(st.user.get("name") or "")
            )
            st.session_state[REMEMBERED] = owner
        with st.sidebar:
            st.caption(t("signed_in_as", who=md(user_label())))
            st.button(t("sign_out"), key="auth_sign_out", on_click=st.logout)
        return
    if deploy.no_login_requested():
        st.warning(t("no_login_banner"), icon=":material/warning:")
        return
    if not _local_client():
        st.error(t("local_only"))
        st.stop()
    st.sidebar.caption(t("single_user"))
