"""How long does grading take per submission? A batch of honest week-01 hand-ins, graded for real.

Builds N copies of the solved week-01 notebook (the student version with every answer filled in),
runs ``python -m course_utils grade`` on them with ``--jobs J`` and prints the wall time of the
whole command, the time per submission and the scores (all must be full marks). Where this runs as
root with cgroup CPU accounting (v1 ``cpuacct`` or v2), it also prints the CPU time of the command
and everything it started, sandboxes included: wall time depends on what else the machine is
doing, CPU time much less; ``CPU / J`` is what J free cores would need.

Usage: python benchmarks/bench_grading.py [--n 20] [--jobs 2] [--timeout 30] [-- extra grade options]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.grading.submissions import honest, write  # noqa: E402


class CpuMeter:
    """A fresh cgroup that counts the CPU time of a command and all its descendants (None where unavailable)."""

    def __init__(self):
        self.path = None
        name = f"course-bench-{os.getpid()}"
        for base, usage in ((Path("/sys/fs/cgroup/cpuacct"), "cpuacct.usage"), (Path("/sys/fs/cgroup"), "cpu.stat")):
            try:
                if (base / ("cgroup.procs")).exists() and os.access(base, os.W_OK):
                    (base / name).mkdir()
                    self.path, self.usage = base / name, usage
                    return
            except OSError:
                continue

    def enter(self) -> None:  # runs in the child, before exec
        if self.path:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self) -> float | None:
        if not self.path:
            return None
        text = (self.path / self.usage).read_text()
        if self.usage == "cpuacct.usage":
            return int(text) / 1e9
        return int(next(ln.split()[1] for ln in text.splitlines() if ln.startswith("usage_usec"))) / 1e6

    def close(self) -> None:
        if self.path:
            try:
                self.path.rmdir()
            except OSError:
                pass


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="number of hand-ins (default 20)")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs of the grade command (default 2)")
    parser.add_argument("--timeout", type=float, default=30, help="--timeout of the grade command (default 30)")
    parser.add_argument("extra", nargs="*", help="further options passed to the grade command (after --)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.jobs < 1:
        parser.error("--n and --jobs must be at least 1")
    meter = CpuMeter()
    try:
        with tempfile.TemporaryDirectory(prefix="course-bench-grading-") as tmp:
            subs = Path(tmp) / "submissions"
            for i in range(args.n):
                write(honest(), subs / f"student{i:03d}.ipynb")
            cmd = [sys.executable, "-m", "course_utils", "grade", "--assignment", "week01", "--submissions", str(subs),
                   "--out", str(Path(tmp) / "out"), "--jobs", str(args.jobs), "--timeout", str(args.timeout),
                   *args.extra]
            start = time.perf_counter()
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, preexec_fn=meter.enter)
            seconds = time.perf_counter() - start
            cpu = meter.seconds()
            if proc.returncode != 0:
                print(proc.stdout + proc.stderr)
                print(f"grade command failed with exit status {proc.returncode}")
                return 1
            with open(Path(tmp) / "out" / "grades.csv", encoding="utf-8") as fh:
                scores = [float(r["score"]) for r in csv.DictReader(fh)]
    finally:
        meter.close()
    mode = next((ln for ln in proc.stdout.splitlines() if ln.startswith("student code ran")), "")
    print(f"{args.n} honest week-01 hand-ins, --jobs {args.jobs}: {seconds:.1f} s in all, "
          f"{seconds / args.n:.2f} s per submission")
    if cpu is not None:
        print(f"CPU time, the command and all it started: {cpu:.1f} s, {cpu / args.n:.2f} s per submission "
              f"({cpu / args.n / args.jobs:.2f} s per submission on {args.jobs} free cores)")
    print(f"load average of the machine at the end (1 min): {os.getloadavg()[0]:.1f}")
    print(f"scores: {min(scores):g}..{max(scores):g} of 10 ({len(scores)} rows)")
    if mode:
        print(mode)
    return 0 if len(scores) == args.n and min(scores) == 10 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
