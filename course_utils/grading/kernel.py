"""The kernel that runs student code: an ipykernel started under limits (part of the `sandbox` step).

Set by the environment: COURSE_GRADER_MEMORY_MB (address-space cap), COURSE_GRADER_FILE_MB (largest
file it may write), COURSE_GRADER_NPROC (processes and threads it may run) and
COURSE_GRADER_PREIMPORT (modules imported before the first cell, so that a cell's time limit is
spent on the cell). Once the kernel is initialised, and before any cell runs, the functions the
tests rely on are recorded (integrity.snapshot); the guard of every graded test cell compares
against that record.
"""

import os
import resource
import signal
import sys


def _limit(which: int, value: int) -> None:
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):  # a hard limit already lower than ours: keep it
        pass


def _die_with_parent() -> None:
    """Linux: the kernel is killed when the process that started it dies (no orphaned student code)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _preimport() -> None:
    for name in os.environ.get("COURSE_GRADER_PREIMPORT", "").split(","):
        try:
            __import__(name.strip()) if name.strip() else None
        except Exception:  # the notebook's own import will report it
            pass


def main() -> None:
    mb = 1024 * 1024
    _limit(resource.RLIMIT_AS, int(os.environ.get("COURSE_GRADER_MEMORY_MB", "4096")) * mb)
    _limit(resource.RLIMIT_FSIZE, int(os.environ.get("COURSE_GRADER_FILE_MB", "64")) * mb)
    _limit(resource.RLIMIT_CORE, 0)
    if os.environ.get("COURSE_GRADER_NPROC"):
        _limit(resource.RLIMIT_NPROC, int(os.environ["COURSE_GRADER_NPROC"]))
    _die_with_parent()
    _preimport()
    from ipykernel.kernelapp import IPKernelApp

    from course_utils.grading import integrity

    sys.argv[0] = "ipykernel_launcher"
    app = IPKernelApp.instance()
    app.initialize()
    integrity.snapshot()
    app.start()


if __name__ == "__main__":
    main()
