"""Deprecated import path: use :mod:`planner.io` (files) and :mod:`planner.references` (scenarios).

Kept for one release as a thin re-export; nothing inside the package imports it.
"""

from __future__ import annotations

from planner.io import (
    BELARUS_BRANDS,
    FARM_ALIASES,
    SITE_ALIASES,
    SUPPORTED_SUFFIXES,
    Limits,
    Problem,
    ReadInfo,
    ValidationReport,
    normalise_header,
    parse_numbers,
    read_table,
    validate_farms,
    validate_sites,
    validate_table,
)
from planner.references import ScenarioReport, validate_scenario

__all__ = [
    "BELARUS_BRANDS",
    "FARM_ALIASES",
    "SITE_ALIASES",
    "SUPPORTED_SUFFIXES",
    "Limits",
    "Problem",
    "ReadInfo",
    "ScenarioReport",
    "ValidationReport",
    "normalise_header",
    "parse_numbers",
    "read_table",
    "validate_farms",
    "validate_scenario",
    "validate_sites",
    "validate_table",
]
