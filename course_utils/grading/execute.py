"""Step `execute`: run one prepared notebook in a fresh, limited kernel, in a process of its own.

``python -m course_utils.grading.execute`` reads ``{"notebook", "timeout", "max_output"}`` as JSON on
stdin and writes the executed notebook as JSON to its original stdout, which the kernel does not
inherit. It runs in a scratch folder that holds nothing but a kernelspec, with HOME and the Jupyter
folders inside it; the gradebook and the solutions are never in it. Every executed cell records
the kernel's reply status in ``metadata.course_grading.status``, so a cell that raised counts as
failed even when the student silenced the traceback, and a cell that never ran is visible.
"""

from __future__ import annotations

import json
import os
import sys

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_output

MAX_OUTPUT_DEFAULT = 100_000  # characters of stream output kept per cell


class LimitedExecute(NotebookClient):
    """nbclient's executor as nbgrader configures it, plus: reply status per cell, output capped as it arrives.

    (nbgrader's own Execute is this same nbclient class; it is not imported here because this
    process starts once per student and nbgrader's import costs a second.)
    """

    max_output = MAX_OUTPUT_DEFAULT

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
        index = cell_index
        cell.metadata["course_grading"] = {"status": execute_reply["content"].get("status", "unknown")}
        if self._dropped.get(index):
            note = f"\n[output truncated by the grader: {self._dropped[index]} more characters]\n"
            cell.outputs.append(new_output("stream", name="stdout", text=note))


def run(nb, timeout: float, max_output: int):
    """Execute ``nb`` in place; a dead or unresponsive kernel ends the run but keeps what ran."""
    ex = LimitedExecute(nb, timeout=int(max(1, timeout)), kernel_name="python3", allow_errors=True,
                        interrupt_on_timeout=True, startup_timeout=180, iopub_timeout=15,
                        raise_on_iopub_timeout=False, extra_arguments=["--HistoryManager.hist_file=:memory:"],
                        resources={"metadata": {"path": os.getcwd()}})
    ex.on_cell_executed = ex.record
    ex.max_output, ex._used, ex._dropped = max_output, {}, {}
    try:
        ex.execute()
    except Exception as exc:  # DeadKernelError, UnresponsiveKernelError ...: report, keep partial results
        nb.metadata["course_grading"] = {"aborted": f"{type(exc).__name__}: {str(exc)[:300]}"}
    return nb


def main() -> int:
    result = os.fdopen(os.dup(1), "w", encoding="utf-8")  # dup'ed fds are not inherited by the kernel
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    job = json.load(sys.stdin)
    nb = nbformat.from_dict(job["notebook"])
    run(nb, job["timeout"], job.get("max_output", MAX_OUTPUT_DEFAULT))
    result.write(json.dumps(nb))
    result.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
