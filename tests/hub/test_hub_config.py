"""The hub's configuration, read by JupyterHub's own config loader (no root, no users, no server).

- hub/jupyterhub_config.py loads for each log-in (native, LTI 1.3, the test-only dummy), and every
  option it sets is a real trait of a JupyterHub class with a value of the right type; an unknown
  option or a wrong type is caught (the check can fail);
- the dummy log-in is refused outside pytest and off loopback; LTI 1.3 without its settings is refused;
- hub/ imports neither course_utils.checks nor course_utils.widgets.
"""

from __future__ import annotations

import ast
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from tests.hub import config_check
from tests.notebook_utils import ROOT

HUB = ROOT / "hub"
sys.path.insert(0, str(HUB))
import course_hub  # noqa: E402

LTI = {"COURSE_HUB_LTI_ISSUER": "https://lms.example.org", "COURSE_HUB_LTI_CLIENT_ID": "abc",
       "COURSE_HUB_LTI_AUTHORIZE_URL": "https://lms.example.org/auth",
       "COURSE_HUB_LTI_JWKS_URL": "https://lms.example.org/jwks"}


@pytest.fixture
def open_tmp():
    """A temporary folder other users can reach (pytest's own tmp_path sits under a 0700 folder)."""
    path = Path(tempfile.mkdtemp(prefix="course-hub-config-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def load(monkeypatch, tmp_path, auth: str, extra: str = ""):
    """hub/jupyterhub_config.py as JupyterHub loads it, with its folders in ``tmp_path``."""
    from jupyterhub.app import JupyterHub

    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True, exist_ok=True)
    (env / "bin" / "jupyterhub-singleuser").touch()
    values = {"COURSE_HUB_ENV": str(env), "COURSE_HUB_STATE": str(tmp_path / "state"),
              "COURSE_HUB_EXCHANGE": str(tmp_path / "exchange"), "COURSE_HUB_AUTH": auth,
              "COURSE_HUB_IP": "127.0.0.1", "COURSE_HUB_DUMMY_PASSWORD": "x" * 20, **LTI}
    if extra:
        (tmp_path / "extra.py").write_text(extra)
        values["COURSE_HUB_EXTRA_CONFIG"] = str(tmp_path / "extra.py")
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    app = JupyterHub()
    app.load_config_file(str(HUB / "jupyterhub_config.py"))
    return app.config


@pytest.mark.parametrize("auth", ["native", "lti13", "dummy"])
def test_config_loads_and_every_option_is_a_real_trait(monkeypatch, open_tmp, auth):
    tmp_path = open_tmp
    config = load(monkeypatch, tmp_path, auth)
    assert config_check.problems(config) == []
    assert config.JupyterHub.spawner_class == "jupyterhub.spawner.LocalProcessSpawner"
    assert (tmp_path / "exchange").stat().st_mode & 0o777 == 0o777
    for role in ("student", "instructor"):
        assert (tmp_path / "state" / "roles" / role / "labconfig" / "page_config.json").exists()
        assert "c.Exchange.root" in (tmp_path / "state" / "roles" / role / "nbgrader_config.py").read_text()


def test_unknown_options_and_wrong_types_are_caught(monkeypatch, open_tmp):
    config = load(monkeypatch, open_tmp, "native",
                  extra="c.JupyterHub.no_such_option = 1\nc.Spawner.http_timeout = 'soon'\nc.NoSuchSpawner.x = 1\n")
    found = config_check.problems(config)
    assert any("JupyterHub.no_such_option: no such option" in p for p in found), found
    assert any(p.startswith("Spawner.http_timeout:") for p in found), found
    assert any(p.startswith("NoSuchSpawner:") for p in found), found
    with pytest.raises(TypeError, match="config must be"):
        config_check.problems(["JupyterHub"])


def test_folders_students_cannot_reach_are_refused(monkeypatch, tmp_path):
    with pytest.raises(course_hub.HubConfigError, match="closed to other users"):
        load(monkeypatch, tmp_path / "hidden", "native")


def test_kernels_get_one_thread_unless_told(monkeypatch, open_tmp):
    config = load(monkeypatch, open_tmp, "native")
    assert config.Spawner.environment["OMP_NUM_THREADS"] == "1"
    with pytest.raises(course_hub.HubConfigError, match="COURSE_HUB_THREADS"):
        course_hub.Settings.from_environ({"COURSE_HUB_THREADS": "0"})


class Anything(dict):
    def __getattr__(self, key):
        return self.setdefault(key, Anything())


def test_dummy_login_is_refused_outside_tests_and_off_loopback():
    settings = course_hub.Settings.from_environ({"COURSE_HUB_AUTH": "dummy", "COURSE_HUB_IP": "127.0.0.1"})
    with pytest.raises(course_hub.HubConfigError, match="hub tests only"):
        course_hub.configure_authenticator(Anything(), settings, {"COURSE_HUB_DUMMY_PASSWORD": "x" * 20})
    with pytest.raises(course_hub.HubConfigError, match="hub tests only"):  # too short a password
        course_hub.configure_authenticator(Anything(), settings, {"COURSE_HUB_DUMMY_PASSWORD": "x",
                                                                  "PYTEST_CURRENT_TEST": "t"})
    open_hub = course_hub.Settings.from_environ({"COURSE_HUB_AUTH": "dummy", "COURSE_HUB_IP": "0.0.0.0"})
    with pytest.raises(course_hub.HubConfigError, match="loopback"):
        course_hub.configure_authenticator(Anything(), open_hub, {"COURSE_HUB_DUMMY_PASSWORD": "x" * 20,
                                                                  "PYTEST_CURRENT_TEST": "t"})


def test_bad_settings_name_the_variable():
    with pytest.raises(course_hub.HubConfigError, match="COURSE_HUB_AUTH"):
        course_hub.Settings.from_environ({"COURSE_HUB_AUTH": "pam"})
    with pytest.raises(course_hub.HubConfigError, match="COURSE_HUB_PORT"):
        course_hub.Settings.from_environ({"COURSE_HUB_PORT": "eighty"})
    with pytest.raises(course_hub.HubConfigError, match="COURSE_HUB_EXCHANGE"):
        course_hub.Settings.from_environ({"COURSE_HUB_EXCHANGE": "exchange"})
    lti = course_hub.Settings.from_environ({"COURSE_HUB_AUTH": "lti13"})
    with pytest.raises(course_hub.HubConfigError, match="COURSE_HUB_LTI_ISSUER"):
        course_hub.configure_authenticator(Anything(), lti, {})
    with pytest.raises(course_hub.HubConfigError, match="user name must be a Unix name"):
        course_hub.unix_name("Robert'); DROP")


def test_lms_names_become_unix_names():
    assert course_hub.lti_unix_name("Anna.Berg@uni.example") == "anna-berg"
    assert course_hub.lti_unix_name("42@lms") == "u-42"
    assert course_hub.UNIX_NAME.fullmatch(course_hub.lti_unix_name("Ölöf Ünal " * 8 + "@x"))
    with pytest.raises(course_hub.HubConfigError, match="no usable user name"):
        course_hub.lti_unix_name(" ")
    authenticator = course_hub.lti13_authenticator()()
    assert authenticator.normalize_username("Anna.Berg@uni.example") == "anna-berg"


def test_hub_imports_neither_checks_nor_widgets():
    for path in sorted(HUB.rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                if isinstance(node, ast.ImportFrom) else [])
            bad = [n for n in names if n.startswith(("course_utils.checks", "course_utils.widgets"))]
            assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
