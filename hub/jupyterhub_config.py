# JupyterHub for a class on one machine: `make hub` (as root) runs `jupyterhub -f hub/jupyterhub_config.py`.
#
# - Users are local Unix users: each single-user server runs with its user's own rights
#   (LocalProcessSpawner). A user who logs in for the first time gets a Unix account with a private
#   home (0700).
# - Members of the Unix group `instructors` get the instructor's JupyterLab (nbgrader's Create
#   Assignment, Formgrader, course list); everyone else the student's (course_utils/jupyter_roles.py).
# - nbgrader's exchange is a shared folder with the permissions nbgrader documents (0777 root; nbgrader
#   makes inbound write-only and feedback unlistable).
# - The course's environment (scripts/build_env.sh, world-readable, e.g. /opt/loss-course) runs
#   every user's server and kernel. The idle culler stops servers nobody used for an hour.
# - Log-in is pluggable (COURSE_HUB_AUTH): `native` (NativeAuthenticator: sign-up, the admin
#   authorises) or `lti13` (students come from Canvas or Moodle through LTI 1.3). `dummy` (one shared
#   password) exists for the hub tests only and is refused anywhere else.
#
# Settings come from the environment (all optional except where said):
#   COURSE_HUB_ENV          the course environment (default /opt/loss-course)
#   COURSE_HUB_STATE        the hub's own files: database, cookie secret, role folders (default /srv/loss-course-hub)
#   COURSE_HUB_EXCHANGE     nbgrader's exchange folder (default /srv/nbgrader/exchange)
#   COURSE_HUB_COURSE_ID    nbgrader's course id (default loss-course)
#   COURSE_HUB_INSTRUCTORS  the Unix group of instructors (default instructors)
#   COURSE_HUB_ADMINS       comma-separated hub admins (default: none)
#   COURSE_HUB_IP, COURSE_HUB_PORT   where the proxy listens (default all addresses, port 8000)
#   COURSE_HUB_AUTH         native (default), lti13 or dummy (tests only)
#   COURSE_HUB_LTI_ISSUER, COURSE_HUB_LTI_CLIENT_ID, COURSE_HUB_LTI_AUTHORIZE_URL, COURSE_HUB_LTI_JWKS_URL
#                           the LMS's LTI 1.3 platform settings (lti13 only; all required)
#   COURSE_HUB_CULL_AFTER   seconds of inactivity before the culler stops a server (default 3600)
#   COURSE_HUB_THREADS      compute threads per kernel (default 1: students share the cores)
#   COURSE_HUB_EXTRA_CONFIG a further config file loaded last (site settings; the tests' API service)
# ruff: noqa: F821  (`c` and `load_subconfig` are provided by JupyterHub's config loader)

import os
import sys
from pathlib import Path

HUB_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(HUB_DIR))

import course_hub  # noqa: E402  (hub/course_hub.py, beside this file)

settings = course_hub.Settings.from_environ(os.environ)
course_hub.prepare_machine(settings)

c.JupyterHub.ip = settings.ip
c.JupyterHub.port = settings.port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.db_url = f"sqlite:///{settings.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(settings.state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(settings.state / "jupyterhub.pid")
c.ConfigurableHTTPProxy.command = [course_hub.proxy_command(HUB_DIR)]
c.ConfigurableHTTPProxy.pid_file = str(settings.state / "jupyterhub-proxy.pid")

# Log-in.
course_hub.configure_authenticator(c, settings, os.environ)
c.Authenticator.admin_users = set(settings.admins)

# Each user's server: their own Unix account, the course environment, their role.
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [str(settings.env / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
c.Spawner.environment = course_hub.user_environment(settings)
c.Spawner.pre_spawn_hook = course_hub.pre_spawn_hook(settings)
c.Spawner.args = ["--ServerApp.terminals_enabled=True", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]

# The idle culler, as a hub-managed service with only the rights it needs.
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={settings.cull_after}"],
}]
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}]

if settings.extra_config:
    load_subconfig(str(settings.extra_config))
