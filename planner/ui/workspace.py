"""Workspace panel additions: storage use, read-only sharing, "shared with me", the audit trail.

Drawn inside the Scenario page's Workspace panel. Also opens a scenario named in the page's
``?scenario=<id>`` query parameter -- the user's own, or one shared with them; any other id
is refused with the same message whether it exists or not (ids cannot be guessed into access).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from planner.errors import PlannerError
from planner.store import EVERYONE, Workspace
from planner.ui import auth, state
from planner.ui.i18n import md, num, t

QUERY_PARAM = "scenario"
WS_SHARE_WITH = "ws_share_with"
WS_SHARE = "ws_share"
WS_UNSHARE = "ws_unshare"
WS_SHARED_PICK = "ws_shared_pick"
WS_SHARED_OPEN = "ws_shared_open"
WS_SHARED_COPY = "ws_shared_copy"
AUDIT_ROWS_SHOWN = 20
_QUERY_DONE = "_ws_query_done"  # the query value already opened in this session


def _share(ws: Workspace, action: str) -> None:
    name = st.session_state.get(state.WS_SELECTED)
    who = str(st.session_state.get(WS_SHARE_WITH, "")).strip()
    if not name or not who:
        state.flash(t("share_who_missing"), "warning")
        return
    try:
        if action == "share":
            ws.share(name, who)
            state.flash(t("shared_ok", name=name, who=who))
        else:
            ws.unshare(name, who)
            state.flash(t("unshared_ok", name=name, who=who))
        st.session_state[WS_SHARE_WITH] = ""
    except PlannerError as exc:
        state.flash(str(exc), "error")


def _copy_shared(ws: Workspace) -> None:
    sid = st.session_state.get(WS_SHARED_PICK)
    if sid is None:
        return
    try:
        copy = ws.duplicate_shared(int(sid))
        state.flash(t("copied_ok", name=copy))
    except PlannerError as exc:
        state.flash(str(exc), "error")


def panel(ws: Workspace, names: list[str], load: Callable[[str], None]) -> None:
    """Draw storage use, sharing, scenarios shared with the user and the audit trail.

    Parameters
    ----------
    ws
        This session's workspace.
    names
        The user's live scenario names (the panel's selection is one of them).
    load
        Loads a ``"saved:<name>"`` or ``"shared:<id>"`` source into the editor.
    """
    st.caption(
        t("storage_used", used=num(ws.usage_bytes() / 1e6, 1), quota=num(ws.quota_bytes / 1e6))
    )
    if auth.signed_in():
        if names:
            name = st.session_state.get(state.WS_SELECTED)
            who = ws.shares(name) if name in names else []
            st.caption(t("shared_with", who=md(", ".join(who))) if who else t("not_shared"))
            c = st.columns([4, 1, 1])
            c[0].text_input(t("share_with"), key=WS_SHARE_WITH, placeholder=EVERYONE)
            c[1].button(t("share"), key=WS_SHARE, on_click=_share, args=(ws, "share"))
            c[2].button(t("unshare"), key=WS_UNSHARE, on_click=_share, args=(ws, "unshare"))
        shared = ws.list_shared()
        st.markdown(f"**{t('shared_with_me')}** ({len(shared)})")
        if shared:
            labels = {
                r.id: f"{r.name} · {t('shared_by', who=r.owner_label)} · {r.updated_at[:16]}"
                for r in shared
            }
            c = st.columns([4, 1, 1])
            c[0].selectbox(
                t("shared_with_me"),
                list(labels),
                format_func=lambda i: labels.get(i, str(i)),
                key=WS_SHARED_PICK,
                label_visibility="collapsed",
            )
            sid = st.session_state.get(WS_SHARED_PICK)
            c[1].button(
                t("open_read_only"),
                key=WS_SHARED_OPEN,
                on_click=load,
                args=(f"shared:{sid}",),
            )
            c[2].button(
                t("duplicate_to_mine"), key=WS_SHARED_COPY, on_click=_copy_shared, args=(ws,)
            )
    rows = ws.audit()
    st.markdown(f"**{t('audit_trail')}** ({len(rows)})")
    if rows:
        table = pd.DataFrame(
            {
                t("audit_at"): [r.at_utc[:19].replace("T", " ") for r in reversed(rows)],
                t("audit_who"): [r.actor_label for r in reversed(rows)],
                t("audit_action"): [r.action for r in reversed(rows)],
                t("audit_what"): [r.name for r in reversed(rows)],
                t("audit_detail"): [r.detail for r in reversed(rows)],
            }
        )
        # a static table (plain-text cells), newest first; the full trail: planner workspace audit
        st.table(table.head(AUDIT_ROWS_SHOWN).set_index(t("audit_at")))


def open_from_query(ws: Workspace, load: Callable[[str], None]) -> None:
    """Open the scenario named by ``?scenario=<id>`` once per session and value.

    Parameters
    ----------
    ws
        This session's workspace.
    load
        Loads a ``"saved:<name>"`` or ``"shared:<id>"`` source into the editor.
    """
    raw = st.query_params.get(QUERY_PARAM)
    if raw is None or st.session_state.get(_QUERY_DONE) == raw:
        return
    st.session_state[_QUERY_DONE] = raw
    try:
        sid = int(raw)
    except ValueError:
        state.flash(t("query_bad_id", value=raw), "error")
        return
    own = {r.id: r.name for r in ws.list_scenarios()}
    if sid in own:
        load(f"saved:{own[sid]}")
        return
    try:
        ws.get_shared(sid)
    except PlannerError as exc:
        state.flash(str(exc), "error")
        return
    load(f"shared:{sid}")
