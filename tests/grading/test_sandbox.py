"""Does the sandbox step keep student code in its box? One batch of week-01 hand-ins, graded for real.

Each hostile hand-in here is honest elsewhere, so its score shows that grading still worked; what
it tried (copy a classmate, read planted secrets, reach the network, leave processes behind,
ignore the time limit) must have failed, which the test proves from the outside: the files the
grader wrote, the processes of the machine, a server the student code tried to reach.
"""

from __future__ import annotations

import csv
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from tests.grading.submissions import ROOT, honest, released, solved, write

pytestmark = pytest.mark.slow

TIMEOUT, GRACE = 4, 3  # --timeout of the batch; the grader's grace between interrupt and kill


COPIER = """
import json, os
_mine = {}
try:
    open(CLASSMATE).read()
    print("READ the classmate's file")
except OSError as _e:
    print("blocked", type(_e).__name__)
for _dir, _subdirs, _files in os.walk("/"):  # all but the system and the Python packages, so it ends in time
    _subdirs[:] = [d for d in _subdirs if os.path.join(_dir, d) not in ("/proc", "/sys", "/dev", "/usr")
                   and d != "site-packages" and not d.startswith("python3")]
    for _f in _files:
        if _f.endswith(".ipynb"):
            try:
                _nb = json.load(open(os.path.join(_dir, _f)))
                for _c in _nb["cells"]:
                    _src = "".join(_c["source"])
                    if MARKER[::-1] in _src:
                        _mine[os.path.join(_dir, _f)] = _src
                        exec(_src)
            except Exception:
                pass
print("copied from:", sorted(_mine))
"""

SNOOP = """
import os
_paths = PATHS
for _p in _paths:
    try:
        print("READ", _p, open(_p, errors="replace").read()[:300])
    except Exception as _e:
        print("blocked", _p, type(_e).__name__)
for _p in [f"/proc/{os.getppid()}/environ", f"/proc/{os.getppid()}/mem"]:  # the process that runs the kernel
    try:
        print("READ", _p, open(_p, "rb").read(100))
    except Exception as _e:
        print("blocked", _p, type(_e).__name__)
for _d in ["/", "/home", "/root", "/tmp", "/work", "..", "../..", "/proc/1/root", "/proc/1/cwd",
           f"/proc/{os.getppid()}/fd"]:
    try:
        print("LIST", _d, sorted(os.listdir(_d))[:40])
    except Exception as _e:
        print("blocked", _d, type(_e).__name__)
_token, _hits = TOKEN[::-1], []
for _dir, _subdirs, _files in os.walk("/"):
    _subdirs[:] = [d for d in _subdirs if os.path.join(_dir, d) not in ("/proc", "/sys", "/dev", "/usr")
                   and d != "site-packages" and not d.startswith("python3")]
    for _f in _files:
        try:
            _path = os.path.join(_dir, _f)
            if os.path.getsize(_path) < 100_000 and _token in open(_path, errors="replace").read():
                _hits.append(_path)
        except Exception:
            pass
print("HITS", _hits)
print("ENV", dict(os.environ))
"""

NETWORK = """
import socket, urllib.request
for _host, _port in [("127.0.0.1", PORT), ("1.1.1.1", 53), ("8.8.8.8", 443)]:
    try:
        socket.create_connection((_host, _port), timeout=2).close()
        print("CONNECTED", _host, _port)
    except OSError as _e:
        print("no network", _host, _port, type(_e).__name__)
try:
    print("RESOLVED", socket.gethostbyname("pypi.org"))
except OSError as _e:
    print("no dns", type(_e).__name__)
try:
    print("FETCHED", urllib.request.urlopen("http://127.0.0.1:PORT/", timeout=2).read())
except Exception as _e:
    print("no http", type(_e).__name__)
"""

LEFTOVER = """
import subprocess, sys
_a = subprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(1)", "MARKER-a"],
                      start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
subprocess.run(["/bin/sh", "-c", "(setsid " + sys.executable + " -c 'import time; time.sleep(900)' MARKER-b &) ; exit 0"])
print("started", _a.pid)
"""

DEAF_SIGIGN = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"
DEAF_CATCH = "import time\nwhile True:\n    try:\n        time.sleep(0.5)\n    except KeyboardInterrupt:\n        pass\n"


