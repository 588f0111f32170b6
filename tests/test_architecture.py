"""The shape of the code: layers and features checked by import-linter, no import cycle, no
discovery by file name, no god module (issue 9).

The import-linter contracts (``[tool.importlinter]`` in ``pyproject.toml``) replace the
hand-written AST purity tests: domain packages import no shell (Flask, Celery, SQLAlchemy,
``fondo``, ``web``) and do no I/O set-up (``os``, ``logging``, ``subprocess``, sockets);
``fondo`` never imports ``web``; a feature reaches another only through its ``service``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

ROOT = Path(__file__).resolve().parents[1]
SHELL_PACKAGES = ("fondo", "web")
#: Issue 9's bar for the largest module of the shell. [lines]
MAX_SHELL_MODULE_LINES = 600
#: Calls that find code by file name instead of a written-out list.
DISCOVERY = re.compile(r"\bpkgutil\b|\biter_modules\b|\bwalk_packages\b|\bimport_module\(|__import__\(")


def lint_imports() -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          cwd=ROOT, capture_output=True, text=True)


def test_import_linter_contracts_are_kept():
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def strongly_connected(graph: grimp.ImportGraph, modules: list[str]) -> list[list[str]]:
    """Groups of modules that import each other in a cycle (SCCs of more than one module)."""
    index = {name: i for i, name in enumerate(modules)}
    rows, cols = [], []
    for name in modules:
        for imported in graph.find_modules_directly_imported_by(name):
            if imported in index:
                rows.append(index[name])
                cols.append(index[imported])
    matrix = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(modules),) * 2)
    count, labels = connected_components(matrix, directed=True, connection="strong")
    groups = [[modules[i] for i in np.flatnonzero(labels == k)] for k in range(count)]
    return [sorted(g) for g in groups if len(g) > 1]


def test_no_import_cycle_in_the_shell_counting_imports_inside_functions():
    # grimp reads every import statement of a module, those inside functions included
    graph = grimp.build_graph(*SHELL_PACKAGES, cache_dir=None)
    modules = sorted(m for m in graph.modules
                     if m.split(".")[0] in SHELL_PACKAGES and not graph.find_children(m))
    assert strongly_connected(graph, modules) == []


def test_the_cycle_finder_finds_a_cycle():
    """Not vacuous: two modules importing each other (one inside a function) are a cycle."""
    graph = grimp.ImportGraph()
    for name in ("pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert strongly_connected(graph, ["pkg.a", "pkg.b", "pkg.c"]) == [["pkg.a", "pkg.b"]]


def shell_sources() -> list[Path]:
    return sorted(p for pkg in SHELL_PACKAGES for p in (ROOT / pkg).rglob("*.py")
                  if "migrations" not in p.parts)


def test_registration_is_written_out_not_discovered_by_file_name():
    offenders = [str(p.relative_to(ROOT)) for p in shell_sources()
                 if DISCOVERY.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_no_shell_module_reaches_the_god_module_size():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
             for p in shell_sources()}
    too_big = {name: n for name, n in sizes.items() if n >= MAX_SHELL_MODULE_LINES}
    assert too_big == {}
