#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Virtualenvs from pinned requirements, and the pyenv-installed Pythons that ansible-test looks for by name.
#
#   scripts/pinned-venv.sh VENV REQUIREMENTS X.Y   create VENV with Python X.Y and install REQUIREMENTS (a pip
#                                                 freeze), or re-create it when REQUIREMENTS changed (its sha256 is
#                                                 kept in VENV/.requirements.sha256); silent when up to date
#   scripts/pinned-venv.sh --find X.Y             print the path of a Python X.Y that really starts (a pyenv shim
#                                                 of a version that is not selected does not), or exit 1
#
# Looked at, in order: python X.Y on PATH, pyenv's installs (pyenv root, $PYENV_ROOT, ~/.pyenv), /usr/bin.
set -euo pipefail

find_python() {
    local want="$1" candidate roots=()
    if command -v pyenv >/dev/null 2>&1; then roots+=("$(pyenv root 2>/dev/null)"); fi
    roots+=("${PYENV_ROOT:-$HOME/.pyenv}")
    for candidate in "python$want" $(for r in "${roots[@]}"; do printf '%s\n' "$r/versions/$want".*/bin/"python$want"; done \
            | sort -V -r) "/usr/bin/python$want"; do
        if "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$want'.split('.'))))" \
                >/dev/null 2>&1; then
            "$candidate" -c 'import os, sys; print(os.path.realpath(sys.executable))'  # a venv's: its base
            return 0
        fi
    done
    return 1
}

if [ "${1:-}" = "--find" ]; then
    find_python "$2"
    exit
fi

venv="$1" req="$2" want="$3"
stamp="$venv/.requirements.sha256"
sum="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
    exit 0
fi
python="$(find_python "$want")" || {
    echo "No Python $want found for $venv (looked at python$want on PATH, pyenv, /usr/bin): install it" \
         "(pyenv install $want, or apt-get install python$want python$want-venv)" >&2
    exit 1
}
echo "Creating $venv with $python from ${req#"$(pwd)/"}" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
echo "$sum" > "$stamp"
