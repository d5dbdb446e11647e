"""The course for a class on a real JupyterHub (hub/jupyterhub_config.py), started by the test on loopback.

One hub, one instructor (in the instructors group) and four students, all real Unix users made
for the test and removed after it. In order:
- log-in: the right password opens the hub, a wrong one does not;
- each server runs as its user's own uid, homes are 0700, and the role follows the group
  (the formgrader answers the instructor only);
- the assignment round trip through nbgrader's exchange: the instructor releases week 01, the
  students fetch it through their servers' Assignments API (what the Assignments tab calls), answer
  (one honest, one the stub, one with a wrong answer) and submit; the instructor collects, grades
  the collected layout with `python -m course_utils grade` (sandboxed) and releases the feedback;
  each student fetches feedback and gets only their own, with their own score;
- a fourth student logs in, fetches and submits week 01 by clicking in the Assignments tab (Chromium);
- isolation: a student's kernel cannot read another student's home or hand-in, the instructor's
  course folder or gradebook, nor list the exchange's inbound or feedback folders;
- nbgitpuller: a student pulls the course, edits an exercise, the course changes another cell,
  a second pull keeps both.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest

from tests.hub import hub_utils as hu

pytestmark = [pytest.mark.slow]

COURSE = "loss-course"
WEEK = "week01"
NB = f"{WEEK}_exercises.ipynb"


def require_hub():
    missing = hu.missing_pieces()
    if missing and os.environ.get("CI") == "true":
        pytest.fail("hub test cannot run in CI, missing: " + "; ".join(missing))
    if missing:
        pytest.skip("hub test skipped, missing: " + "; ".join(missing))


@pytest.fixture(scope="module")
def people():
    require_hub()
    tag = secrets.token_hex(2)
    names = {"instructor": f"ct{tag}ins", "honest": f"ct{tag}s1", "stub": f"ct{tag}s2", "wrong": f"ct{tag}s3",
             "browser": f"ct{tag}s4"}
    group = f"ct{tag}instructors"
    subprocess.run(["groupadd", group], check=True, capture_output=True)
    hu.add_user(names["instructor"], group)  # an administrator makes instructors; students come by logging in
    try:
        yield names, group
    finally:
        hu.remove_users(names.values(), group)


@pytest.fixture(scope="module")
def hub(people, tmp_path_factory):
    names, group = people
    base = Path(tempfile.mkdtemp(prefix="course-hub-"))  # not under pytest's own 0700 folder: users reach it
    server = hu.start_hub(base, group)
    try:
        yield server
    finally:
        hu.stop_hub(server)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def running(hub, people):
    """Everyone logged in once through the form (which makes the hub users) and their servers started."""
    names, _ = people
    for name in names.values():
        hub.login(name)
    for name in names.values():
        hub.spawn(name)
    return names


def home(name: str) -> str:
    return pwd.getpwnam(name).pw_dir


def as_json(hub, name, code):
    return json.loads(hub.run(name, code).strip().splitlines()[-1])


# ----------------------------------------------------------------------------- log-in, uids, homes, roles
def test_login_needs_the_password(hub, people):
    names, _ = people
    with pytest.raises(PermissionError):
        hub.login(names["honest"], password="not-the-password-" + secrets.token_hex(4))
    session = hub.login(names["honest"])
    r = session.get(f"{hub.url}/hub/home", timeout=30, allow_redirects=False)
    assert r.status_code == 200, f"/hub/home after log-in: {r.status_code}"


def test_servers_run_as_their_users_with_private_homes_and_their_role(hub, running):
    for role, name in running.items():
        entry = pwd.getpwnam(name)
        got = as_json(hub, name, "import os, json; print(json.dumps([os.getuid(), os.environ.get('COURSE_ROLE'),"
                                 " os.path.expanduser('~')]))")
        assert got[0] == entry.pw_uid, f"{name}'s server runs as uid {got[0]}, not {entry.pw_uid}"
        assert got[1] == ("instructor" if role == "instructor" else "student"), f"{name} has role {got[1]}"
        assert got[2] == entry.pw_dir
        mode = stat.S_IMODE(os.stat(entry.pw_dir).st_mode)
        assert mode == 0o700, f"{name}'s home is {oct(mode)}, not 0o700"
        status = hub.server("GET", name, "formgrader").status_code
        if role == "instructor":
            assert status == 200, f"the formgrader does not answer the instructor ({status})"
        else:
            assert status == 404, f"the formgrader answers student {name} ({status})"


# ----------------------------------------------------------------------------- the round trip
def answer(fetched: dict, how: str) -> dict:
    """The fetched exercise notebook, answered: honestly (the solutions), as the stub, or with one wrong answer."""
    nb = nbformat.from_dict(fetched)
    if how == "stub":
        return nb
    solution = nbformat.read(hu.ROOT / "solutions" / WEEK / NB, as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
            if how == "wrong" and grade_id == "ex4_logits_to_classes":
                assert "argmax" in cell.source
                cell.source = cell.source.replace("argmax", "argmin")
    return nb


def instructor_sh(hub, name, command: str, timeout: float = 600) -> str:
    """Run a shell command in the instructor's course folder from their own kernel (their rights, their env)."""
    code = (f"import subprocess, os\n"
            f"r = subprocess.run({command!r}, shell=True, cwd=os.path.expanduser('~/course'), text=True,"
            f" capture_output=True, timeout={timeout})\n"
            f"print(r.stdout[-3000:], r.stderr[-3000:])\n"
            f"assert r.returncode == 0, f'exit {{r.returncode}}: ' + r.stdout[-2000:] + r.stderr[-2000:]")
    return hub.run(name, code, timeout=timeout + 30)


