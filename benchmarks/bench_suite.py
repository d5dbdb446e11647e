"""Where does `make test`'s time go? Wall time of each part of the suite, and of the whole, in one run.

Parts (each a separate pytest run, one after the other, on a warm .venv):
  lint       ruff on code and notebooks
  unit       tests/ except the exercise proofs, grading and browser tests
  nbval      strict nbval of notebooks/ and solutions/
  exercises  the exercise proofs and the grading tests
  browser    JupyterLab in Chromium (skipped when no Chromium is installed, and reported so)
  whole      the `make test` command itself (both cores, the Makefile's distribution of the tests)
  loadfile   `make test` with every test file whole on one worker in xdist's own order (the distribution
             before conftest.py grouped the tests and put the longest first): the comparison for `whole`
Usage: python benchmarks/bench_suite.py [--jobs N] [--parts lint,unit,...]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
NBVAL = ["--nbval", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg"]


def parts(jobs: int) -> dict[str, list[str]]:
    xdist = ["-n", str(jobs), "--dist", "loadscope", "--no-loadscope-reorder"] if jobs > 1 else []
    return {
        "lint": [sys.executable, "-m", "ruff", "check", "course_utils", "tests", "benchmarks", "scripts", "notebooks",
                 "solutions"],
        "unit": PYTEST + xdist + ["tests", "--ignore=tests/grading", "--ignore=tests/test_exercises.py",
                                  "--ignore=tests/test_browser.py"],
        "nbval": PYTEST + xdist + NBVAL + ["notebooks", "solutions"],
        "exercises": PYTEST + xdist + ["tests/test_exercises.py", "tests/grading"],
        "browser": PYTEST + xdist + ["tests/test_browser.py"],
        "whole": ["make", "test", f"JOBS={jobs}"],
        "loadfile": ["make", "test", f"XDIST=-n {jobs} --dist loadfile"],
    }


def run(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ))
    seconds = time.perf_counter() - start
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    summary = next((ln for ln in reversed(lines) if re.search(r"\d+ (passed|failed|error)", ln)), lines[-1] if lines
                   else "")
    return seconds, ("" if proc.returncode == 0 else f"[exit {proc.returncode}] ") + summary.strip("= ")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2, help="pytest-xdist workers (default 2)")
    ap.add_argument("--parts", default="lint,unit,nbval,exercises,browser,whole", help="comma-separated parts")
    args = ap.parse_args(argv)
    table = parts(args.jobs)
    wanted = args.parts.split(",")
    unknown = [p for p in wanted if p not in table]
    if unknown:
        ap.error(f"unknown parts {unknown}; choose from {sorted(table)}")
    print(f"{'part':<10} {'seconds':>8}  result")
    total = 0.0
    for name in wanted:
        seconds, summary = run(table[name])
        if name not in ("whole", "loadfile"):
            total += seconds
        print(f"{name:<10} {seconds:8.1f}  {summary}", flush=True)
    print(f"{'sum':<10} {total:8.1f}  (the parts one after the other, without 'whole' and 'loadfile')")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
