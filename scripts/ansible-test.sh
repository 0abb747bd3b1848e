#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Run ansible-test (sanity | units) on a copy of the working tree laid out as ansible_collections/tencentcloud/cvm
# (ansible-test needs that path; scripts/collection-copy.sh copies the files git would test).
#
#   scripts/ansible-test.sh [--core X.Y] sanity|units [ansible-test options]
#
# --core X.Y runs the ansible-test of ansible-core X.Y from .build/venv-sanity-X.Y, created on first use from
# requirements/sanity-X.Y.txt on Python 3.12; without it, the project venv's (the newest ansible-core).
# --python X.Y is ansible-test's; --python all (this script's) leaves it out, so that the version-specific sanity
# tests run on every Python the core supports that is present (tests/config.yml limits module code to the
# controller's Pythons). Default: sanity on Python 3.12 (a controller Python of every core tested here), units on
# the venv's Python.
#
# ansible-test looks Pythons up by name on PATH, where pyenv shims stand that cannot start, so every working
# python2.7 ... python3.14 is linked into .build/pybin and PATH is used without the shims. ansible-test downloads
# get-pip from a host that is not reachable here, so a stand-in is put in its cache first.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"

core=newest
if [ "${1:-}" = "--core" ]; then
    core="$2"
    shift 2
fi
if [ "$core" = newest ]; then
    "$root/scripts/venv.sh"
else
    [ -f "$root/requirements/sanity-$core.txt" ] || {
        echo "No pins for ansible-core $core: requirements/sanity-$core.txt is missing (have:" \
             "$(cd "$root/requirements" && printf '%s\n' sanity-*.txt | sed 's/sanity-//; s/\.txt//' | xargs))" >&2
        exit 2
    }
    venv="$root/.build/venv-sanity-$core"
    "$root/scripts/pinned-venv.sh" "$venv" "$root/requirements/sanity-$core.txt" 3.12
    export VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH"
fi
python="$VIRTUAL_ENV/bin/python"

# Every get-pip this ansible-test may ask for (one pip version per range of Pythons)
for pip_version in $("$python" - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")).read()
print(" ".join(sorted(set(re.findall(r"pip='([0-9.]+)'", src)))))
PY
); do
    cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    [ -f "$cache" ] && continue
    mkdir -p "$(dirname "$cache")"
    cat > "$cache" <<'PY'
# Stand-in for get-pip.py (written by tencentcloud.cvm scripts/ansible-test.sh): ensurepip, then pip install the
# packages ansible-test asked for.
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)
PY
done

# The Pythons ansible-test can find: linked into .build/pybin, and PATH without pyenv's shims
pybin="$root/.build/pybin"
mkdir -p "$pybin"
for version in 2.7 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13 3.14; do
    if found="$("$root/scripts/pinned-venv.sh" --find "$version")"; then
        ln -sfn "$found" "$pybin/python$version"
    else
        rm -f "$pybin/python$version"
    fi
done
PATH="$pybin:$(tr ':' '\n' <<<"$PATH" | grep -v '/shims$' | paste -sd:)"
export PATH

work="$root/.build/ansible-test-$core/ansible_collections/tencentcloud/cvm"
"$root/scripts/collection-copy.sh" "$work"
cd "$work"

command="$1"
shift
args=()
python_given="" all_pythons=""
while [ $# -gt 0 ]; do
    if [ "$1" = "--python" ]; then
        python_given=1
        if [ "$2" = all ]; then all_pythons=1; else args+=(--python "$2"); fi
        shift 2
    else
        args+=("$1")
        shift
    fi
done
if [ -z "$python_given" ]; then
    own="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    if [ "$command" = sanity ] && [ -e "$pybin/python3.12" ]; then
        args+=(--python 3.12)
    else
        [ "$command" != sanity ] || echo "No working Python 3.12: running sanity with Python $own" >&2
        args+=(--python "$own")
    fi
fi
if [ -n "$all_pythons" ]; then
    # --python all: say which of the core's Pythons are here (ansible-test skips the others)
    read -r -a supported <<<"$("$python" -c 'from ansible_test._util.target.common.constants import \
        REMOTE_ONLY_PYTHON_VERSIONS as r, CONTROLLER_PYTHON_VERSIONS as c; print(" ".join(r + c))')"
    present=() missing=()
    for version in "${supported[@]}"; do
        if [ -e "$pybin/python$version" ]; then present+=("$version"); else missing+=("$version"); fi
    done
    echo "target Pythons: ${present[*]}${missing[*]:+ (not present here: ${missing[*]})}"
fi
echo "ansible-test $command: ansible-core $("$python" -c 'from ansible.release import __version__; print(__version__)')" \
     "(${VIRTUAL_ENV#"$root/"}), ${args[*]}"
ansible-test "$command" "${args[@]}" --venv --color no
