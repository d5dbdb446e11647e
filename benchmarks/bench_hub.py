"""What does a class cost on one machine? N students run week 01's lecture at once on the course's hub.

Usage (as root, after `make hub-env`):  python benchmarks/bench_hub.py [--students 2 4 8] [--notebook PATH]
                                        (make bench-hub ARGS="--students 2 4 8")

For each N it starts the course's JupyterHub (hub/jupyterhub_config.py, loopback, the test-only
log-in, tests/hub/hub_utils.py), makes N Unix students, starts their servers through the hub, then
every student runs every code cell of the lecture top to bottom in their own kernel, all at the same
time, through the hub's proxy. It prints, per N:
- cell latency p50 / p95 / max: from the execute request to the kernel's idle, over all cells of
  all students (the first cell, which imports torch, reported apart: it is the cold start);
- wall time: from the first request to the last student's last cell;
- the three slowest cells (their median over the students);
- memory per student: the largest resident memory of all the student's processes (server and
  kernel) seen during the run, averaged over the students; and the machine's load average.
The users and the hub are removed afterwards. Goal: 8 concurrent students on 2 cores with cell p95 <= 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pwd
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from tests.hub import hub_utils as hu  # noqa: E402

LECTURE = ROOT / "notebooks" / "week01_network_outputs.ipynb"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, nargs="+", default=[2, 4, 8], help="class sizes to run (default 2 4 8)")
    parser.add_argument("--notebook", type=Path, default=LECTURE, help="the notebook every student runs")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.students):
        parser.error(f"--students must be positive whole numbers, got {args.students}")
    if not args.notebook.exists():
        parser.error(f"--notebook {args.notebook} does not exist")
    return args


def rss_by_uid(uids: set[int]) -> dict[int, int]:
    """Resident memory (bytes) of all processes of each uid."""
    total = dict.fromkeys(uids, 0)
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            uid = int(fields["Uid"].split()[0])
            if uid in total and "VmRSS" in fields:
                total[uid] += int(fields["VmRSS"].split()[0]) * 1024
        except (OSError, KeyError, ValueError):
            continue
    return total


async def run_cells(hub: hu.Hub, name: str, kernel: str, cells: list[str]) -> list[tuple[float, str | None]]:
    """Run ``cells`` one after the other in ``name``'s kernel; (seconds, error or None) per cell."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    url = f"ws://127.0.0.1:{hub.port}/user/{name}/api/kernels/{kernel}/channels"
    conn = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {hub.token}"}))
    session, timings = uuid.uuid4().hex, []
    try:
        for code in cells:
            msg_id = uuid.uuid4().hex
            header = {"msg_id": msg_id, "username": name, "session": session, "msg_type": "execute_request",
                      "version": "5.3", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                       "allow_stdin": False, "stop_on_error": True}
            start, error = time.perf_counter(), None
            conn.write_message(json.dumps({"header": header, "parent_header": {}, "metadata": {},
                                           "content": content, "channel": "shell", "buffers": []}))
            while True:
                raw = await asyncio.wait_for(conn.read_message(), 600)
                if raw is None:
                    raise RuntimeError(f"{name}'s kernel closed its websocket")
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "error":
                    error = f"{msg['content']['ename']}: {msg['content']['evalue']}"
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
            timings.append((time.perf_counter() - start, error))
    finally:
        conn.close()
    return timings


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


def one_class(n: int, cells: list[str]) -> dict:
    tag = secrets.token_hex(2)
    names = [f"cb{tag}s{i}" for i in range(n)]
    group = f"cb{tag}instructors"
    subprocess.run(["groupadd", group], check=True, capture_output=True)
    base = Path(tempfile.mkdtemp(prefix="course-bench-hub-"))
    hub = None
    try:
        hub = hu.start_hub(base, group)
        for name in names:
            hub.login(name)
        t0 = time.perf_counter()
        for name in names:
            r = hub.api("POST", f"/users/{name}/server")
            assert r.status_code in (201, 202), r.text
        for name in names:
            hub.spawn(name, timeout=600)
        spawn_s = time.perf_counter() - t0
        kernels = {}
        for name in names:
            r = hub.server("POST", name, "api/kernels", json={"name": "python3"})
            r.raise_for_status()
            kernels[name] = r.json()["id"]
        uids = {pwd.getpwnam(name).pw_uid for name in names}
        peak = dict.fromkeys(uids, 0)
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                for uid, rss in rss_by_uid(uids).items():
                    peak[uid] = max(peak[uid], rss)
                stop.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()

        async def everyone():
            return await asyncio.gather(*(run_cells(hub, name, kernels[name], cells) for name in names))

        results = asyncio.run(everyone())
        wall = time.perf_counter() - start
        stop.set()
        sampler.join()
        load = os.getloadavg()
        errors = [e for timings in results for _, e in timings if e]
        first = [timings[0][0] for timings in results]
        rest = [t for timings in results for t, _ in timings[1:]]
        per_cell = [statistics.median(timings[i][0] for timings in results) for i in range(len(cells))]
        slowest = sorted(range(len(cells)), key=per_cell.__getitem__, reverse=True)[:3]
        return {"students": n, "cells": len(cells), "spawn_s": spawn_s, "wall_s": wall,
                "first_p50": statistics.median(first), "p50": percentile(rest, 50), "p95": percentile(rest, 95),
                "max": max(rest), "mem_gb": statistics.mean(peak.values()) / 1e9, "load": load,
                "errors": errors[:3], "slowest": [(i, per_cell[i]) for i in slowest]}
    finally:
        if hub is not None:
            hu.stop_hub(hub)
        hu.remove_users(names, group)
        subprocess.run(["rm", "-rf", str(base)], check=False)


def main(argv=None) -> int:
    args = parse_args(argv)
    missing = hu.missing_pieces()
    if missing:  # `make bench` runs every benchmark; this one needs the hub's pieces (make hub-env, root)
        print("hub benchmark not run, missing: " + "; ".join(missing))
        return 0
    nb = nbformat.read(args.notebook, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    os.environ.setdefault("PYTEST_CURRENT_TEST", "benchmarks/bench_hub.py")  # the hub's test-only log-in
    print(f"{args.notebook.name}: {len(cells)} code cells per student; {os.cpu_count()} cores")
    print(f"{'students':>8} {'spawn s':>8} {'wall s':>7} {'import s':>9} {'cell p50':>9} {'p95':>6} {'max':>6} "
          f"{'GB/student':>10}  load (1, 5, 15 min)")
    for n in args.students:
        r = one_class(n, cells)
        print(f"{r['students']:>8} {r['spawn_s']:>8.1f} {r['wall_s']:>7.1f} {r['first_p50']:>9.2f} {r['p50']:>9.2f} "
              f"{r['p95']:>6.2f} {r['max']:>6.2f} {r['mem_gb']:>10.2f}  {' '.join(f'{x:.1f}' for x in r['load'])}"
              + (f"  errors: {r['errors']}" if r["errors"] else ""), flush=True)
        print("         slowest cells (code cell: median s): "
              + ", ".join(f"{i}: {t:.2f}" for i, t in r["slowest"]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
