"""Architecture contract: layers point one way, no import cycle, few deferred imports.

Every import statement counts, including the function-local ones (``if TYPE_CHECKING:``
blocks excepted: they never run). ``docs/architecture.md`` draws the same picture.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "planner"

# Lowest first. A module may import modules of its own layer or of a lower one.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("planner.errors", "planner._types", "planner.i18n", "planner.models._base"),
    ("planner.geodata", "planner.travel"),
    ("planner.io", "planner.roads"),
    ("planner.farms", "planner.sites", "planner.demand", "planner.seasons", "planner.growth"),
    ("planner.costs", "planner.models"),
    (
        "planner.scenarios",
        "planner.uncertainty",
        "planner.references",
        "planner._store_base",
        "planner._store_sharing",
        "planner.store",
        "planner.deploy",
    ),
    (
        "planner.tables",
        "planner.results",
        "planner.location",
        "planner.agri_inputs",
        "planner.agri",
    ),
    ("planner.export", "planner.brief"),
    (
        "planner.run",
        "planner.sweep",
        "planner._robust_store",
        "planner.robust",
        "planner.robust_export",
    ),
    ("planner.cli", "planner.bench", "planner.ui", "planner.validation"),
)
DEFERRED_BUDGET = 8
"""Function-local imports allowed outside planner/models (each with a reason)."""
MODELS_DEFERRED_BUDGET = 2
"""Function-local imports (optional solver back-ends) in planner/models, after the models split."""
TOTAL_DEFERRED_BUDGET = 10
"""Function-local imports in the whole package."""


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _layer(module: str) -> int | None:
    best: tuple[int, int] | None = None
    for i, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and (
                best is None or len(name) > best[1]
            ):
                best = (i, len(name))
    return None if best is None else best[0]


def _imports(path: Path, module: str) -> Iterator[tuple[ast.stmt, list[str], bool]]:
    """Yield (statement, imported module names, is function-local) of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"

    def names(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        base = node.module or ""
        if node.level:
            pkg = module if is_pkg else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                pkg = pkg.rpartition(".")[0]
            base = f"{pkg}.{base}" if base else pkg
        return [base] + [f"{base}.{a.name}" for a in node.names]

    def walk(node: ast.AST, local: bool) -> Iterator[tuple[ast.stmt, list[str], bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for stmt in child.orelse:
                    yield from walk(stmt, local)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, names(child), local
                continue
            inner = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            yield from walk(child, inner)

    yield from walk(tree, False)


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        for _, targets, _ in _imports(path, module):
            for target in targets:
                name = target
                while name and name not in mods:
                    name = name.rpartition(".")[0]
                if name.startswith("planner") and name not in (module, "planner"):
                    edges[module].add(name)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root, targets in edges.items():
        if root in index:
            continue
        work = [(root, iter(sorted(targets)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(edges[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def _deferred() -> list[str]:
    found = []
    for module, path in _modules().items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for stmt, _, local in _imports(path, module):
            if local:
                found.append(f"{path.relative_to(ROOT)}:{stmt.lineno}: {lines[stmt.lineno - 1]}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found.extend(
            f"{path.relative_to(ROOT)}:{node.lineno}: {lines[node.lineno - 1]}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("import_module")
        )
    return found


def test_every_module_has_a_layer() -> None:
    missing = [m for m in _modules() if m != "planner" and _layer(m) is None]
    assert not missing, f"add these modules to LAYERS: {missing}"


def test_layers_point_one_way() -> None:
    wrong = []
    for module, targets in _graph().items():
        here = _layer(module)
        for target in targets:
            there = _layer(target)
            if here is not None and there is not None and there > here:
                wrong.append(f"{module} (layer {here}) imports {target} (layer {there})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_cycle_finder_finds_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]


def test_nothing_inside_imports_the_deprecated_paths() -> None:
    users = [
        f"{m} imports {t}"
        for m, targets in _graph().items()
        for t in targets
        if t == "planner.validation"
    ]
    assert not users, users


def test_only_ui_and_app_import_streamlit() -> None:
    offenders = []
    for path in [*PACKAGE.rglob("*.py"), *ROOT.glob("*.py")]:
        rel = path.relative_to(ROOT)
        if rel.parts[:2] == ("planner", "ui") or rel == Path("app.py"):
            continue
        module = ".".join(rel.with_suffix("").parts)
        for _, targets, _ in _imports(path, module):
            if any(t == "streamlit" or t.startswith("streamlit.") for t in targets):
                offenders.append(str(rel))
    assert not offenders, offenders


def test_deferred_imports_within_budget_and_explained() -> None:
    found = _deferred()
    models = [f for f in found if f.startswith("planner/models/")]
    rest = [f for f in found if not f.startswith("planner/models/")]
    assert len(rest) <= DEFERRED_BUDGET, "\n".join(rest)
    assert len(models) <= MODELS_DEFERRED_BUDGET, "\n".join(models)
    assert len(found) <= TOTAL_DEFERRED_BUDGET, "\n".join(found)
    unexplained = []
    for entry in rest:
        file, line, _ = entry.split(":", 2)
        lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
        here, above = lines[int(line) - 1], lines[int(line) - 2].strip()
        reason = ("PLC0415 -" in here or "PLC0415 --" in here) or above.startswith("#")
        if not reason:
            unexplained.append(entry)
    assert not unexplained, "say why each import is deferred:\n" + "\n".join(unexplained)


def test_every_model_kind_shares_the_common_columns() -> None:
    from planner import agri, results  # noqa: PLC0415 - tests may defer

    n = len(results.ASSIGNMENT_COLUMNS) - 1  # the two-echelon table puts `share` later
    assert agri.NETWORK_ASSIGNMENT_COLUMNS[:n] == results.ASSIGNMENT_COLUMNS[:n]
    assert set(results.ASSIGNMENT_COLUMNS) <= set(agri.NETWORK_ASSIGNMENT_COLUMNS)
    m = len(results.SITE_TABLE_COLUMNS)
    assert agri.NETWORK_SITES_COLUMNS[:m] == results.SITE_TABLE_COLUMNS
