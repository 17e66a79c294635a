"""Session-state keys (one constant per key) and small helpers around ``st.session_state``.

Every per-user value lives in ``st.session_state`` under one of these keys; nothing per-user is
kept in module globals (a Streamlit server shares modules between sessions).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import streamlit as st

from planner.demand import DemandParameters

# Interface
LANG = "ui_lang"

# Explore page
EXPLORE_N_FARMS = "explore_n_farms"
EXPLORE_SHARE = "explore_belarus_share"
EXPLORE_OBLASTS = "explore_oblasts"
EXPLORE_MACHINE = "explore_machine"
EXPLORE_AGE = "explore_age"
EXPLORE_SETTLEMENTS = "explore_settlements"
EXPLORE_FACILITIES = "explore_facilities"
EXPLORE_RAIL = "explore_rail"
EXPLORE_CANDIDATES = "explore_candidates"
EXPLORE_OBLAST_TAB = "explore_oblast_tab"
EXPLORE_MAP_SENT = "explore_map_sent"
"""Set once a session has been sent the full Explore map (its first page sends the country
context before it, see :func:`planner.ui.explore.render`)."""

# Scenario page: editor widgets (prefix sc_)
SC_BASE = "sc_base"
SC_BASE_TOML = "sc_base_toml"
SC_LOAD = "sc_load"
SC_NAME = "sc_name"
SC_TITLE = "sc_title"
SC_KIND = "sc_kind"
SC_P = "sc_p"
SC_RADIUS_UNIT = "sc_radius_unit"
SC_RADIUS_KM = "sc_radius_km"
SC_RADIUS_MIN = "sc_radius_min"
SC_CIRCUITY = "sc_circuity"
SC_SPEED = "sc_speed"
SC_COST_UNIT = "sc_cost_unit"
SC_K_NEAREST = "sc_k_nearest"
SC_ROAD_NETWORK = "sc_road_network"
SC_FARMS_SOURCE = "sc_farms_source"
SC_N_FARMS = "sc_n_farms"
SC_FARM_SEED = "sc_farm_seed"
SC_SITES_SOURCE = "sc_sites_source"
SC_MIN_POP = "sc_min_population"
SC_INCLUDE_EXISTING = "sc_include_existing"
SC_SHARE = "sc_belarus_share"
SC_SHARE_COMBINES = "sc_belarus_share_combines"
SC_BELARUS_ONLY = "sc_belarus_only"
SC_BASIS = "sc_basis"
SC_REQUIRED = "sc_required"
SC_FORBIDDEN = "sc_forbidden"
SC_CAPACITY = "sc_capacity_hours"
SC_EXISTING_CAPACITY = "sc_existing_capacity_hours"
SC_FIXED_COST = "sc_fixed_cost"
SC_EXISTING_FIXED_COST = "sc_existing_fixed_cost"
SC_TRAVEL_COST = "sc_travel_cost"
SC_HOURS_PER_VISIT = "sc_hours_per_visit"
SC_SINGLE_SOURCE = "sc_single_source"
SC_CAPACITATED = "sc_capacitated"
SC_WEIGHTED = "sc_weighted"
SC_MIN_NEW = "sc_min_new_sites"
SC_MAX_NEW = "sc_max_new_sites"
SC_TIME_LIMIT = "sc_time_limit"
SC_BACKEND = "sc_backend"
SC_N_BEST = "sc_n_best"
SC_REGRET = "sc_regret"
SC_SEED = "sc_seed"
SC_GAP = "sc_gap_pct"
SC_RUN = "sc_run"
SC_CANCEL = "sc_cancel"
SC_JOB = "sc_job"
SC_RESULT = "sc_result"
SC_RUNS = "sc_runs"  # solves finished in this session (numbers the results)
SC_SAVE_NAME = "sc_save_name"
SC_SAVE = "sc_save"
SC_SAVE_DEF = "sc_save_def"
SC_OVERWRITE = "sc_overwrite"
SC_DOSSIER = "sc_dossier_site"
SC_MAP_LAYER = "sc_map_layer"
SC_MAP = "sc_map"
SC_PICK_MAP = "sc_pick_map"
SC_PICK_ROLE = "sc_pick_role"
SC_PICK_SHOW = "sc_pick_show"
SC_FLASH = "sc_flash"
SC_LAST_ERROR = "sc_last_error"

# Demand assumptions: one number input per numeric field of DemandParameters
DEMAND_PARAMS: tuple[str, ...] = tuple(
    f.name
    for f in dataclasses.fields(DemandParameters)
    if isinstance(getattr(DemandParameters(), f.name), float)
)
DEMAND_PARAM_PREFIX = "sc_dp_"

# Workspace management
WS_SELECTED = "ws_selected"
WS_NEW_NAME = "ws_new_name"
WS_RENAME = "ws_rename"
WS_DUPLICATE = "ws_duplicate"
WS_DELETE = "ws_delete"
WS_CONFIRM_DELETE = "ws_confirm_delete"
WS_TRASH = "ws_trash"
WS_RESTORE = "ws_restore"

# Compare page
CMP_SELECTED = "cmp_selected"
CMP_SWEEP_BASE = "cmp_sweep_base"
CMP_SWEEP_RANGE = "cmp_sweep_range"
CMP_SWEEP_RUN = "cmp_sweep_run"
CMP_SWEEP_RESULT = "cmp_sweep_result"

# Data page
DATA_FARMS_FILE = "data_farms_file"
DATA_SITES_FILE = "data_sites_file"
DATA_KEEP_FARMS = "data_keep_farms"
DATA_KEEP_SITES = "data_keep_sites"
DATA_USE = "data_use"
DATA_DELETE = "data_delete"
DATA_TEMPLATE_FARMS = "data_template_farms"
DATA_TEMPLATE_SITES = "data_template_sites"

# Export page
EXP_SCENARIO = "exp_scenario"
EXP_PREPARE = "exp_prepare"
EXP_FILES = "exp_files"

# Defaults that tests and CI may lower through the environment.
ENV_N_FARMS = "PLANNER_APP_N_FARMS"
ENV_TIME_LIMIT = "PLANNER_APP_TIME_LIMIT"
ENV_MAX_UPLOAD_MB = "PLANNER_MAX_UPLOAD_MB"
ENV_MAX_ROWS = "PLANNER_MAX_UPLOAD_ROWS"
ENV_QUICK_WAIT = "PLANNER_APP_QUICK_WAIT_S"  # 0: every solve shows the polling panel


def env_int(name: str, default: int) -> int:
    """Integer from the environment, or ``default`` when unset or invalid."""
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


def env_float(name: str, default: float) -> float:
    """Float from the environment, or ``default`` when unset or invalid."""
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def get(key: str, default: Any = None) -> Any:  # noqa: ANN401
    """Session value of ``key`` or ``default``."""
    return st.session_state.get(key, default)


def put(key: str, value: Any) -> None:  # noqa: ANN401
    """Set a session value."""
    st.session_state[key] = value


def flash(message: str, kind: str = "success") -> None:
    """Queue a message shown once on the next run of the Scenario page."""
    st.session_state[SC_FLASH] = (kind, message)


# Value widgets whose values must survive page switches (Streamlit forgets the state of widgets
# that a run does not render); buttons, uploaders and charts are not listed (they cannot be set).
PERSISTENT: tuple[str, ...] = (
    LANG,
    EXPLORE_N_FARMS,
    EXPLORE_SHARE,
    EXPLORE_OBLASTS,
    EXPLORE_MACHINE,
    EXPLORE_AGE,
    EXPLORE_SETTLEMENTS,
    EXPLORE_FACILITIES,
    EXPLORE_RAIL,
    EXPLORE_CANDIDATES,
    SC_BASE,
    SC_NAME,
    SC_TITLE,
    SC_KIND,
    SC_P,
    SC_RADIUS_UNIT,
    SC_RADIUS_KM,
    SC_RADIUS_MIN,
    SC_CIRCUITY,
    SC_SPEED,
    SC_COST_UNIT,
    SC_K_NEAREST,
    SC_ROAD_NETWORK,
    SC_FARMS_SOURCE,
    SC_N_FARMS,
    SC_FARM_SEED,
    SC_SITES_SOURCE,
    SC_MIN_POP,
    SC_INCLUDE_EXISTING,
    SC_SHARE,
    SC_SHARE_COMBINES,
    SC_BELARUS_ONLY,
    SC_BASIS,
    SC_REQUIRED,
    SC_FORBIDDEN,
    SC_CAPACITY,
    SC_EXISTING_CAPACITY,
    SC_FIXED_COST,
    SC_EXISTING_FIXED_COST,
    SC_TRAVEL_COST,
    SC_HOURS_PER_VISIT,
    SC_SINGLE_SOURCE,
    SC_CAPACITATED,
    SC_WEIGHTED,
    SC_MIN_NEW,
    SC_MAX_NEW,
    SC_TIME_LIMIT,
    SC_BACKEND,
    SC_N_BEST,
    SC_REGRET,
    SC_SEED,
    SC_GAP,
    SC_SAVE_NAME,
    SC_OVERWRITE,
    SC_MAP_LAYER,
    SC_PICK_ROLE,
    SC_PICK_SHOW,
    CMP_SELECTED,
    CMP_SWEEP_BASE,
    CMP_SWEEP_RANGE,
    EXP_SCENARIO,
    *(DEMAND_PARAM_PREFIX + name for name in DEMAND_PARAMS),
)


def keep_widget_values() -> None:
    """Re-assign persistent widget values so that switching pages does not reset them."""
    for key in PERSISTENT:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
