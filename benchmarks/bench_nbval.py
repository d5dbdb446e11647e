"""How much of strict nbval's time is the notebook's own work, and how much is the floor?

For every notebook in notebooks/ and solutions/ this measures, in one run:
  floor  = start a fresh kernel + run the notebook's first code cell (its imports), then shut down;
  nbval  = wall time of `pytest --nbval` on that notebook alone (strict, with the sanitize file);
and prints both with their ratio. Usage: python benchmarks/bench_nbval.py [NOTEBOOK ...]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_utils.jupyter_env import isolate_this_process

ROOT = Path(__file__).resolve().parents[1]


def floor_seconds(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    nb.cells = [first]
    start = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def nbval_seconds(path: Path) -> tuple[float, bool]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
           "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), str(path)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    return time.perf_counter() - start, proc.returncode == 0


def main(argv: list[str]) -> int:
    isolate_this_process("course-bench-")
    paths = [Path(p).resolve() for p in argv] or sorted((ROOT / "notebooks").glob("week*.ipynb")) + sorted(
        (ROOT / "solutions").glob("week*/*.ipynb"))
    print(f"{'notebook':48s} {'floor s':>8s} {'nbval s':>8s} {'ratio':>6s}  result")
    tot_floor = tot_nbval = 0.0
    for p in paths:
        fl = floor_seconds(p)
        nv, ok = nbval_seconds(p)
        tot_floor += fl
        tot_nbval += nv
        print(f"{str(p.relative_to(ROOT)):48s} {fl:8.1f} {nv:8.1f} {nv / fl:6.1f}  {'passed' if ok else 'FAILED'}")
    if paths:
        print(f"{'total':48s} {tot_floor:8.1f} {tot_nbval:8.1f} {tot_nbval / tot_floor:6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
