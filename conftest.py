"""Keep every Jupyter/IPython/matplotlib tool started by the tests out of the user's home.

This file sits at the repository root so that it applies to the unit tests and to
nbval's collection of ``notebooks/`` and ``solutions/`` alike.
"""

import os
import tempfile

_ISOLATED = ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR")


def pytest_configure(config):
    base = tempfile.mkdtemp(prefix="course-test-home-")
    for var in _ISOLATED:
        path = os.path.join(base, var.lower())
        os.makedirs(path, exist_ok=True)
        os.environ[var] = path
    # The kernel's debugger otherwise warns about frozen modules on every start.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    os.environ.setdefault("PYTHONHASHSEED", "0")


# Notebooks under tests/ are fixtures (deliberately broken explorers, hostile submissions):
# they are inputs of tests, never validated by nbval themselves.
collect_ignore_glob = ["tests/*.ipynb", "tests/*/*.ipynb", "tests/*/*/*.ipynb", "tests/*/*/*/*.ipynb"]
