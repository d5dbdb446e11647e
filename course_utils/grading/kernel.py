"""The kernel that runs student code: an ipykernel started under limits (`sandbox` step).

Set by the environment: COURSE_GRADER_MEMORY_MB (address-space cap), COURSE_GRADER_FILE_MB (largest
file it may write), COURSE_GRADER_HIDE (folders replaced by an empty one: the solutions, the
gradebook, the grading output) and COURSE_GRADER_READONLY (folders made read-only: the course).
Hiding needs Linux mount namespaces (root, or unprivileged user namespaces); where they are not
available the kernel still runs, with the limits only. ``--probe`` reports which is the case.
"""

import ctypes
import os
import resource
import signal
import sys

CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18


def _limit(which: int, megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    try:
        resource.setrlimit(which, (limit, limit))
    except (ValueError, OSError):  # a hard limit already lower than ours: keep it
        pass


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _new_mount_namespace(libc) -> bool:
    if libc.unshare(CLONE_NEWNS) == 0:
        return True
    uid, gid = os.getuid(), os.getgid()  # without root: a user namespace that maps us to ourselves
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
        return False
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)
    return True


def isolate(hide: list[str], readonly: list[str]) -> bool:
    """Linux: in a private mount namespace, make ``readonly`` read-only and cover ``hide`` with empty folders."""
    if not sys.platform.startswith("linux") or not (hide or readonly):
        return False
    try:
        libc = _libc()
        if not _new_mount_namespace(libc) or libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            return False
        ok = True
        for path in filter(os.path.isdir, readonly):
            p = path.encode()
            ok &= libc.mount(p, p, None, MS_BIND | MS_REC, None) == 0
            ok &= libc.mount(None, p, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None) == 0
        for path in filter(os.path.isdir, hide):
            ok &= libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_RDONLY, b"size=16k,mode=555") == 0
        return bool(ok)
    except (OSError, AttributeError):
        return False


def _die_with_parent() -> None:
    """Linux: the kernel is killed when the process that started it dies (no orphaned student code)."""
    try:
        _libc().prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _preimport() -> None:
    """Import the heavy libraries before the first cell, so a cell's time limit is spent on the cell."""
    for name in os.environ.get("COURSE_GRADER_PREIMPORT", "").split(","):
        try:
            __import__(name.strip()) if name.strip() else None
        except Exception:  # the notebook's own import will report it
            pass


def _paths(var: str) -> list[str]:
    return [p for p in os.environ.get(var, "").split(os.pathsep) if p]


def main() -> None:
    isolated = isolate(_paths("COURSE_GRADER_HIDE"), _paths("COURSE_GRADER_READONLY"))
    if "--probe" in sys.argv:
        print("isolated" if isolated else "not isolated")
        return
    _limit(resource.RLIMIT_AS, int(os.environ.get("COURSE_GRADER_MEMORY_MB", "4096")))
    _limit(resource.RLIMIT_FSIZE, int(os.environ.get("COURSE_GRADER_FILE_MB", "64")))
    _limit(resource.RLIMIT_CORE, 0)
    _die_with_parent()
    _preimport()
    from ipykernel import kernelapp

    sys.argv[0] = "ipykernel_launcher"
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
