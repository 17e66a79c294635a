"""Mutation check: the share of small code changes ("mutants") that the test suite notices.

A test suite that passes whatever the code computes protects nothing. This benchmark takes the
modules above the solvers (the KPI tables, the writers, the brief, the sweep and the independent
checker), applies one small change at a time to a function body (``<`` for ``<=``, ``+`` for
``-``, ``and`` for ``or``, a constant off by one, ``True`` for ``False``, a negated condition) and
runs the tests that cover the module. A mutant is *killed* when a test fails (or the run
exceeds its time budget), and *survives* when every test still passes.

How it runs, and why it is fast enough for 2 cores: the parent process imports the planner (not
the tests) and runs the selected tests once in a ``fork()`` (the baseline, which must pass; it
also fills numba's disk cache). Each mutant then runs in a ``fork()`` of that warm parent, which
never ran a test itself, so no cache of the baseline leaks into a mutant's run. The child swaps
the mutated function's ``__code__`` into the live function object (so every caller, including
code that did ``from module import name``, sees the mutant), runs the same tests with
``pytest.main(["-x", ...])`` and exits with pytest's status. Tests that start a *subprocess*
(``python -m planner.cli ...``) do not see the mutant; they count as passing for it, so the
score is a lower bound.

Usage::

    python bench/mutation.py                     # every default target, JSON to bench/results/
    python bench/mutation.py --target planner.sweep=tests/planner/test_sweep.py --max-mutants 40
    python bench/mutation.py --list              # the mutants only, no test run

Prints one line per module (mutants, killed, survived, timeouts, score) and the survivors
(``file:line  original -> mutant``). Survivors judged harmless are listed in bench/README.md.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib
import inspect
import json
import os
import platform
import signal
import sys
import time
import types
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

# module -> test files that cover it (run from the repository root).
DEFAULT_TARGETS: dict[str, list[str]] = {
    "planner.results": ["tests/planner/test_export.py", "tests/planner/test_brief.py"],
    "planner.tables": ["tests/planner/test_export.py", "tests/planner/test_brief.py"],
    "planner.export": ["tests/planner/test_export.py", "tests/planner/test_brief.py"],
    "planner.brief": ["tests/planner/test_brief.py", "tests/planner/test_export.py"],
    "planner.sweep": ["tests/planner/test_sweep.py"],
    "planner.models.check": ["tests/planner/models/test_check.py"],
}


@dataclass(frozen=True)
class Mutant:
    """One single-point change of a module's source."""

    module: str
    index: int
    function: str
    line: int
    col: int
    original: str
    mutated: str


@dataclass
class ModuleReport:
    """Outcome of every mutant of one module."""

    module: str
    tests: list[str]
    baseline_s: float
    mutants: int = 0
    killed: int = 0
    timeouts: int = 0
    skipped: int = 0
    survived: list[dict[str, Any]] = field(default_factory=list)

    @property
    def score(self) -> float:
        """Share of mutants killed (time-outs count as killed)."""
        return (self.killed + self.timeouts) / self.mutants if self.mutants else float("nan")


# --------------------------------------------------------------------------------------------
# Mutation operators
# --------------------------------------------------------------------------------------------
_BINOP_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Mult,
    ast.Pow: ast.Mult,
}
_CMP_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


