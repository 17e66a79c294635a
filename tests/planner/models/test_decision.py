"""N-best and regret helpers against brute force, through a tiny evaluate-only model."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pytest

from planner.models._decision import drop_one_regret, n_best, swap_regret


class _Toy:
    """Minimal model: nearest-site cost with a capacity-like infeasibility rule."""

    def __init__(self, cost: np.ndarray, w: np.ndarray, *, min_open: int = 1) -> None:
        self.cost, self.w, self.min_open = cost, w, min_open

    def evaluate(self, open_sites: Sequence[int]) -> tuple[float, np.ndarray, np.ndarray]:
        sites = list(open_sites)
        n = len(self.w)
        if len(sites) < self.min_open:
            return math.inf, np.full(n, -1), np.full(n, np.nan)
        sub = self.cost[:, sites]
        k = sub.argmin(axis=1)
        c = sub[np.arange(n), k]
        return float((self.w * c).sum()), np.asarray(sites)[k], c


def _toy(seed: int, n: int = 10, m: int = 6) -> _Toy:
    rng = np.random.default_rng(seed)
    return _Toy(rng.integers(1, 40, (n, m)).astype(float), rng.integers(1, 4, n).astype(float))


def _all_values(
    toy: _Toy, p: int, required: tuple[int, ...] = ()
) -> list[tuple[float, tuple[int, ...]]]:
    m = toy.cost.shape[1]
    free = [j for j in range(m) if j not in required]
    out = []
    for combo in itertools.combinations(free, p - len(required)):
        sites = tuple(sorted(required + combo))
        out.append((toy.evaluate(sites)[0], sites))
    return sorted(out)


@pytest.mark.parametrize("seed", range(5))
def test_n_best_exact_by_enumeration(seed: int) -> None:
    toy = _toy(seed)
    ranked = _all_values(toy, 3)
    best_v, best_s = ranked[0]
    alts, exact = n_best(toy, best_s, best_v, 5, required=(), candidates=range(6))
    assert exact
    assert [a.objective for a in alts] == pytest.approx([v for v, _ in ranked[:5]])
    assert len({a.open_sites for a in alts}) == 5
    assert alts[0].open_sites == best_s


@pytest.mark.parametrize("seed", range(3))
def test_n_best_swap_search_is_distinct_ordered_and_exactly_valued(seed: int) -> None:
    toy = _toy(seed, n=12, m=9)
    ranked = _all_values(toy, 4, required=(0,))
    best_v, best_s = ranked[0]
    alts, exact = n_best(
        toy, best_s, best_v, 6, required=(0,), candidates=range(9), enumerate_limit=1
    )
    assert not exact
    values = [a.objective for a in alts]
    assert values == sorted(values)
    assert len({a.open_sites for a in alts}) == len(alts) == 6
    for a in alts:
        assert 0 in a.open_sites
        assert a.objective == pytest.approx(toy.evaluate(a.open_sites)[0])
    assert alts[0].objective == pytest.approx(best_v)
    assert alts[1].objective == pytest.approx(ranked[1][0])  # 2nd best is one swap away here


def test_regrets_match_brute_force() -> None:
    toy = _toy(7, n=15, m=7)
    best_v, best_s = _all_values(toy, 3)[0]
    drop = drop_one_regret(toy, best_s, best_v)
    swap = swap_regret(toy, best_s, best_v, candidates=range(7))
    for s in best_s:
        rest = [t for t in best_s if t != s]
        assert drop[s] == pytest.approx(toy.evaluate(rest)[0] - best_v)
        alts = [toy.evaluate([*rest, j])[0] for j in range(7) if j not in best_s]
        assert swap[s] == pytest.approx(min(alts) - best_v)
        assert swap[s] >= -1e-9  # the optimum is swap-optimal


def test_drop_one_infeasible_is_inf() -> None:
    toy = _toy(1)
    toy.min_open = 2
    best_v, best_s = _all_values(toy, 2)[0]
    drop = drop_one_regret(toy, best_s, best_v)
    assert all(math.isinf(v) for v in drop.values())


def test_regret_stops_within_budget_and_keeps_only_complete_sites() -> None:
    toy = _toy(3, n=12, m=7)
    best_v, best_s = _all_values(toy, 3)[0]
    assert drop_one_regret(toy, best_s, best_v, should_stop=lambda: True) == {}
    calls = iter(range(100))
    # Two evaluations allowed: two sites get their drop-one regret, the third is left out.
    drop = drop_one_regret(toy, best_s, best_v, should_stop=lambda: next(calls) >= 2)
    full = drop_one_regret(toy, best_s, best_v)
    assert list(drop) == list(best_s[:2])
    assert all(drop[s] == full[s] for s in drop)
    # Swap regret: 4 candidates per site, 6 evaluations allowed -> one complete site only.
    calls2 = iter(range(100))
    swap = swap_regret(
        toy, best_s, best_v, candidates=range(7), should_stop=lambda: next(calls2) >= 6
    )
    assert list(swap) == [best_s[0]]
    assert swap[best_s[0]] == swap_regret(toy, best_s, best_v, candidates=range(7))[best_s[0]]


def test_n_best_swap_search_stops_inside_a_pop() -> None:
    toy = _toy(5, n=20, m=12)
    best_v, best_s = _all_values(toy, 4)[0]
    counted = {"n": 0}
    evaluate = toy.evaluate

    def counting(sites: Sequence[int]) -> tuple[float, np.ndarray, np.ndarray]:
        counted["n"] += 1
        return evaluate(sites)

    toy.evaluate = counting  # type: ignore[method-assign]
    alts, exact = n_best(
        toy,
        best_s,
        best_v,
        3,
        required=[],
        candidates=range(12),
        enumerate_limit=1,
        should_stop=lambda: counted["n"] >= 5,
    )
    assert not exact
    assert counted["n"] == 5  # one pop alone would evaluate 4 x 8 = 32 swaps
    assert alts[0].objective == best_v
