#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Create (or refresh) .venv from requirements/venv.txt with a Python >= 3.12, and expose the working tree as
# the collection tencentcloud.cvm under .build/collections. Prints nothing but errors when up to date.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
req="$root/requirements/venv.txt"
stamp="$venv/.requirements.sha256"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] \
        || ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    python="$("$root/scripts/find-python.sh")"
    echo "Creating $venv with $python ($("$python" --version 2>&1))" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
    echo "$want" > "$stamp"
fi

mkdir -p "$root/.build/collections/ansible_collections/tencentcloud"
ln -sfn "$root" "$root/.build/collections/ansible_collections/tencentcloud/cvm"
