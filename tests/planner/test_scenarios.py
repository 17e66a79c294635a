from __future__ import annotations

from pathlib import Path

import pytest

from planner import scenarios
from planner.errors import ScenarioError

MINIMAL = """schema_version = 1
name = "t"
[model]
kind = "p_median"
p = 3
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_scenarios_load() -> None:
    names = scenarios.builtin_scenarios()
    assert "default" in names
    for name in names:
        s = scenarios.load_scenario(name)
        assert s.name == name
        assert s.schema_version == scenarios.SCHEMA_VERSION


def test_default_is_a_kazakhstan_p_median_with_about_10_centres() -> None:
    s = scenarios.load_scenario("default")
    assert s.model.kind == "p_median"
    assert 8 <= (s.model.p or 0) <= 12
    assert s.data.farms == "synthetic"


def test_minimal_scenario_uses_defaults(tmp_path: Path) -> None:
    s = scenarios.load_scenario(_write(tmp_path, MINIMAL))
    assert s.model.p == 3
    assert s.travel.circuity == 1.3
    assert s.base_dir == str(tmp_path.resolve())


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (MINIMAL.replace("p = 3", "pp = 3"), r"unknown key `model.pp`.*Did you mean `p`"),
        (MINIMAL + "[travell]\ncircuity = 1.2\n", r"unknown key `travell`.*`travel`"),
        (MINIMAL.replace("p = 3", 'p = "three"'), r"`model.p` must be"),
        (
            MINIMAL.replace('"p_median"', '"p_medain"'),
            r"`model.kind` must be one of .*got 'p_medain'\. Did you mean `p_median`\?",
        ),
        (MINIMAL.replace("schema_version = 1", "schema_version = 99"), "newer than this planner"),
        (MINIMAL.replace("schema_version = 1", "schema_version = 0"), "no longer supported"),
        (MINIMAL.replace("schema_version = 1\n", ""), "missing `schema_version`"),
        (MINIMAL.replace("p = 3", "p = 0"), r"`model.p` must be >= 1"),
        (MINIMAL + "[demand]\nbelarus_share = 1.5\n", "belarus_share"),
        (
            MINIMAL + "[demand]\nbelarus_share_combines = -0.2\n",
            r"`demand.belarus_share_combines` must be between 0 and 1, got -0.2",
        ),
        (MINIMAL + "[travel]\ncircuity = 0.8\n", "circuity"),
        (MINIMAL + '[sites]\nrequired = ["a"]\nforbidden = ["a"]\n', "both required and forbidden"),
        (MINIMAL.replace("p = 3\n", ""), "needs `model.p`"),
        ('schema_version = 1\nname = "x"\n[model]\nkind = "mclp"\np = 2\n', "service_radius_km"),
        ("schema_version = 1\nname = \n", "not valid TOML"),
    ],
)
def test_invalid_scenarios_are_explained(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        scenarios.load_scenario(_write(tmp_path, text))


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    text = MINIMAL.replace("p = 3", "p = 3\nfoo = 1\nbar = 2")
    with pytest.raises(ScenarioError, match=r"2 problems found") as err:
        scenarios.load_scenario(_write(tmp_path, text))
    assert len(err.value.problems) == 2


def test_unknown_name_lists_builtins() -> None:
    with pytest.raises(ScenarioError, match="default"):
        scenarios.load_scenario("no_such_scenario")


def test_round_trip(tmp_path: Path) -> None:
    for name in scenarios.builtin_scenarios():
        s = scenarios.load_scenario(name)
        path = scenarios.save_scenario(s, tmp_path / f"{name}.toml")
        again = scenarios.load_scenario(path)
        assert again.replace(base_dir="") == s.replace(base_dir="")


def test_belarus_shares_of_tractors_and_combines_are_separate(tmp_path: Path) -> None:
    s = scenarios.load_scenario(
        _write(tmp_path, MINIMAL + "[demand]\nbelarus_share = 0.6\nbelarus_share_combines = 0.2\n")
    )
    assert (s.demand.belarus_share, s.demand.belarus_share_combines) == (0.6, 0.2)
    # left out: the tractors' share applies to combines too
    assert scenarios.load_scenario(_write(tmp_path, MINIMAL)).demand.belarus_share_combines is None
    default = scenarios.load_scenario("default")
    assert default.demand.belarus_share_combines != default.demand.belarus_share


def test_relative_paths_resolve_against_the_scenario_folder(tmp_path: Path) -> None:
    text = MINIMAL + '[data]\nfarms = "my/farms.csv"\n'
    s = scenarios.load_scenario(_write(tmp_path, text))
    assert s.resolve_path(s.data.farms) == tmp_path.resolve() / "my" / "farms.csv"


def test_scenario_is_frozen() -> None:
    s = scenarios.load_scenario("default")
    with pytest.raises(AttributeError, match="cannot assign to field 'name'"):
        s.name = "x"  # type: ignore[misc]
