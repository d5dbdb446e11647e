"""Keep Jupyter, IPython and matplotlib settings of tools we start out of the user's home."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ISOLATED_VARS = ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR")


def isolated_env(base: Path, *, home: bool = False, environ: dict | None = None) -> dict[str, str]:
    """A copy of ``environ`` (default os.environ) whose Jupyter/IPython/matplotlib folders lie under ``base``.

    With ``home=True`` HOME moves there too (used for untrusted student code).
    """
    base = Path(base)
    env = dict(os.environ if environ is None else environ)
    if home:
        env["HOME"] = str(base)
    for var in ISOLATED_VARS:
        path = base / var.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # the kernel's debugger warns on every start otherwise
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def isolate_this_process(prefix: str = "course-") -> Path:
    """Point this process (and the kernels it starts) at fresh temporary Jupyter folders; returns the base."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(isolated_env(base))
    return base
