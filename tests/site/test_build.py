"""Does the site builder find every week, keep solutions out, and turn explorer outputs into kernel-free explorers?"""

import importlib.util
import json
import re

import nbformat
import pytest

from tests.notebook_utils import EXERCISES, LECTURES, ROOT

spec = importlib.util.spec_from_file_location("build_site", ROOT / "scripts" / "build_site.py")
build_site = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_site)

PAGES = {"index.md", "notebooks/week01_network_outputs.ipynb", "exercises/week01/week01_exercises.ipynb",
         "docs/contributing.md"}


def test_weeks_are_found_by_name_in_order_and_exercises_never_come_from_solutions():
    assert build_site.lectures() == LECTURES and build_site.exercise_notebooks() == EXERCISES
    assert [p.name[:6] for p in build_site.lectures()] == sorted(p.name[:6] for p in LECTURES)
    assert all("solutions" not in p.parts for p in build_site.exercise_notebooks())


def test_links_to_pages_stay_and_links_to_other_files_become_text():
    text = ("[week 01](notebooks/week01_network_outputs.ipynb), [its exercises](exercises/week01/week01_exercises.ipynb)"
            ", [the Makefile](Makefile), [guide](docs/contributing.md#layout), [web](https://example.org), [top](#top)")
    assert build_site.site_links(text, "index.md", PAGES) == (
        "[week 01](notebooks/week01_network_outputs.ipynb), [its exercises](exercises/week01/week01_exercises.ipynb)"
        ", the Makefile, [guide](docs/contributing.md#layout), [web](https://example.org), [top](#top)")
    # relative to the page that holds the link
    assert build_site.site_links("[home](../index.md), [x](x.md)", "docs/contributing.md", PAGES) == "[home](../index.md), x"


def test_the_readme_course_map_links_every_lecture_and_exercise_set():
    readme = (ROOT / "README.md").read_text()
    targets = set(re.findall(r"\]\(((?:notebooks|exercises)/[^)]+\.ipynb)\)", readme))
    assert sorted(t for t in targets if not (ROOT / t).exists()) == []
    assert sorted({p.relative_to(ROOT).as_posix() for p in LECTURES + EXERCISES} - targets) == []


def test_home_page_lists_lectures_then_exercises_in_hidden_tables_of_contents():
    page = build_site.home_page("# Course\n", ["notebooks/week01_a", "notebooks/week02_b"],
                                ["exercises/week01/week01_exercises"], PAGES)
    assert page.startswith("# Course\n")
    tocs = re.findall(r"```\{toctree\}\n:hidden:\n:caption: (\w[\w ]*)\n\n(.*?)\n```", page, flags=re.S)
    assert [(c, d.split("\n")) for c, d in tocs] == [
        ("Lectures", ["notebooks/week01_a", "notebooks/week02_b"]),
        ("Exercises", ["exercises/week01/week01_exercises"]),
        ("The course", ["run-it-yourself", "docs/contributing"])]


def _lecture_with_an_explorer(tmp_path, describe="Explorer: a line (sliders: slope in [-1, 1])"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    out = nbformat.v4.new_output("display_data", data={
        "text/plain": describe, "image/png": "iVBORw0KGgo=", build_site.WIDGET_VIEW: {"model_id": "x"}})
    nb.cells = [nbformat.v4.new_markdown_cell("# Week 01"), nbformat.v4.new_code_cell("exp", outputs=[out])]
    path = tmp_path / "notebooks" / "week01_x.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    return path


def _frames(tmp_path, describe="Explorer: a line (sliders: slope in [-1, 1])"):
    from course_utils import site
    from tests.site.test_frames import line_explorer

    folder = tmp_path / "frames"
    exp = line_explorer(two=False)
    site.render_frames(exp, folder / "0")
    (folder / "explorers.json").write_text(json.dumps([{"describe": describe, "dir": "0"}]))
    return folder, exp


def test_a_staged_lecture_shows_a_kernel_free_explorer_instead_of_the_widget(tmp_path, monkeypatch):
    monkeypatch.setattr(build_site, "ROOT", tmp_path)
    frames, exp = _frames(tmp_path, describe="Explorer: a line (sliders: slope in [-1, 1])")
    assert exp.describe() == "Explorer: a line (sliders: slope in [-1, 1])"
    path = _lecture_with_an_explorer(tmp_path)
    src = tmp_path / "src"
    (src / "notebooks").mkdir(parents=True)
    assert build_site.stage_lecture(path, frames, src) == 1
    staged = nbformat.read(src / "notebooks" / path.name, as_version=4)
    assert "widgets" not in staged.metadata
    (out,) = staged.cells[1].outputs
    assert set(out.data) == {"text/html", "text/plain"} and out.data["text/plain"] == exp.describe()
    assert 'class="course-site-explorer" data-base="../_static/explorers/week01_x/0/"' in out.data["text/html"]
    assert sorted(p.name for p in (src / "_static" / "explorers" / "week01_x" / "0").iterdir())[0] == "f000.png"


def test_a_lecture_whose_saved_explorers_differ_from_what_it_displays_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(build_site, "ROOT", tmp_path)
    frames, _ = _frames(tmp_path, describe="Explorer: something else (sliders: a in [0, 1])")
    path = _lecture_with_an_explorer(tmp_path)
    (tmp_path / "src" / "notebooks").mkdir(parents=True)
    with pytest.raises(build_site.BuildError, match="re-execute it: make execute NB=notebooks/week01_x.ipynb"):
        build_site.stage_lecture(path, frames, tmp_path / "src")


def test_frames_are_redrawn_when_the_lectures_code_changes_but_not_its_prose(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("text"), nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "week01_x.ipynb"
    nbformat.write(nb, path)
    key = build_site.frames_key(path)
    nb.cells[0].source = "other text"
    nbformat.write(nb, path)
    assert build_site.frames_key(path) == key
    nb.cells[1].source = "x = 2"
    nbformat.write(nb, path)
    assert build_site.frames_key(path) != key


def test_over_budget_explorers_fail_the_build(tmp_path):
    frames, _ = _frames(tmp_path)
    out = tmp_path / "site" / "_static" / "explorers" / "week01_x" / "0"
    out.mkdir(parents=True)
    (out / "f000.png").write_bytes(b"\0" * (3 * build_site.MB + 1))
    with pytest.raises(build_site.BuildError, match="week01_x explorer 0 is 3.0 MB"):
        build_site.check_budget(tmp_path / "site", {"week01_x": frames})
