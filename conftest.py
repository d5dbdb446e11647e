"""Keep every Jupyter/IPython/matplotlib tool started by the tests out of the user's home.

This file sits at the repository root so that it applies to the unit tests and to
nbval's collection of ``notebooks/`` and ``solutions/`` alike.
"""

from course_utils.jupyter_env import isolate_this_process


def pytest_configure(config):
    isolate_this_process("course-test-home-")


# Notebooks under tests/ are fixtures (deliberately broken explorers, hostile submissions):
# they are inputs of tests, never validated by nbval themselves.
collect_ignore_glob = ["tests/*.ipynb", "tests/*/*.ipynb", "tests/*/*/*.ipynb", "tests/*/*/*/*.ipynb"]
