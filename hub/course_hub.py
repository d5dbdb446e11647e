"""The pieces of hub/jupyterhub_config.py that are code: settings, Unix accounts, roles, log-in.

Kept out of the config file so that they can be read and tested. Imports only the standard
library, JupyterHub's authenticators (when chosen) and course_utils.jupyter_roles.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from course_utils.jupyter_roles import write_role_config

UNIX_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
AUTHENTICATORS = ("native", "lti13", "dummy")
LTI_SETTINGS = ("COURSE_HUB_LTI_ISSUER", "COURSE_HUB_LTI_CLIENT_ID", "COURSE_HUB_LTI_AUTHORIZE_URL",
                "COURSE_HUB_LTI_JWKS_URL")


class HubConfigError(ValueError):
    """A setting of the hub is missing or wrong; the message names it."""


@dataclass(frozen=True)
class Settings:
    env: Path
    state: Path
    exchange: Path
    course_id: str
    instructors: str
    admins: tuple[str, ...]
    ip: str
    port: int
    auth: str
    cull_after: int
    extra_config: Path | None
    threads: int = 1

    @classmethod
    def from_environ(cls, environ) -> Settings:
        get = environ.get
        try:
            port = int(get("COURSE_HUB_PORT", "8000"))
            cull_after = int(get("COURSE_HUB_CULL_AFTER", "3600"))
            threads = int(get("COURSE_HUB_THREADS", "1"))
        except ValueError as exc:
            raise HubConfigError("COURSE_HUB_PORT, COURSE_HUB_CULL_AFTER and COURSE_HUB_THREADS must be whole "
                                 f"numbers ({exc})") from None
        if threads < 1:
            raise HubConfigError(f"COURSE_HUB_THREADS must be at least 1, got {threads}")
        auth = get("COURSE_HUB_AUTH", "native")
        if auth not in AUTHENTICATORS:
            raise HubConfigError(f"COURSE_HUB_AUTH must be one of {AUTHENTICATORS}, got {auth!r}")
        course_id = get("COURSE_HUB_COURSE_ID", "loss-course")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", course_id):
            raise HubConfigError(f"COURSE_HUB_COURSE_ID must be letters, digits, . _ -; got {course_id!r}")
        paths = {}
        for var, default in (("COURSE_HUB_ENV", "/opt/loss-course"), ("COURSE_HUB_STATE", "/srv/loss-course-hub"),
                             ("COURSE_HUB_EXCHANGE", "/srv/nbgrader/exchange")):
            paths[var] = Path(get(var, default))
            if not paths[var].is_absolute():
                raise HubConfigError(f"{var} must be an absolute path, got {paths[var]}")
        extra = get("COURSE_HUB_EXTRA_CONFIG")
        return cls(env=paths["COURSE_HUB_ENV"], state=paths["COURSE_HUB_STATE"],
                   exchange=paths["COURSE_HUB_EXCHANGE"], course_id=course_id,
                   instructors=get("COURSE_HUB_INSTRUCTORS", "instructors"),
                   admins=tuple(a for a in get("COURSE_HUB_ADMINS", "").split(",") if a),
                   ip=get("COURSE_HUB_IP", ""), port=port, auth=auth, cull_after=cull_after,
                   extra_config=Path(extra) if extra else None, threads=threads)


def proxy_command(hub_dir: Path) -> str:
    """configurable-http-proxy as locked in hub/package-lock.json (`make hub` installs it), else the one on PATH."""
    path = hub_dir / "node_modules" / ".bin" / "configurable-http-proxy"
    return str(path) if path.exists() else "configurable-http-proxy"


def role_folder(settings: Settings, role: str) -> Path:
    return settings.state / "roles" / role


def prepare_machine(settings: Settings) -> None:
    """The hub's folders: its state (root's), the role folders and nbgrader's exchange (shared)."""
    if not (settings.env / "bin" / "jupyterhub-singleuser").exists():
        raise HubConfigError(f"COURSE_HUB_ENV={settings.env} has no bin/jupyterhub-singleuser: build it with "
                             f"scripts/build_env.sh /usr/bin/python3.11 {settings.env} hub")
    for folder in (settings.state, settings.exchange, settings.env):
        for parent in folder.parents:
            if parent.exists() and not parent.stat().st_mode & 0o001:
                raise HubConfigError(f"{parent} (above {folder}) is closed to other users (mode "
                                     f"{oct(parent.stat().st_mode & 0o777)}): students' servers could not reach {folder}")
    settings.state.mkdir(parents=True, exist_ok=True)
    settings.state.chmod(0o755)  # the role folders below are read by every user's server
    (settings.state / "roles").mkdir(exist_ok=True)
    (settings.state / "roles").chmod(0o755)
    for role in ("student", "instructor"):
        folder = write_role_config(role, role_folder(settings, role))
        lines = ["c = get_config()  # noqa: F821",
                 f"c.CourseDirectory.course_id = {settings.course_id!r}",
                 f"c.Exchange.root = {str(settings.exchange)!r}"]
        (folder / "nbgrader_config.py").write_text("\n".join(lines) + "\n")
        (folder / "nbgrader_config.py").chmod(0o644)
    # nbgrader's documented exchange: a folder every user may write to; nbgrader itself gives the
    # course's inbound folder write-only rights and its feedback folder no listing.
    settings.exchange.mkdir(parents=True, exist_ok=True)
    settings.exchange.chmod(0o777)


