"""The Kubernetes path (hub/k8s/), checked as far as it can be without a cluster.

- every option under the Helm values' hub.config is a real trait of a JupyterHub (or LTI 1.3
  authenticator) class, with a value of the right type (the check can fail: a typo is caught);
- the extraConfig runs under JupyterHub's config loader and gives instructors their role;
- the single-user resources follow the README's sizing rule; the image is built from constraints.txt
  by scripts/build_env.sh and bakes the role folders the values point at; the exchange is mounted
  where the image's nbgrader_config.py expects it.
"""

from __future__ import annotations

import re
import types

import yaml

from tests.hub import config_check
from tests.notebook_utils import ROOT

K8S = ROOT / "hub" / "k8s"


def values() -> dict:
    return yaml.safe_load((K8S / "values.yaml").read_text())


def test_hub_config_keys_are_real_traits():
    config = values()["hub"]["config"]
    assert config_check.problems(config) == []
    typo = {**config, "LTI13Authenticator": {**config["LTI13Authenticator"], "client_ids": ["x"]}}
    assert any("client_ids: no such option" in p for p in config_check.problems(typo))


def test_extra_config_loads_and_gives_instructors_their_role(tmp_path):
    from jupyterhub.app import JupyterHub

    path = tmp_path / "extra.py"
    path.write_text("\n".join(values()["hub"]["extraConfig"].values()))
    app = JupyterHub()
    app.load_config_file(str(path))
    assert config_check.problems(app.config) == []
    hook = app.config.Spawner.pre_spawn_hook
    for groups, role in (([], "student"), (["instructors"], "instructor")):
        spawner = types.SimpleNamespace(environment={}, user=types.SimpleNamespace(
            groups=[types.SimpleNamespace(name=g) for g in groups]))
        hook(spawner)
        assert spawner.environment["COURSE_ROLE"] == role
        assert spawner.environment["JUPYTER_CONFIG_PATH"].endswith(f"/course-roles/{role}")


def test_resources_follow_the_sizing_rule_and_the_culler_is_on():
    v = values()
    readme = (ROOT / "README.md").read_text()
    rule = re.search(r"per active student: ([\d.]+) cores?, ([\d.]+) GB", readme)
    assert rule, "README has no sizing rule of the form 'per active student: X cores, Y GB'"
    cores, gb = float(rule.group(1)), float(rule.group(2))
    assert v["singleuser"]["cpu"]["guarantee"] == cores
    assert float(v["singleuser"]["memory"]["guarantee"].rstrip("G")) == gb
    assert v["cull"]["enabled"] is True and v["cull"]["timeout"] > 0
    assert v["singleuser"]["defaultUrl"].startswith("/git-pull?repo=")


def test_image_is_built_from_the_tested_set_with_the_roles_and_the_exchange():
    docker = (K8S / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1[123]-", docker, re.M), "the image's Python is not a supported one"
    assert "scripts/build_env.sh" in docker and (ROOT / "scripts" / "build_env.sh").exists()
    for role in ("student", "instructor"):
        assert f"jupyter_roles {role} /opt/loss-course/etc/course-roles/{role}" in docker
    mounts = [m["mountPath"] for m in values()["singleuser"]["storage"]["extraVolumeMounts"]]
    assert "/srv/nbgrader/exchange" in mounts
    assert 'c.Exchange.root = "/srv/nbgrader/exchange"' in (K8S / "nbgrader_config.py").read_text()
