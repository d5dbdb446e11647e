#!/usr/bin/env bash
# Print the Python interpreter the Makefile should build .venv from, and say on stderr which one it is.
# Usage: scripts/find_python.sh [CANDIDATE]
#   CANDIDATE (PYTHON=... on the make line) is checked and used as it is; without one, the first of
#   python3.11, python3.12, python3.13 on the PATH that really runs is taken (a pyenv shim for a
#   version that is not selected does not run, and is passed over).
# Exits 1, naming the supported versions, when no supported interpreter is found.
set -u
supported="3.11, 3.12 or 3.13"
version_of() {  # prints e.g. "3.12.1" and succeeds only for a supported version
    "$1" -c 'import sys; v = sys.version_info; print("%d.%d.%d" % v[:3]); sys.exit(not (3, 11) <= v[:2] <= (3, 13))' 2>/dev/null
}
if [ -n "${1:-}" ]; then
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "error: PYTHON=$1 was not found; give the path of a Python $supported" >&2
        exit 1
    fi
    if ! v=$(version_of "$1"); then
        echo "error: PYTHON=$1 is Python ${v:-(it did not run)}; the course supports Python $supported" >&2
        exit 1
    fi
    echo "using PYTHON=$1 (Python $v)" >&2
    echo "$1"
    exit 0
fi
for candidate in python3.11 python3.12 python3.13; do
    command -v "$candidate" >/dev/null 2>&1 || continue
    if v=$(version_of "$candidate"); then
        echo "using $candidate (Python $v, $(command -v "$candidate")); PYTHON=... picks another" >&2
        echo "$candidate"
        exit 0
    fi
done
echo "error: no supported Python found on the PATH (looked for python3.11, python3.12, python3.13)." >&2
echo "Install Python $supported, or name one: make PYTHON=/path/to/python3.12 lab" >&2
exit 1
