#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Build the collection's documentation site as Ansible's docs site renders it: `antsibull-docs sphinx-init
# --use-current` for this collection (module, role, inventory plugin pages, and the guides of
# docs/docsite/extra-docs.yml), then Sphinx with every warning an error.
# Offline by default: these machines cannot reach docs.ansible.com, so intersphinx is left out and the few links
# into Ansible's own documentation are made directly (scripts/docsite/offline_refs.py). DOCS_ONLINE=1 keeps
# intersphinx (needs the network). Usage: scripts/docs.sh [DEST] (default .build/docsite).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/venv.sh"
source "$root/scripts/env.sh"
dest="$(realpath -m "${1:-$root/.build/docsite}")"
# DEST is emptied first: only a missing or empty directory, or an earlier build of this script, is taken
if [ -e "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ] && [ ! -f "$dest/antsibull-docs.cfg" ]; then
    echo "docs site: $dest exists and is not an earlier docs build; give a new or empty directory" >&2
    exit 2
fi
rm -rf "$dest"
mkdir -p "$dest"
export ANSIBLE_COLLECTIONS_PATH="$root/.build/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
version="$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$root/galaxy.yml")"
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$dest" --no-add-antsibull-docs-version \
    --project tencentcloud.cvm --copyright "tencentcloud.cvm contributors" \
    --title "tencentcloud.cvm $version" --html-short-title "tencentcloud.cvm" tencentcloud.cvm >/dev/null
if [ "${DOCS_ONLINE:-0}" != "1" ]; then
    cat >> "$dest/conf.py" <<PY

# scripts/docs.sh, offline build: no intersphinx (docs.ansible.com is out of reach); see offline_refs.py
import sys as _sys
_sys.path.insert(0, "$root/scripts/docsite")
extensions = [e for e in extensions if e != "sphinx.ext.intersphinx"] + ["offline_refs"]
PY
fi
# build.sh runs antsibull-docs (the collection's pages) and `sphinx-build -W --keep-going`
log="$dest/build.log"
if ! (cd "$dest" && ./build.sh) >"$log" 2>&1; then
    grep -E "WARNING|ERROR|Error" "$log" >&2 || tail -40 "$log" >&2
    echo "docs site: FAILED (full log: $log)" >&2
    exit 1
fi
if grep -q "WARNING" "$log"; then  # -W stops at none of these (e.g. antsibull-docs' own); none may pass
    grep "WARNING" "$log" >&2
    echo "docs site: warnings (full log: $log)" >&2
    exit 1
fi
grep "offline build:" "$log" || echo "online build: intersphinx resolved the links into Ansible's documentation"
echo "docs site built: open $dest/build/html/index.html"