def configure_authenticator(c, settings: Settings, environ) -> None:
    """Set ``c.JupyterHub.authenticator_class`` and its options for ``settings.auth``."""
    if settings.auth == "native":
        c.JupyterHub.authenticator_class = "nativeauthenticator.NativeAuthenticator"
        c.NativeAuthenticator.open_signup = False  # an admin authorises each sign-up at /hub/authorize
        c.NativeAuthenticator.minimum_password_length = 10
        c.NativeAuthenticator.check_common_password = True
        c.Authenticator.allow_all = True  # every account the admin authorised
    elif settings.auth == "lti13":
        missing = [v for v in LTI_SETTINGS if not environ.get(v)]
        if missing:
            raise HubConfigError(f"COURSE_HUB_AUTH=lti13 needs {', '.join(missing)}")
        c.JupyterHub.authenticator_class = lti13_authenticator()
        c.LTI13Authenticator.issuer = environ["COURSE_HUB_LTI_ISSUER"]
        c.LTI13Authenticator.client_id = [environ["COURSE_HUB_LTI_CLIENT_ID"]]
        c.LTI13Authenticator.authorize_url = environ["COURSE_HUB_LTI_AUTHORIZE_URL"]
        c.LTI13Authenticator.jwks_endpoint = environ["COURSE_HUB_LTI_JWKS_URL"]
        # The LMS's claim that names the user (an e-mail address by default), made a Unix name by lti_unix_name.
        c.LTI13Authenticator.username_key = environ.get("COURSE_HUB_LTI_USERNAME_KEY", "email")
        c.Authenticator.allow_all = True  # who may come is decided in the LMS's course
    else:  # dummy: the hub tests only
        password = environ.get("COURSE_HUB_DUMMY_PASSWORD", "")
        if not environ.get("PYTEST_CURRENT_TEST") or len(password) < 16:
            raise HubConfigError("COURSE_HUB_AUTH=dummy is for the hub tests only (under pytest, with "
                                 "COURSE_HUB_DUMMY_PASSWORD of 16+ characters); use native or lti13")
        if settings.ip not in ("127.0.0.1", "localhost"):
            raise HubConfigError("COURSE_HUB_AUTH=dummy listens on loopback only: set COURSE_HUB_IP=127.0.0.1")
        c.JupyterHub.authenticator_class = "dummy"
        c.DummyAuthenticator.password = password
        c.Authenticator.allow_all = True
    c.Authenticator.username_pattern = UNIX_NAME.pattern  # every hub user becomes a Unix user of that name


def lti_unix_name(claim: str) -> str:
    """A Unix user name from what the LMS sends: ``Anna.Berg@uni.example`` -> ``anna-berg``."""
    if not isinstance(claim, str) or not claim.strip():
        raise HubConfigError(f"the LMS sent no usable user name, got {claim!r}")
    name = re.sub(r"[^a-z0-9_-]+", "-", claim.split("@", 1)[0].lower()).strip("-")
    if not name or not re.match(r"[a-z_]", name):
        name = "u-" + name
    return name[:32].rstrip("-")


def lti13_authenticator():
    """LTI 1.3 log-in whose user names are Unix names (every hub user is a Unix user here)."""
    from ltiauthenticator.lti13.auth import LTI13Authenticator

    class CourseLTI13Authenticator(LTI13Authenticator):
        def normalize_username(self, username):
            return lti_unix_name(super().normalize_username(username))

    return CourseLTI13Authenticator


def unix_name(name: str) -> str:
    """``name`` if it is a valid Unix user name for the hub, else a clear error."""
    if not isinstance(name, str) or not UNIX_NAME.fullmatch(name):
        raise HubConfigError(f"user name must be a Unix name (lower-case letters, digits, _ -; at most 32), got {name!r}")
    return name


def ensure_unix_user(name: str) -> pwd.struct_passwd:
    """The Unix account ``name``, created with a private home (0700) when missing; an existing home is made 0700."""
    name = unix_name(name)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True,
                       capture_output=True, text=True)
        entry = pwd.getpwnam(name)
    home = Path(entry.pw_dir)
    if not home.is_dir():
        home.mkdir(parents=True)
        os.chown(home, entry.pw_uid, entry.pw_gid)
    home.chmod(0o700)  # useradd -m gives 0755 on Debian: every student could read every other's files
    return entry


def is_instructor(name: str, group: str) -> bool:
    """Is ``name`` in the Unix group ``group`` (as a member or as its primary group)?"""
    try:
        g = grp.getgrnam(group)
    except KeyError:
        return False
    try:
        primary = pwd.getpwnam(name).pw_gid == g.gr_gid
    except KeyError:
        primary = False
    return primary or name in g.gr_mem


def user_environment(settings: Settings) -> dict[str, str]:
    """What every user's server gets: the course environment first on PATH, no user site-packages, and
    one compute thread per kernel (many students share the cores: more threads each only contend)."""
    return {
        "PATH": f"{settings.env / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "PYTHONNOUSERSITE": "1",
        "OMP_NUM_THREADS": str(settings.threads),
        "MKL_NUM_THREADS": str(settings.threads),
        "COURSE_HUB_COURSE_ID": settings.course_id,
    }


def pre_spawn_hook(settings: Settings):
    """The hook that gives a user their Unix account (0700 home) and their role before their server starts."""

    def hook(spawner) -> None:
        name = spawner.user.name
        entry = ensure_unix_user(name)
        role = "instructor" if is_instructor(name, settings.instructors) else "student"
        spawner.environment = {**spawner.environment, "JUPYTER_CONFIG_PATH": str(role_folder(settings, role)),
                               "COURSE_ROLE": role}
        spawner.log.info("course hub: %s (uid %d) starts as %s", name, entry.pw_uid, role)

    return hook

