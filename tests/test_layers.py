"""The package's imports point down the layers and never form a circle.

The layer table below is the one place the architecture's order is written down (README's "How
the code is organised" describes it). Every import of the installed package is read with ``ast``
— module-level and inside functions, ``import``/``from … import`` and
``importlib.import_module("soundstage…")`` — and checked against it.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

import soundstage

#: Layer of each top-level part of the package, lowest first. A module may import its own layer
#: and the layers below it; parts that share a rank are peers that must not import each other.
LAYERS = {
    "_core": 0,
    "_kernels": 1,
    "acoustics": 2,
    "design": 3,
    "presets": 4,
    "processor": 5,
    "board": 6,
    "monitor": 7,
    "compare": 8, "testing": 8, "batch": 8,
    "cli": 9,
}
#: The private helpers every layer uses: one layer, at the bottom, kept as root modules.
CORE = {"_errors", "_convention", "_atomic"}
#: Names a layer may take from the package root itself (everything else there is a lazy facade
#: over the layers and would hide the real dependency).
ROOT_NAMES = {"__version__"}

PACKAGE = Path(soundstage.__file__).resolve().parent


def module_name(path: Path, package_dir: Path) -> str:
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str, package_dir: Path) -> bool:
    path = package_dir.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file() or any(
        path.parent.glob(path.name + ".*.so")) or any(path.parent.glob(path.name + ".*.pyd"))


def imports_of(path: Path, package_dir: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every soundstage module ``path`` imports (resolved, absolute)."""
    name = module_name(path, package_dir)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("soundstage"):
                continue
            for alias in node.names:  # "from . import presets" imports a submodule
                sub = f"{target}.{alias.name}"
                if _is_module(sub, package_dir):
                    found.append((node.lineno, sub))
                elif target == "soundstage" and alias.name not in ROOT_NAMES:
                    found.append((node.lineno, f"soundstage:{alias.name}"))
                else:
                    found.append((node.lineno, target))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("soundstage")]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and node.args[0].value.startswith("soundstage")):
            found.append((node.lineno, node.args[0].value))
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) == 1:
        return None  # the package root: the public facade
    return "_core" if parts[1] in CORE else parts[1]


def import_violations(package_dir: Path) -> list[str]:
    """Every upward or sideways import between layers, every import of a facade name from the
    package root, and every circle of modules, as readable lines (empty: the house is in order)."""
    problems, graph = [], {}
    for path in sorted(package_dir.rglob("*.py")):
        source = module_name(path, package_dir)
        graph.setdefault(source, set())
        here = layer_of(source)
        for line, target in imports_of(path, package_dir):
            where = f"{path.relative_to(package_dir.parent)}:{line}"
            if target.startswith("soundstage:"):
                if here is not None:
                    problems.append(f"{where}: imports {target.split(':')[1]!r} from the package root; "
                                    "import it from its layer")
                continue
            graph[source].add(target)
            there = layer_of(target)
            if here is None or there is None or here == there:
                continue
            if here not in LAYERS or there not in LAYERS:
                problems.append(f"{where}: {here!r} or {there!r} is missing from the layer table")
            elif LAYERS[there] >= LAYERS[here]:
                problems.append(f"{where}: {source} (layer {here}) imports {target} (layer {there}), "
                                "which is not below it")
    problems += [f"circle: {' -> '.join(cycle)}" for cycle in _circles(graph)]
    return problems


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each as a closed path."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component) + [sorted(component)[0]])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_every_layer_is_in_the_table():
    parts = {p.name if p.is_dir() else p.stem for p in PACKAGE.iterdir()
             if (p.is_dir() and (p / "__init__.py").is_file()) or (p.suffix == ".py" and p.stem != "__init__")}
    assert {"_core" if part in CORE else part for part in parts} == set(LAYERS)


def test_imports_point_down_and_form_no_circle():
    assert import_violations(PACKAGE) == []


def test_the_root_holds_layers_not_module_families():
    modules = [p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"]
    assert all(name.startswith("_") for name in modules), modules


@pytest.fixture
def package_copy(tmp_path):
    copy = tmp_path / "soundstage"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__", "preset_files"))
    for so in PACKAGE.glob("_kernels/*.so"):
        (copy / "_kernels" / so.name).touch()
    assert import_violations(copy) == []
    return copy


def test_an_upward_import_is_caught(package_copy):
    target = package_copy / "design" / "filterset.py"
    target.write_text(target.read_text() + "\n\ndef _ears():\n    from ..monitor import Auralizer\n")
    upward, *circles = import_violations(package_copy)
    assert "design/filterset.py:" in upward and "(layer monitor)" in upward
    assert all(c.startswith("circle: ") and "soundstage.design.filterset" in c for c in circles)


def test_a_sideways_import_and_a_root_facade_import_are_caught(package_copy):
    target = package_copy / "compare" / "table.py"
    target.write_text(target.read_text() + "\nfrom ..testing import tolerances\nfrom .. import SpatialProcessor\n")
    problems = import_violations(package_copy)
    assert any("(layer testing)" in p for p in problems)
    assert any("'SpatialProcessor' from the package root" in p for p in problems)


def test_a_circle_inside_a_layer_is_caught(package_copy):
    target = package_copy / "board" / "file_stream.py"
    target.write_text(target.read_text() + "\n\ndef _board():\n    from .chain import Board\n")
    problems = import_violations(package_copy)
    assert problems == ["circle: soundstage.board.chain -> soundstage.board.file_stream -> soundstage.board.chain"]
