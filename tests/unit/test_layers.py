"""The package's import graph: no cycles, and every import points down the layers.

Layers, bottom to top: values, the database seam, migrations, the app, executors, the
worker, plugins, then the CLI, benchmark and test helpers. Imports under
``TYPE_CHECKING`` and inside functions count like any other: a circle hidden there is
still a circle between the modules' meanings.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "chancy"

LAYERS = [
    ("chancy.job", "chancy.queue", "chancy.rule", "chancy.hub", "chancy.errors", "chancy.backoff")
    + ("chancy.events", "chancy.loops")
    + ("chancy.utils", "chancy.config", "chancy.tracing", "chancy.jsonvalues"),
    ("chancy.db",),
    ("chancy.migrations",),
    ("chancy.app",),
    ("chancy.executors",),
    ("chancy.worker",),
    ("chancy.plugin", "chancy.plugins"),
    ("chancy.cli", "chancy.bench", "chancy.testing", "chancy.contrib"),
]


def layer_of(module: str) -> int:
    if module == "chancy":
        return len(LAYERS)  # the package root re-exports from every layer
    for rank, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    raise AssertionError(f"{module} belongs to no layer; add it to LAYERS")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, known: set[str]) -> set[str]:
    """chancy modules ``path`` imports anywhere: at module level, under ``TYPE_CHECKING``
    and inside functions alike, since each is a dependency whichever moment it runs."""
    found: set[str] = set()
    for sub in ast.walk(ast.parse(path.read_text())):
        if isinstance(sub, ast.ImportFrom) and sub.module and sub.level == 0:
            base = sub.module
            if not base.startswith("chancy"):
                continue
            # ``from pkg import submodule`` imports the submodule; the package
            # itself counts only when a name is taken from its __init__.
            names = {f"{base}.{a.name}" for a in sub.names}
            found |= names & known
            if names - known:
                found.add(base)
        elif isinstance(sub, ast.Import):
            found |= {a.name for a in sub.names if a.name.startswith("chancy")}
    return found & known


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(paths)
    return {name: imports_of(path, known) for name, path in paths.items()}


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(trail[trail.index(target) :] + [target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_imports_point_down_the_layers(graph: dict[str, set[str]]) -> None:
    upward = [
        f"{source} -> {target}"
        for source, targets in graph.items()
        for target in targets
        if layer_of(target) > layer_of(source)
    ]
    assert upward == []
