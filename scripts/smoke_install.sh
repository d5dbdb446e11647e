#!/usr/bin/env bash
# Install the course from scratch with another interpreter, then smoke-test that install.
# Usage: scripts/smoke_install.sh PYTHON [PREFIX]     (make smoke PYTHON=/usr/bin/python3.11)
#
# Builds a second environment (scripts/build_env.sh, default PREFIX /opt/loss-course-smoke) from
# PYTHON, then, with that environment only: imports the package and its helpers, and runs week 01's
# lecture under strict nbval against its committed outputs. Prints the time each part took.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 PYTHON [PREFIX]" >&2; exit 2; }
cd "$(dirname "$0")/.."
prefix=${2:-/opt/loss-course-smoke}
start=$(date +%s)
scripts/build_env.sh "$1" "$prefix" dev
built=$(date +%s)
# Run from a folder outside the checkout, so that the import really comes from the installed package.
(cd / && "$prefix/bin/python" -c 'import course_utils, course_utils.checks, course_utils.widgets, course_utils.grading, torch
print("course_utils imports from", course_utils.__file__.rsplit("/", 2)[0].split("/lib/")[0], "with torch", torch.__version__)')
"$prefix/bin/python" -m pytest -q -p no:cacheprovider --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg \
    notebooks/week01_network_outputs.ipynb
end=$(date +%s)
echo "smoke install with $("$prefix/bin/python" -V): build $((built - start)) s, smoke run $((end - built)) s, total $((end - start)) s"
