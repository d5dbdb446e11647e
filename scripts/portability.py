"""Strict nbval of the committed outputs under emulated other hardware: one run per variant.

Usage: python scripts/portability.py [--variants NAME,NAME] [--jobs N] [PATH ...]   (default: every
variant, notebooks/ and solutions/)

Each variant starts the notebooks' kernels with environment variables that steer the arithmetic:
torch's vector kernels capped (ATEN_CPU_CAPABILITY), oneDNN and MKL capped to older instruction
sets, one and four threads. A committed output that depends on the last bits of float arithmetic
fails in at least one of them. Prints a table (variant, seconds, passed, failed) and exits 1 when any
variant has a failure or runs no cell.
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

#: name -> environment for the kernels (and pytest, which passes its environment on to them)
VARIANTS: dict[str, dict[str, str]] = {
    "native": {},
    "aten-avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "aten-default": {"ATEN_CPU_CAPABILITY": "default"},
    "onednn-mkl-sse4": {"ONEDNN_MAX_CPU_ISA": "SSE41", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
    "1-thread": {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    "4-threads": {"OMP_NUM_THREADS": "4", "MKL_NUM_THREADS": "4"},
}
SUMMARY = re.compile(r"(\d+) (passed|failed|error|errors)")


def run_variant(name: str, paths: list[str], jobs: int) -> tuple[float, int, int, str]:
    """Run strict nbval once under a variant: (seconds, passed, failed, the summary line)."""
    env = {**os.environ, **VARIANTS[name]}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
           "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", *paths]
    if jobs > 1:
        cmd[3:3] = ["-n", str(jobs), "--dist", "loadscope", "--no-loadscope-reorder"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    counts = {"passed": 0, "failed": 0}
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    for n, word in SUMMARY.findall(last):
        counts["failed" if word != "passed" else "passed"] += int(n)
    if proc.returncode != 0:
        counts["failed"] = max(counts["failed"], 1)
        failed_lines = [line for line in proc.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        print("\n".join(failed_lines) or proc.stdout[-3000:] + proc.stderr[-2000:], file=sys.stderr)
    return seconds, counts["passed"], counts["failed"], last


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated, from: {', '.join(VARIANTS)} (default: all)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", "2")), help="pytest-xdist workers")
    parser.add_argument("paths", nargs="*", default=["notebooks", "solutions"])
    args = parser.parse_args(argv)
    names = [v for v in args.variants.split(",") if v]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown or not names:
        parser.error(f"--variants: unknown {unknown or 'empty list'}; choose from {', '.join(VARIANTS)}")
    import torch  # only to say which kernels this machine picks by itself

    print(f"torch {torch.__version__}, native CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    print(f"{'variant':<18}{'environment':<58}{'seconds':>8}{'passed':>8}{'failed':>8}", flush=True)
    bad = 0
    for name in names:
        seconds, passed, failed, _ = run_variant(name, args.paths, args.jobs)
        env = " ".join(f"{k}={v}" for k, v in VARIANTS[name].items()) or "(as the machine is)"
        print(f"{name:<18}{env:<58}{seconds:8.0f}{passed:8d}{failed:8d}", flush=True)
        bad += failed > 0 or passed == 0
    print(f"load average {os.getloadavg()[0]:.2f}; {'all variants passed' if not bad else f'{bad} variant(s) failed'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