def _mutations_of(node: ast.AST) -> list[tuple[str, str, ast.AST]]:
    """Return ``(original, mutated, replacement node)`` for every mutation of ``node``."""
    out: list[tuple[str, str, ast.AST]] = []
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAP:
        new = copy.deepcopy(node)
        new.op = _BINOP_SWAP[type(node.op)]()
        out.append((ast.unparse(node), ast.unparse(new), new))
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP_SWAP:
        new = copy.deepcopy(node)
        new.ops = [_CMP_SWAP[type(node.ops[0])]()]
        out.append((ast.unparse(node), ast.unparse(new), new))
    elif isinstance(node, ast.BoolOp):
        new = copy.deepcopy(node)
        new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        out.append((ast.unparse(node), ast.unparse(new), new))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append((ast.unparse(node), ast.unparse(node.operand), copy.deepcopy(node.operand)))
    elif isinstance(node, ast.Constant) and type(node.value) in (bool, int, float):
        value = node.value
        if isinstance(value, bool):
            new_value: Any = not value
        elif isinstance(value, int):
            new_value = value + 1
        else:
            new_value = value * 1.5 if value else 1.0
        new = ast.copy_location(ast.Constant(new_value), node)
        out.append((ast.unparse(node), ast.unparse(new), new))
    elif isinstance(node, ast.If | ast.While | ast.IfExp):
        new = copy.deepcopy(node)
        new.test = ast.UnaryOp(op=ast.Not(), operand=copy.deepcopy(node.test))
        out.append((f"if {ast.unparse(node.test)}", f"if not ({ast.unparse(node.test)})", new))
    return out


def _skippable(node: ast.AST, parents: list[ast.AST]) -> bool:
    """Mutations that only change docs, typing or logging are not worth a test run."""
    for parent in parents:
        if isinstance(parent, ast.arg | ast.AnnAssign) or (
            isinstance(parent, ast.Subscript) and parent is not node and _is_annotation(parent)
        ):
            return True
        if isinstance(parent, ast.Call) and _call_name(parent) in {
            "logger.debug",
            "logger.info",
            "warnings.warn",
            "TypeVar",
            "cast",
        }:
            return True
    return False


def _is_annotation(node: ast.Subscript) -> bool:
    return isinstance(node.value, ast.Name) and node.value.id in {
        "dict",
        "list",
        "tuple",
        "Final",
        "Literal",
        "Callable",
    }


def _call_name(call: ast.Call) -> str:
    try:
        return ast.unparse(call.func)
    except (AttributeError, ValueError):  # pragma: no cover - unparse of odd nodes
        return ""


def _body_nodes(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[ast.AST, list[ast.AST]]]:
    """Every node of a function's body with its parents, in source order (docstring excluded).

    Only the body: defaults and annotations are evaluated at definition time and are not
    reachable through ``__code__``. Nested functions belong to the outer code object.
    """
    stack: list[tuple[ast.AST, list[ast.AST]]] = [(stmt, []) for stmt in fn.body]
    targets: list[tuple[ast.AST, list[ast.AST]]] = []
    while stack:
        node, parents = stack.pop()
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstring or bare string
        targets.append((node, parents))
        stack.extend((child, [*parents, node]) for child in ast.iter_child_nodes(node))
    return sorted(
        targets, key=lambda t: (getattr(t[0], "lineno", 0), getattr(t[0], "col_offset", 0))
    )


def _functions_of(tree: ast.Module) -> list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]]:
    """Top-level functions and class methods with their qualified names."""
    out: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]] = []
    for top in tree.body:
        if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef):
            out.append((top, top.name))
        elif isinstance(top, ast.ClassDef):
            out.extend(
                (item, f"{top.name}.{item.name}")
                for item in top.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            )
    return out


def enumerate_mutants(module: str, source: str) -> list[tuple[Mutant, str]]:
    """Return every mutant of ``source`` (inside function bodies) with its mutated source."""
    tree = ast.parse(source)
    found: list[tuple[Mutant, str]] = []
    for fn, qualname in _functions_of(tree):
        for node, parents in _body_nodes(fn):
            if _skippable(node, parents):
                continue
            for original, mutated, replacement in _mutations_of(node):
                try:
                    new_source = ast.unparse(_replace(tree, node, replacement))
                    compile(new_source, module, "exec")
                except (SyntaxError, ValueError):
                    continue
                mutant = Mutant(
                    module=module,
                    index=len(found),
                    function=qualname,
                    line=getattr(node, "lineno", fn.lineno),
                    col=getattr(node, "col_offset", 0),
                    original=original[:120],
                    mutated=mutated[:120],
                )
                found.append((mutant, new_source))
    return found


