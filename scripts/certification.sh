#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The checks of Red Hat's partner certification checker (ansible-collections/partner-certification-checker,
# .github/workflows/certification-reusable.yml), with its pins, run here:
#   import  galaxy-importer 0.4.31 with CHECK_REQUIRED_TAGS=True (its ansible-lint off: that is the next job), on
#           ansible-core 2.16.0, building the collection from its source tree (--git-clone-path)
#   lint    ansible-lint 24.12.2 --profile=production on ansible-core 2.16.0, in the collection's root, which reads
#           .ansible-lint and installs the collection into .ansible/ itself (as on the checker's runner)
#   sanity  ansible-test sanity on stable-2.16, 2.18 and 2.20 (their newest releases here), every target Python
#           that is present (scripts/sanity-matrix.sh)
# Both Python jobs run on Python 3.12 (the checker's origin Python), each in a venv of its own created from
# requirements/certification-*.txt.
#
#   scripts/certification.sh [import|lint|sanity ...]     (default: all three)
#
# Galaxy requires `repository` in galaxy.yml, which leaves it out until the public repository URL is known:
# import and lint run on a copy that has it from $GALAXY_REPOSITORY, or a reserved .invalid name
# (scripts/collection-copy.sh, which says so). Prints the versions it ran and a summary; exits 1 when a job failed.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jobs=("$@")
[ ${#jobs[@]} -gt 0 ] || jobs=(import lint sanity)
work="$root/.build/certification"
mkdir -p "$work"
# the checker's runner has none of the project's settings
for name in $(env | sed -n 's/^\(ANSIBLE_[A-Z_]*\)=.*/\1/p'); do unset "$name"; done
unset PYTHONPATH VIRTUAL_ENV
summary=()
failed=0

versions() {  # the venv's packages the checker pins
    "$1/bin/python" - "${@:2}" <<'PY'
import importlib.metadata as m, platform, sys
print("Python %s, %s" % (platform.python_version(), ", ".join("%s %s" % (n, m.version(n)) for n in sys.argv[1:])))
PY
}

venv_for() {  # venv_for NAME: .build/venv-cert-NAME from requirements/certification-NAME.txt
    local venv="$root/.build/venv-cert-$1"
    "$root/scripts/pinned-venv.sh" "$venv" "$root/requirements/certification-$1.txt" 3.12 || return 1
    echo "$venv"
}

job_import() {
    local venv src="$work/import/src" out="$work/import/out" status=0
    venv="$(venv_for importer)" || return 1
    echo "ran: galaxy-importer, $(versions "$venv" galaxy-importer ansible-core), CHECK_REQUIRED_TAGS=True"
    "$root/scripts/collection-copy.sh" "$src" --repository || return 1
    rm -rf "$out" && mkdir -p "$out"
    printf '[galaxy-importer]\nCHECK_REQUIRED_TAGS=True\nRUN_ANSIBLE_LINT=False\n' > "$work/import/galaxy-importer.cfg"
    (cd "$work/import" && PATH="$venv/bin:$PATH" GALAXY_IMPORTER_CONFIG="$work/import/galaxy-importer.cfg" \
        "$venv/bin/python" -m galaxy_importer.main --git-clone-path "$src" --output-path "$out") \
        > "$work/import/output.txt" 2>&1 || status=$?
    # from a source tree, the importer ends with "Collection loading complete" (an error is an exception, exit 1)
    grep -E "^(WARNING|ERROR)|Error|Collection loading complete" "$work/import/output.txt" \
        | grep -v "^WARNING: Location" || true
    if [ "$status" -ne 0 ] || ! grep -q "^Collection loading complete" "$work/import/output.txt" \
            || grep -q "^ERROR" "$work/import/output.txt"; then
        echo "galaxy-importer failed (exit $status): see ${work#"$root/"}/import/output.txt"
        return 1
    fi
    echo "built and imported: $(cd "$out" && ls tencentcloud-cvm-*.tar.gz)"
}

job_lint() {
    local venv src="$work/lint/src"
    venv="$(venv_for lint)" || return 1
    echo "ran: ansible-lint --profile=production, $(versions "$venv" ansible-lint ansible-core ansible-compat)"
    "$root/scripts/collection-copy.sh" "$src" --repository || return 1
    (cd "$src" && PATH="$venv/bin:$PATH" ansible-lint --profile=production --nocolor) > "$work/lint/output.txt" 2>&1
    local status=$?
    # ansible-lint 24.12.2 warns once per task of an action plugin without a module-level resolved_fqcn: noise
    grep -v -e "resolved_fqcn attribute" -e "^WARNING: Location" "$work/lint/output.txt" | tail -n 25
    return $status
}

job_sanity() {
    "$root/scripts/sanity-matrix.sh" 2.16 2.18 2.20
}

for job in "${jobs[@]}"; do
    echo "==> certification: $job"
    started=$SECONDS
    status=0
    case "$job" in
        import) job_import || status=$? ;;
        lint) job_lint || status=$? ;;
        sanity) job_sanity || status=$? ;;
        *) echo "unknown job: $job (import, lint or sanity)" >&2; exit 2 ;;
    esac
    if [ "$status" -eq 0 ]; then result=ok; else result=FAILED; failed=1; fi
    summary+=("$(printf '%-8s %-6s %4ds' "$job" "$result" $((SECONDS - started)))")
done
echo
echo "Partner certification checks (job, result, wall time):"
printf '%s\n' "${summary[@]}"
exit "$failed"
