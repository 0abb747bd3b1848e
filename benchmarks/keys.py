# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of the two ways the inventory hands ssh its key: key files (private_key_paths) and Secrets Manager
(private_key_source: secrets_manager, the key read once per run into the run's ssh-agent), side by side in one run.

Data: HOSTS emulator instances running a real sshd, KEYS key pairs made twice: one set through CreateKeyPair with
its private key in a file, one set held by Secrets Manager secrets (CreateSSHKeyPairSecret); each instance is bound to
one key pair of each set, so both inventories reach the very same hosts. A play of TASKS ping tasks runs through each
inventory (forks = HOSTS), alternating, --reps times; medians. API calls are counted by the emulator.

Run, after `make test` or `scripts/venv.sh` made the venv:
`source scripts/env.sh && python benchmarks/keys.py --hosts 6 --keys 3 --tasks 5 --reps 3` (about a minute).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
sys.path.insert(0, os.path.join(ROOT, ".build", "collections"))

from run import SECRET_ID, SECRET_KEY, Emulator  # noqa: E402


def client(emu):
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Client, Settings
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import Credentials
    return Client(Credentials(SECRET_ID, SECRET_KEY), Settings(endpoint=emu.url, region="ap-guangzhou"))


def populate(emu, work, hosts, keys):
    """Key files and secrets; instances bound to one of each; the two inventory sources."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.api import KeyPairs
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import NewSecret, Secrets
    key_dir = os.path.join(work, "keys")
    os.makedirs(key_dir, mode=0o700)
    file_ids, held_ids = [], []
    for number in range(keys):
        made, private = KeyPairs(client(emu)).create("file_%d" % number, 0, None)
        fd = os.open(os.path.join(key_dir, "file_%d" % number), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(private)
        file_ids.append(made.key_id)
        Secrets(client(emu)).create(NewSecret(name="bench-%d" % number, key_name="held_%d" % number))
    by_name = {k["key_name"]: k["key_id"] for k in emu.admin("GET", "state")["key_pairs"]}
    held_ids = [by_name["held_%d" % number] for number in range(keys)]
    for number in range(hosts):
        emu.admin("POST", "instances", {"ssh": True, "state": "RUNNING",
                                        "key_ids": [file_ids[number % keys], held_ids[number % keys]]})
    sources = {}
    for mode, extra in (("files", {"private_key_paths": [key_dir + "/{{ key_name }}"]}),
                        ("secrets", {"private_key_source": "secrets_manager"})):
        path = os.path.join(work, "%s.tencent_cvm.yml" % mode)
        with open(path, "w") as handle:
            yaml.safe_dump(dict({"plugin": "tencentcloud.cvm.tencent_cvm"}, **extra), handle)
        sources[mode] = path
    return sources


def run(emu, work, source, tasks, hosts):
    """(seconds, GetSSHKeyPairValue calls, all calls) of one ansible-playbook run."""
    play = os.path.join(work, "play.yml")
    with open(play, "w") as handle:
        yaml.safe_dump([{"hosts": "all", "gather_facts": False,
                         "tasks": [{"ansible.builtin.ping": None} for _i in range(tasks)]}], handle)
    local_temp = tempfile.mkdtemp(prefix="bk-", dir="/tmp")  # the agent's socket path must stay short
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "ANSIBLE_"))}
    env.update(TENCENTCLOUD_SECRET_ID=SECRET_ID, TENCENTCLOUD_SECRET_KEY=SECRET_KEY, TENCENTCLOUD_ENDPOINT=emu.url,
               TENCENTCLOUD_REGION="ap-guangzhou", ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
               ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true", ANSIBLE_HOST_KEY_CHECKING="false",
               ANSIBLE_SSH_AGENT="auto", ANSIBLE_LOCAL_TEMP=local_temp, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=60s -o IdentitiesOnly=yes "
                                "-o UserKnownHostsFile=/dev/null", HOME=work)
    emu.admin("DELETE", "requests")
    started = time.monotonic()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", source,
                           "-f", str(hosts), play], env=env, capture_output=True, text=True, timeout=600, check=False)
    elapsed = time.monotonic() - started
    shutil.rmtree(local_temp, ignore_errors=True)
    if proc.returncode != 0:
        raise SystemExit("the run through %s failed:\n%s%s" % (source, proc.stdout[-3000:], proc.stderr[-3000:]))
    calls = emu.admin("GET", "requests")["requests"]
    return elapsed, sum(1 for c in calls if c["action"] == "GetSSHKeyPairValue"), len(calls)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=6)
    parser.add_argument("--keys", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=5)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    emu = Emulator("--ssh")  # instances with a real sshd
    work = tempfile.mkdtemp(prefix="bench-keys-")
    try:
        sources = populate(emu, work, args.hosts, args.keys)
        times = {"files": [], "secrets": []}
        calls = {}
        for _rep in range(args.reps):
            for mode in ("files", "secrets"):
                elapsed, reads, total = run(emu, work, sources[mode], args.tasks, args.hosts)
                times[mode].append(elapsed)
                calls[mode] = (reads, total)
        print("%d hosts, %d key pairs, %d ping tasks, forks %d, %d reps (medians):"
              % (args.hosts, args.keys, args.tasks, args.hosts, args.reps))
        for mode in ("files", "secrets"):
            print("  %-8s %6.2f s   GetSSHKeyPairValue %d, API calls %d" % (
                mode, statistics.median(times[mode]), calls[mode][0], calls[mode][1]))
        print("  secrets / files: %.2fx" % (statistics.median(times["secrets"]) / statistics.median(times["files"])))
    finally:
        emu.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
