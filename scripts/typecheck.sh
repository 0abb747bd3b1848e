#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The type check: mypy (pinned in requirements/venv.txt) with the settings of mypy.ini, on the paths given or on
# default_paths below. Exits non-zero when mypy reports an error.
#
#   scripts/typecheck.sh [PATH...]      e.g. scripts/typecheck.sh cvm_emulator plugins/module_utils
#
# A path under plugins/ is checked as the module the collection imports it as (ansible_collections.tencentcloud.cvm.
# plugins..., through the .build/collections link that scripts/venv.sh makes), so that the plugins' absolute imports
# and the module_utils' relative ones resolve; mypy then names its files by that link. Any other path is checked as
# it is (cvm_emulator: the package cvm_emulator). mypy's cache is .build/mypy-cache (make clean removes it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/venv.sh"
# shellcheck disable=SC1091  # scripts/env.sh is checked on its own
source "$root/scripts/env.sh"
cd "$root"

# What `make test` checks: the emulator and every plugin.
default_paths=(cvm_emulator plugins)
collection=".build/collections/ansible_collections/tencentcloud/cvm"

if [ "$#" -gt 0 ]; then
    paths=("$@")
else
    paths=("${default_paths[@]}")
fi
targets=()
for path in "${paths[@]}"; do
    path="${path#./}"
    path="${path%/}"
    if [ ! -e "$path" ]; then
        echo "typecheck: no such file or directory: $path" >&2
        exit 2
    fi
    case "$path" in
        plugins | plugins/*) targets+=("$collection/$path") ;;
        *) targets+=("$path") ;;
    esac
done
echo "mypy $(python -m mypy --version | cut -d' ' -f2): ${paths[*]}"
python -m mypy "${targets[@]}"
