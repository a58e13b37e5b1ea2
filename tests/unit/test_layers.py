"""The house's shape: each layer of ``tgbot`` imports only the layers below it, and no module
takes part in an import cycle (counting imports inside functions and under TYPE_CHECKING)."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

# Top to bottom. A module may import its own layer and the ones below it.
LAYERS: list[set[str]] = [
    {"__main__", "cli"},
    {"web"},
    {"runtime"},
    {"bot"},
    {"updates"},
    {"services"},
    {"delivery"},
    {"db", "migrations"},
    {
        "config",
        "observability",
        "metrics",
        "texts_defaults",
        "text_templates",
        "telegram_html",
        "aiogram_types",
        "schema_revisions",
        "version",
        "build_info",
    },
]
# The sandbox stands apart: it shares only the ground floor with the bot.
APART = {"sandbox": LAYERS[-1]}


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / "tgbot").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name.startswith("tgbot"):
                found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def _layer(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def _rank(layer: str) -> int:
    for rank, names in enumerate(LAYERS):
        if layer in names:
            return rank
    raise AssertionError(f"tgbot.{layer} belongs to no layer: add it to LAYERS")


def test_no_layer_imports_one_above_it() -> None:
    upward = []
    for module, imported in sorted(_graph().items()):
        if not _layer(module):
            continue  # the package's own __init__
        for target in sorted(imported):
            source, dest = _layer(module), _layer(target)
            if source == dest or not dest:
                continue
            if source in APART:
                if dest not in APART[source]:
                    upward.append(f"{module} -> {target}")
            elif dest in APART:
                if _rank(source) != 0:  # only the command line starts the sandbox
                    upward.append(f"{module} -> {target}")
            elif _rank(dest) < _rank(source):
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_no_import_cycles() -> None:
    graph = _graph()
    cycles = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    # A package's __init__ re-exporting its modules is not a cycle of behaviour.
    cycles = [c for c in cycles if not _only_through_package_init(c)]
    assert cycles == []


def _only_through_package_init(cycle: str) -> bool:
    steps = cycle.split(" -> ")
    return any(b.startswith(a + ".") for a, b in itertools.pairwise(steps))


@pytest.mark.parametrize("layer", sorted(set().union(*LAYERS) - {"__main__", "cli", "runtime"}))
def test_every_layer_exists(layer: str) -> None:
    # A renamed or removed package must be renamed here too, or the rules above check nothing.
    assert any(_layer(m) == layer for m in _graph()), layer
