"""nbgrader configuration of the course (read by `nbgrader ...` run from the repository root).

`python -m course_utils release|grade` reads the same file, so both tools agree on where
the single source (solutions/) and the student version (exercises/) live.
"""

import os

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# The instructor edits solutions/weekNN/ only; `generate_assignment weekNN` writes exercises/weekNN/.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# Everything lives in the repository: solutions/weekNN/, exercises/weekNN/, no per-student level.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

# Gradebook: sqlite by default; set COURSE_GRADEBOOK_URL (e.g. postgresql://user@host/course)
# for large classes or a shared formgrader. `python -m course_utils grade` also takes --db-url.
if os.environ.get("COURSE_GRADEBOOK_URL"):
    c.CourseDirectory.db_url = os.environ["COURSE_GRADEBOOK_URL"]

# Autograding: every test cell is restored from the source, a deleted one is put back.
c.OverwriteCells.add_missing_cells = True
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
c.LimitOutput.max_lines = 200
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