def nbgrader_action(hub, name, action):
    r = hub.server("POST", name, f"assignments/{action}", data={"course_id": COURSE, "assignment_id": WEEK})
    assert r.status_code == 200, f"{action} for {name}: {r.status_code} {r.text[:300]}"
    return r.json()


@pytest.fixture(scope="module")
def round_trip(hub, running):
    ins = running["instructor"]
    course = os.path.join(home(ins), "course")
    # The instructor's course folder: what a clone of the course holds for week 01 (the grader runs from it).
    shutil.copytree(hu.ROOT / "solutions" / WEEK, os.path.join(course, "solutions", WEEK))
    shutil.copytree(hu.ROOT / "exercises" / WEEK, os.path.join(course, "exercises", WEEK))
    shutil.copy(hu.ROOT / "nbgrader_config.py", course)
    shutil.copytree(hu.ROOT / "course_utils", os.path.join(course, "course_utils"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    uid, gid = pwd.getpwnam(ins).pw_uid, pwd.getpwnam(ins).pw_gid
    for dirpath, _, files in os.walk(course):
        os.chown(dirpath, uid, gid)
        for f in files:
            os.chown(os.path.join(dirpath, f), uid, gid)
    log = {"release": instructor_sh(hub, ins, f"nbgrader db assignment add {WEEK} && nbgrader release_assignment {WEEK}")}
    listed = {}
    for how in ("honest", "stub", "wrong"):
        name = running[how]
        listed[how] = nbgrader_action(hub, name, "fetch")
        fetched = hub.server("GET", name, f"api/contents/{WEEK}/{NB}").json()["content"]
        nb = answer(fetched, how)
        r = hub.server("PUT", name, f"api/contents/{WEEK}/{NB}",
                       json={"type": "notebook", "format": "json", "content": nb})
        assert r.status_code == 200, r.text[:300]
        nbgrader_action(hub, name, "submit")
    log["collect"] = instructor_sh(hub, ins, f"nbgrader collect {WEEK}")
    log["grade"] = instructor_sh(hub, ins, f"python -m course_utils grade --assignment {WEEK} --submissions submitted "
                                           f"--out graded --jobs 2")
    # nbgrader's release_feedback reads each student's feedback next to their hand-in's stamp and secret.
    log["release_feedback"] = instructor_sh(
        hub, ins,
        f"for d in submitted/*/{WEEK}; do s=$(basename $(dirname $d)); mkdir -p feedback/$s/{WEEK}; "
        f"cp graded/feedback/$s/{WEEK}/*.html $d/timestamp.txt $d/submission_secret.txt feedback/$s/{WEEK}/; done; "
        f"nbgrader release_feedback {WEEK}")
    for how in ("honest", "stub", "wrong"):
        nbgrader_action(hub, running[how], "fetch_feedback")
    return {"log": log, "listed": listed, "course": course}


def test_release_fetch_submit_collect_grade_feedback(hub, running, round_trip):
    course = round_trip["course"]
    listed = round_trip["listed"]["honest"]
    assert listed["success"], listed
    assert any(a["assignment_id"] == WEEK and a["status"] == "fetched" for a in listed["value"]), listed
    for how in ("honest", "stub", "wrong"):
        assert os.path.exists(os.path.join(course, "submitted", running[how], WEEK, NB)), f"{how} not collected"
    with open(os.path.join(course, "graded", "grades.csv")) as fh:
        text = fh.read()
    scores = {}
    for line in text.splitlines()[1:]:
        fields = line.split(",")
        scores[fields[0]] = fields
    assert set(scores) == {running[h] for h in ("honest", "stub", "wrong")}, text


def feedback_of(name):
    found = []
    for dirpath, _, files in os.walk(os.path.join(home(name), WEEK, "feedback")):
        found += [os.path.join(dirpath, f) for f in files if f.endswith(".html")]
    return found


@pytest.mark.parametrize("how, score", [("honest", "10"), ("stub", "0"), ("wrong", "8")])
def test_each_student_gets_only_their_own_feedback(hub, running, round_trip, how, score):
    pages = feedback_of(running[how])
    assert len(pages) == 1, f"{how} has feedback pages {pages}"
    text = open(pages[0]).read()
    assert running[how] in text or "Score" in text
    others = [running[h] for h in ("honest", "stub", "wrong") if h != how]
    assert not any(o in text for o in others), f"{how}'s feedback names another student"
    grade = [line for line in open(os.path.join(round_trip["course"], "graded", "grades.csv"))
             if line.startswith(running[how] + ",")]
    assert grade and f",{score}" in grade[0], f"{how}: {grade}"


def test_a_student_fetches_and_submits_in_the_assignments_tab(hub, running, round_trip, tmp_path):
    """The released week 01, fetched and submitted by clicking in JupyterLab's Assignments tab (Chromium)."""
    from tests.test_browser import require_browser

    require_browser()
    from playwright.sync_api import sync_playwright

    from tests import browser_utils as bu

    name = running["browser"]
    with sync_playwright() as pw:
        context = bu.launch_browser(pw, tmp_path / "profile", width=1280, height=800)
        try:
            page = context.new_page()
            page.goto(f"{hub.url}/hub/login?next=/user/{name}/lab", timeout=60_000)
            page.fill("#username_input", name)
            page.fill("#password_input", hub.password)
            page.click("#login_submit")
            page.wait_for_url(f"**/user/{name}/lab**", timeout=120_000)
            page.get_by_role("menuitem", name="Nbgrader").click(timeout=60_000)
            page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
            fetch = page.locator("#released_assignments_list button", has_text="Fetch")
            fetch.click(timeout=60_000)
            submit = page.locator("#fetched_assignments_list button", has_text="Submit")
            submit.click(timeout=60_000)
            page.locator("#submitted_assignments_list", has_text=WEEK).wait_for(timeout=60_000)
            hu.ARTEFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(hu.ARTEFACTS / "assignments-tab.png"))
        finally:
            context.close()
    inbound = hub.exchange / COURSE / "inbound"
    assert any(p.name.startswith(f"{name}+{WEEK}+") for p in inbound.iterdir()), "no hand-in from the browser"
    assert os.path.exists(os.path.join(home(name), WEEK, NB)), "the fetched notebook is not in the student's home"


# ----------------------------------------------------------------------------- isolation
def test_a_student_cannot_read_others_or_the_instructor(hub, running, round_trip):
    me, other = running["honest"], running["stub"]
    targets = {
        "another student's home": home(other),
        "another student's hand-in": os.path.join(home(other), WEEK, NB),
        "the instructor's course folder": round_trip["course"],
        "the instructor's gradebook": os.path.join(round_trip["course"], "graded", "gradebook.db"),
        "the instructor's collected hand-ins": os.path.join(round_trip["course"], "submitted", other, WEEK, NB),
        "the exchange's inbound folder": str(hub.exchange / COURSE / "inbound"),
        "the exchange's feedback folder": str(hub.exchange / COURSE / "feedback"),
    }
    for what, path in targets.items():
        assert os.path.exists(path), f"{what} ({path}) does not exist: the check would prove nothing"
    code = ("import os, json\nres = {}\n"
            f"for what, path in {targets!r}.items():\n"
            "    try:\n"
            "        os.listdir(path) if os.path.isdir(path) else open(path, 'rb').read(1)\n"
            "        res[what] = 'read'\n"
            "    except PermissionError:\n"
            "        res[what] = 'refused'\n"
            "print(json.dumps(res))")
    got = as_json(hub, me, code)
    assert got == {what: "refused" for what in targets}, got
    # The same code as the owner reads it: the refusal comes from the rights, not from a broken check.
    mine = as_json(hub, me, code.replace(repr(targets), repr({"own home": home(me)})))
    assert mine == {"own home": "read"}


# ----------------------------------------------------------------------------- nbgitpuller
def git(*args, cwd):
    subprocess.run(["git", "-c", "user.name=Course", "-c", "user.email=course@example.org", *args], cwd=cwd,
                   check=True, capture_output=True)


def pull(hub, name, url):
    r = hub.server("GET", name, "git-pull/api", params={"repo": url, "branch": "main",
                                                         "targetpath": "loss-course"}, timeout=180)
    assert r.status_code == 200, r.text[:300]
    assert '"phase": "finished"' in r.text, f"nbgitpuller did not finish:\n{r.text[-2000:]}"


@pytest.fixture
def repo():
    """The course's git repository, served on loopback by `git daemon` as a remote would be."""
    path = Path(tempfile.mkdtemp(prefix="course-repo-"))
    port = hu.free_port()
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={path.parent}",
                               "--listen=127.0.0.1", f"--port={port}", str(path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield path, f"git://127.0.0.1:{port}/{path.name}"
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
        shutil.rmtree(path, ignore_errors=True)


def test_nbgitpuller_merges_a_course_update_with_the_students_edit(hub, running, repo):
    name, (repo, url) = running["wrong"], repo
    shutil.copytree(hu.ROOT / "exercises" / WEEK, repo / "exercises" / WEEK)
    git("init", "--initial-branch=main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-m", "course", cwd=repo)
    pull(hub, name, url)
    path = f"loss-course/exercises/{WEEK}/{NB}"
    nb = hub.server("GET", name, f"api/contents/{path}").json()["content"]
    code = [i for i, c in enumerate(nb["cells"]) if c["metadata"].get("nbgrader", {}).get("solution")]
    last = code[-1]
    nb["cells"][last]["source"] = "# the student's own work\n" + nb["cells"][last]["source"]
    hub.server("PUT", name, f"api/contents/{path}", json={"type": "notebook", "format": "json", "content": nb})
    # The course changes the first cell (far from the student's edit) and publishes it.
    course_nb = json.loads((repo / "exercises" / WEEK / NB).read_text())
    course_nb["cells"][0]["source"] = ["# Updated by the course\n"] + list(course_nb["cells"][0]["source"])
    (repo / "exercises" / WEEK / NB).write_text(json.dumps(course_nb, indent=1) + "\n")
    git("commit", "-am", "course update", cwd=repo)
    pull(hub, name, url)
    merged = hub.server("GET", name, f"api/contents/{path}").json()["content"]
    assert merged["cells"][0]["source"].startswith("# Updated by the course"), "the course update was lost"
    assert merged["cells"][last]["source"].startswith("# the student's own work"), "the student's edit was lost"

