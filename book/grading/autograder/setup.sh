#!/usr/bin/env bash
# Gradescope runs this once, as root, on its Ubuntu image, to build the autograder.
# It installs Python and what grading needs into $ROOT/venv, and makes the book's
# package (with its reference answers and the secret) readable by root only: the
# learner's kernel runs as an unprivileged user and must not read it.
set -euo pipefail
ROOT="${GRADESCOPE_ROOT:-/autograder}"
SOURCE="$ROOT/source"

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi

# The pinned versions (constraints.txt) need Python 3.11 or newer: Ubuntu 24.04 has
# 3.12; on 22.04 install 3.11 beside the system's 3.10.
PY=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    apt-get install -y -qq python3.11 python3.11-venv >/dev/null
    PY=python3.11
fi
"$PY" -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --upgrade pip
"$ROOT/venv/bin/python" -m pip install --quiet -r "$SOURCE/requirements-grade.txt" -c "$SOURCE/constraints.txt"

chmod 755 "$ROOT"
chmod -R go+rX "$ROOT/venv"   # the kernel user runs this Python
chmod 700 "$SOURCE"           # ...but never reads the book's package or the secret
