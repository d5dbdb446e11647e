"""Do pyproject.toml, constraints.txt and environment.yml describe the same tested set?"""

import re
import tomllib

import yaml

from tests.notebook_utils import ROOT


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt line {line!r} is not an exact pin"
            pins[_name(name)] = version
    return pins


def conda_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    pins = {}
    for req in pip_section:
        if req.startswith("-e"):
            continue
        name, _, version = req.partition("==")
        assert version, f"environment.yml pip entry {req!r} is not an exact pin"
        pins[_name(name)] = version
    return pins


def project_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    reqs = project["dependencies"] + extras["dev"] + extras["site"] + extras["hub"]
    return [_name(r) for r in reqs]


def test_environment_yml_pins_agree_with_constraints():
    pins, conda = constraints(), conda_pins()
    disagree = {k: (v, pins.get(k)) for k, v in conda.items() if pins.get(k) != v}
    assert not disagree, f"environment.yml vs constraints.txt differ (yml, constraints): {disagree}"


def test_every_direct_requirement_is_pinned_in_both():
    pins, conda = constraints(), conda_pins()
    for name in project_requirements():
        assert name in pins, f"{name} (pyproject.toml) has no exact pin in constraints.txt"
        assert name in conda, f"{name} (pyproject.toml) is missing from environment.yml"


def test_torch_is_pinned_to_the_tested_cpu_release():
    assert constraints()["torch"] == "2.13.0"
    assert conda_pins()["torch"] == "2.13.0"


def test_environment_yml_and_pyproject_name_the_same_pythons():
    """Do conda and pip promise the same Python versions (3.11 to 3.13)?"""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pythons = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert pythons == ["python" + requires], f"environment.yml has {pythons}, pyproject.toml {requires!r}"
    assert requires == ">=3.11,<3.14"
