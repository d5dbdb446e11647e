"""Step `sandbox`: run the `execute` step for one student in an allow-list sandbox (bubblewrap).

Each submission gets a fresh bubblewrap (``bwrap``) sandbox, built from nothing: it sees only

- the system (``/usr`` and its ``/bin``, ``/lib`` ... links, a few files of ``/etc`` the dynamic
  linker needs) and the Python environment the grader runs in, read-only;
- a read-only copy of ``course_utils`` (``/grader/lib``) and the kernelspec that starts
  ``course_utils.grading.kernel`` with the memory, file-size and process limits (``/grader/share``);
- its own scratch folder ``/home/student`` (HOME and working folder; a size-capped tmpfs), a private
  empty ``/tmp`` and ``/dev/shm`` (size-capped), a minimal ``/dev`` and its own ``/proc``.

Nothing else exists inside: not the submissions, not the other students' scratch or results, not
the output folder or the gradebook, not the course checkout, ``/home`` or ``/root``. It has its own
network namespace (no network, not even the grader's loopback), its own PID namespace (it sees
only its own processes, and all of them end with the submission) and dies with the grader
(``--die-with-parent``). Run as root, the grader gives each sandbox an unprivileged user id of its
own (``UID_BASE + n``) with no capabilities, so the process limit applies; otherwise bubblewrap maps
the grader's user into a user namespace. Of the grader's environment only the locale is passed on.

Without bubblewrap (``--no-sandbox``) the same steps run in a scratch folder on the host with the
limits only: student code then has the grader's rights.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .config import ROOT

MB = 1024 * 1024
SANDBOX_HOME = "/home/student"
SANDBOX_LIB = "/grader/lib"
SANDBOX_SHARE = "/grader/share"
HOME_MB, TMP_MB, SHM_MB = 256, 64, 64  # tmpfs caps of the scratch folder, /tmp and /dev/shm
FILE_MB = 64  # largest file student code may write
NPROC = 256  # processes and threads of one sandbox's user (applies when the grader runs as root)
UID_BASE = 2_000_000_000  # sandbox n runs as this + n when the grader is root
MAX_RESULT_MB = 64  # an executed notebook larger than this is not read
MAX_LOG = 1 * MB  # of the grading process's messages kept in logs/<student>.log
KILL_GRACE = 3.0  # seconds between the interrupt at the time limit and killing the kernel
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/alternatives")
KEEP_ENV = ("LANG", "LANGUAGE", "TZ", "TERM")
# Imported by the kernel before the first cell, so that a cell's time limit is spent on the cell.
# torch._inductor.config brings torch._dynamo (~2.5 s), which every torch.optim optimiser imports and which
# replaces torch.manual_seed as it loads: loaded here, the function the tests rely on is recorded as replaced.
PREIMPORT = ("numpy,numpy.testing,torch,torch.nn.functional,torch.testing,torch._inductor.config,"
             "course_utils.checks,course_utils.devices,course_utils.data")
SANDBOXED, UNSANDBOXED = "sandbox", "no-sandbox"

EXPOSED_WITHOUT_SANDBOX = (
    "student code runs WITHOUT a sandbox (--no-sandbox), with your user's rights: it can read and change\n"
    "every file you can (the course checkout with solutions/, the other hand-ins, the output folder,\n"
    "the gradebook, your home), reach the network and any database you can, and start processes that\n"
    "outlive grading. Only the time, memory and file-size limits and a scratch working folder apply.")


class SandboxUnavailable(Exception):
    """bubblewrap is missing or cannot create namespaces here."""


@dataclass(frozen=True)
class RunResult:
    """What one sandboxed run gives back: the executed notebook (None when nothing usable came back),
    a problem to report (None when all went well) and the seconds it took."""

    notebook: object | None
    problem: str | None
    seconds: float


def bwrap_path() -> str | None:
    """The bubblewrap binary: $COURSE_GRADER_BWRAP if set (an empty value means none), else ``bwrap`` on PATH."""
    if "COURSE_GRADER_BWRAP" in os.environ:
        path = os.environ["COURSE_GRADER_BWRAP"]
        return path if path and os.access(path, os.X_OK) else None
    return shutil.which("bwrap")


def _outermost(paths) -> list[str]:
    """Distinct existing folders, without those inside another one of them."""
    real = sorted({os.path.normpath(p) for p in paths if p and os.path.isdir(p)})
    keep: list[str] = []
    for p in real:
        if not any(p == k or p.startswith(k.rstrip("/") + "/") for k in keep):
            keep.append(p)
    return keep


def python_paths() -> list[str]:
    """The folders the grader's Python lives in (the environment and the installation it is based on)."""
    candidates = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
    candidates += [os.path.realpath(p) for p in candidates]
    candidates.append(str(Path(os.path.realpath(sys.executable)).parent.parent))
    inside_system = [p for p in SYSTEM_DIRS if os.path.isdir(p) and not os.path.islink(p)]
    return [p for p in _outermost(candidates)
            if p != "/" and not any(p == s or p.startswith(s + "/") for s in inside_system)]


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


