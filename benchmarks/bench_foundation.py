"""Foundation benchmark: verifying the data bundle against the manifest.

Figure: seconds for :func:`fondo.data.verification.check_datasets` over every bundled file, as a
ratio against the reference of reading and hashing the same files with plain ``hashlib``
(the floor any verification must pay). Bar: ≤ 1.5× the reference.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Largest acceptable overhead of the checker over plain hashing.
BAR_RATIO = 1.5
REPEATS = 3


def _plain_hash(paths: list[Path]) -> None:
    for path in paths:
        hashlib.sha256(path.read_bytes()).hexdigest()


def run() -> list[dict]:
    from fondo.data.service import check_datasets, load_manifest

    data_dir = ROOT / "data"
    paths = [data_dir / d.file for d in load_manifest(data_dir)]
    best_ref = best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        _plain_hash(paths)
        best_ref = min(best_ref, time.perf_counter() - t0)
        t0 = time.perf_counter()
        statuses = check_datasets(data_dir)
        best = min(best, time.perf_counter() - t0)
    ok = all(s.ok for s in statuses)
    ratio = best / best_ref
    return [{
        "name": f"data check ({len(paths)} files)", "value": best, "unit": "s",
        "reference": "plain hashlib over the same files", "reference_value": best_ref,
        "ratio": ratio, "bar": f"<= {BAR_RATIO}x reference", "passed": ok and ratio <= BAR_RATIO,
    }]


if __name__ == "__main__":
    from run import format_row

    for r in run():
        print(format_row(r))
