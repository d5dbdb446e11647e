"""Execute notebooks top to bottom in fresh kernels and save them with their outputs.

Usage: python scripts/execute_notebooks.py [PATH ...]   (files or folders; default: notebooks solutions)

Each notebook runs in its own directory, like nbval and JupyterLab run it, with
Jupyter/IPython/matplotlib settings kept in a temporary folder.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_utils.jupyter_env import isolate_this_process

ROOT = Path(__file__).resolve().parents[1]


def find(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        elif p.suffix == ".ipynb":
            found.append(p)
        else:
            raise SystemExit(f"error: {p} is neither a notebook nor a folder")
    return found


def execute(path: Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    start = time.perf_counter()
    # record_timing=False: no metadata.execution timestamps, which would change on every run
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    isolate_this_process("course-exec-")
    for path in find(argv or ["notebooks", "solutions"]):
        print(f"executing {path} ...", end=" ", flush=True)
        print(f"{execute(path):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