@dataclass
class Sandbox:
    """The shared part of one grading run: the copy of course_utils, the kernelspec, the limits."""

    root: Path
    memory_mb: int
    isolate: bool = True
    hidden: list[Path] = field(default_factory=list)  # host folders that must stay invisible
    max_output: int = 100_000
    grace: float = KILL_GRACE
    bwrap: str | None = None
    preimport: str = PREIMPORT  # modules the kernel imports before the first cell (and records, see integrity.py)
    _slots: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def mode(self) -> str:
        return SANDBOXED if self.isolate else UNSANDBOXED

    @property
    def as_root(self) -> bool:
        return self.isolate and os.geteuid() == 0

    def _take_slot(self) -> int:
        with self._lock:
            slot = next(n for n in range(len(self._slots) + 1) if n not in self._slots)
            self._slots.add(slot)
            return slot

    def _give_slot(self, slot: int) -> None:
        with self._lock:
            self._slots.discard(slot)

    def env(self, home: str, slot: int = 0) -> dict[str, str]:
        """The whole environment of the grading process and its kernel (nothing else of the grader's)."""
        env = {k: v for k, v in os.environ.items() if k in KEEP_ENV or k.startswith("LC_")}
        lib, share = (SANDBOX_LIB, SANDBOX_SHARE) if self.isolate else (str(self.root / "lib"), str(self.root / "share"))
        share += "/jupyter"  # JUPYTER_PATH holds kernels/python3/kernel.json: the limited kernel, not the default
        env.update(
            HOME=home, USER="student", LOGNAME="student", TMPDIR="/tmp" if self.isolate else home,
            PATH=os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
            PYTHONPATH=lib, JUPYTER_PATH=share, JUPYTER_CONFIG_DIR=f"{home}/.jupyter",
            JUPYTER_DATA_DIR=f"{home}/.local/share/jupyter", JUPYTER_RUNTIME_DIR=f"{home}/.local/share/jupyter/runtime",
            JUPYTER_PLATFORM_DIRS="1", IPYTHONDIR=f"{home}/.ipython", MPLCONFIGDIR=f"{home}/.config/matplotlib",
            PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", PYDEVD_DISABLE_FILE_VALIDATION="1",
            COURSE_DEVICE="cpu", CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="agg",
            COURSE_GRADER_MEMORY_MB=str(self.memory_mb), COURSE_GRADER_FILE_MB=str(FILE_MB),
            COURSE_GRADER_PREIMPORT=self.preimport, COURSE_GRADER_HINTS="1",
        )
        if self.as_root:
            env.update(COURSE_GRADER_UID=str(UID_BASE + slot), COURSE_GRADER_NPROC=str(NPROC))
        return env

    def bwrap_args(self) -> list[str]:
        """The bubblewrap command line up to (not including) the command it runs."""
        if not self.bwrap:
            raise SandboxUnavailable("bubblewrap (bwrap) not found")
        args = [self.bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
                "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "grader"]
        if os.geteuid() == 0:  # root keeps every capability in the sandbox unless told otherwise
            args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        # the private /tmp first: a Python environment or checkout that lives under /tmp is bound on top of it
        args += ["--perms", "1777", "--size", str(TMP_MB * MB), "--tmpfs", "/tmp"]
        binds: list[tuple[str, str]] = []  # (host source, sandbox destination), read-only
        for d in SYSTEM_DIRS:
            if os.path.islink(d):
                args += ["--symlink", os.readlink(d), d]
            elif os.path.isdir(d):
                binds.append((d, d))
        binds += [(p, p) for p in python_paths()]
        binds += [(str(self.root / "lib"), SANDBOX_LIB), (str(self.root / "share"), SANDBOX_SHARE)]
        binds += [(str(self.root / "etc" / n), f"/etc/{n}") for n in ("passwd", "group")]
        binds += [(f, f) for f in ETC_FILES if os.path.exists(f)]
        # every folder on the way to a mount point is made traversable (bubblewrap creates them 0700)
        parents = sorted({str(p) for _, dest in binds for p in Path(dest).parents if str(p) != "/"}
                         | {str(Path(SANDBOX_HOME).parent)}, key=lambda p: (p.count("/"), p))
        for parent in parents:
            if not any(_inside(parent, dest) for _, dest in binds):
                args += ["--perms", "0755", "--dir", parent]
        for src, dest in binds:
            args += ["--ro-bind", src, dest]
        # a hidden folder inside a bound one (e.g. a checkout inside the Python prefix) is covered
        for hidden in sorted({os.path.realpath(h) for h in self.hidden if os.path.isdir(h)}):
            if any(_inside(hidden, dest) and hidden != dest for _, dest in binds):
                args += ["--tmpfs", hidden]
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--size", str(SHM_MB * MB), "--tmpfs", "/dev/shm",
                 "--perms", "1777", "--size", str(HOME_MB * MB), "--tmpfs", SANDBOX_HOME,
                 "--chdir", SANDBOX_HOME, "--remount-ro", "/"]
        return args

    def command(self, slot: int) -> tuple[list[str], dict[str, str], str | None]:
        """(argv, environment, host working folder or None) of the grading process of one submission."""
        execute = [sys.executable, "-m", "course_utils.grading.execute"]
        if self.isolate:
            return self.bwrap_args() + ["--", *execute], self.env(SANDBOX_HOME, slot), None
        home = tempfile.mkdtemp(prefix="student-", dir=self.root)
        return execute, self.env(home, slot), home

    def probe(self) -> str | None:
        """None if a sandbox starts here (and runs this Python); otherwise what bubblewrap said."""
        if not self.isolate:
            return None
        if not self.bwrap:
            return "bubblewrap (bwrap) is not installed"
        argv = self.bwrap_args() + ["--", sys.executable, "-c", "import course_utils.grading.context"]
        try:
            res = subprocess.run(argv, capture_output=True, text=True, env=self.env(SANDBOX_HOME), timeout=120,
                                 stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{self.bwrap} could not be started ({exc})"
        if res.returncode != 0:
            return (res.stderr.strip() or f"exit status {res.returncode}").splitlines()[-1][:300]
        return None


def _write_readable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_sandbox(root: Path, memory_mb: int, *, isolate: bool = True, hidden: list[Path] | None = None) -> Sandbox:
    """Copy course_utils (compiled, world-readable) and write the limited python3 kernelspec under ``root``."""
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or memory_mb < 64:
        raise ValueError(f"memory_mb must be a whole number of megabytes, at least 64, got {memory_mb!r}")
    lib = root / "lib" / "course_utils"
    shutil.copytree(ROOT / "course_utils", lib, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    compileall.compile_dir(lib, quiet=1, workers=1)  # the copy is read-only in the sandbox: compile it once here
    spec = root / "share" / "jupyter" / "kernels" / "python3"
    argv = [sys.executable, "-m", "course_utils.grading.kernel", "-f", "{connection_file}"]
    _write_readable(spec / "kernel.json", json.dumps({"argv": argv, "display_name": "Python 3 (graded)",
                                                      "language": "python"}))
    # the sandbox's users, for tools that look the user up (no other account exists inside)
    ids = [(UID_BASE + n, UID_BASE + n) for n in range(64)] if os.geteuid() == 0 else [(os.getuid(), os.getgid())]
    _write_readable(root / "etc" / "passwd", "".join(f"student:x:{u}:{g}::{SANDBOX_HOME}:/bin/false\n" for u, g in ids))
    _write_readable(root / "etc" / "group", "".join(f"student:x:{g}:\n" for _, g in ids))
    for base in (root / "lib", root / "share", root / "etc"):
        for dirpath, _dirs, filenames in os.walk(base):
            os.chmod(dirpath, 0o755)
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o644)
    os.chmod(root, 0o755)
    return Sandbox(root, memory_mb, isolate=isolate, hidden=list(hidden or []), bwrap=bwrap_path() if isolate else None)


class _Drain(threading.Thread):
    """Read a pipe to its end, keeping at most ``cap`` bytes (the rest is counted, not kept)."""

    def __init__(self, pipe, cap: int):
        super().__init__(daemon=True)
        self.pipe, self.cap, self.data, self.dropped = pipe, cap, bytearray(), 0

    def run(self):
        while chunk := self.pipe.read(65536):
            room = self.cap - len(self.data)
            self.data += chunk[:max(0, room)]
            self.dropped += max(0, len(chunk) - max(0, room))
        self.pipe.close()


def _kill(proc: subprocess.Popen) -> None:
    """The grading process and everything it started (the sandbox's PID namespace goes with bubblewrap)."""
    try:
        import psutil

        for child in psutil.Process(proc.pid).children(recursive=True):
            try:
                child.kill()
            except psutil.Error:
                pass
    except Exception:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


def run_sandboxed(nb, box: Sandbox, timeout: float, log_path: Path) -> RunResult:
    """Execute ``nb`` for one student in a fresh sandbox (see the module's docstring)."""
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    start = time.perf_counter()
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    limit = (timeout + box.grace + 5) * (n_code + 1) + 120  # every cell at its limit, plus kernel start
    job = json.dumps({"notebook": nb, "timeout": timeout, "grace": box.grace, "max_output": box.max_output}).encode()
    slot = box._take_slot()
    home = None
    try:
        argv, env, home = box.command(slot)
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=home or "/", env=env, start_new_session=True)
        out, err = _Drain(proc.stdout, MAX_RESULT_MB * MB), _Drain(proc.stderr, MAX_LOG)
        out.start()
        err.start()
        problem = None
        try:
            proc.stdin.write(job)
            proc.stdin.close()
        except OSError:  # it died before reading its job: the exit status says why
            pass
        try:
            proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            problem = f"grading stopped after {limit:.0f} s"
            _kill(proc)
            proc.wait()
        out.join(10)
        err.join(10)
    finally:
        box._give_slot(slot)
        if home:
            shutil.rmtree(home, ignore_errors=True)
    seconds = time.perf_counter() - start
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_bytes(bytes(err.data) + (f"\n[{err.dropped} more bytes not kept]".encode() if err.dropped else b"")
                         + f"\n[grader] {seconds:.1f} s in the {box.mode} (exit status {proc.returncode})\n".encode())
    if problem:
        return RunResult(None, problem, seconds)
    if out.dropped:
        return RunResult(None, f"the executed notebook was larger than {MAX_RESULT_MB} MB", seconds)
    if proc.returncode != 0 or not out.data:
        return RunResult(None, f"the grading process failed (exit status {proc.returncode})", seconds)
    try:
        return RunResult(nbformat.from_dict(json.loads(bytes(out.data))), None, seconds)
    except ValueError as exc:
        return RunResult(None, f"unreadable result from the grading process ({exc})", seconds)
