"""Step `execute`: run one prepared notebook in a fresh, limited kernel (inside the sandbox).

``python -m course_utils.grading.execute`` reads ``{"notebook", "timeout", "grace", "max_output"}`` as
JSON on stdin and writes the executed notebook as JSON to its original stdout, which the kernel does
not inherit. The sandbox (sandbox.py) starts it in an empty scratch folder that is also HOME.

Every executed cell records the kernel's reply status in ``metadata[METADATA_KEY]["status"]``, so a
cell that raised counts as failed even when the student silenced the traceback, and a cell that
never ran is visible. A cell that runs past the time limit is interrupted; if it is still running
``grace`` seconds later (it ignores the interrupt, or is stuck in C code), its kernel is killed,
the cell is marked ``"killed"`` and the run ends with the results of the cells that finished.

Every graded test cell must come back with a receipt from the grader's kernel (kernel.py), signed
with a key made here for this run; ``check_receipts`` verifies each against the code that was sent,
removes it from the outputs, and records in the cell's metadata ``receipt``: ``"ok"``, ``"missing"``
or ``"invalid"``, with what the kernel put back before the cell (``before``) and what changed while it
ran (``during``).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import resource
import secrets
import signal
import sys
import time

# jsonschema (under nbformat) imports this optional IRI validator if present; building its grammar
# costs over a second per submission and the notebooks never need it.
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import DeadKernelError  # noqa: E402
from nbclient.util import ensure_async  # noqa: E402
from nbformat.v4 import new_output  # noqa: E402

from course_utils.grading.context import GUARD_PREFIX, METADATA_KEY  # noqa: E402
from course_utils.grading.kernel import KEY_FILE, RECEIPT_MIME, receipt_mac  # noqa: E402

MAX_OUTPUT_DEFAULT = 100_000  # characters of stream output kept per cell
KILL_GRACE_DEFAULT = 3.0  # seconds between the interrupt at the time limit and killing the kernel


class LimitedExecute(NotebookClient):
    """nbclient's executor as nbgrader configures it, plus: reply status per cell, output capped as it
    arrives, and a kernel that ignores the interrupt at the time limit is killed.

    (nbgrader's own Execute is this same nbclient class; it is not imported here because this
    process starts once per student and nbgrader's import costs a second.)
    """

    max_output = MAX_OUTPUT_DEFAULT
    kill_grace = KILL_GRACE_DEFAULT

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream":
            used = self._used.get(cell_index, 0)
            text = msg["content"].get("text", "")
            if used >= self.max_output:
                self._dropped[cell_index] = self._dropped.get(cell_index, 0) + len(text)
                return None
            if used + len(text) > self.max_output:
                keep = self.max_output - used
                self._dropped[cell_index] = self._dropped.get(cell_index, 0) + len(text) - keep
                msg["content"]["text"] = text[:keep]
                text = text[:keep]
            self._used[cell_index] = used + len(text)
        return super().output(outs, msg, display_id, cell_index)

    def record(self, cell, cell_index, execute_reply, **_):
        """on_cell_executed hook: keep the reply status, say how much output was dropped."""
        cell.metadata[METADATA_KEY] = {"status": execute_reply["content"].get("status", "unknown")}
        if self._dropped.get(cell_index):
            note = f"\n[output truncated by the grader: {self._dropped[cell_index]} more characters]\n"
            cell.outputs.append(new_output("stream", name="stdout", text=note))

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        self._cell_started = time.monotonic()
        return await super().async_execute_cell(cell, cell_index, *args, **kwargs)

    async def _async_handle_timeout(self, timeout, cell=None):
        """Interrupt; if no reply comes within ``kill_grace`` seconds, kill the kernel and end the run."""
        await ensure_async(self.km.interrupt_kernel())
        deadline = time.monotonic() + self.kill_grace
        while time.monotonic() < deadline:
            if await ensure_async(self.kc.shell_channel.msg_ready()):
                return None  # the interrupt worked: nbclient reads the reply (a KeyboardInterrupt error)
            await asyncio.sleep(0.05)
        if cell is not None:
            cell.metadata[METADATA_KEY] = {"status": "killed"}
        await ensure_async(self.km.shutdown_kernel(now=True))
        ran = time.monotonic() - getattr(self, "_cell_started", time.monotonic())
        raise DeadKernelError(f"a cell ran past the {timeout} s limit and ignored the interrupt; "
                              f"its kernel was killed {self.kill_grace:g} s later ({ran:.1f} s after the cell started)")


def _write_key() -> bytes:
    """A fresh receipt key for the kernel of this run, readable only by this user; the kernel deletes it."""
    key = secrets.token_bytes(32)
    try:
        os.unlink(KEY_FILE)
    except FileNotFoundError:
        pass
    fd = os.open(KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def check_receipts(nb, key: bytes) -> None:
    """Verify and remove the kernel's receipt of every graded test cell (see the module docstring)."""
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.source.startswith(GUARD_PREFIX):
            continue
        found, kept = [], []
        for out in cell.outputs:
            data = out.get("data", {}) if out.output_type in ("display_data", "execute_result") else {}
            (found if RECEIPT_MIME in data else kept).append(out)
        cell.outputs = kept
        meta = cell.metadata.setdefault(METADATA_KEY, {})
        if not found:
            meta["receipt"] = "missing"
            continue
        receipts = [out["data"][RECEIPT_MIME] for out in found]
        valid = []
        for r in receipts:
            body = {"before": r.get("before"), "during": r.get("during")} if isinstance(r, dict) else None
            if (body is not None and all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in body.values())
                    and isinstance(r.get("mac"), str) and hmac.compare_digest(r["mac"], receipt_mac(key, cell.source, body))):
                valid.append(body)
        if len(valid) != 1 or len(receipts) != 1:
            meta["receipt"] = "invalid"
            continue
        meta.update(receipt="ok", before=valid[0]["before"], during=valid[0]["during"])


