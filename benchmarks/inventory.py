# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of the inventory plugin tencentcloud.cvm.tencent_cvm against the emulator.

Data: INSTANCES instances spread over REGIONS regions, each region with 5 key pairs bound round-robin, a private key
file for each key pair. Measured side by side in one run, medians of --reps:

  plugin   `ansible-inventory --list` on the tencent_cvm source (private_key_paths, keyed_groups by zone and key)
  static   the same command on a static YAML inventory of the same hosts, variables and groups (Ansible's floor)
  latency  the plugin's read with --latency s added to every API call, regions read concurrently, then one at a
           time (concurrency 1)
  old      a serial client with pages of 20 and no key lookup (as Tencent's 2020 inventory script), same latency

API calls are counted by the emulator. Run, after `make test` or `scripts/venv.sh` made the venv:
`source scripts/env.sh && python benchmarks/inventory.py --instances 10000 --regions 10` (about 7 minutes).
"""

import argparse
import json
import os
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

REGIONS = ["ap-guangzhou", "ap-shanghai", "ap-beijing", "ap-chengdu", "ap-chongqing", "ap-nanjing", "ap-hongkong",
           "ap-singapore", "ap-seoul", "ap-tokyo", "ap-bangkok", "na-siliconvalley"]


def env_for(emu, work):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "ANSIBLE_"))}
    env.update(TENCENTCLOUD_SECRET_ID=SECRET_ID, TENCENTCLOUD_SECRET_KEY=SECRET_KEY, TENCENTCLOUD_ENDPOINT=emu.url,
               TENCENTCLOUD_REGION="ap-guangzhou", ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
               ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true", HOME=work)
    return env


def populate(emu, work, instances, regions):
    emu.admin("POST", "config", {"quota": 5 * len(regions) + 100})
    keys = os.path.join(work, "keys")
    os.makedirs(keys, mode=0o700)
    per_region = instances // len(regions)
    for region in regions:
        names = ["k_%s_%d" % (region.replace("-", "_")[:16], i) for i in range(5)]
        key_ids = emu.admin("POST", "key-pairs", {"names": names, "region": region})["key_ids"]
        for name in names:
            with open(os.path.join(keys, name), "w") as handle:
                handle.write("placeholder: the inventory only checks that the file opens\n")
        for i, key_id in enumerate(key_ids):
            count = per_region // 5 + (1 if i < per_region % 5 else 0)
            emu.admin("POST", "instance-batch", {"count": count, "region": region, "state": "RUNNING",
                                                 "key_ids": [key_id], "zone": "%s-%d" % (region, 1 + i % 3),
                                                 "tags": {"team": "t%d" % i}, "name_prefix": "%s-%d" % (region, i)})
    return keys


def source(work, regions, keys, concurrency=8):
    path = os.path.join(work, "bench%d.tencent_cvm.yml" % concurrency)
    with open(path, "w") as handle:
        yaml.safe_dump({"plugin": "tencentcloud.cvm.tencent_cvm", "regions": regions, "concurrency": concurrency,
                        "private_key_paths": [keys + "/{{ key_name }}"],
                        "keyed_groups": [{"key": "tencent_zone", "prefix": "zone"},
                                         {"key": "tencent_key_names", "prefix": "key"}]}, handle)
    return path


def timed(cmd, env, cwd):
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit("%s failed:\n%s" % (" ".join(cmd), proc.stderr[-3000:]))
    return took, proc.stdout


def plain(value):
    if isinstance(value, dict):
        return value["__ansible_unsafe"] if set(value) == {"__ansible_unsafe"} else {
            k: plain(v) for k, v in value.items()}
    return [plain(v) for v in value] if isinstance(value, list) else value


def static_copy(listing, work):
    """A YAML inventory with the same hosts, variables and groups as the plugin's --list output."""
    data = plain(listing)
    groups = {name: {"hosts": {h: None for h in body.get("hosts", [])}} for name, body in data.items()
              if name not in ("_meta", "all") and body.get("hosts")}
    hostvars = data["_meta"]["hostvars"]
    every = {h: hostvars[h] for h in hostvars}
    path = os.path.join(work, "static.yml")
    with open(path, "w") as handle:
        yaml.safe_dump({"all": {"hosts": every, "children": groups}}, handle, default_flow_style=None)
    return path


def old_client(emu, regions):
    """Serial, 20 per page, no key lookup: the shape of Tencent's 2020 inventory script (reimplemented here)."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Client, Settings
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import Credentials

    found = 0
    for region in regions:
        client = Client(Credentials(SECRET_ID, SECRET_KEY, None), Settings(region=region, endpoint=emu.url))
        offset = 0
        while True:
            answer = client.call("DescribeInstances", {"Offset": offset, "Limit": 20})
            found += len(answer["InstanceSet"])
            offset += 20
            if offset >= answer["TotalCount"]:
                break
    return found


def calls(emu):
    counted = {}
    for request in emu.requests():
        counted[request["action"]] = counted.get(request["action"], 0) + 1
    emu.admin("DELETE", "requests")
    return counted


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=10000)
    parser.add_argument("--regions", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    regions = REGIONS[:args.regions]
    inventory = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    emu = Emulator()
    results = {}
    try:
        with tempfile.TemporaryDirectory() as work:
            env = env_for(emu, work)
            keys = populate(emu, work, args.instances, regions)
            fast, serial = source(work, regions, keys), source(work, regions, keys, concurrency=1)
            emu.admin("DELETE", "requests")
            runs = [timed([inventory, "-i", fast, "--list"], env, work) for _rep in range(args.reps)]
            listing = json.loads(runs[-1][1])
            results["hosts"] = len(listing["_meta"]["hostvars"])
            results["calls_per_run"] = {k: v // args.reps for k, v in calls(emu).items()}
            with_key = sum(1 for v in listing["_meta"]["hostvars"].values() if "ansible_ssh_private_key_file" in v)
            results["hosts_with_key_file"] = with_key
            static = static_copy(listing, work)
            floor = [timed([inventory, "-i", static, "--list"], env, work)[0] for _rep in range(args.reps)]
            results["plugin_s"] = statistics.median(t for t, _out in runs)
            results["static_s"] = statistics.median(floor)
            results["plugin_vs_static"] = results["plugin_s"] / results["static_s"]
            emu.admin("POST", "faults", {"mode": "latency", "latency": args.latency, "probability": 1.0})
            results["latency_s"] = args.latency
            results["latency_concurrent_s"] = statistics.median(
                timed([inventory, "-i", fast, "--list"], env, work)[0] for _rep in range(args.reps))
            results["latency_serial_regions_s"] = timed([inventory, "-i", serial, "--list"], env, work)[0]
            calls(emu)
            start = time.perf_counter()
            results["old_hosts"] = old_client(emu, regions)
            results["old_client_s"] = time.perf_counter() - start
            results["old_calls"] = calls(emu)
            pages = results["calls_per_run"].get("DescribeInstances", 0) // len(regions)
            results["one_region_calls_x_latency_s"] = (pages + 1) * args.latency
    finally:
        emu.stop()
    report(results, args)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2, sort_keys=True)
    ok = results["plugin_vs_static"] <= 1.5 and results["hosts_with_key_file"] == results["hosts"]
    return 0 if ok else 1


def report(r, args):
    print("inventory: %d hosts in %d regions, %d with a key file" % (r["hosts"], args.regions, r["hosts_with_key_file"]))
    print("API calls per run: %s" % r["calls_per_run"])
    print("ansible-inventory --list, median of %d: plugin %.2f s, static YAML of the same hosts %.2f s: %.2fx"
          % (args.reps, r["plugin_s"], r["static_s"], r["plugin_vs_static"]))
    print("with %.0f ms per call: regions concurrently %.2f s, one at a time %.2f s (one region's calls x latency: "
          "%.2f s)" % (r["latency_s"] * 1000, r["latency_concurrent_s"], r["latency_serial_regions_s"],
                       r["one_region_calls_x_latency_s"]))
    print("serial client, 20 per page, no key lookup: %.2f s, calls %s (%d hosts)"
          % (r["old_client_s"], r["old_calls"], r["old_hosts"]))
    print("budget: plugin <= 1.5x static: %s" % ("ok" if r["plugin_vs_static"] <= 1.5 else "FAILED"))


if __name__ == "__main__":
    sys.exit(main())
