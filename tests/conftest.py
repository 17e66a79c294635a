"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def shared_dir() -> Path:
    """The read-only ../shared folder; skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not available on this machine")
    return SHARED


@pytest.fixture
def orlib_dir(shared_dir: Path) -> Path:
    """OR-Library benchmark instances in ../shared; skip when absent."""
    path = shared_dir / "benchmarks" / "orlib"
    if not path.is_dir():
        pytest.skip("../shared/benchmarks/orlib is not available")
    return path
