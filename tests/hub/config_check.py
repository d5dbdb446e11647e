"""Check hub configuration against JupyterHub's own classes: every option is a real trait of a known
class, and every value passes that trait's type check.

Used for hub/jupyterhub_config.py (loaded by JupyterHub's own config loader) and for the
``hub.config`` block of the Zero to JupyterHub Helm values in hub/k8s/ (which the chart hands to
the same loader).
"""

from __future__ import annotations

from traitlets import TraitError
from traitlets.config import Config


def known_classes() -> dict[str, type]:
    """The configurable classes of JupyterHub and of the authenticators and culler the course uses."""
    from jupyterhub.app import JupyterHub
    from jupyterhub.auth import DummyAuthenticator, LocalAuthenticator, PAMAuthenticator
    from jupyterhub.proxy import ConfigurableHTTPProxy
    from jupyterhub.spawner import LocalProcessSpawner, SimpleLocalProcessSpawner
    from ltiauthenticator.lti13.auth import LTI13Authenticator
    from nativeauthenticator import NativeAuthenticator

    classes = {}
    for cls in [*JupyterHub().classes, JupyterHub, DummyAuthenticator, LocalAuthenticator, PAMAuthenticator,
                ConfigurableHTTPProxy, LocalProcessSpawner, SimpleLocalProcessSpawner, LTI13Authenticator,
                NativeAuthenticator]:
        for klass in cls.mro():
            if hasattr(klass, "class_traits") and klass.__name__ not in ("HasTraits", "HasDescriptors"):
                classes.setdefault(klass.__name__, klass)
    return classes


def problems(config: Config | dict, classes: dict[str, type] | None = None) -> list[str]:
    """What in ``config`` ({class name: {option: value}}) JupyterHub would not accept; empty when all is well."""
    if not isinstance(config, dict):
        raise TypeError(f"config must be a traitlets Config or a dict, got {type(config).__name__}")
    classes = known_classes() if classes is None else classes
    found = []
    for section, options in config.items():
        cls = classes.get(section)
        if cls is None:
            found.append(f"{section}: not a JupyterHub (or course authenticator) class")
            continue
        if not isinstance(options, dict):
            found.append(f"{section}: expected options, got {type(options).__name__}")
            continue
        traits = cls.class_traits(config=True)
        for name, value in options.items():
            if name not in traits:
                found.append(f"{section}.{name}: no such option")
                continue
            if callable(value) and not isinstance(value, type):
                continue  # hooks (pre_spawn_hook) are checked by running the hub
            try:
                traits[name].validate(cls.__new__(cls), value)
            except TraitError as exc:
                found.append(f"{section}.{name}: {str(exc).splitlines()[0]}")
    return found
