#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# ansible-test sanity on each ansible-core the partner certification checker tests (2.16, 2.18, 2.20) and on the
# newest (the project venv), each with every target Python it supports that is present here (scripts/ansible-test.sh
# --core X.Y sanity --python all). `make sanity-matrix` runs all four; CI can run it nightly.
#
#   scripts/sanity-matrix.sh [CORE ...]     CORE: 2.16, 2.18, 2.20 (pins in requirements/sanity-CORE.txt) or newest
#
# Every core runs even when one fails; each one's log is .build/sanity-matrix/CORE.log. Exits 1 when any failed.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cores=("$@")
[ ${#cores[@]} -gt 0 ] || cores=(2.16 2.18 2.20 newest)
logs="$root/.build/sanity-matrix"
mkdir -p "$logs"
summary=()
failed=0
for core in "${cores[@]}"; do
    log="$logs/$core.log"
    echo "==> ansible-test sanity, ansible-core $core (log: ${log#"$root/"})"
    started=$SECONDS
    "$root/scripts/ansible-test.sh" --core "$core" sanity --python all >"$log" 2>&1
    status=$?
    version="$(sed -n 's/^ansible-test sanity: ansible-core \([^ ]*\).*/\1/p' "$log")"
    pythons="$(sed -n 's/^target Pythons: //p' "$log")"
    if [ "$status" -eq 0 ]; then
        result=ok
    else
        result=FAILED
        failed=1
        grep -E "^(ERROR|FATAL)" "$log" | head -40
    fi
    summary+=("$(printf '%-8s %-9s %-6s %4ds  Pythons %s' "$core" "${version:-?}" "$result" $((SECONDS - started)) \
        "${pythons:-?}")")
done
echo
echo "ansible-test sanity matrix (core, release, result, wall time, target Pythons):"
printf '%s\n' "${summary[@]}"
exit "$failed"
