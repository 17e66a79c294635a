"""Languages, place-name columns and number formats shared by the app and the brief.

The planner speaks English, Russian and Kazakh. Interface texts live in one table
(:data:`STRINGS`, read from ``strings.json`` beside this module) used by the app
(:mod:`planner.ui.i18n`) and the decision brief (:mod:`planner.brief`); place names come from
the data's ``name_en`` / ``name_ru`` / ``name_kk`` columns (:func:`name_column`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

LANGUAGES: Mapping[str, str] = MappingProxyType({"en": "English", "ru": "Русский", "kk": "Қазақша"})
"""Language code -> the language's own name."""
NAME_COLUMN: Mapping[str, str] = MappingProxyType(
    {"en": "name_en", "ru": "name_ru", "kk": "name_kk"}
)
"""Language code -> column of place names in the geodata tables."""


STRINGS: Mapping[str, tuple[str, str, str]] = MappingProxyType(
    {
        key: (en, ru, kk)
        for key, (en, ru, kk) in json.loads(
            (Path(__file__).with_name("strings.json")).read_text(encoding="utf-8")
        ).items()
    }
)
"""Every interface text: key -> (English, Russian, Kazakh); an empty text falls back to English.

Keys starting with ``brief_`` are the decision brief's own wording; the brief also uses the
app's keys where the wording is the same (:data:`planner.brief._KEYS`)."""


def text(key: str, lang: str) -> str:
    """Return the text for ``key`` in ``lang`` (English when the language has none).

    Parameters
    ----------
    key
        A key of :data:`STRINGS`.
    lang
        ``"en"``, ``"ru"`` or ``"kk"``.

    Returns
    -------
    text
        The text, unformatted.
    """
    en, ru, kk = STRINGS[key]
    return {"en": en, "ru": ru, "kk": kk}.get(lang, en) or en


def name_column(lang: str) -> str:
    """Return the column of place names in ``lang`` (``name_en`` for an unknown language)."""
    return NAME_COLUMN.get(lang, "name_en")


def format_number(value: Any, lang: str = "en", digits: int = 0) -> str:  # noqa: ANN401
    """Format a number the way the language expects.

    Parameters
    ----------
    value
        A number (``None``/NaN give an en dash).
    lang
        ``"en"``: ``1,234.5``; ``"ru"``/``"kk"``: ``1 234,5`` (narrow no-break space).
    digits
        Decimal places.

    Returns
    -------
    text
        The formatted number.
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "–"
    if math.isnan(x) or math.isinf(x):
        return "–"
    text = f"{x:,.{digits}f}"
    if lang in ("ru", "kk"):
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def format_share(value: Any, lang: str = "en", digits: int = 1) -> str:  # noqa: ANN401
    """Format a 0..1 share as a percentage in the language's number format."""
    try:
        x = float(value) * 100.0
    except (TypeError, ValueError):
        return "–"
    text = format_number(x, lang, digits)
    return text if text == "–" else f"{text}\u00a0%"
