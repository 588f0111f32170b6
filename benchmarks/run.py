"""Run every benchmark (``benchmarks/bench_*.py``) and print one line per figure.

Each benchmark module has ``run() -> list[dict]`` whose rows name the figure, its value and
unit, the reference it is compared with, the ratio, the bar (from the issue) and whether it
passed. Usage: ``make bench`` or ``python benchmarks/run.py [NAME ...]``.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Benchmarks compare against reference implementations kept beside the tests (e.g. PySAM set-up).
sys.path[:0] = [str(HERE.parent), str(HERE)]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def format_row(row: dict) -> str:
    """One line: figure, value, reference, ratio, bar, verdict."""
    verdict = "PASS" if row.get("passed") else "FAIL"
    return (f"{row['name']}: {row['value']:.4g} {row['unit']} | ratio {row['ratio']:.3g} vs "
            f"{row['reference']} ({row['reference_value']:.4g}) | bar {row['bar']} | {verdict}")


def main(names: list[str]) -> int:
    """Run the selected (default: all) benchmarks; non-zero exit if any failed to run."""
    failures = 0
    for path in sorted(HERE.glob("bench_*.py")):
        if names and path.stem.removeprefix("bench_") not in names:
            continue
        print(f"== {path.stem}", flush=True)
        try:
            rows = _load(path).run()
        except Exception:  # report and go on with the other benchmarks
            traceback.print_exc()
            failures += 1
            continue
        for row in rows:
            print(format_row(row), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
