"""Interface texts in English, Russian and Kazakh, and language-aware number formats.

``t(key)`` returns the text in the language chosen in the sidebar (session state), so every
label, unit and number follows the switch at once. Oblast and place names come from the data's
``name_en``/``name_ru``/``name_kk`` columns (:func:`name_column`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import streamlit as st

from planner.i18n import LANGUAGES, NAME_COLUMN, STRINGS, format_number, format_share
from planner.ui import state


def lang() -> str:
    """Return the language chosen in the sidebar (``"en"`` until chosen)."""
    value = st.session_state.get(state.LANG, "en")
    return value if value in LANGUAGES else "en"


def t(key: str, lang_: str | None = None, **fmt: Any) -> str:  # noqa: ANN401
    """Return the text for ``key`` in the current language (or ``lang_``).

    Format functions of widgets must pass ``lang_`` captured when the widget is drawn, so that
    a language switch never changes how an already-drawn widget formats its options.
    """
    en, ru, kk = STRINGS[key]
    text = {"en": en, "ru": ru, "kk": kk}[lang_ or lang()] or en
    return text.format(**fmt) if fmt else text


def status_label(value: Any) -> str:  # noqa: ANN401
    """Return a solver status (``optimal``, ``feasible``, …) in the current language.

    Unknown values are returned as text, escaped for markdown.
    """
    key = f"status_{value}"
    return t(key) if key in STRINGS else md(value)


def labeller(fn: Callable[[Any, str], str]) -> Callable[[Any], str]:
    """Bind the current language to a widget's format function.

    The language is captured when the widget is drawn, so a language switch never changes how
    an already-drawn widget formats its options (which would break its value mapping).
    """
    lg = lang()
    return lambda value: fn(value, lg)


def name_column() -> str:
    """Column of place names in the current language (``name_en``/``name_ru``/``name_kk``)."""
    return NAME_COLUMN[lang()]


def num(value: Any, digits: int = 0) -> str:  # noqa: ANN401
    """Format a number in the current language."""
    return format_number(value, lang(), digits)


def pct(value: Any, digits: int = 1) -> str:  # noqa: ANN401
    """Format a 0..1 share as a percentage in the current language."""
    return format_share(value, lang(), digits)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def md(text: Any) -> str:  # noqa: ANN401
    """Escape user-supplied text for Streamlit markdown (no links, images or HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))
