"""Does the tested set (constraints.txt) install on every supported Python, 3.11.2 to 3.13?

pip looks up the exact pins for another interpreter's version without installing anything (a dry run:
what that Python would download). This needs the package index, so the test is skipped
where it cannot be reached, except under CI=true, where that is a failure.
"""

import os
import subprocess
import sys
import tomllib

import pytest

from tests.notebook_utils import ROOT

#: Debian 12's own Python is 3.11.2, the oldest 3.11 a hub administrator is likely to use.
SUPPORTED = ["3.11.2", "3.12", "3.13"]


def pip(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=timeout)


def tmp_dir():
    import tempfile

    return tempfile.mkdtemp(prefix="course-pip-probe-")


@pytest.fixture(scope="module")
def index():
    """Skip (fail in CI) when the package index cannot be reached."""
    probe = pip("download", "--no-deps", "--quiet", "--dest", str(tmp_dir()),
                "--only-binary=:all:", "six", timeout=120)
    if probe.returncode != 0:
        msg = f"the package index cannot be reached: {probe.stderr.strip().splitlines()[-1:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)


def pinned_set(tmp_path, replace: dict[str, str] | None = None):
    """constraints.txt as a requirements file: every pin must be installable together."""
    lines = []
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        name = line.partition("==")[0]
        if line and not line.startswith("#"):
            lines.append(f"{name}=={replace[name]}" if replace and name in replace else line)
    req = tmp_path / "requirements.txt"
    req.write_text("\n".join(lines) + "\n")
    return req


def dry_run(python_version: str, requirements) -> subprocess.CompletedProcess:
    """Every pin must exist for that Python: a wheel it can use, or a source release whose Requires-Python
    admits it (a few hub packages ship only those). ``--no-deps``: the set is complete, each pin is checked
    as it stands; that the pins fit together is shown by the real installs (make test, make smoke)."""
    return pip("install", "--dry-run", "--ignore-installed", "--quiet", "--no-deps",
               "--python-version", python_version, "-r", str(requirements))


@pytest.mark.slow
@pytest.mark.parametrize("python_version", SUPPORTED)
def test_the_tested_set_resolves_for(python_version, index, tmp_path):
    proc = dry_run(python_version, pinned_set(tmp_path))
    assert proc.returncode == 0, f"the pins do not install on Python {python_version}:\n{proc.stderr[-2000:]}"


@pytest.mark.slow
def test_the_check_sees_a_pin_that_an_old_311_cannot_install(index, tmp_path):
    """Can the check fail? soupsieve 4.1.3 needs Python 3.11.5, so it must not resolve for 3.11.2."""
    proc = dry_run("3.11.2", pinned_set(tmp_path, {"soupsieve": "4.1.3"}))
    assert proc.returncode != 0 and "soupsieve" in proc.stderr, proc.stderr[-2000:]


def test_supported_versions_agree_with_pyproject_and_readme():
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11,<3.14", requires
    readme = (ROOT / "README.md").read_text()
    for v in SUPPORTED:
        assert v in readme, f"README.md does not name Python {v} among the supported versions"
    finder = (ROOT / "scripts" / "find_python.sh").read_text()
    assert "python3.11 python3.12 python3.13" in finder
