#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Galaxy's own importer on the built collection tarball: its ansible-lint step on, its ansible-test step off
# (that one needs a container engine; ansible-test sanity runs on its own in the test command). Fails on an
# import error and on any WARNING the importer prints (for example a role without a description).
#
# Galaxy requires `repository` in galaxy.yml, which leaves it out until the public repository URL is known: the
# importer checks a copy with `repository` from $GALAXY_REPOSITORY or a reserved .invalid name
# (scripts/collection-copy.sh; RELEASE=1 refuses to run without $GALAXY_REPOSITORY).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.build/venv-importer"
req="$root/requirements/importer.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    python="$("$root/scripts/find-python.sh")"
    echo "Creating $venv with $python" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
    echo "$want" > "$stamp"
fi
work="$root/.build/importer"
rm -rf "$work"
"$root/scripts/collection-copy.sh" "$work/src" --repository
"$root/.venv/bin/ansible-galaxy" collection build "$work/src" --output-path "$work" >/dev/null
printf '[galaxy-importer]\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\n' > "$work/importer.cfg"
status=0
(cd "$work" && PATH="$venv/bin:$PATH" GALAXY_IMPORTER_CONFIG="$work/importer.cfg" \
    "$venv/bin/python" -m galaxy_importer.main "$work"/tencentcloud-cvm-*.tar.gz) > "$work/output.txt" 2>&1 || status=$?
grep -E "^(WARNING|ERROR)|ansible-lint|Importer processing" "$work/output.txt" | grep -v "^WARNING  ANSIBLE" || true
if [ "$status" -ne 0 ] || ! grep -q "Importer processing completed successfully" "$work/output.txt"; then
    echo "galaxy-importer failed (exit $status): see $work/output.txt"
    exit 1
fi
if grep -E "^(WARNING|ERROR)" "$work/output.txt" | grep -v "^WARNING  ANSIBLE_COLLECTIONS_SCAN_SYS_PATH" | grep -q .; then
    echo "galaxy-importer printed warnings (above): fix them"
    exit 1
fi
echo "galaxy-importer $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("galaxy-importer"))'): success, no warnings"
