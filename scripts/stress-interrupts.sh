#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The interrupt tests under load, repeated: ROUNDS (default 20) runs of tests/integration/test_interrupts.py (pytest
# -n 2, as `make test` runs them) on the newest and on the oldest supported controller, with BUSY (default 2) busy
# loops beside them. Each run is started as a CI runner or a script starts a background job (`cmd &` in a shell
# without job control, so SIGINT arrives ignored), the situation in which Ctrl-C used to be swallowed on
# ansible-core 2.16. Prints the passes and failures per controller; the logs go to .build/stress-interrupts/.
#   scripts/stress-interrupts.sh            # 20 rounds each
#   ROUNDS=5 BUSY=0 scripts/stress-interrupts.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${ROUNDS:-20}"
busy="${BUSY:-2}"
"$root/scripts/venv.sh"
source "$root/scripts/env.sh"
cd "$root"
oldest="$root/.build/venv-oldest/bin/python"
if [ ! -x "$oldest" ]; then
    echo "no oldest-controller venv: run scripts/test-oldest.sh once (it creates .build/venv-oldest)" >&2
    exit 1
fi
logs="$root/.build/stress-interrupts"
rm -rf "$logs" && mkdir -p "$logs"
loops=()
for _ in $(seq "$busy"); do
    (while :; do :; done) &
    loops+=($!)
done
trap 'kill "${loops[@]}" 2>/dev/null || true' EXIT
for controller in newest oldest; do
    python="$root/.venv/bin/python"
    [ "$controller" = oldest ] && python="$oldest"
    passed=0
    failed=0
    for round in $(seq "$rounds"); do
        log="$logs/$controller-$round.log"
        # shellcheck disable=SC2016  # expanded by the inner shell
        if bash -c '"$0" -m pytest -q -p no:cacheprovider -n 2 tests/integration/test_interrupts.py > "$1" 2>&1 & wait $!' \
                "$python" "$log"; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
            echo "$controller round $round failed: $log" >&2
        fi
    done
    echo "$controller ($("$python" -c 'import ansible; print("ansible-core", ansible.__version__)')): $passed passed," \
         "$failed failed, of $rounds rounds with $busy busy loops"
done
