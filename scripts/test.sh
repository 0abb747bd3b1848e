#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Every test. First the collection-quality checks (scripts/quality.sh: changelog, ansible-lint, antsibull-docs,
# ansible-test sanity, molecule, and ansible-test units: the run of tests/unit on the newest controller, i.e. signing
# vectors, SDK cross-checks, client, reconciler, key files, the emulator driven by the official SDK), then pytest on
# tests/integration: playbooks run by ansible-playbook against the emulator (pytest's summary is the closing line).
# Then the unit tests and the integration core again on the oldest supported controller (scripts/test-oldest.sh:
# ansible-core 2.16, Python 3.10).
# Extra arguments go to pytest (e.g. `scripts/test.sh -k regenerate`); QUALITY=0 skips the quality checks (pytest
# then runs tests/unit too), OLDEST=0 the run on the oldest controller. The tests marked nightly are left out for
# time (`make nightly` runs them: `QUALITY=0 OLDEST=0 scripts/test.sh -m nightly`; a later -m replaces this one).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/venv.sh"
source "$root/scripts/env.sh"
cd "$root"
# The emulator's SSH-enabled instances (key rotation tests, docs examples) run OpenSSH's sshd.
if ! command -v sshd >/dev/null 2>&1 && [ ! -x /usr/sbin/sshd ]; then
    echo "OpenSSH's sshd is missing: install it (Debian/Ubuntu: apt-get install openssh-server; .ci/run does this" \
         "when it runs as root). Only its binary is used; no system sshd needs to run." >&2
    exit 1
fi
# Tests start their own emulators and set their own credentials.
unset TENCENTCLOUD_ENDPOINT TENCENTCLOUD_REGION HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
if [ "${QUALITY:-1}" != "0" ]; then
    "$root/scripts/quality.sh"
fi
# The signing vectors and the seed API page in tests/unit/fixtures are copies of the contract in
# ../shared/reference: where that directory is beside the checkout (as in CI), they must be equal.
shared="$root/../shared/reference"
if [ -d "$shared" ]; then
    for fixture in signing-vectors.json seed-CreateKeyPair.md; do
        cmp -s "$shared/$fixture" "$root/tests/unit/fixtures/$fixture" || {
            echo "tests/unit/fixtures/$fixture differs from $shared/$fixture: copy the contract again" >&2
            exit 1
        }
    done
    echo "fixtures equal ../shared/reference (signing-vectors.json, seed-CreateKeyPair.md)"
else
    echo "note: ../shared/reference is not beside this checkout; the fixture copies were not compared"
fi
workers="${TEST_WORKERS:-2}"
echo "newest supported controller: $(ansible --version | head -1), $(python --version)"
# ansible-test units (in scripts/quality.sh) has run tests/unit on this controller already; not twice
paths=(tests/integration)
[ "${QUALITY:-1}" != "0" ] || paths=(tests/unit tests/integration)
python -m pytest -n "$workers" -m "not nightly" "${paths[@]}" "$@"
if [ "${OLDEST:-1}" != "0" ]; then
    "$root/scripts/test-oldest.sh" -q
fi
