"""Step `release`: regenerate exercises/weekNN/ from solutions/weekNN/ with nbgrader's GenerateAssignment.

Deterministic (same input, same bytes), no gradebook written, no outputs, python3 kernelspec.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbgrader.converters import GenerateAssignment
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import SaveCells
from traitlets.config import Config

from .config import check_assignment, quiet_logger, release_dir, use_venv_tools
from .context import METADATA_KEY

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def generate(cfg: Config, assignment: str, dest_root: Path, *, db_url: str | None = None) -> Path:
    """Run GenerateAssignment for one week into ``dest_root/assignment``, recording it in ``db_url``.

    Without ``db_url`` no gradebook is touched: SaveCells (the one step that writes cells to the
    database) is left out, so releasing never creates a gradebook.db in the repository.
    """
    cfg = copy.deepcopy(cfg)  # Config(cfg) would share the nested CourseDirectory section with the caller
    cfg.CourseDirectory.release_directory = str(dest_root)  # absolute: os.path.join keeps it
    cfg.GenerateAssignment.force = True
    if db_url is None:
        cfg.GenerateAssignment.no_database = True
        cfg.GenerateAssignment.preprocessors = [
            p for p in GenerateAssignment.class_traits()["preprocessors"].default() if p is not SaveCells
        ]
    else:
        cfg.CourseDirectory.db_url = db_url
        # nbgrader's Gradebook files everything under "default_course"; GenerateAssignment would use the
        # empty course id, which has no row: a foreign-key error on database servers (sqlite does not check).
        cfg.CourseDirectory.course_id = cfg.CourseDirectory.get("course_id") or "default_course"
        use_venv_tools()
    coursedir = CourseDirectory(config=cfg, log=quiet_logger())
    coursedir.assignment_id = assignment
    converter = GenerateAssignment(coursedir=coursedir, config=cfg, log=quiet_logger())
    converter.start()
    return dest_root / assignment


def normalise(path: Path) -> None:
    """Rewrite every generated notebook canonically: python3 kernel, no outputs, stable JSON."""
    for nb_path in sorted(path.rglob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
        for cell in nb.cells:
            cell.metadata.pop("execution", None)  # nbclient's timestamps of the last run of the source
            cell.metadata.pop(METADATA_KEY, None)  # the grader's settings (forbidden calls) stay in the source
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, nb_path)


def release(cfg: Config, assignment: str) -> Path:
    """Regenerate ``exercises/<assignment>/`` (replaced as a whole, so removed files disappear too)."""
    check_assignment(cfg, assignment)
    target = release_dir(cfg) / assignment
    with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
        built = generate(cfg, assignment, Path(tmp) / "out")
        normalise(built)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(built, target)
    return target
