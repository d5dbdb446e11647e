"""Do tools started by the course stay out of the user's home?"""

import os

from course_utils.jupyter_env import ISOLATED_VARS, isolated_env


def test_isolated_env_points_every_folder_under_base(tmp_path):
    env = isolated_env(tmp_path, environ={"HOME": "/somewhere/else", "PATH": "/bin"})
    for var in ISOLATED_VARS:
        assert env[var].startswith(str(tmp_path)) and os.path.isdir(env[var])
    assert env["HOME"] == "/somewhere/else" and env["PATH"] == "/bin"


def test_home_moves_only_when_asked(tmp_path):
    assert isolated_env(tmp_path, home=True, environ={"HOME": "/h"})["HOME"] == str(tmp_path)


def test_the_test_session_itself_is_isolated():
    home = os.path.expanduser("~")
    for var in ISOLATED_VARS:
        assert not os.environ[var].startswith(os.path.join(home, ".")), f"{var} points into the home folder"
