"""How long does grading take per submission? A batch of honest week-01 hand-ins, graded for real.

Builds N copies of the solved week-01 notebook (the student version with every answer filled in),
runs ``python -m course_utils grade`` on them with ``--jobs J`` and prints the wall time of the
whole command, the time per submission, and the scores (all must be full marks).

Usage: python benchmarks/bench_grading.py [--n 20] [--jobs 2] [--timeout 30] [-- extra grade options]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.grading.submissions import honest, write  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="number of hand-ins (default 20)")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs of the grade command (default 2)")
    parser.add_argument("--timeout", type=float, default=30, help="--timeout of the grade command (default 30)")
    parser.add_argument("extra", nargs="*", help="further options passed to the grade command (after --)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.jobs < 1:
        parser.error("--n and --jobs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="course-bench-grading-") as tmp:
        subs = Path(tmp) / "submissions"
        for i in range(args.n):
            write(honest(), subs / f"student{i:03d}.ipynb")
        cmd = [sys.executable, "-m", "course_utils", "grade", "--assignment", "week01", "--submissions", str(subs),
               "--out", str(Path(tmp) / "out"), "--jobs", str(args.jobs), "--timeout", str(args.timeout), *args.extra]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            print(proc.stdout + proc.stderr)
            print(f"grade command failed with exit status {proc.returncode}")
            return 1
        with open(Path(tmp) / "out" / "grades.csv", encoding="utf-8") as fh:
            scores = [float(r["score"]) for r in csv.DictReader(fh)]
    mode = next((ln for ln in proc.stdout.splitlines() if ln.startswith("student code ran")), "")
    print(f"{args.n} honest week-01 hand-ins, --jobs {args.jobs}: {seconds:.1f} s in all, "
          f"{seconds / args.n:.2f} s per submission")
    print(f"scores: {min(scores):g}..{max(scores):g} of 10 ({len(scores)} rows)")
    if mode:
        print(mode)
    return 0 if len(scores) == args.n and min(scores) == 10 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
