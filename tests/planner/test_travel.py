"""planner.travel.nearest_point: the dot-product path and the k-d tree path agree with an
exhaustive great-circle search, and farm generation stays off scipy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from planner import travel


def _exhaustive(
    lon: np.ndarray, lat: np.ndarray, t_lon: np.ndarray, t_lat: np.ndarray
) -> np.ndarray:
    """Nearest target by great-circle km, one point at a time (independent of unit vectors)."""
    return np.array(
        [
            np.argmin(travel.great_circle_km(b, a, np.asarray(t_lat), np.asarray(t_lon)))
            for a, b in zip(lon, lat, strict=True)
        ]
    )


@pytest.mark.parametrize("n_targets", [1, 7, 344, travel._BRUTE_FORCE_MAX_TARGETS + 1, 1500])
def test_nearest_point_matches_an_exhaustive_search(n_targets: int) -> None:
    rng = np.random.default_rng(n_targets)
    t_lon, t_lat = rng.uniform(46, 87, n_targets), rng.uniform(40, 56, n_targets)
    lon, lat = rng.uniform(45, 88, 400), rng.uniform(39, 57, 400)
    got = travel.nearest_point(lon, lat, t_lon, t_lat)
    want = _exhaustive(lon, lat, t_lon, t_lat)
    # Ties are measure-zero for random points; compare the distances to be safe anyway.
    d_got = [
        travel.great_circle_km(b, a, t_lat[[i]], t_lon[[i]])[0]
        for a, b, i in zip(lon, lat, got, strict=True)
    ]
    d_want = [
        travel.great_circle_km(b, a, t_lat[[i]], t_lon[[i]])[0]
        for a, b, i in zip(lon, lat, want, strict=True)
    ]
    np.testing.assert_allclose(d_got, d_want, atol=1e-6)
    assert got.dtype == np.int64
    assert got.shape == (400,)


def test_nearest_point_chunks_cover_every_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk smaller than the rows: every row still gets its own answer."""
    monkeypatch.setattr(travel, "_BRUTE_FORCE_CHUNK_CELLS", 30)
    t_lon, t_lat = np.array([50.0, 70.0, 80.0]), np.array([45.0, 50.0, 52.0])
    lon = np.array([50.1, 79.9, 70.2, 49.0, 81.0, 69.0, 71.0])
    lat = np.array([45.1, 52.0, 50.1, 44.0, 53.0, 49.0, 51.0])
    assert travel.nearest_point(lon, lat, t_lon, t_lat).tolist() == [0, 2, 1, 0, 2, 1, 1]


def test_generating_farms_does_not_import_scipy() -> None:
    """The app's first map generates farms; scipy (about 0.25 s of CPU to import and build a
    tree) must stay off that path."""
    code = (
        "import sys\n"
        "from planner.farms import generate_farms\n"
        "generate_farms(2000, seed=1)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
