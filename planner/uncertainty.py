"""Uncertain assumptions of a scenario: the ``[uncertainty]`` section.

Any numeric scenario parameter can be given a distribution by its TOML path; ``planner
robust`` (:mod:`planner.robust`) draws futures from them. A scenario file writes::

    [uncertainty]
    design = "sobol"           # "sobol" (a larger sample extends a smaller one) or "lhs"

    [uncertainty.parameters]
    "demand.belarus_share" = { distribution = "uniform", low = 0.3, high = 0.6, reason = "..." }
    "travel.circuity" = { distribution = "triangular", low = 1.15, mode = 1.3, high = 1.5 }
    "travel.speed_kmh" = { distribution = "normal", mean = 60, sd = 8, low = 45, high = 75 }
    "data.farm_seed" = { distribution = "choice", values = [42, 43, 44, 45] }
    "demand.parameters.tractor_repair_hours" = { distribution = "uniform", low = 9, high = 21 }

Distributions: ``uniform`` (low, high), ``triangular`` (low, mode, high), ``normal``
(mean, sd, truncated to low..high, both required) and ``choice`` (values, equally likely).
Whole-number paths (``data.farm_seed``) draw whole numbers. ``reason`` says where a range
comes from (shown in the brief). The scenario module checks every path and that the scenario
stays valid at both ends of every range; :mod:`planner.robust` turns design points into
values (quantile functions of scipy.stats).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

DistributionName = Literal["uniform", "triangular", "normal", "choice"]
DesignName = Literal["sobol", "lhs"]
INTEGER_PATHS = ("data.farm_seed",)
"""Whole-number parameters that may be uncertain (the farm placement seed)."""
_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # distribution: (required keys, optional keys) besides `distribution` and `reason`
    "uniform": (("low", "high"), ()),
    "triangular": (("low", "mode", "high"), ()),
    "normal": (("mean", "sd", "low", "high"), ()),
    "choice": (("values",), ()),
}


@dataclass(frozen=True)
class UncertainParameter:
    """One uncertain scenario parameter.

    Parameters
    ----------
    path
        TOML path of the parameter (``section.key`` or ``demand.parameters.key``).
    distribution
        ``uniform``, ``triangular``, ``normal`` (truncated) or ``choice``.
    low, high
        Range (the truncation of ``normal``); for ``choice`` the smallest and largest value.
    mode
        Most likely value of ``triangular``.
    mean, sd
        Mean and standard deviation of ``normal``.
    choices
        The equally likely values of ``choice`` (TOML key ``values``).
    reason
        Where the range comes from (source or reasoning).
    integer
        Whether the parameter takes whole numbers.
    """

    path: str
    distribution: DistributionName
    low: float
    high: float
    mode: float = math.nan
    mean: float = math.nan
    sd: float = math.nan
    choices: tuple[float, ...] = ()
    reason: str = ""
    integer: bool = False

    def to_toml(self) -> str:
        """Return this parameter as one TOML line of ``[uncertainty.parameters]``."""
        parts = [f'distribution = "{self.distribution}"']
        if self.distribution == "choice":
            shown = [str(int(v)) if self.integer else repr(v) for v in self.choices]
            parts.append(f"values = [{', '.join(shown)}]")
        else:
            keys = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high")}
            for key in keys.get(self.distribution, ("mean", "sd", "low", "high")):
                value = getattr(self, key)
                parts.append(f"{key} = {int(value) if self.integer else repr(value)}")
        if self.reason:
            escaped = self.reason.replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'reason = "{escaped}"')
        return f'"{self.path}" = {{ {", ".join(parts)} }}'


@dataclass(frozen=True)
class UncertaintySpec:
    """The ``[uncertainty]`` section: the design and the uncertain parameters.

    Parameters
    ----------
    design
        ``sobol`` (scrambled Sobol' points: the first N points of a larger sample are the
        N points of a smaller one, so a run can be extended) or ``lhs`` (Latin hypercube).
    parameters
        The uncertain parameters, in file order.
    """

    design: DesignName = "sobol"
    parameters: tuple[UncertainParameter, ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        """TOML paths of the uncertain parameters."""
        return tuple(p.path for p in self.parameters)

    def to_toml(self) -> list[str]:
        """Return the section as TOML lines (empty when there is no uncertain parameter)."""
        if not self.parameters:
            return []
        lines = ["", "[uncertainty]", f'design = "{self.design}"', "", "[uncertainty.parameters]"]
        lines.extend(p.to_toml() for p in self.parameters)
        return lines


def _number(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(f"`{where}.{key}` must be a finite number, got {value!r}.")
        return math.nan
    return float(value)


def _parameter(  # noqa: C901, PLR0911
    path: str,
    raw: Any,  # noqa: ANN401
    problems: list[str],
    *,
    integer: bool,
) -> UncertainParameter | None:
    where = f'uncertainty.parameters."{path}"'
    if not isinstance(raw, dict):
        problems.append(
            f"`{where}` must be a table such as "
            '{ distribution = "uniform", low = 0.3, high = 0.6 }.'
        )
        return None
    dist = raw.get("distribution")
    if dist not in _KEYS:
        names = ", ".join(get_args(DistributionName))
        problems.append(f"`{where}.distribution` must be one of {names}, got {dist!r}.")
        return None
    required, optional = _KEYS[dist]
    allowed = {"distribution", "reason", *required, *optional}
    problems.extend(
        f"unknown key `{where}.{key}`; a {dist} distribution takes "
        f"{', '.join(required)} (and reason)."
        for key in raw
        if key not in allowed
    )
    missing = [k for k in required if k not in raw]
    if missing:
        problems.append(f"`{where}` ({dist}) needs {', '.join(missing)}.")
        return None
    reason = raw.get("reason", "")
    if not isinstance(reason, str):
        problems.append(f"`{where}.reason` must be text.")
        reason = ""
    before = len(problems)
    if dist == "choice":
        values = raw["values"]
        if not isinstance(values, list) or not values:
            problems.append(f"`{where}.values` must be a non-empty list of numbers.")
            return None
        nums = [_number({"values": v}, "values", where, problems) for v in values]
        if integer and any(not float(v).is_integer() for v in nums if math.isfinite(v)):
            problems.append(f"`{where}.values` must be whole numbers for `{path}`.")
        if len(problems) > before:
            return None
        return UncertainParameter(
            path, "choice", min(nums), max(nums), choices=tuple(nums), reason=reason,
            integer=integer,
        )  # fmt: skip
    low, high = _number(raw, "low", where, problems), _number(raw, "high", where, problems)
    mode = _number(raw, "mode", where, problems) if dist == "triangular" else math.nan
    mean = _number(raw, "mean", where, problems) if dist == "normal" else math.nan
    sd = _number(raw, "sd", where, problems) if dist == "normal" else math.nan
    if len(problems) > before:
        return None
    if low > high:
        problems.append(f"`{where}`: low ({low:g}) is above high ({high:g}); swap them.")
    if dist == "triangular" and not low <= mode <= high:
        problems.append(f"`{where}`: mode ({mode:g}) must lie between low and high.")
    if dist == "normal" and sd <= 0:
        problems.append(f"`{where}`: sd must be > 0, got {sd:g}.")
    if dist == "normal" and not low <= mean <= high:
        problems.append(f"`{where}`: mean ({mean:g}) must lie between low and high.")
    if integer and dist != "uniform":
        problems.append(
            f"`{where}`: `{path}` takes whole numbers; use distribution uniform or choice."
        )
    if integer and not (low.is_integer() and high.is_integer()):
        problems.append(f"`{where}`: low and high must be whole numbers for `{path}`.")
    if len(problems) > before:
        return None
    return UncertainParameter(
        path, dist, low, high, mode=mode, mean=mean, sd=sd, reason=reason, integer=integer
    )


def parse_uncertainty(
    raw: Any,  # noqa: ANN401
    numeric_paths: Sequence[str],
    problems: list[str],
    suggest: Any,  # noqa: ANN401
) -> UncertaintySpec:
    """Validate the ``[uncertainty]`` table.

    Parameters
    ----------
    raw
        The parsed table.
    numeric_paths
        TOML paths that may be uncertain.
    problems
        Problems found are appended here (unknown paths with a suggestion, bad ranges).
    suggest
        ``suggest(key, options) -> str``: the " Did you mean ...?" text of the scenario module.

    Returns
    -------
    spec
        The validated section (no parameters when there were problems).
    """
    if not isinstance(raw, dict):
        problems.append("`[uncertainty]` must be a table.")
        return UncertaintySpec()
    problems.extend(
        f"unknown key `uncertainty.{key}`." + suggest(key, ["design", "parameters"])
        for key in raw
        if key not in ("design", "parameters")
    )
    design = raw.get("design", "sobol")
    if design not in get_args(DesignName):
        problems.append(f'`uncertainty.design` must be "sobol" or "lhs", got {design!r}.')
        design = "sobol"
    params_raw = raw.get("parameters", {})
    if not isinstance(params_raw, dict):
        problems.append("`[uncertainty.parameters]` must be a table of TOML paths.")
        return UncertaintySpec(design=design)
    params: list[UncertainParameter] = []
    for path, spec in params_raw.items():
        if path not in numeric_paths:
            problems.append(
                f'unknown uncertain parameter `uncertainty.parameters."{path}"`: it must be the '
                "TOML path of a numeric scenario parameter (e.g. demand.belarus_share)."
                + suggest(path, numeric_paths)
            )
            continue
        param = _parameter(path, spec, problems, integer=path in INTEGER_PATHS)
        if param is not None:
            params.append(param)
    return UncertaintySpec(design=design, parameters=tuple(params))


def apply_values(doc: Mapping[str, Any], values: Mapping[str, float]) -> dict[str, Any]:
    """Return a copy of a parsed scenario document with parameters set by TOML path.

    Parameters
    ----------
    doc
        The parsed scenario TOML (not changed).
    values
        Parameter values by TOML path (``section.key`` or ``demand.parameters.key``).

    Returns
    -------
    doc
        The changed copy (whole-number paths get ints).
    """
    out = copy.deepcopy(dict(doc))
    for path, value in values.items():
        parts = path.split(".")
        table = out
        for part in parts[:-1]:
            table = table.setdefault(part, {})
        table[parts[-1]] = int(value) if path in INTEGER_PATHS else float(value)
    return out
