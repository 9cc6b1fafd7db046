"""The package's layering, checked statically on the source (docs/architecture.md).

Every module of ``constitutive/`` is parsed with :mod:`ast`; every import in it -- at module level, inside
functions, under ``if TYPE_CHECKING:`` -- is an arrow from that module to the imported one. Arrows are grouped by
top-level component (``constitutive.<component>``) and must point down the layers of :data:`LAYERS`; components of
one layer may import each other as long as no cycle forms. Only the command line (``constitutive.cli``, and the
``python -m constitutive`` entry point) may import ``argparse`` or ``constitutive.cli``.

``CONSTITUTIVE_ARCH_ROOT=/path/to/checkout`` points the static tests at another checkout's ``constitutive/``.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("CONSTITUTIVE_ARCH_ROOT", Path(__file__).resolve().parents[1]))
PACKAGE = "constitutive"

#: Components from the bottom up; an arrow may stay in its layer (without a cycle) or point to a lower one.
#: ``__init__`` is the package facade (``import constitutive``), ``__main__`` the ``python -m`` entry point.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("tensor", "resources", "fileio", "_version"),
    ("notation",),
    ("symmetry", "tangent", "kinematics", "contracts"),
    ("check",),
    ("models",),
    ("paths", "driver"),
    ("experiments",),
    ("data", "calibrate", "export", "fem", "demo", "umat"),
    ("inverse",),  # inverse analysis through an FE model: builds on fem and calibrate
    ("__init__",),
    ("cli", "__main__"),
)
LAYER = {component: k for k, layer in enumerate(LAYERS) for component in layer}
#: Components that may import argparse and the command line.
COMMAND_LINE = ("cli", "__main__")


def module_name(path: Path, root: Path) -> str:
    """``constitutive/check/report.py`` -> ``constitutive.check.report``; a package's ``__init__`` -> the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}


def imports(path: Path, name: str, known: set[str]) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import statement anywhere in the file (functions and TYPE_CHECKING
    blocks included). ``from X import y`` yields ``X.y`` when that is a module, else ``X``."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield (sub if sub in known else target), node.lineno


def import_graph(root: Path, package: str = PACKAGE) -> dict[str, list[tuple[str, int]]]:
    """Module -> [(imported module, line)], for every module of ``root/package`` (external imports included)."""
    mods = modules(root, package)
    known = set(mods)
    return {name: list(dict.fromkeys(imports(path, name, known))) for name, path in mods.items()}


def component(module: str, package: str = PACKAGE) -> str | None:
    """``constitutive.check.report`` -> ``check``; the package itself -> ``__init__``; outside the package: None."""
    parts = module.split(".")
    if parts[0] != package:
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def component_edges(graph: dict[str, list[tuple[str, int]]]) -> dict[tuple[str, str], tuple[str, str, int]]:
    """(component a, component b) -> one witness (module, imported module, line), for a != b."""
    edges: dict[tuple[str, str], tuple[str, str, int]] = {}
    for mod, targets in graph.items():
        a = component(mod)
        for target, line in targets:
            b = component(target)
            if a is not None and b is not None and a != b:
                edges.setdefault((a, b), (mod, target, line))
    return edges


