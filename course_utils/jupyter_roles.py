"""Student and instructor JupyterLab: what each role sees, through JupyterLab's own configuration.

A role is a Jupyter configuration folder that is put first on ``JUPYTER_CONFIG_PATH``:

* ``labconfig/page_config.json`` lists the front-end plugins JupyterLab must not load
  (``disabledExtensions``);
* ``jupyter_server_config.json`` and ``jupyter_server_config.d/nbgrader.json`` turn nbgrader's server
  extensions on or off (``ServerApp.jpserver_extensions``), so a disabled panel has no API behind it.

Students get no nbgrader instructor tools (Create Assignment, Formgrader, the course list) and no
news pop-up; they keep Validate and the Assignments list. Instructors get everything.
``make lab`` starts the student role, ``make lab-instructor`` the instructor role, and the hub
(hub/jupyterhub_config.py) gives each user the role of their Unix group.

Usage: ``python -m course_utils.jupyter_roles ROLE FOLDER`` writes the role's folder and prints it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROLES = ("student", "instructor")

# nbgrader's JupyterLab plugins (ids from its labextension) that only an instructor needs.
INSTRUCTOR_PLUGINS = (
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:course-list",
)
# JupyterLab's "Would you like to receive official Jupyter news?" pop-up.
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
# nbgrader's server extensions: the ones both roles keep, and the instructor's own.
SHARED_SERVER_EXTENSIONS = ("nbgrader.server_extensions.validate_assignment",
                            "nbgrader.server_extensions.assignment_list")
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader",
                                "nbgrader.server_extensions.course_list")


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    return role


def disabled_plugins(role: str) -> list[str]:
    """The JupyterLab plugin ids that ``role`` does not load."""
    return list(INSTRUCTOR_PLUGINS) + [NEWS_PLUGIN] if _check_role(role) == "student" else []


def server_extensions(role: str) -> dict[str, bool]:
    """nbgrader's server extensions, on (True) or off (False) for ``role``."""
    instructor = _check_role(role) == "instructor"
    return {**{name: True for name in SHARED_SERVER_EXTENSIONS},
            **{name: instructor for name in INSTRUCTOR_SERVER_EXTENSIONS}}


def write_role_config(role: str, folder: str | Path) -> Path:
    """Write ``role``'s configuration folder (for ``JUPYTER_CONFIG_PATH``) into ``folder``; returns it.

    Every file it writes is readable by all users (a hub's students read it from a shared prefix).
    """
    _check_role(role)
    if not isinstance(folder, (str, Path)) or not str(folder):
        raise TypeError(f"folder must be a path, got {folder!r}")
    folder = Path(folder)
    labconfig = folder / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    # Every listed id is named, with true for off and false for on: a role folder first on the path
    # overrides what a lower one (the environment's own labconfig) says.
    disabled = set(disabled_plugins(role))
    page = {"disabledExtensions": {p: p in disabled for p in (*INSTRUCTOR_PLUGINS, NEWS_PLUGIN)}}
    server = {"ServerApp": {"jpserver_extensions": server_extensions(role)}}
    # Both places a server reads extensions from: the config file (jupyter lab) and the config.d folder
    # (merged by path, which is what a JupyterHub single-user server goes by).
    config_d = folder / "jupyter_server_config.d"
    config_d.mkdir(exist_ok=True)
    for path, data in ((labconfig / "page_config.json", page), (folder / "jupyter_server_config.json", server),
                       (config_d / "nbgrader.json", server)):
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        path.chmod(0o644)
    for d in (folder, labconfig, config_d):
        d.chmod(0o755)
    return folder


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ROLES:
        print(f"usage: python -m course_utils.jupyter_roles {{{'|'.join(ROLES)}}} FOLDER", file=sys.stderr)
        return 2
    print(write_role_config(args[0], args[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
