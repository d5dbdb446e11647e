"""Does the Makefile find a supported Python by itself, and say which one, or which are supported?"""

import os
import stat
import subprocess

from tests.notebook_utils import ROOT

FINDER = ROOT / "scripts" / "find_python.sh"


def fake_python(folder, name, version, runs=True):
    """A stand-in interpreter that answers the finder's version question like that Python would."""
    path = folder / name
    major, minor = map(int, version.split(".")[:2])
    ok = runs and (3, 11) <= (major, minor) <= (3, 13)
    body = f'echo {version}; exit {0 if ok else 1}' if runs else 'echo "pyenv: command not found" >&2; exit 127'
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def find(tmp_path, *args):
    env = {**os.environ, "PATH": str(tmp_path)}  # only the fakes: /usr/bin may hold a real python3.11
    return subprocess.run(["/bin/bash", str(FINDER), *args], capture_output=True, text=True, env=env)


def test_takes_the_first_supported_python_that_runs(tmp_path):
    fake_python(tmp_path, "python3.11", "3.11.2", runs=False)  # a shim for a version that is not selected
    fake_python(tmp_path, "python3.12", "3.12.8")
    fake_python(tmp_path, "python3.13", "3.13.1")
    proc = find(tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "python3.12"
    assert "using python3.12 (Python 3.12.8" in proc.stderr


def test_no_supported_python_names_the_supported_versions(tmp_path):
    fake_python(tmp_path, "python3.11", "3.11.0", runs=False)
    proc = find(tmp_path)
    assert proc.returncode == 1 and not proc.stdout
    assert "no supported Python found" in proc.stderr and "3.11, 3.12 or 3.13" in proc.stderr


def test_an_explicit_python_is_checked(tmp_path):
    old = fake_python(tmp_path, "python3.10", "3.10.12")
    proc = find(tmp_path, str(old))
    assert proc.returncode == 1 and "is Python 3.10.12" in proc.stderr and "3.11, 3.12 or 3.13" in proc.stderr
    new = fake_python(tmp_path, "py313", "3.13.0")
    proc = find(tmp_path, str(new))
    assert proc.returncode == 0 and proc.stdout.strip() == str(new) and "Python 3.13.0" in proc.stderr
    proc = find(tmp_path, str(tmp_path / "missing"))
    assert proc.returncode == 1 and "was not found" in proc.stderr


def test_makefile_builds_the_venv_through_the_finder():
    makefile = (ROOT / "Makefile").read_text()
    assert "scripts/find_python.sh $(PYTHON)" in makefile
    assert "\nPYTHON ?=\n" in makefile, "PYTHON must default to 'search', not to one fixed version"
