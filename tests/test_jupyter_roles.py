"""The role folders: what each role's JupyterLab loads, and clear errors for bad input."""

import json
import stat

import pytest

from course_utils import jupyter_roles


def test_student_folder_disables_instructor_plugins_and_server_extensions(tmp_path):
    folder = jupyter_roles.write_role_config("student", tmp_path / "s")
    page = json.loads((folder / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    server = json.loads((folder / "jupyter_server_config.json").read_text())["ServerApp"]["jpserver_extensions"]
    assert {k for k, v in page.items() if v} == {*jupyter_roles.INSTRUCTOR_PLUGINS, jupyter_roles.NEWS_PLUGIN}
    config_d = json.loads((folder / "jupyter_server_config.d" / "nbgrader.json").read_text())
    assert config_d["ServerApp"]["jpserver_extensions"] == server  # what a hub's single-user server goes by
    assert server == {"nbgrader.server_extensions.validate_assignment": True,
                      "nbgrader.server_extensions.assignment_list": True,
                      "nbgrader.server_extensions.formgrader": False,
                      "nbgrader.server_extensions.course_list": False}


def test_instructor_folder_turns_everything_on_and_is_world_readable(tmp_path):
    folder = jupyter_roles.write_role_config("instructor", tmp_path / "i")
    page = json.loads((folder / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    server = json.loads((folder / "jupyter_server_config.json").read_text())["ServerApp"]["jpserver_extensions"]
    assert page and not any(page.values())  # named and switched on: overrides a lower folder that disables them
    assert all(server.values())
    for path in (folder / "labconfig" / "page_config.json", folder / "jupyter_server_config.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_bad_role_and_folder_are_named(tmp_path):
    with pytest.raises(ValueError, match="role must be one of"):
        jupyter_roles.write_role_config("teacher", tmp_path)
    with pytest.raises(TypeError, match="folder must be a path"):
        jupyter_roles.write_role_config("student", None)
    assert jupyter_roles.main(["teacher", str(tmp_path)]) == 2
