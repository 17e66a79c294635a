"""The validation layer: the bad-input corpus, readers, reports, CLI and property tests."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import farms, scenarios, sites, validation
from planner.cli import main
from planner.errors import ScenarioError, ValidationError

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
EXPECTED: dict[str, dict[str, Any]] = tomllib.loads(
    (BAD / "expected.toml").read_text(encoding="utf-8")
)["files"]
NAMES = sorted(EXPECTED)
SIDECARS = {"expected.toml", "farms_csv_with_prj.prj"}

# Points well inside Kazakhstan (lat, lon): Kostanay, Astana, Kokshetau, Pavlodar, Shymkent.
KZ = [(53.2144, 63.6246), (51.1801, 71.446), (53.2833, 69.4), (52.2873, 76.9674), (42.34, 69.59)]


def _limits(spec: dict[str, Any]) -> validation.Limits:
    return validation.Limits(**{k: spec[k] for k in ("max_rows", "max_bytes") if k in spec})


# --------------------------------------------------------------------------- the corpus


def test_corpus_is_complete_and_small() -> None:
    on_disk = {p.name for p in BAD.iterdir()} - SIDECARS
    assert on_disk == set(EXPECTED), "every corpus file needs an entry in expected.toml"
    assert len(EXPECTED) >= 60
    assert sum(spec["outcome"] == "invalid" for spec in EXPECTED.values()) >= 60
    assert all(p.stat().st_size < 50_000 for p in BAD.iterdir())


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_corpus_file(name: str) -> None:
    spec = EXPECTED[name]
    path = BAD / name
    report: validation.ValidationReport | validation.ScenarioReport
    if spec["kind"] == "scenario":
        report = validation.validate_scenario(path, limits=_limits(spec))
        problems = list(report.problems)
    else:
        report = validation.validate_table(path, spec["kind"], limits=_limits(spec))
        problems = report.messages()
    text = "\n".join(problems)
    if spec["outcome"] == "ok":
        assert report.ok, text
    else:
        assert not report.ok
        assert spec["message"] in text, text
    if "problems" in spec:
        assert len(problems) == spec["problems"], text
    if isinstance(report, validation.ValidationReport):
        if spec["outcome"] == "ok":
            assert report.data is not None
            assert len(report.data) == report.rows_accepted == report.rows_read
        if "rows" in spec:
            assert report.rows_accepted == spec["rows"]
        if "rejected" in spec:
            assert report.rows_rejected == spec["rejected"], text
        if spec["outcome"] == "ok" and "message" in spec:
            assert any(spec["message"] in w for w in report.warnings), report.warnings
        # every problem names the file-level fix or the rows it rejects
        for p in report.problems:
            assert p.file == str(path)
            assert p.what
            assert p.fix


@pytest.mark.parametrize(
    "name", [n for n in NAMES if EXPECTED[n]["kind"] != "scenario"], ids=lambda n: n
)
def test_corpus_through_readers(name: str) -> None:
    """read_farms / read_sites give the same verdict and list every problem."""
    spec = EXPECTED[name]
    if "max_rows" in spec or "max_bytes" in spec:
        pytest.skip("limits differ from the readers' defaults")
    reader = farms.read_farms if spec["kind"] == "farms" else sites.read_sites
    if spec["outcome"] == "ok":
        with _allow_non_point_warning(name):
            table = reader(BAD / name)
        assert len(table) == spec.get("rows", len(table))
        assert table.crs.to_epsg() == 4326
        assert table.geometry.is_valid.all()
    else:
        with pytest.raises(ValidationError, match=re.escape(spec["message"])) as err:
            reader(BAD / name)
        if "problems" in spec:
            assert len(err.value.problems) == spec["problems"]


def _allow_non_point_warning(name: str) -> Any:  # noqa: ANN401
    if "polygons" in name:
        return pytest.warns(UserWarning, match="not points")
    return _Nothing()


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_check_data_cli_on_corpus(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    spec = EXPECTED[name]
    args = ["check-data", spec["kind"], str(BAD / name)]
    if "max_rows" in spec:
        args += ["--max-rows", str(spec["max_rows"])]
    if "max_bytes" in spec:
        args += ["--max-mb", str(spec["max_bytes"] / 1024 / 1024)]
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "internal error" not in err
    assert code == (0 if spec["outcome"] == "ok" else 1), out + err
    assert ("VALID" if spec["outcome"] == "ok" else "INVALID") in out
    if spec["outcome"] == "invalid":
        assert spec["message"] in out


# --------------------------------------------------------------------------- details


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("53.21", 53.21),
        ("53,21", 53.21),
        ("1 250,5", 1250.5),
        ("1\u00a0250,5", 1250.5),
        ("1.250,5", 1250.5),
        ("1,250.5", 1250.5),
        (" -3 ", -3.0),
        (7, 7.0),
    ],
)
def test_parse_numbers_accepts_excel_locales(cell: object, value: float) -> None:
    nums, bad, _ = validation.parse_numbers(pd.Series([cell], dtype=object))
    assert not bad[0]
    assert nums[0] == pytest.approx(value)


def test_parse_numbers_flags_text_and_keeps_blanks() -> None:
    nums, bad, dec = validation.parse_numbers(pd.Series(["пять", "", None, "inf", "2,5"]))
    assert list(bad) == [True, False, False, True, False]
    assert np.isnan(nums[:4]).all()
    assert nums[4] == 2.5
    assert dec == ","


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Посевная площадь, га", "посевная площадь"),
        ("Farm_ID", "farm id"),
        ("\ufeffШирота (°)", "широта"),
        ("Трактор  саны", "трактор саны"),
    ],
)
def test_normalise_header(header: str, key: str) -> None:
    assert validation.normalise_header(header) == key


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="must be positive"):
        validation.Limits(max_rows=0)


def test_read_table_reports_what_it_sniffed() -> None:
    df, info = validation.read_table(BAD / "farms_cp1251_semicolon_decimal_comma.csv")
    assert (info.format, info.encoding, info.separator, info.decimal) == (
        "csv",
        "cp1251",
        ";",
        ",",
    )
    assert list(df.index[:2]) == [2, 3]  # file rows, header = row 1
    assert "Широта" in df.columns
    _, info = validation.read_table(BAD / "farms_several_sheets.xlsx", kind="farms")
    assert info.sheet == "Хозяйства"
    _, info = validation.read_table(BAD / "farms_utf16_unicode_text.txt")
    assert info.encoding == "utf-16"
    assert info.separator == "\t"


def test_report_counts_rows_and_keeps_accepted_rows() -> None:
    report = validation.validate_farms(BAD / "farms_points_in_moscow.csv")
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (4, 2, 2)
    assert not report.ok
    assert report.data is not None  # the accepted rows are kept even when some are rejected
    assert list(report.data["row"]) == [2, 3]
    problem = report.problems[0]
    assert problem.rows == (4, 5)
    assert problem.row == 4
    assert problem.count == 2
    assert "2 point(s) outside Kazakhstan" in problem.what
    text = report.format()
    assert "rows rejected  2" in text
    assert "INVALID" in text


def test_valid_report_has_cleaned_canonical_table() -> None:
    report = validation.validate_farms(BAD / "farms_kazakh_headers.csv")
    assert report.ok
    assert report.columns["lat"] == "Ендік"
    assert report.columns["tractors"] == "Трактор саны"
    assert report.data is not None
    assert {"farm_id", "lat", "lon", "tractors", "combines", "sown_area_ha"} <= set(
        report.data.columns
    )
    assert report.data.crs.to_epsg() == 4326


def test_read_farms_uses_brand_age_and_keeps_service_hours() -> None:
    f = farms.read_farms(BAD / "farms_brand_and_age.csv", belarus_share=0.0)
    assert list(f["belarus_tractors"]) == [4, 0]  # MTZ-82 is Belarus-made, John Deere not
    assert f["tractors_10_17"].iloc[0] + f["tractors_17p"].iloc[0] == 4  # built 2008
    assert f["tractors_0_10"].iloc[1] == 2  # 5 years old
    h = farms.read_farms(BAD / "farms_only_service_hours.csv")
    assert list(h["service_hours"]) == [120.0, 80.5]
    assert any("service hours" in n for n in h.attrs["data_notes"])


def test_read_sites_maps_roles_and_names() -> None:
    s = sites.read_sites(BAD / "sites_russian_cp1251.csv")
    assert list(s["role"]) == ["existing", "candidate"]
    assert list(s["kind"]) == ["user", "user"]
    assert np.isnan(s["capacity_hours"].iloc[1])


def test_check_data_cli_limits_and_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-data", "farms", str(tmp_path / "missing.csv")]) == 1
    assert "file not found" in capsys.readouterr().out
    assert main(["check-data", "farms", str(tmp_path)]) == 1  # a folder
    capsys.readouterr()
    assert main(["check-data", "farms", str(BAD / "farms_utf8_bom.csv"), "--max-rows", "0"]) == 1
    assert "must be positive" in capsys.readouterr().err


def test_check_references_lists_every_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        'schema_version = 1\nname = "x"\n[data]\nfarms = "f.csv"\nsites = "s.csv"\n'
        '[travel]\nod_matrix = "od.xlsx"\n[model]\nkind = "p_median"\np = 2\n',
        encoding="utf-8",
    )
    problems = scenarios.check_references(scenarios.load_scenario(path))
    assert len(problems) == 3
    assert all("does not exist" in p for p in problems)


def test_display_name_replaces_the_temporary_path(tmp_path: Path) -> None:
    path = tmp_path / "upload.csv"
    path.write_bytes((BAD / "farms_negative_tractors.csv").read_bytes())
    report = validation.validate_farms(path, name="Мои хозяйства.csv")
    assert report.file == "Мои хозяйства.csv"
    assert all(p.file == "Мои хозяйства.csv" for p in report.problems)
    assert report.format().startswith("Мои хозяйства.csv: farm registry")


def test_unknown_prj_next_to_a_csv_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("farm_id,x,y,tractors\nA,400000,5900000,1\n", encoding="utf-8")
    path.with_suffix(".prj").write_text("PROJCS[nonsense", encoding="utf-8")
    report = validation.validate_farms(path)
    assert not report.ok
    assert "is unknown" in report.messages()[0]


def test_ci_audits_dependencies_without_failing_and_runs_readme_command() -> None:
    root = Path(__file__).resolve().parents[2]
    lines = [x for x in (root / ".ci" / "run").read_text(encoding="utf-8").splitlines() if x]
    readme = (root / "README.md").read_text(encoding="utf-8").splitlines()
    command_2 = next(x for x in readme if x.startswith("python3 -m venv") and "pytest" in x)
    assert lines[-1] == command_2
    audit = next(x for x in lines if "pip-audit" in x and not x.startswith("#"))
    assert "|| audit_status=$?" in audit  # findings or network errors never stop the build
    assert lines.index(audit) < len(lines) - 1


# --------------------------------------------------------------------------- properties

_HEADERS = {
    "en": ("farm_id", "lat", "lon", "tractors", "sown_area_ha"),
    "ru": ("Код", "Широта", "Долгота", "Тракторы", "Посевная площадь, га"),
    "kk": ("Шаруашылық коды", "Ендік", "Бойлық", "Трактор саны", "Егіс алқабы"),
}

_ids = st.text(
    alphabet=st.characters(categories=("L", "N"), max_codepoint=0x4FF), min_size=1, max_size=8
)


@st.composite
def _tables(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 25))
    ids = draw(st.lists(_ids, min_size=n, max_size=n, unique_by=lambda s: s.casefold().strip()))
    base = draw(st.lists(st.sampled_from(KZ), min_size=n, max_size=n))
    jitter = draw(st.lists(st.integers(-500, 500), min_size=2 * n, max_size=2 * n))
    return {
        "ids": ids,
        "lat": [round(b[0] + j / 10_000, 4) for b, j in zip(base, jitter[:n], strict=True)],
        "lon": [round(b[1] + j / 10_000, 4) for b, j in zip(base, jitter[n:], strict=True)],
        "tractors": draw(st.lists(st.integers(0, 5000), min_size=n, max_size=n)),
        "area": draw(st.lists(st.integers(0, 10**7), min_size=n, max_size=n)),
        "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1251", "utf-16"])),
        "sep": draw(st.sampled_from([";", ",", "\t"])),
        "decimal": draw(st.sampled_from([".", ","])),
        "lang": draw(st.sampled_from(sorted(_HEADERS))),
        "newline": draw(st.sampled_from(["\n", "\r\n"])),
    }


def _encodable(t: dict[str, Any]) -> bool:
    text = "".join(t["ids"]) + "".join(_HEADERS[t["lang"]])
    try:
        text.encode(t["encoding"])
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tables())
def test_random_tables_round_trip(t: dict[str, Any]) -> None:
    if not _encodable(t):
        t = {**t, "encoding": "utf-8"}
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=t["sep"], lineterminator=t["newline"])
    writer.writerow(_HEADERS[t["lang"]])
    for i, fid in enumerate(t["ids"]):
        nums = [repr(t["lat"][i]), repr(t["lon"][i]), str(t["tractors"][i])]
        nums.append(repr(t["area"][i] / 100))
        if t["decimal"] == ",":
            nums = [v.replace(".", ",") for v in nums]
        writer.writerow([fid, *nums])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "farms.csv"
        path.write_bytes(buf.getvalue().encode(t["encoding"]))
        report = validation.validate_farms(path)
        assert report.ok, report.messages()
        data = report.data
        assert data is not None
        assert list(data["farm_id"]) == [s.strip() for s in t["ids"]]
        assert np.array_equal(data["lat"].to_numpy(), np.array(t["lat"]))
        assert np.array_equal(data["lon"].to_numpy(), np.array(t["lon"]))
        assert np.array_equal(data["tractors"].to_numpy(), np.array(t["tractors"], dtype=float))
        assert np.allclose(data["sown_area_ha"].to_numpy(), np.array(t["area"]) / 100, rtol=0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tables(), st.sampled_from(["xlsx", "geojson"]))
def test_random_tables_round_trip_xlsx_and_geojson(t: dict[str, Any], fmt: str) -> None:
    import openpyxl  # noqa: PLC0415

    area = [a / 100 for a in t["area"]]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"farms.{fmt}"
        if fmt == "xlsx":
            wb = openpyxl.Workbook()
            ws = wb.active
            ws.append(list(_HEADERS[t["lang"]]))
            for i, fid in enumerate(t["ids"]):
                ws.append([fid, t["lat"][i], t["lon"][i], t["tractors"][i], area[i]])
            wb.save(path)
        else:
            feats = [
                {
                    "type": "Feature",
                    "properties": {"farm_id": fid, "tractors": t["tractors"][i], "area": area[i]},
                    "geometry": {"type": "Point", "coordinates": [t["lon"][i], t["lat"][i]]},
                }
                for i, fid in enumerate(t["ids"])
            ]
            doc = {"type": "FeatureCollection", "features": feats}
            path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        report = validation.validate_farms(path)
        assert report.ok, report.messages()
        data = report.data
        assert data is not None
        assert list(data["farm_id"]) == [s.strip() for s in t["ids"]]
        assert np.allclose(data["lat"].to_numpy(), np.array(t["lat"]), rtol=0, atol=1e-12)
        assert np.allclose(data["lon"].to_numpy(), np.array(t["lon"]), rtol=0, atol=1e-12)
        assert np.array_equal(data["tractors"].to_numpy(), np.array(t["tractors"], dtype=float))
        assert np.array_equal(data["sown_area_ha"].to_numpy(), np.array(area))


_SUFFIXES = st.sampled_from([*validation.SUPPORTED_SUFFIXES, ".xls", ".bin", ""])


@settings(max_examples=150, deadline=None)
@given(content=st.binary(max_size=3000), suffix=_SUFFIXES, kind=st.sampled_from(["farms", "sites"]))
def test_junk_bytes_only_raise_validation_error(content: bytes, suffix: str, kind: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(content)
        report = validation.validate_table(path, kind, limits=validation.Limits())  # type: ignore[arg-type]
        assert report.ok or report.problems
        reader = farms.read_farms if kind == "farms" else sites.read_sites
        with contextlib.suppress(ValidationError):
            reader(path)


_cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "nan", "-1", "1e400", "53,2", "٣", "63.6", "1 000", "∞", "0x10"]),
    st.floats(allow_nan=True).map(repr),
)


@settings(max_examples=120, deadline=None)
@given(
    header=st.lists(
        st.sampled_from(["id", "lat", "lon", "tractors", "широта", "долгота", "x", "name", "a"]),
        min_size=1,
        max_size=6,
    ),
    rows=st.lists(st.lists(_cells, max_size=7), max_size=12),
    sep=st.sampled_from([";", ",", "\t"]),
)
def test_junk_tables_only_raise_validation_error(
    header: list[str], rows: list[list[str]], sep: str
) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep)
    writer.writerow(header)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_text(buf.getvalue(), encoding="utf-8", errors="surrogatepass")
        for kind in ("farms", "sites"):
            report = validation.validate_table(path, kind)  # type: ignore[arg-type]
            assert report.ok == (not report.problems)
            assert report.rows_accepted <= report.rows_read
            if report.ok:
                assert report.data is not None


_coords = st.one_of(
    st.lists(st.floats(-1e7, 1e7, allow_nan=False), min_size=2, max_size=3),
    st.lists(st.lists(st.floats(-200, 200, allow_nan=False), min_size=2, max_size=2), max_size=5),
    st.lists(
        st.lists(st.lists(st.floats(40, 90, allow_nan=False), min_size=2, max_size=2), max_size=6),
        max_size=2,
    ),
    st.none(),
    st.text(max_size=5),
)


@settings(max_examples=80, deadline=None)
@given(
    features=st.lists(
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["Point", "LineString", "Polygon", "MultiPoint", "Nope"]),
                "coordinates": _coords,
                "id": st.one_of(st.text(max_size=4), st.integers(), st.none()),
            }
        ),
        max_size=6,
    ),
    crs=st.sampled_from([None, "EPSG:4326", "urn:ogc:def:crs:EPSG::32642", "EPSG:0", "foo"]),
)
def test_junk_geojson_only_raises_validation_error(
    features: list[dict[str, Any]], crs: str | None
) -> None:
    doc: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"farm_id": f["id"], "tractors": 1},
                "geometry": {"type": f["type"], "coordinates": f["coordinates"]},
            }
            for f in features
        ],
    }
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.geojson"
        path.write_text(json.dumps(doc), encoding="utf-8")
        report = validation.validate_farms(path)
        assert report.ok == (not report.problems)


_toml_scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True),
    st.text(max_size=10),
)
_toml_values = st.recursive(
    _toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_KEYS = [
    "schema_version", "name", "title", "data", "demand", "travel", "model", "sites", "solver",
    "kind", "p", "required", "forbidden", "farms", "n_farms", "parameters", "time_limit_s",
]  # fmt: skip


def _default_doc() -> dict[str, Any]:
    path = Path(scenarios.__file__).parent / "scenario_files" / "default.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


@settings(max_examples=200, deadline=None)
@given(
    patches=st.lists(
        st.tuples(
            st.lists(st.sampled_from(_KEYS) | st.text(max_size=6), min_size=1, max_size=2),
            _toml_values,
        ),
        max_size=5,
    ),
    start_empty=st.booleans(),
)
def test_scenario_parser_only_raises_scenario_error(
    patches: list[tuple[list[str], Any]], start_empty: bool
) -> None:
    doc: dict[str, Any] = {} if start_empty else _default_doc()
    for keys, value in patches:
        target: Any = doc
        for key in keys[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[keys[-1]] = value
    problems: tuple[str, ...] = ()
    try:
        s = scenarios.scenario_from_dict(doc, source="fuzz")
    except ScenarioError as exc:
        problems = exc.problems
        assert problems
    else:
        assert s.schema_version == scenarios.SCHEMA_VERSION
        assert not (isinstance(s.model.p, float) and math.isnan(s.model.p))
    assert all(isinstance(p, str) and p for p in problems)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_scenario_text_only_raises_scenario_error(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.toml"
        path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
        with contextlib.suppress(ScenarioError):
            scenarios.load_scenario(path)


_CORPUS_TABLES = sorted(n for n in NAMES if EXPECTED[n]["kind"] != "scenario")


@settings(max_examples=30, deadline=None)
@given(
    farms_ref=st.sampled_from(["synthetic", "missing.csv", *_CORPUS_TABLES]),
    sites_ref=st.sampled_from(["settlements", "missing.csv", *_CORPUS_TABLES]),
    required=st.lists(
        st.sampled_from(["existing", "A1", "", " x", "gn:0", "Костанай"]), max_size=3
    ),
)
def test_scenario_validation_only_reports(
    farms_ref: str, sites_ref: str, required: list[str]
) -> None:
    text = (
        'schema_version = 1\nname = "p"\n[model]\nkind = "p_median"\np = 2\n[data]\n'
        f"farms = {json.dumps(farms_ref)}\nsites = {json.dumps(sites_ref)}\n"
        f"[sites]\nrequired = {json.dumps(required, ensure_ascii=False)}\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.toml"
        path.write_text(text, encoding="utf-8")
        for name in {farms_ref, sites_ref} & set(_CORPUS_TABLES):
            (Path(tmp) / name).write_bytes((BAD / name).read_bytes())
        report = validation.validate_scenario(path)
        assert report.ok == (not report.problems)
        assert "VALID" in report.format()


def test_check_data_scenario_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-data", "scenario", "default"]) == 0
    assert "VALID" in capsys.readouterr().out


def _excel_text(value: float, style: str) -> str:
    """Write a number the way Excel does in an English or Russian/Kazakh locale."""
    whole, frac = f"{abs(value):,.2f}".split(".")
    sign = "-" if value < 0 else ""
    if style == "en":
        return f"{sign}{whole}.{frac}"
    if style == "en_plain":
        return f"{sign}{whole.replace(',', '')}.{frac}"
    space = {"ru": " ", "ru_nbsp": "\u00a0", "ru_plain": ""}[style]
    return f"{sign}{whole.replace(',', space)},{frac}"


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(-(10**11), 10**11), min_size=1, max_size=20),
    style=st.sampled_from(["en", "en_plain", "ru", "ru_nbsp", "ru_plain"]),
)
def test_parse_numbers_round_trips_excel_locales(values: list[int], style: str) -> None:
    cents = [v / 100 for v in values]
    cells = pd.Series([_excel_text(c, style) for c in cents], dtype=object)
    nums, bad, _ = validation.parse_numbers(cells)
    assert not bad.any(), list(cells[bad])
    assert np.allclose(nums, np.array(cents), rtol=0, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.lists(
            st.one_of(
                st.none(),
                st.booleans(),
                st.integers(-(10**6), 10**6),
                st.floats(allow_nan=False, allow_infinity=False, width=32),
                st.text(alphabet=st.characters(categories=("L", "N", "P", "Zs")), max_size=8),
            ),
            max_size=6,
        ),
        max_size=8,
    ),
    header=st.lists(
        st.sampled_from(["Код", "Широта", "Долгота", "Тракторы", "id", "z"]), max_size=5
    ),
)
def test_junk_workbooks_only_raise_validation_error(
    rows: list[list[object]], header: list[str]
) -> None:
    import openpyxl  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.xlsx"
        wb = openpyxl.Workbook()
        ws = wb.active
        if header:
            ws.append(header)
        for row in rows:
            ws.append(row)
        wb.save(path)
        report = validation.validate_farms(path)
        assert report.ok == (not report.problems)
        assert report.rows_accepted <= report.rows_read
