#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The benchmark (benchmarks/run.py): `scripts/benchmark.sh` for the full table, `--quick` for the API-call check.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/venv.sh"
source "$root/scripts/env.sh"
unset ANSIBLE_PIPELINING
mkdir -p "$root/benchmarks/results"
exec python "$root/benchmarks/run.py" --json "$root/benchmarks/results/latest.json" "$@"
