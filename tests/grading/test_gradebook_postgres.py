"""The gradebook on a Postgres server (the README's "large classes" path), graded for real.

The server comes from $COURSE_TEST_PG_URL (``.ci/run`` starts one and sets it). Without it the test
is skipped locally; under CI=true it fails, so CI cannot pass without having exercised Postgres.
"""

from __future__ import annotations

import csv
import os
import secrets
import subprocess
import sys

import pytest

from tests.grading.submissions import ROOT, honest, write

pytestmark = pytest.mark.slow
ENV = "COURSE_TEST_PG_URL"


@pytest.fixture(scope="module")
def db_url():
    """A fresh, empty database on the test server, dropped afterwards."""
    server = os.environ.get(ENV)
    if not server:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must test the Postgres gradebook: set {ENV} to a server URL (.ci/run starts one)")
        pytest.skip(f"no Postgres server for the test: set {ENV} (e.g. postgresql://user@/postgres?host=/run/pg)")
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server)
    name = f"course_test_{secrets.token_hex(6)}"
    conn = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True)
    conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def grade(subs, out, db_url, *extra):
    cmd = [sys.executable, "-m", "course_utils", "grade", "--assignment", "week01", "--submissions", str(subs),
           "--out", str(out), "--db-url", db_url, "--timeout", "30", "--jobs", "2", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))


def every_grade(db_url) -> dict[tuple[str, str], tuple]:
    """(student, test cell) -> (row id, auto score, manual score), read with nbgrader's own Gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return {(s.id, g.name): (g.id, g.auto_score, g.manual_score)
                for s in gb.students for g in gb.find_submission_notebook("week01_exercises", "week01", s.id).grades}


def totals(db_url) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return {s.id: gb.find_submission("week01", s.id).score for s in gb.students}


def test_grades_go_to_postgres_and_regrading_one_student_changes_only_that_row(db_url, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    write(honest(), subs / "anna.ipynb")
    write(honest({"ex4_logits_to_classes": "def logits_to_classes(logits):\n    return logits.argmax(dim=0)\n"}),
          subs / "bob.ipynb")
    (subs / "carl.ipynb").write_text("not a notebook", encoding="utf-8")
    proc = grade(subs, out, db_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"gradebook: {db_url}" in proc.stdout and not (out / "gradebook.db").exists()
    assert totals(db_url) == {"anna": 10, "bob": 8, "carl": 0}
    with open(out / "grades.csv", encoding="utf-8") as fh:
        assert {r["student"]: float(r["score"]) for r in csv.DictReader(fh)} == {"anna": 10, "bob": 8, "carl": 0}
    before = every_grade(db_url)

    write(honest(), tmp_path / "again" / "bob.ipynb")  # bob hands in a corrected notebook
    proc = grade(tmp_path / "again", out, db_url, "--student", "bob")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    after = every_grade(db_url)
    assert totals(db_url) == {"anna": 10, "bob": 10, "carl": 0}
    assert {k: v for k, v in after.items() if k[0] != "bob"} == {k: v for k, v in before.items() if k[0] != "bob"}
    assert after[("bob", "ex4_logits_to_classes_test")][1] == 2 and before[("bob", "ex4_logits_to_classes_test")][1] == 0
