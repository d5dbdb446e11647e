"""Does a plain (non-editable) `pip install .` carry every course_utils sub-package?"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.notebook_utils import ROOT

PACKAGES = sorted(p.parent.relative_to(ROOT).as_posix().replace("/", ".")
                  for p in (ROOT / "course_utils").rglob("__init__.py"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """course_utils installed from the source tree into a fresh target folder (no dependencies)."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-cache-dir", "--target", str(target), str(ROOT)],
                   check=True, capture_output=True, text=True, timeout=300, cwd=build)
    return target


def test_the_source_tree_has_the_per_week_packages():
    assert {"course_utils.checks", "course_utils.widgets", "course_utils.losses", "course_utils.grading"} <= set(PACKAGES)


def test_every_subpackage_is_installed_and_imports_from_the_install(installed, tmp_path):
    missing = [p for p in PACKAGES if not (installed / p.replace(".", "/") / "__init__.py").exists()]
    assert not missing, f"pip install . left out {missing}"
    code = ("import course_utils, course_utils.checks, course_utils.widgets, course_utils.losses; "
            "print(course_utils.__file__); print(course_utils.checks.check_nll.__module__)")
    env = dict(os.environ, PYTHONPATH=str(installed))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=120, check=True).stdout.split()
    assert Path(out[0]).is_relative_to(installed), f"imported {out[0]}, not the installed copy"
    assert out[1] == "course_utils.checks.week03"  # check_nll: found in the installed per-week module
