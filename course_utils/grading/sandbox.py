"""Step `sandbox`: run the `execute` step for one student in a process of its own, under limits.

The scratch folder holds a copy of course_utils (so the kernel imports the helpers from there, not
from the course repository), a kernelspec that starts `course_utils.grading.kernel` (memory and
file-size caps), and per student a fresh empty working folder that is also HOME. Of the grader's
environment only a short list of harmless variables is passed on.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .config import ROOT, isolated_env

# Only these variables of the grader's environment reach student code (no tokens, no paths to the course).
KEEP_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "TERM", "SYSTEMROOT", "TMPDIR", "USER", "LOGNAME")


@dataclass
class Sandbox:
    """The shared scratch folder of one grading run."""

    root: Path
    memory_mb: int
    hide: list[Path]
    max_output: int = 100_000

    def env(self, home: Path) -> dict[str, str]:
        env = {k: v for k, v in isolated_env(home).items()
               if k in KEEP_ENV or k.startswith(("LC_", "JUPYTER_", "IPYTHON", "MPL")) or k == "HOME"}
        env.update(
            PYTHONPATH=str(self.root / "lib"), JUPYTER_PATH=str(self.root / "share"),
            COURSE_GRADER_MEMORY_MB=str(self.memory_mb), COURSE_DEVICE="cpu", CUDA_VISIBLE_DEVICES="",
            OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="agg", PYDEVD_DISABLE_FILE_VALIDATION="1",
            COURSE_GRADER_HIDE=os.pathsep.join(map(str, self.hide)), COURSE_GRADER_READONLY=str(ROOT),
            COURSE_GRADER_PREIMPORT="numpy,torch,course_utils.checks,course_utils.devices,course_utils.data",
        )
        return env

    def probe(self) -> str:
        """Whether kernels get the hidden folders and the read-only course (Linux mount namespaces)."""
        home = Path(tempfile.mkdtemp(prefix="probe-", dir=self.root))
        cmd = [sys.executable, "-m", "course_utils.grading.kernel", "--probe"]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, cwd=home, env=self.env(home), timeout=60)
            return res.stdout.strip() or "not isolated"
        finally:
            shutil.rmtree(home, ignore_errors=True)


def make_sandbox(root: Path, memory_mb: int, hide: list[Path]) -> Sandbox:
    """Copy course_utils and write the limited python3 kernelspec under ``root``; ``hide``: folders kernels must not see."""
    shutil.copytree(ROOT / "course_utils", root / "lib" / "course_utils",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    spec = root / "share" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "course_utils.grading.kernel", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "Python 3 (graded)", "language": "python"}))
    return Sandbox(root, memory_mb, hide)


def run_sandboxed(nb, box: Sandbox, timeout: float, log_path: Path):
    """Execute ``nb``; returns (executed notebook or None, problem or None, seconds)."""
    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="student-", dir=box.root))
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    limit = timeout * (n_code + 2) + 120  # every cell at its limit, plus kernel start
    job = json.dumps({"notebook": nb, "timeout": timeout, "max_output": box.max_output})
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "course_utils.grading.execute"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=log, cwd=work, env=box.env(work),
                                start_new_session=True)
        try:
            out, _ = proc.communicate(job.encode(), timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return None, f"grading stopped after {limit:.0f} s", time.perf_counter() - start
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if proc.returncode != 0 or not out:
        return None, f"the grading process failed (exit status {proc.returncode})", time.perf_counter() - start
    try:
        return nbformat.from_dict(json.loads(out)), None, time.perf_counter() - start
    except ValueError as exc:
        return None, f"unreadable result from the grading process ({exc})", time.perf_counter() - start