def cycles(edges: dict[tuple[str, str], tuple[str, str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan)."""
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
        succ.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(sorted(scc))

    for v in sorted(succ):
        if v not in index:
            visit(v)
    return out


def cycle_problems(graph: dict[str, list[tuple[str, int]]]) -> list[str]:
    edges = component_edges(graph)
    problems = []
    for scc in cycles(edges):
        witnesses = [
            f"{m} -> {t} (line {line})" for (a, b), (m, t, line) in sorted(edges.items()) if a in scc and b in scc
        ]
        problems.append(f"import cycle between {', '.join(scc)}: " + "; ".join(witnesses))
    return problems


def command_line_problems(graph: dict[str, list[tuple[str, int]]]) -> list[str]:
    problems = []
    for mod, targets in graph.items():
        if component(mod) in COMMAND_LINE:
            continue
        for target, line in targets:
            if target == "argparse" or target.startswith("argparse."):
                problems.append(f"{mod} imports argparse (line {line}): argument parsing belongs in {PACKAGE}.cli")
            if component(target) in COMMAND_LINE:
                problems.append(f"{mod} imports {target} (line {line}): an engine may not import the command line")
    return problems


def layer_problems(graph: dict[str, list[tuple[str, int]]]) -> list[str]:
    problems = []
    for mod, targets in graph.items():
        a = component(mod)
        if a not in LAYER:
            problems.append(f"{mod}: component {a!r} has no layer; add it to LAYERS in tests/test_architecture.py")
            continue
        for target, line in targets:
            b = component(target)
            if b is None or b == a:
                continue
            if b not in LAYER:
                problems.append(f"{target}: component {b!r} has no layer; add it to LAYERS")
            elif LAYER[b] > LAYER[a]:
                problems.append(
                    f"{mod} imports {target} (line {line}): an arrow up from {a} (layer {LAYER[a]}) to {b} "
                    f"(layer {LAYER[b]})"
                )
    return problems


@pytest.fixture(scope="module")
def graph() -> dict[str, list[tuple[str, int]]]:
    g = import_graph(ROOT)
    assert len(g) > 20, f"found only {len(g)} modules under {ROOT / PACKAGE}"
    return g


def test_no_cycle_between_components(graph) -> None:
    problems = cycle_problems(graph)
    assert not problems, "\n".join(problems)


def test_only_the_command_line_imports_argparse_and_cli(graph) -> None:
    problems = command_line_problems(graph)
    assert not problems, "\n".join(problems)


def test_every_arrow_points_down_the_layers(graph) -> None:
    problems = layer_problems(graph)
    assert not problems, "\n".join(problems)


def test_graph_sees_function_level_and_type_checking_imports(tmp_path: Path) -> None:
    """The checks on a small package with the faults they must catch: an arrow up inside a function, a cycle
    through a TYPE_CHECKING import, argparse in an engine."""
    pkg = tmp_path / PACKAGE
    (pkg / "cli").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "cli" / "__init__.py").write_text("import argparse\n")
    (pkg / "tensor.py").write_text("def f():\n    from .check import g\n    return g\n")
    (pkg / "check.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import tensor\nimport argparse\n"
    )
    (pkg / "data.py").write_text("from .cli import main\n")
    g = import_graph(tmp_path)
    assert ("constitutive.check", 2) in g["constitutive.tensor"]
    assert any("cycle between check, tensor" in p for p in cycle_problems(g))
    layers = layer_problems(g)
    assert any("constitutive.tensor imports constitutive.check" in p and "arrow up" in p for p in layers)
    assert any("constitutive.data imports constitutive.cli" in p for p in layers)
    cli = command_line_problems(g)
    assert any(p.startswith("constitutive.check imports argparse") for p in cli)
    assert any(p.startswith("constitutive.data imports constitutive.cli") for p in cli)
    assert not any(p.startswith("constitutive.cli") for p in cli)  # the command line may use argparse


def test_importing_the_engines_loads_neither_the_command_line_nor_matplotlib() -> None:
    """``import constitutive`` (and the engines) stays light: no command line, no matplotlib (imported on first
    plot). argparse itself is not tested here: torch imports it."""
    code = (
        "import sys\n"
        "import constitutive, constitutive.driver, constitutive.calibrate, constitutive.export, constitutive.check\n"
        "import constitutive.data, constitutive.demo, constitutive.paths\n"
        "assert constitutive.__file__.startswith(sys.argv[1]), constitutive.__file__\n"
        "loaded = sorted(m for m in sys.modules if m == 'constitutive.cli' or m.startswith('constitutive.cli.'))\n"
        "assert not loaded, loaded\n"
        "assert 'matplotlib' not in sys.modules\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code, str(root / PACKAGE)], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
