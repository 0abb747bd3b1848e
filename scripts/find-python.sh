#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Print the path of a Python >= 3.12 (what ansible-core 2.21 needs), or explain what to install and exit 1.
# Order: $PYTHON, then python3.14/3.13/3.12/python3 on PATH (each really run: a pyenv shim that cannot
# start is skipped), then pyenv's own installs, then uv-managed ones.
set -u
want_minor=12

ok() {
    [ -n "$1" ] && [ -x "$1" ] || command -v "$1" >/dev/null 2>&1 || return 1
    "$1" -c "import sys, venv, ensurepip; sys.exit(0 if sys.version_info[:2] >= (3, $want_minor) else 1)" >/dev/null 2>&1
}

resolve() {
    "$1" -c 'import sys; print(sys.executable)'
}

if [ -n "${PYTHON:-}" ]; then
    if ok "$PYTHON"; then resolve "$PYTHON"; exit 0; fi
    echo "PYTHON=$PYTHON is not a working Python >= 3.$want_minor with venv." >&2
    exit 1
fi

for name in python3.14 python3.13 python3.12 python3; do
    if ok "$name"; then resolve "$name"; exit 0; fi
done

roots=()
if command -v pyenv >/dev/null 2>&1; then roots+=("$(pyenv root 2>/dev/null)"); fi
roots+=("${PYENV_ROOT:-$HOME/.pyenv}")
for root in "${roots[@]}"; do
    [ -d "$root/versions" ] || continue
    for candidate in $(printf '%s\n' "$root"/versions/3.* | sort -t. -k2,2nr -k3,3nr); do
        if ok "$candidate/bin/python3"; then resolve "$candidate/bin/python3"; exit 0; fi
    done
done

for candidate in $(printf '%s\n' "$HOME"/.local/share/uv/python/cpython-3.* | sort -r); do
    if ok "$candidate/bin/python3"; then resolve "$candidate/bin/python3"; exit 0; fi
done

cat >&2 <<MSG
No Python >= 3.$want_minor found (ansible-core 2.21 needs it). Looked at \$PYTHON, python3.14/3.13/3.12/python3
on PATH, pyenv versions and uv-managed Pythons. Install one, for example:
  Debian/Ubuntu:  sudo apt-get install python3.12 python3.12-venv
  pyenv:          pyenv install 3.12
  uv:             uv python install 3.12
then run this again, or point PYTHON at it: PYTHON=/path/to/python3.12 make test
MSG
exit 1
