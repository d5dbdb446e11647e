"""Where the course lives and how nbgrader is configured: the repository's nbgrader_config.py only."""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from course_utils.jupyter_env import isolated_env as _isolated_env

ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILE = "nbgrader_config.py"
ASSIGNMENT_RE = re.compile(r"^week\d\d$")


class InstructorError(Exception):
    """A mistake in the command line (unknown assignment, missing folder): reported, exit status 2."""


def load_config(root: Path = ROOT) -> Config:
    """The course's nbgrader Config, read from ``root/nbgrader_config.py`` (never from ~/.jupyter)."""
    path = root / CONFIG_FILE
    if not path.is_file():
        raise InstructorError(f"{path} not found: run this command from the course repository")
    cfg = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    cfg.CourseDirectory.root = str(root)
    return cfg


def source_dir(cfg: Config) -> Path:
    return Path(cfg.CourseDirectory.root) / cfg.CourseDirectory.source_directory


def release_dir(cfg: Config) -> Path:
    return Path(cfg.CourseDirectory.root) / cfg.CourseDirectory.release_directory


def assignments(cfg: Config) -> list[str]:
    """Every ``weekNN`` folder of the source directory, sorted."""
    src = source_dir(cfg)
    return sorted(p.name for p in src.iterdir() if p.is_dir() and ASSIGNMENT_RE.match(p.name)) if src.is_dir() else []


def check_assignment(cfg: Config, assignment: str) -> str:
    """Return ``assignment`` if the source has it, else raise InstructorError listing the known ones."""
    known = assignments(cfg)
    if assignment not in known:
        raise InstructorError(
            f"unknown assignment {assignment!r}: {source_dir(cfg)} holds {', '.join(known) or 'no weekNN folders'}"
        )
    return assignment


def quiet_logger(name: str = "course_utils.grading") -> logging.Logger:
    """A logger for nbgrader's converters that only reports errors (their INFO chatter is noise here)."""
    log = logging.getLogger(name)
    log.setLevel(logging.ERROR)
    return log


def isolated_env(base: Path) -> dict[str, str]:
    """A copy of os.environ whose Jupyter/IPython/matplotlib folders and HOME lie under ``base``."""
    return _isolated_env(base, home=True)


def use_venv_tools() -> None:
    """Put this interpreter's bin/ first on PATH: nbgrader's gradebook runs the `alembic` script (to migrate a
    database server's schema). Creating a new gradebook only needs the newest revision of nbgrader's own
    migration scripts, which nbgrader asks a fresh `alembic heads` process for every time (a Python start and
    all of alembic's imports, ~1.5 s): it is read here, in this process, once."""
    bindir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bindir:
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    import nbgrader.api

    nbgrader.api.get_alembic_version = alembic_head


@functools.cache
def alembic_head() -> str:
    """The newest revision of nbgrader's gradebook schema (what ``alembic heads`` prints first)."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", ALEMBIC_DIR)
    heads = ScriptDirectory.from_config(cfg).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"nbgrader's gradebook schema has {len(heads)} newest revisions ({heads}), expected one")
    return heads[0]