def _processes_with(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline and "pytest" not in cmdline:
                found.append(f"{entry.name}: {cmdline}")
    return found


class _Server(threading.Thread):
    """A TCP server on the grader's loopback that student code must not reach."""

    def __init__(self, secret: str):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.5)
        self.port, self.secret, self.connections, self.stop = self.sock.getsockname()[1], secret, 0, False

    def run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.sendall(f"HTTP/1.0 200 OK\r\n\r\n{self.secret}".encode())
            conn.close()
        self.sock.close()


def grade(submissions: Path, out: Path, *extra: str, env: dict | None = None, timeout: float = 600):
    cmd = [sys.executable, "-m", "course_utils", "grade", "--assignment", "week01", "--submissions", str(submissions),
           "--out", str(out), "--timeout", str(TIMEOUT), "--memory", "2048", "--jobs", "2", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ if env is None else env, PYTHONWARNINGS="ignore"))


def read_rows(out: Path) -> dict[str, dict]:
    with open(out / "grades.csv", encoding="utf-8") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


def autograded(out: Path, student: str) -> str:
    return (out / "autograded" / student / "week01" / "week01_exercises.ipynb").read_text(encoding="utf-8")


def printed(out: Path, student: str) -> str:
    """Everything the student's cells printed or raised, in the autograded notebook (not their source)."""
    nb = nbformat.reads(autograded(out, student), as_version=4)
    return "\n".join(o.get("text", "") + o.get("evalue", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.outputs)


def after_setup(nb, source: str):
    """``nb`` with an extra code cell (the student's own) right after the set-up cell."""
    setup = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    nb.cells.insert(setup + 1, nbformat.v4.new_code_cell(source))
    return nb


def with_cell(source: str):
    """An honest hand-in with an extra cell of the student's own."""
    return after_setup(honest(), source)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("sandbox")
    token = "tok-" + secrets.token_hex(12)
    marker = "mark-" + secrets.token_hex(8)
    planted = [base / "instructor" / "secret.txt", base / "submissions" / "secret_notes.txt", base / "home" / ".secret"]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"the secret is {token}\n")
    server = _Server(token)
    server.start()
    subs = base / "submissions"
    classmate = honest({gid: f"# {marker}\n{src}" for gid, src in solved().items()})
    write(classmate, subs / "classmate.ipynb")
    # the untouched student version (every answer a stub) plus a cell that looks for the classmate's answers
    copier = COPIER.replace("MARKER", repr(marker[::-1])).replace("CLASSMATE", repr(str(subs / "classmate.ipynb")))
    write(after_setup(released(), copier), subs / "copier.ipynb")
    paths = [str(p) for p in planted] + [str(ROOT / "solutions" / "week01" / "week01_exercises.ipynb"),
                                         str(ROOT / "README.md"), "/etc/shadow", "/root/.bash_history",
                                         "~/.secret", str(base / "out" / "gradebook.db")]
    write(with_cell(SNOOP.replace("PATHS", repr(paths)).replace("TOKEN", repr(token[::-1]))), subs / "snoop.ipynb")
    write(with_cell(NETWORK.replace("PORT", str(server.port))), subs / "network.ipynb")
    write(with_cell(LEFTOVER.replace("MARKER", marker)), subs / "leftover.ipynb")
    write(honest({"ex2_sigmoid": DEAF_SIGIGN}), subs / "deaf_sigign.ipynb")
    write(honest({"ex2_sigmoid": DEAF_CATCH}), subs / "deaf_catch.ipynb")

    seen: list[str] = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            seen.extend(p for p in _processes_with(marker) if p not in seen)
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    env = dict(os.environ, HOME=str(base / "home"), GRADER_TEST_SECRET=token)
    start = time.perf_counter()
    proc = grade(subs, base / "out", env=env)
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    server.stop = True
    left = _processes_with(marker)
    logs = {p.stem: p.read_text(encoding="utf-8") for p in (base / "out" / "logs").glob("*.log")}
    ran = {s: float(m.group(1)) for s, log in logs.items() if (m := re.search(r"\[grader\] ([\d.]+) s in the", log))}
    return {"proc": proc, "ran": ran, "out": base / "out", "token": token, "marker": marker, "server": server,
            "seen": seen, "left": left, "seconds": seconds,
            "rows": read_rows(base / "out") if proc.returncode == 0 else {}}


