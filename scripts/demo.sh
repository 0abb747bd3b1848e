#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The main job, end to end: start the bundled emulator on a free port, run examples/demo.yml twice
# (first run: changed, second run: ok), check the key file with ssh-keygen when present, stop the emulator.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/venv.sh"
source "$root/scripts/env.sh"

out="$root/.build/demo"
rm -rf "$out" && mkdir -p "$out"
url_file="$out/emulator.url"
python -m cvm_emulator --port 0 > "$url_file" 2> "$out/emulator.log" &
emulator=$!
trap 'kill $emulator 2>/dev/null; wait $emulator 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$url_file" ] && break; sleep 0.05; done
TENCENTCLOUD_ENDPOINT="$(head -1 "$url_file")"
export TENCENTCLOUD_ENDPOINT
echo "Emulator listening on $TENCENTCLOUD_ENDPOINT"
export DEMO_KEY_DIR="$out"

echo "== First run: creates the key pair and writes its private key"
ansible-playbook "$root/examples/demo.yml"
echo "== Second run: nothing to do (ok, changed=0)"
ansible-playbook "$root/examples/demo.yml"

ls -l "$out/demo_key" "$out/demo_key.pub"
if command -v ssh-keygen >/dev/null; then
    echo "ssh-keygen -lf: $(ssh-keygen -lf "$out/demo_key")"
fi
