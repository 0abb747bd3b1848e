#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Run `ansible-test integration` on a copy of the working tree laid out as ansible_collections/tencentcloud/cvm
# (scripts/collection-copy.sh), with tests/integration/integration_config.yml (git-ignored) made for this run:
#   - your own tests/integration/integration_config.yml (git-ignored) when there is one, else the template
#     tests/integration/integration_config.yml.template (the bundled emulator);
#   - tencent_resource_prefix, when empty, set to a new random prefix (every resource a target makes is named after
#     it, so that two runs on one account never meet and leftovers are easy to find);
#   - for tencent_cloud: real, empty credentials taken from TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY.
# Arguments are passed to ansible-test (e.g. a target name, -v, --exclude keypair_rotation). The targets run with
# the project venv's Python and ansible-core (--local): runtime needs are ansible-core and cryptography only.
set -euo pipefail
# the caller's credentials, before env.sh puts the emulator's default ones in their place
caller_secret_id="${TENCENTCLOUD_SECRET_ID:-}"
caller_secret_key="${TENCENTCLOUD_SECRET_KEY:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"

# Its own copy (not scripts/ansible-test.sh's): a sanity run at the same time keeps its tree.
work="$root/.build/ansible-test-integration/ansible_collections/tencentcloud/cvm"
"$root/scripts/collection-copy.sh" "$work"

config="$work/tests/integration/integration_config.yml"
# it may hold credentials: gone when the run ends (each run writes it again)
trap 'rm -f "$config"' EXIT
config_src="$root/tests/integration/integration_config.yml"
[ -f "$config_src" ] || config_src="$root/tests/integration/integration_config.yml.template"
(umask 077 && CALLER_SECRET_ID="$caller_secret_id" CALLER_SECRET_KEY="$caller_secret_key" \
    python - "$config_src" "$config" <<'PY'
import os
import secrets
import string
import sys

import yaml

src, dest = sys.argv[1:]
with open(src) as handle:
    config = yaml.safe_load(handle) or {}
if not config.get("tencent_resource_prefix"):
    alphabet = string.ascii_lowercase + string.digits
    config["tencent_resource_prefix"] = "ait" + "".join(secrets.choice(alphabet) for _ in range(7))
if config.get("tencent_cloud") == "real":
    for key, env in (("tencent_secret_id", "CALLER_SECRET_ID"), ("tencent_secret_key", "CALLER_SECRET_KEY")):
        if not config.get(key) and os.environ.get(env):
            config[key] = os.environ[env]
with open(dest, "w") as handle:
    handle.write("---\n# made by scripts/ansible-test-integration.sh from %s\n" % os.path.relpath(src))
    yaml.safe_dump(config, handle, default_flow_style=False, sort_keys=True)
print("integration targets: %s, resource prefix %s (from %s)" % (
    config.get("tencent_cloud", "emulator"), config["tencent_resource_prefix"], os.path.relpath(src)))
PY
)

cd "$work"
ansible-test integration --local --color no "$@"
