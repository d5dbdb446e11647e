"""A typo fixed mid-week: is a hand-in downloaded before the fix told apart from one whose locked cells were edited?"""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from course_utils.grading.config import load_config
from course_utils.grading.pipeline import context_from
from course_utils.grading.prepare import note_edited_cells
from course_utils.grading.release import checksum, earlier_releases, history_path, locked_checksums, record_release
from tests.grading.submissions import ROOT, cell, released, weeks


@pytest.fixture
def course(tmp_path):
    """A course folder of its own (the repository's config, root moved), with week 01's source."""
    cfg = load_config(ROOT)
    cfg.CourseDirectory.root = str(tmp_path)
    shutil.copytree(ROOT / "solutions" / "week01", tmp_path / "solutions" / "week01")
    return cfg


def release_with(cfg, tmp_path, intro_text=None):
    nb = released()
    if intro_text is not None:
        cell(nb, "ex4_intro").source = intro_text
    built = tmp_path / "built"
    built.mkdir(exist_ok=True)
    nbformat.write(nb, built / "week01_exercises.ipynb")
    record_release(cfg, "week01", built)
    return nb


def test_a_release_is_recorded_once_and_a_fix_adds_one(course, tmp_path):
    first = release_with(course, tmp_path)
    release_with(course, tmp_path)  # the same release again: no new entry
    fixed = release_with(course, tmp_path, cell(first, "ex4_intro").source.replace("class", "category"))
    history = json.loads(history_path(course, "week01").read_text(encoding="utf-8"))["releases"]
    assert [r["locked"] for r in history] == [locked_checksums(first), locked_checksums(fixed)]
    assert earlier_releases(course, "week01", "week01_exercises") == {
        g: {v} for g, v in locked_checksums(first).items()}


def test_a_hand_in_of_the_earlier_release_is_not_called_an_edit(course, tmp_path):
    old = release_with(course, tmp_path)
    new = release_with(course, tmp_path, cell(old, "ex4_intro").source + "\nA typo fixed.")
    ctx = context_from(course, "week01", new, "week01_exercises", "sqlite://")
    problems = []
    note_edited_cells(released(), ctx, problems)  # a hand-in downloaded before the fix
    assert problems == ["handed in on an earlier release of week01; updated to the current text: ex4_intro"]
    edited = released()
    cell(edited, "ex4_intro").source = "I changed the task."
    problems = []
    note_edited_cells(edited, ctx, problems)
    assert problems == ["edited locked cells restored from the source: ex4_intro"]


@pytest.mark.parametrize("week", weeks())
def test_the_history_holds_the_current_release(week):
    """make release records each release: the last entry is what exercises/ holds now."""
    history = json.loads((ROOT / "releases" / f"{week}.json").read_text(encoding="utf-8"))["releases"]
    current = nbformat.read(ROOT / "exercises" / week / f"{week}_exercises.ipynb", as_version=4)
    assert history and history[-1]["locked"] == locked_checksums(current), f"run make release for {week}"
    assert checksum("  x\n") == checksum("x")
