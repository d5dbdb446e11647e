"""Run the course's JupyterHub (hub/jupyterhub_config.py) on loopback for a test, and act as its users.

* :func:`start_hub` starts ``jupyterhub`` from the project's .venv as root, with the test-only dummy
  log-in (a random password), its state, exchange and role folders in a temporary folder, and one
  extra API service whose token the test uses to start servers and reach them.
* :class:`Hub` logs users in through the log-in form, starts their servers, runs code in their
  kernels (as their own Unix user) and calls their servers' APIs (contents, nbgrader, nbgitpuller).
* The users are real Unix accounts; :func:`remove_users` deletes the ones a test made.

What the hub needs (root, useradd, the npm proxy, the course environment) is listed by
:func:`missing_pieces`; without it the tests skip, and under CI=true they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
HUB_ENV = Path(os.environ.get("COURSE_HUB_ENV", "/opt/loss-course"))
PROXY = ROOT / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
JUPYTERHUB = ROOT / ".venv" / "bin" / "jupyterhub"
ARTEFACTS = ROOT / "artefacts" / "hub"

EXTRA_CONFIG = """\
c.JupyterHub.services.append({{"name": "course-test", "api_token": {token!r}}})
c.JupyterHub.load_roles.append({{
    "name": "course-test",
    "scopes": ["admin:users", "admin:servers", "access:servers", "read:users"],
    "services": ["course-test"],
}})
c.Spawner.http_timeout = 180
c.Spawner.start_timeout = 180
"""


def missing_pieces() -> list[str]:
    """What this machine lacks to run the hub tests, each with how to get it."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (the hub creates Unix users and starts servers as them)")
    for tool in ("useradd", "userdel", "groupadd", "git"):
        if shutil.which(tool) is None:
            missing.append(f"{tool} (Debian: apt-get install passwd git)")
    if not PROXY.exists():
        missing.append(f"{PROXY.relative_to(ROOT)} (make hub-env: npm ci in hub/)")
    if not (HUB_ENV / "bin" / "jupyterhub-singleuser").exists():
        missing.append(f"the course environment {HUB_ENV} (make hub-env)")
    if not JUPYTERHUB.exists():
        missing.append(".venv/bin/jupyterhub (make hub-env installs the [hub] extra into .venv)")
    return missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_user(name: str, group: str | None = None) -> pwd.struct_passwd:
    """A Unix user made by the test (like an administrator would make an instructor)."""
    cmd = ["useradd", "--create-home", "--shell", "/bin/bash"] + (["--groups", group] if group else []) + [name]
    subprocess.run(cmd, check=True, capture_output=True)
    return pwd.getpwnam(name)


def processes_of(uid: int) -> list[int]:
    """Ids of the processes running as ``uid``."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in status.read_text().splitlines():
                if line.startswith("Uid:") and int(line.split()[1]) == uid:
                    found.append(int(status.parent.name))
    return found


def remove_users(names, group: str | None = None) -> None:
    """Delete the test's users with their homes, after stopping any process still running as them."""
    for name in names:
        try:
            uid = pwd.getpwnam(name).pw_uid
        except KeyError:
            continue
        for pid in processes_of(uid):  # only processes of a user this test made
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        subprocess.run(["userdel", "--remove", name], capture_output=True)
    if group:
        subprocess.run(["groupdel", group], capture_output=True)


