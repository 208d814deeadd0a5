"""The package layout: no import cycles (type-only and function-level imports included),
every subpackage says what it is for, and the public API keeps its names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sim

PACKAGE = Path(sim.__file__).resolve().parent
SUBPACKAGES = ("scenario", "data", "world", "runs", "studies", "outputs", "dashboard")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(path: Path, known: set[str]) -> set[str]:
    """Every sim module `path` imports anywhere in the file (top level, in functions, under
    TYPE_CHECKING), resolved to the module itself (``from sim.x import name`` is sim.x,
    or sim.x.name when that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            if name in known:
                found.add(name)
    # importing a submodule runs its package's __init__ first, but that edge is part of
    # Python's machinery, not a dependency the code chose: only direct imports count
    return found


def graph() -> dict[str, set[str]]:
    known = set(modules())
    edges = {}
    for name, path in modules().items():
        targets = imported(path, known)
        # `from sim.x import y` names both sim.x and (if a module) sim.x.y: keep the deepest
        edges[name] = {t for t in targets
                       if not any(o != t and o.startswith(t + ".") for o in targets)} - {name}
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None (iterative depth-first search)."""
    state: dict[str, int] = {}
    for root in edges:
        if state.get(root):
            continue
        stack = [(root, iter(sorted(edges[root])))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(sorted(edges.get(child, ())))))
                path.append(child)
    return None


def test_find_cycle_finds_a_planted_cycle():
    """The checker itself: a three-module cycle is found, a chain is not."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_module_of_sim_is_part_of_an_import_cycle():
    edges = graph()
    assert len(edges) > 40  # every module was read
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_errors_and_version_import_nothing_from_sim():
    """The bottom of the house: everything may import them, they import nothing of sim."""
    edges = graph()
    assert edges["sim.errors"] == set()
    assert edges["sim.version"] == set()


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_every_subpackage_says_what_it_is_for(package):
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text()))
    assert doc and 2 <= len(doc.splitlines()) <= 5, f"sim/{package}/__init__.py docstring"


def test_the_core_does_not_reach_up_into_studies_outputs_or_the_dashboard():
    """scenario -> world -> model -> runs -> studies -> outputs -> dashboard: a layer imports
    only from layers below it (the CLI and the benchmark sit on top of everything)."""
    order = ["sim.errors", "sim.version", "sim.data", "sim.scenario", "sim.world",
             "sim.decision", "sim.negotiation", "sim.positions", "sim.agents", "sim.history",
             "sim.metrics", "sim.model",
             "sim.runs", "sim.studies", "sim.outputs", "sim.dashboard"]

    def layer(module: str) -> int | None:
        for rank, prefix in enumerate(order):
            if module == prefix or module.startswith(prefix + "."):
                return rank
        return None

    upward = [(source, target) for source, targets in graph().items() for target in targets
              if layer(source) is not None and layer(target) is not None
              and layer(target) > layer(source)]
    assert upward == []


def test_the_public_api_keeps_its_names():
    for name in ("MODEL_VERSION", "NormDiplomacyModel", "RunRecord", "build_world",
                 "calibrate", "compare", "load_results", "load_scenario", "run", "sweep"):
        assert callable(getattr(sim, name)) or name == "MODEL_VERSION"