def test_the_batch_is_graded_in_the_sandbox(batch):
    proc = batch["proc"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "student code ran in the bubblewrap sandbox" in proc.stdout
    assert {r["mode"] for r in batch["rows"].values()} == {"sandbox"}
    assert "grading: 100%" in proc.stderr and "submission" in proc.stderr  # the progress bar, with its rate


def test_honest_work_still_gets_its_points(batch):
    for student in ("classmate", "snoop", "network", "leftover"):
        assert float(batch["rows"][student]["score"]) == 10, batch["rows"][student]


def test_a_classmate_cannot_be_copied(batch):
    """The copier's own answers are the stubs; whatever it finds on disk it cannot use, and since it exec()s
    what it finds, it gets no score at all until a person has looked (held for review)."""
    row = batch["rows"]["copier"]
    assert row["status"] == "held" and row["score"] == "" and "runs code from a string" in row["held"], row
    text = printed(batch["out"], "copier")
    assert "copied from: []" in text and "blocked FileNotFoundError" in text and "READ" not in text
    assert batch["marker"] not in text


def test_planted_secrets_appear_in_no_output_file(batch):
    """Secrets next to the submissions, in them, in the grader's home and its environment: in no file written."""
    token = batch["token"]
    for path in batch["out"].rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), f"the secret leaked into {path}"
    assert token not in batch["proc"].stdout
    text = printed(batch["out"], "snoop")
    assert "HITS []" in text
    assert "READ " not in text, "the snoop read a file outside its sandbox"
    assert text.count("blocked") >= 12  # every planted path, the checkout, /etc/shadow, /proc ... was tried and failed
    assert "BEGIN SOLUTION" not in text


def test_the_network_is_unreachable(batch):
    text = printed(batch["out"], "network")
    assert "CONNECTED" not in text and "RESOLVED" not in text and "FETCHED" not in text
    assert text.count("no network") == 3 and "no dns" in text and "no http" in text
    assert batch["server"].connections == 0, "student code reached a server on the grader's loopback"


def test_no_process_outlives_its_submission(batch):
    assert "started" in printed(batch["out"], "leftover")
    assert len(batch["seen"]) >= 2, f"the detached processes never ran: {batch['seen']}"
    assert batch["left"] == [], f"still running after grading: {batch['left']}"


@pytest.mark.parametrize("student", ["deaf_sigign", "deaf_catch"])
def test_a_cell_that_ignores_the_interrupt_is_killed_soon_after_the_limit(batch, student):
    row = batch["rows"][student]
    if student == "deaf_sigign":  # a signal handler can run at any moment, between the restore and a test: held
        assert row["status"] == "held" and row["score"] == "" and "handles signals" in row["held"], row
    else:
        assert float(row["score"]) == 1.5, row  # exercise 1 ran before the loop and keeps its points
    assert "ignored the interrupt" in row["problems"] and "NotGraded" in row["problems"]
    killed_after = float(re.search(r"\(([\d.]+) s after the cell started\)", row["problems"]).group(1))
    assert TIMEOUT <= killed_after <= TIMEOUT + GRACE + 1.5, row["problems"]
    spent = batch["ran"][student] - batch["ran"]["classmate"]  # and the whole submission is not held longer
    assert spent <= TIMEOUT + GRACE + 20, f"{student} held its sandbox {spent:.1f} s longer than an honest hand-in"


def test_hostile_code_is_flagged(batch):
    rows = batch["rows"]
    assert "starts processes" in rows["leftover"]["flags"]
    assert "uses the network" in rows["network"]["flags"]
    assert "handles signals" in rows["deaf_sigign"]["flags"]
    assert "accesses files at a computed path" in rows["snoop"]["flags"]
    assert "runs code from a string" in rows["copier"]["flags"]
    assert rows["classmate"]["flags"] == ""


def test_no_sandbox_prints_what_is_exposed_and_the_row_says_so(batch, tmp_path):
    """Re-grade one student without the sandbox: the warning is printed and only that row's mode changes."""
    write(honest(), tmp_path / "classmate.ipynb")
    proc = grade(tmp_path, batch["out"], "--student", "classmate", "--no-sandbox")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WITHOUT a sandbox" in proc.stderr and "read and change" in proc.stderr
    assert "student code ran WITHOUT a sandbox" in proc.stdout
    rows = read_rows(batch["out"])
    assert rows["classmate"]["mode"] == "no-sandbox"
    assert {r["mode"] for s, r in rows.items() if s != "classmate"} == {"sandbox"}


