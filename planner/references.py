"""Site and plant references of a scenario, resolved and checked in one place.

A scenario names files, sites and plants; :func:`validate_scenario` (``planner check-data
scenario``) checks all of it at once. Sites are named in ``sites.required`` /
``sites.forbidden`` and plants in
``plants.required`` / ``plants.forbidden`` / ``plants.candidates``. The solve
(:mod:`planner.run`, :mod:`planner.agri`) and ``planner check-data scenario``
(:func:`validate_scenario`) both resolve them here, against the same
candidate lists, so a reference the check accepts is one the solve accepts.

Rules: an entry is a candidate id, a unique candidate name (case-insensitive) or the word
``existing`` (every existing candidate).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from planner import geodata, roads
from planner import sites as sites_mod
from planner.errors import ScenarioError, ValidationError
from planner.io import Limits, validate_farms, validate_sites
from planner.scenarios import Scenario, check_references, load_scenario
from planner.travel import TravelModel

SERVICE_CAPABLE_KINDS: Final[tuple[str, ...]] = (
    "assembly_plant",
    "trading_house",
    "service_centre",
)
"""Existing operations that can serve machines in a single-echelon model."""
CENTRE_KINDS: Final[tuple[str, ...]] = ("trading_house", "service_centre")
"""Existing operations that are service-centre candidates of the two-echelon model (its plants
are a separate echelon, :func:`plant_candidates`)."""
PLANT_PREFIX: Final[str] = "plant_"
_EXISTING_PLANT_KIND: Final[str] = "assembly_plant"


def candidate_sites(scenario: Scenario) -> gpd.GeoDataFrame:
    """Return the scenario's candidate sites (service centres): settlements + operations, or a file.

    Parameters
    ----------
    scenario
        The scenario; for ``two_echelon`` the running assembly plants are not service-centre
        candidates (they are plant candidates).

    Returns
    -------
    sites
        Site table of :mod:`planner.sites`, EPSG:4326.
    """
    d = scenario.data
    if d.sites != "settlements":
        return sites_mod.read_sites(scenario.resolve_path(d.sites))
    kinds = CENTRE_KINDS if scenario.model.kind == "two_echelon" else SERVICE_CAPABLE_KINDS
    facilities = None
    if d.include_existing:
        fac = geodata.load_existing_facilities()
        facilities = fac.loc[(fac["status"] == "running") & fac["kind"].isin(kinds)]
    return sites_mod.candidate_sites(
        geodata.load_settlements(),
        facilities,
        min_population=d.min_site_population,
        max_sites=d.max_sites,
    )


def resolve(
    names: Sequence[str],
    ids: Sequence[str],
    labels: Sequence[str],
    existing: npt.ArrayLike,
    key: str,
) -> list[int]:
    """Return the sorted candidate indices that ``names`` refer to.

    Parameters
    ----------
    names
        The scenario's entries (ids, unique names or ``existing``).
    ids
        Candidate ids.
    labels
        Candidate names, same order.
    existing
        Boolean per candidate: what ``existing`` stands for.
    key
        The scenario key, for messages (e.g. ``"sites.required"``).

    Returns
    -------
    indices
        Sorted, without duplicates.

    Raises
    ------
    ScenarioError
        Naming every entry that matches no candidate, with close matches.
    """
    ids, labels = [str(x) for x in ids], [str(x) for x in labels]
    index = {sid: i for i, sid in enumerate(ids)}
    lower = np.asarray([x.lower() for x in labels], dtype=object)
    out: list[int] = []
    problems = []
    for name in names:
        if name == "existing":
            out.extend(np.flatnonzero(np.asarray(existing, dtype=np.bool_)).tolist())
            continue
        if name in index:
            out.append(index[name])
            continue
        by_name = np.flatnonzero(lower == name.lower())
        if len(by_name) == 1:
            out.append(int(by_name[0]))
            continue
        close = difflib.get_close_matches(name, ids + labels, n=3)
        hint = f" Close matches: {', '.join(close)}." if close else ""
        problems.append(f"`{key}` names `{name}`, which is not a site id or name.{hint}")
    if problems:
        raise ScenarioError(problems, source=f"scenario {key.partition('.')[0]}")
    return sorted(set(out))


def site_references(scenario: Scenario, sites: pd.DataFrame) -> tuple[list[int], list[int]]:
    """Resolve ``sites.required`` and ``sites.forbidden`` against the candidate sites.

    Parameters
    ----------
    scenario
        The scenario.
    sites
        Its candidate sites (:func:`candidate_sites`).

    Returns
    -------
    required, forbidden
        Indices into ``sites``.
    """
    ids = sites["site_id"].astype(str).tolist()
    labels = sites["name"].astype(str).tolist()
    existing = (sites["role"] == "existing").to_numpy()
    st = scenario.sites
    return _pair(
        ids, labels, existing, {"sites.required": st.required, "sites.forbidden": st.forbidden}
    )


def plant_references(scenario: Scenario, plants: pd.DataFrame) -> tuple[list[int], list[int]]:
    """Resolve ``plants.required`` and ``plants.forbidden`` against the plant candidates.

    Parameters
    ----------
    scenario
        The scenario.
    plants
        Its plant candidates (:func:`plant_candidates`).

    Returns
    -------
    required, forbidden
        Indices into ``plants``.
    """
    ids = plants["site_id"].astype(str).tolist()
    labels = plants["name"].astype(str).tolist()
    existing = plants["existing"].to_numpy(dtype=np.bool_)
    pl = scenario.plants
    return _pair(
        ids, labels, existing, {"plants.required": pl.required, "plants.forbidden": pl.forbidden}
    )


def _pair(
    ids: list[str], labels: list[str], existing: npt.ArrayLike, keys: dict[str, tuple[str, ...]]
) -> tuple[list[int], list[int]]:
    """Resolve the required and forbidden lists, collecting the problems of both."""
    out: list[list[int]] = []
    problems: list[str] = []
    for key, names in keys.items():
        try:
            out.append(resolve(names, ids, labels, existing, key))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        source = f"scenario {next(iter(keys)).partition('.')[0]}"
        raise ScenarioError(problems, source=source)
    return out[0], out[1]


def _existing_plants(scenario: Scenario) -> list[dict[str, Any]]:
    pl = scenario.plants
    fac = geodata.load_existing_facilities()
    fac = fac.loc[(fac["status"] == "running") & (fac["kind"] == _EXISTING_PLANT_KIND)]
    rows = []
    for _, f in fac.iterrows():
        cap = float(f["capacity_units_per_year"])
        rows.append(
            {
                "site_id": str(f["facility_id"]),
                "name": str(f["name"]),
                "oblast_iso": str(f["oblast_iso"]),
                "lat": float(f["lat"]),
                "lon": float(f["lon"]),
                "existing": True,
                "makes": str(f["machines"]),
                "capacity_machines_per_year": cap
                if math.isfinite(cap)
                else pl.existing_capacity_machines_per_year,
                "capacity_source": "facts 5" if math.isfinite(cap) else "assumption",
                "fixed_cost_kzt": pl.existing_fixed_cost_kzt,
            }
        )
    return rows


def plant_candidates(scenario: Scenario) -> pd.DataFrame:
    """Return the assembly-plant candidates of a two-echelon scenario.

    Running assembly plants (``plants.include_existing``), settlements above
    ``plants.min_population`` and the settlements listed in ``plants.candidates``.

    Parameters
    ----------
    scenario
        The scenario.

    Returns
    -------
    plants
        Columns ``site_id``, ``name``, ``oblast_iso``, ``lat``, ``lon``, ``existing``,
        ``makes``, ``capacity_machines_per_year``, ``capacity_source``, ``fixed_cost_kzt``.

    Raises
    ------
    ScenarioError
        If a ``plants.candidates`` entry names no settlement, or there is no candidate.
    """
    pl = scenario.plants
    rows = _existing_plants(scenario) if pl.include_existing else []
    settlements = geodata.load_settlements()
    mask = (
        (settlements["population"] >= pl.min_population).to_numpy()
        if pl.min_population > 0
        else np.zeros(len(settlements), dtype=np.bool_)
    )
    if pl.candidates:
        idx = resolve(
            pl.candidates,
            settlements["settlement_id"].astype(str).tolist(),
            settlements["name"].astype(str).tolist(),
            np.zeros(len(settlements), dtype=np.bool_),
            "plants.candidates",
        )
        mask[idx] = True
    for _, s in settlements.loc[mask].sort_values("population", ascending=False).iterrows():
        rows.append(
            {
                "site_id": PLANT_PREFIX + str(s["settlement_id"]),
                "name": f"{s['name']} (new plant)",
                "oblast_iso": str(s["oblast_iso"]),
                "lat": float(s["lat"]),
                "lon": float(s["lon"]),
                "existing": False,
                "makes": "tractor+combine",
                "capacity_machines_per_year": pl.capacity_machines_per_year,
                "capacity_source": "scenario",
                "fixed_cost_kzt": pl.fixed_cost_kzt,
            }
        )
    if not rows:
        msg = (
            "no assembly-plant candidate: set `plants.include_existing = true`, "
            "`plants.min_population` > 0 or list `plants.candidates`."
        )
        raise ScenarioError(msg, source="scenario plants")
    return pd.DataFrame(rows)


def travel_model(scenario: Scenario) -> TravelModel:
    """Return the scenario's one travel model: circuity, speed and its road network if any.

    Parameters
    ----------
    scenario
        The scenario (``[travel] road_network`` is read relative to its folder, cached).

    Returns
    -------
    travel
        Geodesic x circuity, or shortest paths on the road network (:mod:`planner.roads`).

    Raises
    ------
    ValidationError
        When the road file is missing, unreadable, holds no lines or has a wrong CRS.
    """
    t = scenario.travel
    network = None
    if t.road_network.strip():
        network = roads.load_road_network(
            scenario.resolve_path(t.road_network),
            circuity=t.circuity,
            speed_kmh=t.speed_kmh,
            max_access_km=t.road_max_access_km,
        )
    return TravelModel(circuity=t.circuity, speed_kmh=t.speed_kmh, network=network)


def reference_problems(
    scenario: Scenario, sites: pd.DataFrame | None = None, *, check_sites: bool = True
) -> list[str]:
    """Return every unresolvable site or plant reference of a scenario (empty when all resolve).

    Parameters
    ----------
    scenario
        The scenario (its referenced files must exist and be valid).
    sites
        Its candidate sites when already read; built with :func:`candidate_sites` otherwise
        (only if the scenario names sites).
    check_sites
        False skips the site references (e.g. when the site file itself is invalid).

    Returns
    -------
    problems
        One message per entry, as the solve would report it.
    """
    problems: list[str] = []
    if scenario.travel.road_network.strip():
        try:
            travel_model(scenario)
        except ValidationError as exc:
            problems.extend(f"`travel.road_network`: {p}" for p in exc.problems)
    if check_sites and (scenario.sites.required or scenario.sites.forbidden):
        try:
            site_references(scenario, candidate_sites(scenario) if sites is None else sites)
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if scenario.model.kind == "two_echelon":
        try:
            plant_references(scenario, plant_candidates(scenario))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    return problems


@dataclass(frozen=True)
class ScenarioReport:
    """Result of :func:`validate_scenario`.

    Parameters
    ----------
    file
        The scenario file.
    problems
        Every problem: the scenario's own, missing files, problems of the referenced farm
        and site files (prefixed with the key that names them) and unknown site references.
    warnings
        Warnings of the referenced files.
    scenario
        The parsed scenario (``None`` if it could not be parsed).
    """

    file: str
    problems: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    scenario: object | None = None

    @property
    def ok(self) -> bool:
        """True when there is no problem."""
        return not self.problems

    def format(self) -> str:
        """Return the report that ``planner check-data scenario`` prints.

        Returns
        -------
        text
            Problems, warnings and the verdict.
        """
        lines = [f"{self.file}: scenario"]
        if self.problems:
            lines.append(f"Problems ({len(self.problems)}):")
            lines.extend(f"  - {p}" for p in self.problems)
        if self.warnings:
            lines.append(f"Warnings ({len(self.warnings)}):")
            lines.extend(f"  - {w}" for w in self.warnings)
        lines.append(
            "VALID: the scenario and the files it refers to can be used."
            if self.ok
            else f"INVALID: {len(self.problems)} problem(s); fix them and check again."
        )
        return "\n".join(lines) + "\n"


def validate_scenario(path: str | Path, *, limits: Limits | None = None) -> ScenarioReport:
    """Validate a scenario file, the files it refers to and its site references.

    Checks, collecting every problem: the TOML and its schema (unknown keys, types,
    versions: :func:`planner.scenarios.load_scenario`), that referenced files exist
    (:func:`planner.scenarios.check_references`), the referenced farm/site files
    (:func:`validate_farms`, :func:`validate_sites`), and that every ``sites.required`` /
    ``sites.forbidden`` entry names a candidate site of the scenario's model, and for
    ``two_echelon`` that every ``plants.*`` entry names a plant candidate (the same rules and
    candidate lists as the solve: :mod:`planner.references`).

    Parameters
    ----------
    path
        The scenario TOML file.
    limits
        Upload limits for the referenced files.

    Returns
    -------
    report
        Never raises for bad input.
    """
    file = str(path)
    try:
        scenario = load_scenario(Path(path))
    except ScenarioError as exc:
        return ScenarioReport(file=file, problems=exc.problems)
    problems = check_references(scenario)
    if problems:
        return ScenarioReport(file=file, problems=tuple(problems), scenario=scenario)
    notes: list[str] = []
    d = scenario.data
    sites: pd.DataFrame | None = None
    if d.farms != "synthetic":
        rep = validate_farms(scenario.resolve_path(d.farms), limits=limits)
        problems += [f"`data.farms` ({d.farms}): {m}" for m in rep.messages()]
        notes += [f"`data.farms`: {w}" for w in rep.warnings]
    if d.sites != "settlements":
        rep = validate_sites(scenario.resolve_path(d.sites), limits=limits)
        problems += [f"`data.sites` ({d.sites}): {m}" for m in rep.messages()]
        notes += [f"`data.sites`: {w}" for w in rep.warnings]
        sites = rep.data
    usable = d.sites == "settlements" or sites is not None
    problems += reference_problems(scenario, sites, check_sites=usable)
    return ScenarioReport(
        file=file, problems=tuple(problems), warnings=tuple(notes), scenario=scenario
    )
