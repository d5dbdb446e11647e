"""The kernel that runs student code: an ipykernel started under limits (part of the `sandbox` step).

Set by the environment: COURSE_GRADER_MEMORY_MB (address-space cap), COURSE_GRADER_FILE_MB (largest
file it may write), COURSE_GRADER_NPROC (processes and threads it may run) and
COURSE_GRADER_PREIMPORT (modules imported before the first cell, so that a cell's time limit is
spent on the cell). Once the kernel is initialised, and before any cell runs, the functions the
tests rely on are recorded (integrity.snapshot); the guard of every graded test cell compares
against that record. The execution machinery is recorded too (machinery.py): the kernel puts it back
before every graded test cell, on the raw request, before IPython transforms the code, and after the
cell it publishes a receipt (RECEIPT_MIME) signed with a key that only the grader's process and this
kernel hold (read from KEY_FILE and deleted before any student code runs). A test cell without a
valid receipt did not run as written, and the grader holds the submission for review.
"""

import hashlib
import hmac
import json
import os
import resource
import signal
import sys

KEY_FILE = ".grader-receipt-key"  # in the kernel's working folder, written by execute.py
RECEIPT_MIME = "application/vnd.course-grader.receipt+json"


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


def _take_key() -> bytes | None:
    """The receipt key: read once, then the file is deleted (before any student code runs)."""
    try:
        with open(KEY_FILE, "rb") as fh:
            key = fh.read()
        os.unlink(KEY_FILE)
        return key or None
    except OSError:
        return None


def receipt_mac(key: bytes, code: str, body: dict) -> str:
    """The signature of one test cell's receipt: its code as sent, and what was put back or changed."""
    payload = hashlib.sha256(code.encode("utf-8")).digest() + json.dumps(body, sort_keys=True).encode("utf-8")
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def graded_kernel_class(key: bytes | None, guard_prefix: str):
    """ipykernel's kernel, plus: the machinery put back before each graded test cell and a receipt after it.

    The record and the key live in this closure, not on the kernel object that student code can reach.
    """
    from ipykernel.ipkernel import IPythonKernel

    from course_utils.grading.machinery import Machinery

    record: list = []

    class GradedKernel(IPythonKernel):
        def record_machinery(self) -> None:
            """Once, before the first cell: a later call (from student code) changes nothing."""
            if not record:
                record.append(Machinery(self.shell, self))

        async def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False,
                             *, cell_meta=None, cell_id=None):
            graded = bool(record) and isinstance(code, str) and code.startswith(guard_prefix)
            before = record[0].restore() if graded else []
            reply = await super().do_execute(code, silent, store_history, user_expressions, allow_stdin,
                                             cell_meta=cell_meta, cell_id=cell_id)
            if graded:
                during = record[0].compare(fix=False)
                record[0].restore()
                if key is not None:
                    body = {"before": before, "during": during}
                    self.shell.display_pub.publish(
                        data={RECEIPT_MIME: {**body, "mac": receipt_mac(key, code, body)}, "text/plain": ""},
                        metadata={})
            return reply

    return GradedKernel


def main() -> None:
    key = _take_key()
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
    from course_utils.grading.context import GUARD_PREFIX

    sys.argv[0] = "ipykernel_launcher"
    app = IPKernelApp.instance(kernel_class=graded_kernel_class(key, GUARD_PREFIX))
    app.initialize()
    integrity.snapshot()
    app.kernel.record_machinery()
    app.start()


if __name__ == "__main__":
    main()
