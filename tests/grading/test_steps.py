"""The grading steps one by one, on notebooks built in memory (no kernel is started here)."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output

from course_utils.grading.config import load_config
from course_utils.grading.context import GUARD_PREFIX, METADATA_KEY, TRAILER, add_guard, guard_line, remove_guard
from course_utils.grading.pipeline import Verdict, prepare_one, restore_gradebook, setup, snapshot_gradebook
from course_utils.grading.prepare import answered, prepare, read_notebook
from course_utils.grading.score import mark_unfinished, no_partial_credit, runtime_flags, unguard
from tests.grading.submissions import ROOT, cell, deleted_and_edited_tests, honest, stripped, write


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("steps")
    return setup(load_config(ROOT), "week01", f"sqlite:///{tmp / 'gradebook.db'}", tmp)


def ids(nb):
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]


def test_honest_notebook_keeps_its_order_and_gets_guarded(ctx):
    problems = []
    nb = prepare(honest(), ctx, "s1", problems)
    assert ids(nb) == ctx.ids and not problems
    graded = [c for c in nb.cells if c.metadata["nbgrader"].get("grade")]
    assert graded and all(c.source.startswith(guard_line(ctx)) and c.source.endswith(TRAILER) for c in graded)
    assert all("### BEGIN HIDDEN TESTS" in c.source for c in graded)  # the hidden tests are back for grading


def test_stripped_metadata_is_reattached_to_the_student_answers(ctx):
    problems = []
    nb = prepare(stripped(), ctx, "s2", problems)
    assert ids(nb) == ctx.ids and answered(nb, ctx)
    assert "argmax(dim=1)" in cell(nb, "ex4_logits_to_classes").source
    assert "re-attached" in problems[0]


def test_deleted_test_goes_back_after_its_answer_and_edited_test_is_restored(ctx):
    problems = []
    nb = prepare(deleted_and_edited_tests(), ctx, "s3", problems)
    assert ids(nb) == ctx.ids
    assert "check_predict_binary" in cell(nb, "ex3_predict_binary_test").source
    assert any("deleted test cells restored: ex2_sigmoid_test" in p for p in problems)
    assert any("edited locked cells restored from the source: ex3_predict_binary_test" in p for p in problems)


def test_foreign_and_duplicate_ids(ctx):
    nb = honest()
    nb.cells.append(nbformat.from_dict(nbformat.v4.new_code_cell("x = 1")))
    nb.cells[-1].metadata["nbgrader"] = {"grade": True, "grade_id": "ex9_other", "points": 99, "solution": False,
                                         "locked": True, "schema_version": 3}
    nb.cells.append(nbformat.from_dict(dict(cell(nb, "ex2_sigmoid"), id="dup")))
    problems = []
    nb = prepare(nb, ctx, "s4", problems)
    assert ids(nb) == ctx.ids
    assert any("ex9_other" in p for p in problems) and any("repeated ids" in p for p in problems)


def test_notebook_without_answer_cells_is_not_answered(ctx):
    nb = nbformat.v4.new_notebook(cells=[new_code_cell("print('hello')")])
    assert not answered(prepare(nb, ctx, "s5", []), ctx)


@pytest.mark.parametrize("text", ["", "{", '{"cells": [', "\x00\x01binary", '{"cells": 5}'])
def test_unreadable_files_give_a_reason(tmp_path, text):
    path = tmp_path / "x.ipynb"
    path.write_text(text)
    nb, why = read_notebook(path)
    assert nb is None and why.startswith("not a readable notebook")


def test_cells_that_did_not_finish_score_zero():
    """A silenced traceback (status error, no error output) and a cell that never ran both get an error."""
    silenced, never, fine = (new_code_cell(GUARD_PREFIX + "globals(), {})  # grader\nx\n" + TRAILER),
                             new_code_cell("y"), new_code_cell("z"))
    for c, status in ((silenced, "error"), (fine, "ok")):
        c.metadata["course_grading"] = {"status": status}
    for c in (silenced, never, fine):
        c.metadata["nbgrader"] = {"grade": True, "grade_id": c.source, "points": 1}
    fine.outputs.append(new_output("stream", name="stdout", text="ok\n"))
    nb = nbformat.v4.new_notebook(cells=[silenced, never, fine])
    mark_unfinished(nb, [])
    unguard(nb)
    assert [any(o.output_type == "error" for o in c.outputs) for c in nb.cells] == [True, True, False]
    assert silenced.source == "x" and "course_grading" not in fine.metadata


def test_a_published_result_cannot_buy_points():
    """nbgrader would give full credit for any execute_result met before the error; after our step it gives 0."""
    from nbgrader.utils import determine_grade

    cheat = new_code_cell("check(sigmoid)")
    cheat.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": 1.5}
    cheat.metadata["course_grading"] = {"status": "error"}
    cheat.outputs = [new_output("execute_result", data={"text/plain": "1.5"}, execution_count=3),
                     new_output("error", ename="CheckFailed", evalue="wrong", traceback=[])]
    assert determine_grade(cheat)[0] == 1.5  # nbgrader alone is fooled
    score_steps = nbformat.v4.new_notebook(cells=[cheat])
    mark_unfinished(score_steps, [])
    no_partial_credit(score_steps)
    assert determine_grade(score_steps.cells[0])[0] == 0


def test_gradebook_restored_after_tampering(tmp_path):
    db = tmp_path / "gradebook.db"
    db.write_bytes(b"original")
    snap = snapshot_gradebook(f"sqlite:///{db}")
    assert restore_gradebook(f"sqlite:///{db}", snap)
    db.write_bytes(b"tampered")
    assert not restore_gradebook(f"sqlite:///{db}", snap)
    assert db.read_bytes() == b"original"


def test_guard_add_and_remove_give_back_the_source_exactly(ctx):
    nb = honest()
    before = [c.source for c in nb.cells]
    add_guard(nb, ctx)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert all(GUARD_PREFIX in c.source and TRAILER in c.source for c in tests)
    assert "'F'" not in guard_line(ctx) and "'torch': 'torch'" in guard_line(ctx)  # week 01 imports torch, not F
    remove_guard(nb)
    assert [c.source for c in nb.cells] == before
    trailing = new_code_cell("assert True\n")
    trailing.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1}
    one = nbformat.v4.new_notebook(cells=[trailing])
    add_guard(one, ctx)
    remove_guard(one)
    assert one.cells[0].source == "assert True\n"


def test_a_handed_in_reply_status_is_ignored(ctx):
    """A hand-in whose test cells claim status 'ok' (the grader's own metadata) must not keep that claim."""
    nb = honest()
    for c in nb.cells:
        c.metadata[METADATA_KEY] = {"status": "ok"}
    nb.metadata[METADATA_KEY] = {"aborted": "nothing"}
    problems = []
    nb = prepare(nb, ctx, "s6", problems)
    assert not any(METADATA_KEY in c.metadata for c in nb.cells) and METADATA_KEY not in nb.metadata
    assert any("carried the grader's" in p for p in problems)
    mark_unfinished(nb, [])  # nothing ran: every test cell must now show an error
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert all(any(o.output_type == "error" for o in c.outputs) for c in tests)


def test_prepare_one_only_prepares(ctx, tmp_path):
    """A readable hand-in gives the notebook to run; an unreadable one a Verdict; the gradebook gets no row."""
    from nbgrader.api import Gradebook, MissingEntry

    from course_utils.grading.collect import Submission

    good = prepare_one(Submission("prep_good", write(honest(), tmp_path / "a.ipynb")), ctx, [])
    (tmp_path / "b.ipynb").write_text("not a notebook")
    bad = prepare_one(Submission("prep_bad", tmp_path / "b.ipynb"), ctx, [])
    assert answered(good, ctx)
    assert isinstance(bad, Verdict) and bad.reasons[0].startswith("not a readable notebook")
    with Gradebook(ctx.db_url) as gb:
        for student in ("prep_good", "prep_bad"):
            with pytest.raises(MissingEntry):
                gb.find_student(student)


def test_runtime_flags_come_from_the_guard_and_its_display_is_removed():
    restored = new_output("display_data", data={"application/vnd.course-grader.restored+json":
                                                {"restored": ["torch.allclose"]}, "text/plain": ""})
    integrity = new_output("error", ename="IntegrityError", evalue="library functions were replaced: math.isclose",
                           traceback=[])
    c1, c2 = new_code_cell("a"), new_code_cell("b")
    c1.outputs, c2.outputs = [restored, new_output("stream", name="stdout", text="ok\n")], [integrity]
    for c, gid in ((c1, "t1"), (c2, "t2")):
        c.metadata["nbgrader"] = {"grade": True, "grade_id": gid, "points": 1}
    nb = nbformat.v4.new_notebook(cells=[c1, c2])
    flags = runtime_flags(nb)
    assert flags == ["t1: student code had replaced torch.allclose (put back before the test)",
                     "t2: library functions were replaced: math.isclose"]
    assert [o.output_type for o in c1.outputs] == ["stream"] and c2.outputs == [integrity]


def test_public_steps_refuse_bad_arguments_naming_them(ctx, tmp_path):
    from course_utils.grading import integrity
    from course_utils.grading.sandbox import make_sandbox, run_sandboxed
    from course_utils.grading.scan import scan_notebook

    with pytest.raises(ValueError, match="memory_mb must be a whole number"):
        make_sandbox(tmp_path / "box", "lots")
    box = make_sandbox(tmp_path / "box2", 1024)
    with pytest.raises(ValueError, match="timeout must be a number of seconds > 0, got -1"):
        run_sandboxed(honest(), box, -1, tmp_path / "log")
    with pytest.raises(TypeError, match="nb must be a notebook"):
        scan_notebook({"cells": []}, ctx)
    with pytest.raises(TypeError, match="ctx must be the grading Context"):
        scan_notebook(honest(), "week01")
    with pytest.raises(TypeError, match="namespace must be the notebook's globals"):
        integrity.restore(["not", "a", "dict"])


def test_notes_are_one_store_that_keeps_other_students(tmp_path):
    from course_utils.grading.notes import Notes

    (tmp_path / "problems.json").write_text('{"old": ["graded by an earlier version"]}')
    notes = Notes(tmp_path)
    assert notes["old"].problems == ["graded by an earlier version"] and notes["nobody"].flags == []
    record = notes.begin("anna", "sandbox", ["handed in as 'Anna.ipynb'"])
    record.flags.append("ex2_sigmoid: uses gc")
    notes.save()
    again = Notes(tmp_path)
    again.begin("anna", "no-sandbox")  # re-grading anna replaces her notes only
    again.save()
    final = Notes(tmp_path)
    assert final["anna"].flags == [] and final["anna"].mode == "no-sandbox"
    assert final["old"].problems == ["graded by an earlier version"]
