#!/usr/bin/env bash
# Every test: unit (signing vectors, SDK cross-checks, client, reconciler, key files), the emulator driven by the
# official SDK, and integration playbooks run by ansible-playbook against the emulator.
# Extra arguments go to pytest (e.g. `scripts/test.sh -k regenerate`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/venv.sh"
source "$root/scripts/env.sh"
cd "$root"
# Tests start their own emulators and set their own credentials.
unset TENCENTCLOUD_ENDPOINT TENCENTCLOUD_REGION HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
workers="${TEST_WORKERS:-2}"
python -m pytest -n "$workers" tests/unit tests/integration "$@"
