#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The collection-quality checks of the README test command, each timed:
# changelog lint, the type check (mypy on plugins/ and cvm_emulator/), ansible-lint (production + args, plus
# negative fixtures that `args` must reject),
# antsibull-docs, ansible-test sanity (newest and oldest ansible-core; all of them: make sanity-matrix) and units,
# ansible-test integration (the targets in tests/integration/targets, against the bundled emulator), molecule, the
# benchmark's API-call check. Exits non-zero on the first failure.
# The ansible-test sanity runs and ansible-test units go in the background, one after the other
# (scripts/ansible-test.sh must not run twice at once), beside the other steps: each of those uses about one core
# of two, and on a new machine most of sanity's time is ansible-test building its venvs under ~/.ansible/test.
# Logs of the background steps: .build/quality/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"
cd "$root"
# ansible-lint run by hand (without --offline, as the certification checker runs it) installs a copy of the
# collection into .ansible/, which would shadow the working tree for the checks below
rm -rf .ansible/collections/ansible_collections/tencentcloud
summary=()
logs="$root/.build/quality"
rm -rf "$logs" && mkdir -p "$logs"

step() {
    local name="$1"; shift
    local started=$SECONDS
    echo "==> $name"
    if "$@"; then
        summary+=("$(printf '%-32s %4ds  ok' "$name" $((SECONDS - started)))")
    else
        summary+=("$(printf '%-32s %4ds  FAILED' "$name" $((SECONDS - started)))")
        printf '%s\n' "${summary[@]}"
        exit 1
    fi
    # a failed background step ends the run as soon as a step here ends
    if [ -n "$lane_pid" ] && grep -q $'\t[1-9][0-9]*$' "$logs/lane"; then wait_lane; fi
}

# The background lane: its steps one after the other, each one's output in its own log and a line
# "name<TAB>log<TAB>seconds<TAB>exit status" in $logs/lane; it stops at the first failure.
lane_step() {
    local name="$1" log="$logs/$2" started=$SECONDS status=0
    shift 2
    "$@" >"$log" 2>&1 || status=$?
    printf '%s\t%s\t%d\t%d\n' "$name" "$log" $((SECONDS - started)) "$status" >>"$logs/lane"
    return "$status"
}
ansible_test_lane() {
    lane_step "ansible-test sanity" sanity.log scripts/ansible-test.sh sanity &&
    # the oldest ansible-core of the certification checker, on Python 3.12; without pylint, which alone takes about
    # 60 s here: the nightly `make sanity-matrix` and scripts/certification.sh run 2.16's pylint too
    lane_step "ansible-test sanity, core 2.16" sanity-2.16.log \
        scripts/ansible-test.sh --core 2.16 sanity --skip-test pylint &&
    # the run of tests/unit on the newest controller (scripts/test.sh's pytest does not repeat it)
    lane_step "ansible-test units" units.log scripts/ansible-test.sh units
}
lane_pid=""
start_lane() {
    echo "==> in the background: ansible-test sanity, on core 2.16, ansible-test units (logs: ${logs#"$root/"}/)"
    : >"$logs/lane"
    # a process group of its own (setsid), so that a failure here stops every process of the lane
    logs="$logs" setsid -w bash -c "set -uo pipefail; $(declare -f lane_step ansible_test_lane); ansible_test_lane" &
    lane_pid=$!
}
stop_lane() {
    if [ -n "$lane_pid" ]; then kill -TERM -- "-$lane_pid" 2>/dev/null || true; fi
}
trap stop_lane EXIT
wait_lane() {
    local status=0 started=$SECONDS name log seconds result
    echo "==> waiting for the background steps"
    wait "$lane_pid" || status=$?
    lane_pid=""
    summary+=("$(printf '%-32s %4ds' "waiting for the background steps" $((SECONDS - started)))")
    while IFS=$'\t' read -r name log seconds result; do
        echo "==> $name (in the background; ${log#"$root/"})"
        cat "$log"
        if [ "$result" = 0 ]; then result="ok, in the background"; else result=FAILED; fi
        summary+=("$(printf '%-32s %4ds  %s' "$name" "$seconds" "$result")")
    done <"$logs/lane"
    if [ "$status" -ne 0 ]; then
        printf '%s\n' "${summary[@]}"
        exit 1
    fi
}

lint_rejects_wrong_options() {
    local out
    out="$(ansible-lint --offline tests/lint/wrong_option.yml tests/lint/wrong_choice.yml 2>&1)" && {
        echo "ansible-lint accepted playbooks with wrong options"; return 1; }
    for expected in "private_key_file" "regenerate must be one of" "colour"; do
        grep -q "$expected" <<<"$out" || { echo "args did not report: $expected"; echo "$out"; return 1; }
    done
}

lint_doc_examples() {
    local dir
    dir="$(mktemp -d)"
    python - "$dir" <<'PY'
import os, sys, yaml
sys.path.insert(0, "tests")
from helpers import doc_blocks, doc_pages
out = sys.argv[1]
n = 0
for page in doc_pages():
    for i, (_not_run, block) in enumerate(doc_blocks(page)):  # run or not
        data = yaml.safe_load(block)
        if isinstance(data, list) and all(isinstance(p, dict) and "hosts" in p for p in data):
            n += 1
            name = "%s_%d.yml" % (os.path.splitext(os.path.relpath(page))[0].replace("/", "_").replace("-", "_"), i)
            open(os.path.join(out, name), "w").write("---\n" + block)
# the molecule snippets include "my_role", the reader's own role: a stand-in, so that syntax-check finds it
os.makedirs(os.path.join(out, "roles", "my_role", "tasks"))
open(os.path.join(out, "roles", "my_role", "tasks", "main.yml"), "w").write(
    "---\n- name: The reader's role\n  ansible.builtin.debug:\n    msg: my_role\n")
print("%d documentation playbooks" % n)
PY
    (cd "$dir" && cp "$root/.ansible-lint" . && ansible-lint --offline --project-dir "$dir" ./*.yml)
    local rc=$?
    rm -rf "$dir"
    return $rc
}

start_lane
step "antsibull-changelog lint" antsibull-changelog lint
# every function of plugins/ and cvm_emulator/ annotated, and checked (mypy, pinned; settings in mypy.ini)
step "type check (mypy)" scripts/typecheck.sh
step "ansible-lint (production+args)" ansible-lint --offline
step "ansible-lint docs playbooks" lint_doc_examples
step "ansible-lint args rejects" lint_rejects_wrong_options
step "antsibull-docs lint" antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs self .
step "ansible-test integration" scripts/ansible-test-integration.sh
step "molecule test -s keypair" molecule test -s keypair
step "molecule test -s emulator_kit" molecule test -s emulator_kit
step "galaxy-importer" "$root/scripts/galaxy-importer.sh"
step "benchmark --quick (API calls)" python benchmarks/run.py --quick
wait_lane

echo
echo "Quality checks (wall time):"
printf '%s\n' "${summary[@]}"
printf '%-32s %4ds\n' "all quality checks" "$SECONDS"
