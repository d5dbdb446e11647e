"""Step `release`: regenerate exercises/weekNN/ from solutions/weekNN/ with nbgrader's GenerateAssignment.

Deterministic (same input, same bytes), no gradebook written, no outputs, python3 kernelspec.

Each release that changes a locked cell (a typo fixed mid-week) is added to ``releases/weekNN.json``:
the checksum of every locked cell's text, per release. A hand-in whose locked cell matches an earlier
release was downloaded before the fix; the grader updates the cell and says so, rather than calling
it an edit (``locked_checksums``, ``earlier_releases``).
"""

from __future__ import annotations

import copy
import hashlib
import json
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


def checksum(source: str) -> str:
    return hashlib.sha256(source.strip().encode("utf-8")).hexdigest()[:16]


def locked_checksums(nb) -> dict[str, str]:
    """grade id -> checksum of the text of every locked cell (not an answer cell) of a released notebook."""
    return {c.metadata.nbgrader.grade_id: checksum(c.source) for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("locked") and not c.metadata.nbgrader.get("solution")}


def history_path(cfg: Config, assignment: str) -> Path:
    return Path(cfg.CourseDirectory.root) / "releases" / f"{assignment}.json"


def record_release(cfg: Config, assignment: str, built: Path) -> None:
    """Add the release in ``built`` to the assignment's history, unless its locked cells equal the last one's."""
    path = history_path(cfg, assignment)
    history = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"releases": []}
    for nb_path in sorted(built.glob("*.ipynb")):
        sums = locked_checksums(nbformat.read(nb_path, as_version=4))
        mine = [r for r in history["releases"] if r["notebook"] == nb_path.stem]
        if not mine or mine[-1]["locked"] != sums:
            history["releases"].append({"notebook": nb_path.stem, "locked": sums})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(history, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def earlier_releases(cfg: Config, assignment: str, notebook: str) -> dict[str, set[str]]:
    """grade id -> checksums its locked text had in the releases before the current one."""
    path = history_path(cfg, assignment)
    if not path.exists():
        return {}
    mine = [r["locked"] for r in json.loads(path.read_text(encoding="utf-8"))["releases"] if r["notebook"] == notebook]
    earlier: dict[str, set[str]] = {}
    for sums in mine[:-1]:
        for gid, value in sums.items():
            earlier.setdefault(gid, set()).add(value)
    return earlier


def release(cfg: Config, assignment: str) -> Path:
    """Regenerate ``exercises/<assignment>/`` (replaced as a whole, so removed files disappear too), and record
    the release in ``releases/<assignment>.json`` when a locked cell changed."""
    check_assignment(cfg, assignment)
    target = release_dir(cfg) / assignment
    with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
        built = generate(cfg, assignment, Path(tmp) / "out")
        normalise(built)
        record_release(cfg, assignment, built)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(built, target)
    return target