def run(nb, timeout: float, max_output: int = MAX_OUTPUT_DEFAULT, grace: float = KILL_GRACE_DEFAULT):
    """Execute ``nb`` in place; a dead, killed or unresponsive kernel ends the run but keeps what ran."""
    key = _write_key()
    ex = LimitedExecute(nb, timeout=int(max(1, timeout)), kernel_name="python3", allow_errors=True,
                        interrupt_on_timeout=True, startup_timeout=180, iopub_timeout=4,
                        raise_on_iopub_timeout=False, shutdown_kernel="immediate",
                        extra_arguments=["--HistoryManager.hist_file=:memory:"],
                        resources={"metadata": {"path": os.getcwd()}})
    ex.on_cell_executed = ex.record
    ex.max_output, ex.kill_grace, ex._used, ex._dropped = max_output, grace, {}, {}
    try:
        ex.execute()
    except Exception as exc:  # DeadKernelError, UnresponsiveKernelError ...: report, keep partial results
        nb.metadata[METADATA_KEY] = {"aborted": f"{type(exc).__name__}: {str(exc)[:300]}"}
    finally:
        try:
            os.unlink(KEY_FILE)  # the kernel did not start, so it did not take the key
        except FileNotFoundError:
            pass
    check_receipts(nb, key)
    return nb


def drop_privileges() -> None:
    """Inside the sandbox, started as root: become the unprivileged user the sandbox was given
    (COURSE_GRADER_UID), so that file permissions and the process limit apply to student code."""
    uid = os.environ.get("COURSE_GRADER_UID")
    if not uid or os.getuid() != 0:
        return
    os.setgroups([])
    os.setgid(int(uid))
    os.setuid(int(uid))
    if os.getuid() != int(uid) or os.geteuid() == 0:
        raise SystemExit("could not drop root privileges")
    nproc = int(os.environ.get("COURSE_GRADER_NPROC", "0"))
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def _not_dumpable() -> None:
    """Linux: processes of the same user (the kernel, student code) may not read this one's memory,
    file descriptors or environment through /proc, nor trace it (PR_SET_DUMPABLE 0; a child's exec resets it)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0)  # 4 = PR_SET_DUMPABLE
    except (OSError, AttributeError):
        pass


def _become_subreaper() -> None:
    """Linux: orphaned descendants (a detached process the student started) become our children."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # 36 = PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _kill_descendants() -> None:
    """Without a sandbox: end every process the kernel left behind (with one, the PID namespace does)."""
    try:
        import psutil
    except ImportError:
        return
    for child in psutil.Process().children(recursive=True):
        try:
            child.send_signal(signal.SIGKILL)
        except psutil.Error:
            pass


def main() -> int:
    drop_privileges()
    _not_dumpable()
    _become_subreaper()
    result = os.fdopen(os.dup(1), "w", encoding="utf-8")  # dup'ed fds are not inherited by the kernel
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    job = json.load(sys.stdin)
    nb = nbformat.from_dict(job["notebook"])
    try:
        run(nb, job["timeout"], job.get("max_output", MAX_OUTPUT_DEFAULT), job.get("grace", KILL_GRACE_DEFAULT))
    finally:
        _kill_descendants()
    result.write(json.dumps(nb))
    result.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
