#!/usr/bin/env bash
# Build the course's environment from a given interpreter into a prefix that every user can run.
# Usage: scripts/build_env.sh PYTHON PREFIX [EXTRAS]     e.g. scripts/build_env.sh /usr/bin/python3.11 /opt/loss-course dev
#
# For a shared machine (a hub) or a second, clean install: the venv is made from PYTHON (a system
# interpreter, not one under a user's home, which other users cannot enter), course_utils is
# installed into it as a package (not as a link back to this checkout), with the exact tested set
# (constraints.txt), and the prefix is made world-readable. Prints the time it took.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 PYTHON PREFIX [EXTRAS]" >&2; exit 2; }
python=$1 prefix=$2 extras=${3:-}
cd "$(dirname "$0")/.."
python=$(scripts/find_python.sh "$python")
case "$prefix" in /*) ;; *) echo "error: PREFIX must be an absolute path, got $prefix" >&2; exit 2 ;; esac
case "$("$python" -c 'import sys; print(sys.base_prefix)')" in
    /root/*|/home/*) echo "warning: $python lives under a home folder; other users may not be able to run it" >&2 ;;
esac
start=$(date +%s)
umask 022
"$python" -m venv --clear "$prefix"
"$prefix/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$prefix/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt ".${extras:+[$extras]}"
chmod -R a+rX "$prefix"
echo "built $prefix from $python ($("$prefix/bin/python" -V)) in $(( $(date +%s) - start )) s"
