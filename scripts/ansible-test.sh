#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Run ansible-test (sanity | units) on a copy of the working tree laid out as ansible_collections/tencentcloud/cvm
# (ansible-test needs that path; the copy holds exactly the files git would test: tracked + untracked-not-ignored).
# ansible-test downloads get-pip from a host that is not reachable here, so a stand-in is put in its cache first.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"

pip_version="$(python - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)"
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -f "$cache" ]; then
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
fi

work="$root/.build/ansible-test/ansible_collections/tencentcloud/cvm"
rm -rf "$work" && mkdir -p "$work"
# tracked (deleted ones skipped) and untracked-not-ignored files
(cd "$root" && git ls-files -z -c -o --exclude-standard | perl -0 -ne 'chomp; print "$_\0" if -e $_ || -l $_' \
    | tar --null -T - -cf -) | (cd "$work" && tar -xf -)
cd "$work"
# its own git repository: the copy sits under the checkout's ignored .build/, where git would hide every file
git init -q . && git add -A && git -c user.name=ansible-test -c user.email=test@localhost commit -qm copy
# Sanity runs on Python 3.12 (the oldest that ansible-core 2.21 supports) when one can be found, units on the
# venv's Python. ansible-test looks interpreters up by name on PATH, where a pyenv shim may stand that cannot
# start, so a working interpreter is linked into a directory put first on PATH.
python_version="$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$1" = "sanity" ] && [ "$python_version" != "3.12" ]; then
    py312=""
    if python3.12 -c 'import venv' >/dev/null 2>&1; then
        py312="$(python3.12 -c 'import sys; print(sys.executable)')"
    else
        for candidate in "$(pyenv root 2>/dev/null)"/versions/3.12*/bin/python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12; do
            if [ -x "$candidate" ] && "$candidate" -c 'import venv' >/dev/null 2>&1; then py312="$candidate"; break; fi
        done
    fi
    if [ -n "$py312" ]; then
        mkdir -p "$root/.build/pybin" && ln -sfn "$py312" "$root/.build/pybin/python3.12"
        export PATH="$root/.build/pybin:$PATH"
        python_version=3.12
    else
        echo "No working Python 3.12: running sanity with Python $python_version" >&2
    fi
fi
ansible-test "$@" --venv --python "$python_version" --color no