def _replace(tree: ast.Module, target: ast.AST, replacement: ast.AST) -> ast.Module:
    """Return a copy of ``tree`` with ``target`` replaced by ``replacement``."""

    class Swap(ast.NodeTransformer):
        def visit(self, node: ast.AST) -> Any:  # noqa: ANN401
            if node is target:
                return replacement
            return self.generic_visit(node)

    # Deep-copying the tree would lose node identity; transform a shallow structure instead by
    # copying on the way down only the nodes on the path (NodeTransformer mutates in place, so
    # work on a deepcopy made with a memo that maps target -> target).
    memo: dict[int, Any] = {id(target): target}
    copied = copy.deepcopy(tree, memo)
    return ast.fix_missing_locations(Swap().visit(copied))


# --------------------------------------------------------------------------------------------
# Applying a mutant in a forked child
# --------------------------------------------------------------------------------------------
def _functions(namespace: dict[str, Any], module_name: str) -> dict[str, types.FunctionType]:
    """Qualified name -> plain function object for top-level functions and class methods."""
    out: dict[str, types.FunctionType] = {}
    for name, obj in namespace.items():
        fn = inspect.unwrap(obj) if callable(obj) else obj
        if isinstance(fn, types.FunctionType) and getattr(fn, "__module__", "") == module_name:
            out[name] = fn
        elif isinstance(obj, type) and obj.__module__ == module_name:
            for attr, member in vars(obj).items():
                raw = member
                if isinstance(raw, staticmethod | classmethod):
                    raw = raw.__func__
                elif isinstance(raw, property):
                    raw = raw.fget
                raw = inspect.unwrap(raw) if callable(raw) else raw
                if isinstance(raw, types.FunctionType):
                    out[f"{name}.{attr}"] = raw
    return out


def apply_mutant(module_name: str, mutant: Mutant, new_source: str) -> None:
    """Swap the mutated function's code into the live module (in this process only)."""
    live = importlib.import_module(module_name)
    namespace: dict[str, Any] = {"__name__": module_name, "__file__": live.__file__}
    exec(compile(new_source, live.__file__ or module_name, "exec"), namespace)  # noqa: S102
    new_fns = _functions(namespace, module_name)
    old_fns = _functions(vars(live), module_name)
    if mutant.function not in new_fns or mutant.function not in old_fns:
        msg = f"cannot find {mutant.function} in {module_name}"
        raise LookupError(msg)
    old = old_fns[mutant.function]
    new = new_fns[mutant.function]
    if old.__code__.co_freevars != new.__code__.co_freevars:
        msg = f"{mutant.function}: closure layout changed"
        raise LookupError(msg)
    old.__code__ = new.__code__


def _run_tests(tests: list[str]) -> int:
    import pytest  # noqa: PLC0415 - the parent imports pytest only when it runs tests

    return int(
        pytest.main(
            [
                *tests,
                "-x",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:randomly",
                "--no-header",
                "-o",
                "addopts=",
                "-W",
                "ignore::DeprecationWarning",
            ]
        )
    )


def run_mutant(
    module_name: str, mutant: Mutant | None, new_source: str, tests: list[str], timeout_s: float
) -> str:
    """Run ``tests`` in a forked child, against one mutant (or none: the baseline).

    Returns ``killed``, ``survived``, ``timeout`` or ``skipped`` (the mutant cannot be applied).
    The baseline runs in a child too, so the parent never imports the test modules or fills a
    cache that a mutant's run would then inherit: every run starts from the same state.
    """
    pid = os.fork()
    if pid == 0:  # child
        code = 3
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            if mutant is not None:
                try:
                    apply_mutant(module_name, mutant, new_source)
                except LookupError:
                    os._exit(5)  # not a plain Python function (e.g. numba): not applicable
            code = _run_tests(tests)
        except BaseException:  # noqa: BLE001 - any crash of the mutant kills it
            code = 4
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout"
        time.sleep(0.05)
    exit_code = os.waitstatus_to_exitcode(status)
    if exit_code == 5:  # noqa: PLR2004 - the child's "not applicable" code
        return "skipped"
    return "survived" if exit_code == 0 else "killed"