def test_refuses_without_bubblewrap(tmp_path):
    write(honest(), tmp_path / "subs" / "anna.ipynb")
    proc = grade(tmp_path / "subs", tmp_path / "out", env=dict(os.environ, COURSE_GRADER_BWRAP=""), timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cannot run student code in a sandbox here: bubblewrap (bwrap) is not installed" in proc.stderr
    assert "--no-sandbox" in proc.stderr and "apt-get install bubblewrap" in proc.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_refuses_where_namespaces_are_not_allowed(tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace, likely because the kernel "
                    "does not allow non-privileged user namespaces.' >&2\nexit 1\n")
    fake.chmod(0o755)
    write(honest(), tmp_path / "subs" / "anna.ipynb")
    proc = grade(tmp_path / "subs", tmp_path / "out", env=dict(os.environ, COURSE_GRADER_BWRAP=str(fake)), timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "No permissions to creating new namespace" in proc.stderr and "--no-sandbox" in proc.stderr


def test_the_sandbox_command_line_is_an_allow_list(tmp_path, monkeypatch):
    """No kernel here: what bubblewrap is told. Only named folders are bound, read-only, and a hidden
    folder that lies inside one of them (an output folder inside the Python environment) is covered."""
    from course_utils.grading import sandbox

    python = tmp_path / "python-env"
    inside = python / "grading_out"
    inside.mkdir(parents=True)
    monkeypatch.setattr(sandbox, "python_paths", lambda: [str(python)])
    box = sandbox.make_sandbox(tmp_path / "box", 1024, hidden=[inside, ROOT, Path.home()])
    box.bwrap = box.bwrap or "bwrap"
    args = box.bwrap_args()
    for flag in ("--die-with-parent", "--unshare-pid", "--unshare-net", "--new-session", "--unshare-ipc"):
        assert flag in args
    assert "--bind" not in args and "--dev-bind" not in args  # nothing of the host is writable
    sources = [args[i + 1] for i, a in enumerate(args) if a == "--ro-bind"]
    allowed = ["/usr", "/etc/", str(tmp_path / "box"), str(python)]
    assert all(any(s == a or s.startswith(a.rstrip("/") + "/") for a in allowed) for s in sources), sources
    assert str(ROOT) not in sources and str(Path.home()) not in sources
    assert args[args.index(str(inside)) - 1] == "--tmpfs" and args.index(str(inside)) > args.index(str(python))
    assert args[args.index(sandbox.SANDBOX_HOME) - 1] == "--tmpfs" and args[-2:] == ["--remount-ro", "/"]
    if os.geteuid() == 0:
        assert args[args.index("--cap-drop") + 1] == "ALL"
        assert box.env(sandbox.SANDBOX_HOME)["COURSE_GRADER_UID"] != "0"
    env = box.env(sandbox.SANDBOX_HOME)
    assert {"HOME", "PATH", "PYTHONPATH"} <= set(env) and not {"GRADER_TEST_SECRET", "COURSE_GRADEBOOK_URL"} & set(env)


def test_a_python_environment_under_tmp_is_bound_over_the_private_tmp(tmp_path, monkeypatch):
    """A checkout (and its .venv) under /tmp: the sandbox's empty /tmp must not cover the Python it runs."""
    from course_utils.grading import sandbox

    env = "/tmp/course-checkout/.venv"
    monkeypatch.setattr(sandbox, "python_paths", lambda: [env])
    box = sandbox.make_sandbox(tmp_path / "box", 1024)
    box.bwrap = box.bwrap or "bwrap"
    args = box.bwrap_args()
    tmpfs = [i for i, a in enumerate(args) if a == "/tmp" and args[i - 1] == "--tmpfs"]
    assert len(tmpfs) == 1, args
    bind = args.index(env, args.index("--ro-bind"))
    assert args[bind - 1] == "--ro-bind" and bind > tmpfs[0]
    dirs = [args[i + 1] for i, a in enumerate(args) if a == "--dir"]
    assert "/tmp/course-checkout" in dirs and args.index("/tmp/course-checkout") > tmpfs[0]
