#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The oldest supported controller: ansible-core 2.16 on Python 3.10 (README, "Supported versions"). Creates
# .build/venv-oldest from requirements/oldest.txt (PyPI, once), prints the versions, and runs the collection's
# unit tests and the integration core (pytest -m core: create, converge, check and diff mode, absent, info, security,
# tags, faults, interrupts, secrets at -vvvv) with that venv's ansible-playbook. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.build/venv-oldest"
req="$root/requirements/oldest.txt"
stamp="$venv/.requirements.sha256"

find_python310() {
    local candidate
    for candidate in "${PYTHON_OLDEST:-}" python3.10 "$(pyenv root 2>/dev/null)"/versions/3.10*/bin/python3.10 \
            "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10 /usr/bin/python3.10; do
        [ -n "$candidate" ] || continue
        if "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
            "$candidate" -c 'import sys; print(sys.executable)'
            return 0
        fi
    done
    echo "No Python 3.10 with venv found (set PYTHON_OLDEST, or: pyenv install 3.10)" >&2
    return 1
}

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    python="$(find_python310)"
    echo "Creating $venv with $python" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
    echo "$want" > "$stamp"
fi
"$root/scripts/venv.sh"  # the .build/collections link the tests use
cd "$root"
unset TENCENTCLOUD_ENDPOINT TENCENTCLOUD_REGION HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
export RELIABILITY_RESULTS="$root/tests/output/reliability-oldest"  # beside the newest run's table
echo "oldest supported controller: $("$venv/bin/ansible" --version | head -1), $("$venv/bin/python" --version)"
"$venv/bin/python" -m pytest -n "${TEST_WORKERS:-2}" tests/unit/plugins "$@"
"$venv/bin/python" -m pytest -n "${TEST_WORKERS:-2}" tests/integration -m core "$@"