def _parse_targets(specs: list[str]) -> dict[str, list[str]]:
    if not specs:
        return DEFAULT_TARGETS
    targets: dict[str, list[str]] = {}
    for spec in specs:
        module, _, tests = spec.partition("=")
        targets[module] = [t for t in tests.split(",") if t]
    return targets


def run_module(
    module_name: str, tests: list[str], mutants: list[tuple[Mutant, str]]
) -> ModuleReport | None:
    """Run the baseline, then every mutant of one module; ``None`` when it cannot run."""
    missing = [t for t in tests if not Path(t.split("::")[0]).exists()]
    if missing:
        print(f"{module_name}: skipped, test files missing: {missing}")
        return None
    t0 = time.perf_counter()
    if run_mutant(module_name, None, "", tests, 3600.0) != "survived":
        print(f"{module_name}: the baseline tests fail; fix them first")
        return None
    baseline_s = time.perf_counter() - t0
    report = ModuleReport(module=module_name, tests=tests, baseline_s=round(baseline_s, 1))
    timeout_s = max(30.0, 3.0 * baseline_s)
    for mutant, new_source in mutants:
        outcome = run_mutant(module_name, mutant, new_source, tests, timeout_s)
        if outcome == "skipped":
            report.skipped += 1
            continue
        report.mutants += 1
        if outcome == "killed":
            report.killed += 1
        elif outcome == "timeout":
            report.timeouts += 1
        else:
            report.survived.append(asdict(mutant))
    print(
        f"{module_name}: {report.mutants} mutants, {report.killed} killed, "
        f"{report.timeouts} time-outs, {len(report.survived)} survived, "
        f"{report.skipped} not applicable, score {report.score:.0%} "
        f"(tests {baseline_s:.1f} s)",
        flush=True,
    )
    return report


def _print_and_save(
    reports: list[ModuleReport], load_start: tuple[float, ...], started: float, path: Path
) -> None:
    total = sum(r.mutants for r in reports)
    killed = sum(r.killed + r.timeouts for r in reports)
    print(f"\nTotal: {killed}/{total} killed = {killed / max(total, 1):.0%}")
    print(f"Load average at start {load_start}, at end {os.getloadavg()}")
    print(f"Wall time {time.perf_counter() - started:.0f} s")
    print("\nSurvivors:")
    for report in reports:
        for s in report.survived:
            where = f"{s['module']}:{s['line']} ({s['function']})"
            print(f"  {where}  {s['original']}  ->  {s['mutated']}")
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": platform.platform(),
        "load_start": load_start,
        "load_end": os.getloadavg(),
        "total_mutants": total,
        "killed": killed,
        "modules": [{**asdict(r), "score": r.score} for r in reports],
    }
    path.write_text(json.dumps(payload, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        help="MODULE=TEST[,TEST...]; repeat. Default: the modules above the solvers.",
    )
    parser.add_argument("--max-mutants", type=int, default=0, help="per module; 0 = all")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "mutation.json")
    args = parser.parse_args(argv)

    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    load_start = os.getloadavg()
    started = time.perf_counter()
    reports: list[ModuleReport] = []
    for module_name, tests in _parse_targets(args.target).items():
        live = importlib.import_module(module_name)
        source = Path(live.__file__ or "").read_text(encoding="utf-8")
        mutants = enumerate_mutants(module_name, source)
        if args.max_mutants:
            step = max(1, len(mutants) // args.max_mutants)
            mutants = mutants[::step][: args.max_mutants]
        if args.list:
            for mutant, _ in mutants:
                print(f"{module_name}:{mutant.line}  {mutant.original}  ->  {mutant.mutated}")
            continue
        report = run_module(module_name, tests, mutants)
        if report is not None:
            reports.append(report)
    if not args.list:
        _print_and_save(reports, load_start, started, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
