"""Does the grader's in-process shortcut give nbgrader what its own subprocess would?"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbgrader.api
from nbgrader.dbutil import _temp_alembic_ini

from course_utils.grading.config import alembic_head, use_venv_tools


def test_alembic_head_is_what_the_alembic_command_prints():
    """nbgrader stamps a new gradebook with `alembic heads`; the in-process answer must be the same revision."""
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    with _temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:
        out = subprocess.run(["alembic", "-c", ini, "heads"], capture_output=True, text=True, env=env, check=True)
    assert alembic_head() == out.stdout.split("\n")[0].split(" ")[0]


def test_use_venv_tools_gives_nbgrader_the_in_process_head(monkeypatch):
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", lambda: "from a subprocess")
    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))
    use_venv_tools()
    assert nbgrader.api.get_alembic_version() == alembic_head()
    assert os.environ["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