@dataclass
class Hub:
    proc: subprocess.Popen
    port: int
    token: str
    password: str
    base: Path
    log: Path
    kernels: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def exchange(self) -> Path:
        return self.base / "exchange"

    # ---------------------------------------------------------------- the hub's API (test service token)
    def api(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        return requests.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=60, **kw)

    def login(self, name: str, password: str | None = None) -> requests.Session:
        """Log ``name`` in through the hub's log-in form; returns the browser-like session (cookies set)."""
        session = requests.Session()
        session.get(f"{self.url}/hub/login", timeout=30).raise_for_status()
        data = {"username": name, "password": self.password if password is None else password,
                "_xsrf": session.cookies.get("_xsrf", "")}
        r = session.post(f"{self.url}/hub/login", data=data, allow_redirects=False, timeout=30)
        if r.status_code != 302:
            raise PermissionError(f"log-in of {name} refused ({r.status_code})")
        return session

    def spawn(self, name: str, timeout: float = 180.0) -> None:
        r = self.api("POST", f"/users/{name}/server")
        assert r.status_code in (201, 202, 400), f"spawn of {name}: {r.status_code} {r.text}"  # 400: already running
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.api("GET", f"/users/{name}").json().get("servers", {}).get("")
            if server and server.get("ready"):
                return
            if server is None and time.monotonic() > deadline - timeout + 5:
                raise RuntimeError(f"the server of {name} stopped while starting; hub log:\n{self.tail()}")
            time.sleep(0.5)
        raise TimeoutError(f"the server of {name} was not ready within {timeout:.0f} s; hub log:\n{self.tail()}")

    def stop_server(self, name: str) -> None:
        self.api("DELETE", f"/users/{name}/server")

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    # ---------------------------------------------------------------- a user's own server
    def server(self, method: str, name: str, path: str, **kw) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        return requests.request(method, f"{self.url}/user/{name}/{path.lstrip('/')}", headers=headers,
                                timeout=kw.pop("timeout", 120), **kw)

    def run(self, name: str, code: str, timeout: float = 120.0) -> str:
        """Run ``code`` in a kernel of ``name``'s server (as that Unix user); returns its stdout.

        An exception in the code raises RuntimeError with the kernel's error name and value.
        """
        if name not in self.kernels:
            r = self.server("POST", name, "api/kernels", json={"name": "python3"})
            r.raise_for_status()
            self.kernels[name] = r.json()["id"]
        ws = f"ws://127.0.0.1:{self.port}/user/{name}/api/kernels/{self.kernels[name]}/channels"
        return asyncio.run(_execute(ws, self.token, code, timeout))


async def _execute(url: str, token: str, code: str, timeout: float) -> str:
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    conn = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
    msg_id, session = uuid.uuid4().hex, uuid.uuid4().hex
    header = {"msg_id": msg_id, "username": "test", "session": session, "msg_type": "execute_request",
              "version": "5.3", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    content = {"code": code, "silent": False, "store_history": False, "user_expressions": {},
               "allow_stdin": False, "stop_on_error": True}
    conn.write_message(json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": content,
                                   "channel": "shell", "buffers": []}))
    out, error, done = [], None, False
    try:
        deadline = time.monotonic() + timeout
        while not done:
            raw = await asyncio.wait_for(conn.read_message(), max(0.1, deadline - time.monotonic()))
            if raw is None:
                raise RuntimeError("the kernel's websocket closed")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                error = f"{msg['content']['ename']}: {msg['content']['evalue']}"
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                done = True
    finally:
        conn.close()
    if error:
        raise RuntimeError(error)
    return "".join(out)


def start_hub(base: Path, instructors: str, timeout: float = 90.0) -> Hub:
    """Start the course's hub on a free loopback port with its folders under ``base``."""
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)  # users' servers read the role folders and use the exchange below it
    token, password, port = secrets.token_hex(32), secrets.token_urlsafe(24), free_port()
    extra = base / "test_config.py"
    extra.write_text(EXTRA_CONFIG.format(token=token))
    env = {**os.environ, "COURSE_HUB_ENV": str(HUB_ENV), "COURSE_HUB_STATE": str(base / "state"),
           "COURSE_HUB_EXCHANGE": str(base / "exchange"), "COURSE_HUB_INSTRUCTORS": instructors,
           "COURSE_HUB_IP": "127.0.0.1", "COURSE_HUB_PORT": str(port), "COURSE_HUB_AUTH": "dummy",
           "COURSE_HUB_DUMMY_PASSWORD": password, "COURSE_HUB_EXTRA_CONFIG": str(extra),
           "COURSE_HUB_CULL_AFTER": "3600"}
    log = base / "hub.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([str(JUPYTERHUB), "-f", str(ROOT / "hub" / "jupyterhub_config.py"),
                                 "--JupyterHub.hub_port=" + str(free_port())],
                                cwd=base, env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    hub = Hub(proc=proc, port=port, token=token, password=password, base=base, log=log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(requests.RequestException):
            if hub.api("GET", "/").status_code == 200:
                return hub
        time.sleep(0.5)
    stop_hub(hub)
    raise RuntimeError(f"the hub did not start within {timeout:.0f} s (exit {proc.poll()}):\n{hub.tail()}")


def stop_hub(hub: Hub) -> None:
    """Stop the hub, its proxy and culler, and every user server it started."""
    with contextlib.suppress(OSError, ProcessLookupError):
        os.killpg(hub.proc.pid, signal.SIGTERM)  # JupyterHub stops the servers it spawned on SIGTERM
    try:
        hub.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(hub.proc.pid, signal.SIGKILL)
        hub.proc.wait(timeout=10)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        shutil.copy(hub.log, ARTEFACTS / "hub.log")
