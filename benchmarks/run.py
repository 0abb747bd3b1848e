#!/usr/bin/env python
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark tencent_keypair against ansible.builtin.debug (a no-op action) and ansible.builtin.ping (a shipped
module), side by side on one machine, with real ansible-playbook runs against the bundled emulator.

    scripts/benchmark.sh                # full run: N = 20 and 100 (separate tasks and loop), 1,000 converged, 3 reps
    scripts/benchmark.sh --quick        # N = 20, 1 rep: checks API calls per task only (part of `make test`)

Per-task cost = the time from the start of the play's first task to the end of the play, divided by N, measured
inside ansible-playbook by benchmarks/callback_plugins/bench_timer.py; median over the repetitions. (The wall time
of the whole ansible-playbook process includes ~1.5 s of start-up and shutdown that varies by +-0.1 s between runs,
+-1 ms per item at N=100; the older estimate, (wall(N tasks) - wall(no task)) / N, is still reported in the JSON
as per_task_wall_s.) API calls per task come from the emulator's request log; the emulator's own time per request from
the durations it logs. Exits 1 when a budget is missed (in --quick mode, only the API-call budgets are checked).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
SECRET_ID = "AKIDEMULATOR0000000000000000000000000"
SECRET_KEY = "EmulatorSecretKey0000000000000000"
KP = "tencentcloud.cvm.tencent_keypair"
INFO = "tencentcloud.cvm.tencent_keypair_info"


class Emulator:
    def __init__(self, *options):
        """The emulator on a free port; `options` are more of its command-line options (--ssh)."""
        self.proc = subprocess.Popen([sys.executable, "-m", "cvm_emulator", "--port", "0", *options], cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     env=dict(os.environ, PYTHONPATH=ROOT))
        self.url = self.proc.stdout.readline().strip()
        self.token = self.proc.stdout.readline().strip().split("admin-token: ", 1)[-1]  # the next line

    def admin(self, method, name, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": "Bearer %s" % self.token}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + "/_emulator/" + name, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read() or b"null")

    def requests(self):
        return self.admin("GET", "requests")["requests"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)
        self.proc.stdout.close()


class Timing:
    """wall: the whole ansible-playbook process; play: first task start to play end, timed inside the run."""

    def __init__(self, wall, play):
        self.wall = wall
        self.play = play


class Bench:
    def __init__(self, emulator, work):
        self.emu = emulator
        self.work = work
        self.keys = os.path.join(work, "keys")
        self.inventory = os.path.join(work, "inventory.ini")
        with open(self.inventory, "w") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "TENCENTCLOUD_"))}
        self.env.update({
            "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, ".build", "collections"),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_ACTION_PLUGINS": os.path.join(ROOT, "benchmarks", "action_plugins"),
            "ANSIBLE_CALLBACK_PLUGINS": os.path.join(ROOT, "benchmarks", "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "bench_timer",
            "BENCH_TIMER_OUT": os.path.join(work, "timer.json"),
            "TENCENTCLOUD_SECRET_ID": SECRET_ID,
            "TENCENTCLOUD_SECRET_KEY": SECRET_KEY,
            "TENCENTCLOUD_ENDPOINT": emulator.url,
            "TENCENTCLOUD_REGION": "ap-guangzhou",
        })
        self.peak_rss_kb = 0

    def playbook(self, name, tasks):
        path = os.path.join(self.work, name + ".yml")
        with open(path, "w") as handle:
            json.dump([{"name": name, "hosts": "localhost", "gather_facts": False, "tasks": tasks}], handle)
        return path

    def run(self, path, check=False):
        cmd = [os.path.join(BIN, "ansible-playbook"), "-i", self.inventory, path] + (["--check"] if check else [])
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.work)
        out = proc.stdout.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.stdout.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("ansible-playbook %s failed:\n%s" % (path, out.decode(errors="replace")[-4000:]))
        self.peak_rss_kb = max(self.peak_rss_kb, usage.ru_maxrss)
        with open(self.env["BENCH_TIMER_OUT"]) as handle:
            timer = json.load(handle)
        return Timing(elapsed, timer["play_s"])

    def reset(self, names=()):
        self.emu.admin("POST", "reset", {})
        # the real quota is 100 key pairs; a replacement of 100 needs 101 at once (and the big run, 1,000)
        self.emu.admin("POST", "config", {"quota": 100000})
        shutil.rmtree(self.keys, ignore_errors=True)
        os.makedirs(self.keys)

    def calls_since(self, before):
        log = self.emu.requests()
        return log[before:]


def kp_args(i, prefix):
    return {"name": "%s%d" % (prefix, i), "private_key_path": "{{ key_dir }}/%s%d" % (prefix, i)}


def tasks_for(kind, n, form, prefix="b"):
    if kind == "replace":  # the key-pair task with regenerate=always: a make-before-break replacement per task
        tasks = tasks_for("kp", n, form, prefix)
        for task in tasks:
            task[KP]["regenerate"] = "always"
        return tasks
    if form == "loop":
        if kind == "debug":
            return [{"name": "t", "ansible.builtin.debug": {"msg": "{{ item }}"}, "loop": list(range(n))}]
        if kind == "ping":
            return [{"name": "t", "ansible.builtin.ping": {}, "loop": list(range(n))}]
        if kind == "info":
            return [{"name": "t", INFO: {"names": ["%s{{ item }}" % prefix]}, "loop": list(range(n))}]
        if kind == "noop":
            return [{"name": "t", "noop_keypair_args": {"name": "%s{{ item }}" % prefix,
                                                        "private_key_path": "{{ key_dir }}/%s{{ item }}" % prefix},
                     "loop": list(range(n))}]
        return [{"name": "t", KP: {"name": "%s{{ item }}" % prefix,
                                   "private_key_path": "{{ key_dir }}/%s{{ item }}" % prefix},
                 "loop": list(range(n))}]
    if kind == "debug":
        return [{"name": "t%d" % i, "ansible.builtin.debug": {"msg": str(i)}} for i in range(n)]
    if kind == "ping":
        return [{"name": "t%d" % i, "ansible.builtin.ping": {}} for i in range(n)]
    if kind == "info":
        return [{"name": "t%d" % i, INFO: {"names": ["%s%d" % (prefix, i)]}} for i in range(n)]
    if kind == "noop":
        return [{"name": "t%d" % i, "noop_keypair_args": kp_args(i, prefix)} for i in range(n)]
    return [{"name": "t%d" % i, KP: kp_args(i, prefix)} for i in range(n)]


def with_vars(bench, tasks):
    for task in tasks:
        task.setdefault("vars", {})["key_dir"] = bench.keys
    return tasks


def measure(bench, n, form, reps):
    """Per-task seconds and API calls per task for every scenario at size n and form."""
    base = bench.playbook("empty", [])
    pbs = {kind: bench.playbook("%s_%s_%d" % (kind, form, n), with_vars(bench, tasks_for(kind, n, form)))
           for kind in ("debug", "noop", "ping", "kp", "info", "replace")}
    samples = {k: [] for k in ("empty", "debug", "noop", "ping", "create", "converged", "check", "info", "replace")}
    calls = {}
    for _rep in range(reps):
        samples["empty"].append(bench.run(base))
        samples["debug"].append(bench.run(pbs["debug"]))
        samples["noop"].append(bench.run(pbs["noop"]))
        samples["ping"].append(bench.run(pbs["ping"]))
        bench.reset()
        samples["check"].append(bench.run(pbs["kp"], check=True))
        calls["check"] = len(bench.emu.requests())
        bench.reset()
        samples["create"].append(bench.run(pbs["kp"]))
        calls["create"] = len(bench.emu.requests())
        before = len(bench.emu.requests())
        samples["converged"].append(bench.run(pbs["kp"]))
        calls["converged"] = len(bench.emu.requests()) - before
        before = len(bench.emu.requests())
        samples["info"].append(bench.run(pbs["info"]))
        calls["info"] = len(bench.emu.requests()) - before
        before = len(bench.emu.requests())
        samples["replace"].append(bench.run(pbs["replace"]))
        calls["replace"] = len(bench.emu.requests()) - before
    empty = statistics.median(t.wall for t in samples["empty"])
    per_task = {k: statistics.median(t.play for t in v) / n for k, v in samples.items() if k != "empty"}
    per_task_wall = {k: max(0.0, (statistics.median(t.wall for t in v) - empty) / n)
                     for k, v in samples.items() if k != "empty"}
    per_call = {k: v / n for k, v in calls.items()}
    emulator_ms = statistics.median([r["duration_ms"] for r in bench.emu.requests()] or [0])
    return {"n": n, "form": form, "reps": reps, "empty_play_s": empty, "per_task_s": per_task,
            "per_task_wall_s": per_task_wall,
            "api_calls_per_task": per_call, "emulator_ms_per_request": emulator_ms}


def measure_big(bench, n, reps):
    """n converged key pairs in one play (loop form): seeded key pairs sharing one key, n copies of its file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    bench.reset()
    # Same-length names: none is a substring of another, so the emulator's deliberately loose key-name filter
    # returns one page per lookup (with "big1" vs "big10".."big199" it would take two).
    names = ["big%05d" % i for i in range(n)]
    bench.emu.admin("POST", "key-pairs", {"names": names, "public_key": public})
    for name in names:
        fd = os.open(os.path.join(bench.keys, name), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, pem)
        os.close(fd)
    pb = bench.playbook("big", with_vars(bench, [{"name": "t", KP: {
        "name": "{{ item }}", "private_key_path": "{{ key_dir }}/{{ item }}"}, "loop": names}]))
    # Ansible's floor for the same loop: every item's result carries the task's fields, the whole loop list
    # included, so the per-item cost of any action grows with the length of the loop.
    floor = bench.playbook("big_debug", [{"name": "t", "ansible.builtin.debug": {"msg": "{{ item }}"}, "loop": names}])
    times, debug = [], []
    before = len(bench.emu.requests())
    for _rep in range(reps):
        times.append(bench.run(pb))
        debug.append(bench.run(floor))
    writes = [r for r in bench.emu.requests()[before:] if r.get("write")]
    return {"n": n, "play_s": statistics.median(t.wall for t in times),
            "in_play_s": statistics.median(t.play for t in times),
            "debug_in_play_s": statistics.median(t.play for t in debug), "api_calls_per_item":
            (len(bench.emu.requests()) - before) / (n * reps), "writes": len(writes)}


def import_cost(bench, reps=5):
    """Milliseconds that the first import of the action plugin (with its module_utils) takes inside a real
    Ansible worker process (benchmarks/action_plugins/import_probe.py), one task per worker; and whether that
    import pulled in cryptography's key serialization (it must not: only reading a key file needs it)."""
    # The skipped task makes the controller resolve the collection first, as any play using it does.
    tasks = [{"name": "resolve", KP: {"name": "x"}, "when": False}]
    tasks += [{"name": "probe%d" % i, "import_probe": {}, "register": "probe%d" % i} for i in range(reps)]
    tasks.append({"name": "dump", "ansible.builtin.copy": {
        "dest": os.path.join(bench.work, "probe.json"), "mode": "0600",
        "content": "{{ [%s] | to_json }}" % ", ".join("probe%d" % i for i in range(reps))}})
    path = bench.playbook("import_probe", tasks)
    bench.run(path)
    with open(os.path.join(bench.work, "probe.json")) as handle:
        probes = json.load(handle)
    return {"import_ms": statistics.median(p["import_ms"] for p in probes),
            "cryptography_serialization_imported": any(p["cryptography_serialization_added"] for p in probes),
            "already_loaded": any(p["already_loaded"] for p in probes),
            "new_top_modules": probes[0]["new_top_modules"]}


def cold_import_ms(reps=5):
    """The one-time cost: importing the action plugin into a fresh process that has Ansible's ActionBase loaded.
    ansible-playbook pays it once, in the controller process (its strategy loads the action class before forking
    workers, which then inherit it)."""
    code = (
        "import sys, time\n"
        "import ansible.plugins.action, ansible.module_utils.basic, yaml\n"
        "from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder\n"
        "_AnsibleCollectionFinder(paths=[%r])._install()\n"
        "import ansible_collections.tencentcloud.cvm\n"
        "t = time.perf_counter()\n"
        "import ansible_collections.tencentcloud.cvm.plugins.action.tencent_keypair\n"
        "print(round((time.perf_counter() - t) * 1000, 2))\n" % os.path.join(ROOT, ".build", "collections"))
    values = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                   check=True).stdout) for _rep in range(reps)]
    return statistics.median(values)


def budgets(results, quick):
    verdicts = []

    def check(name, ok, detail):
        verdicts.append((name, ok, detail))

    for row in results["rows"]:
        label = "N=%d %s" % (row["n"], row["form"])
        calls = row["api_calls_per_task"]
        check("%s: converged = 1 call" % label, calls["converged"] == 1, "%.2f" % calls["converged"])
        check("%s: create = 2 calls" % label, calls["create"] == 2, "%.2f" % calls["create"])
        check("%s: check mode = 1 call" % label, calls["check"] == 1, "%.2f" % calls["check"])
        check("%s: replace = 4 calls (describe, create, delete, rename)" % label, calls["replace"] == 4,
              "%.2f" % calls["replace"])
        if quick:
            continue
        pt = row["per_task_s"]
        if row["form"] == "separate":
            check("%s: converged <= 0.15x ping" % label, pt["converged"] <= 0.15 * pt["ping"],
                  "%.3fx" % (pt["converged"] / pt["ping"]))
            check("%s: converged <= 2x debug" % label, pt["converged"] <= 2 * pt["debug"],
                  "%.2fx" % (pt["converged"] / pt["debug"]))
        else:
            # The floor is shown beside it: when ansible.builtin.debug itself costs more than 10 ms per item on
            # the machine, no action plugin can meet this budget there.
            check("%s: converged <= 10 ms/item" % label, pt["converged"] <= 0.010,
                  "%.1f ms (same run: debug %.1f, noop %.1f)" % (
                      pt["converged"] * 1000, pt["debug"] * 1000, pt["noop"] * 1000))
    if not quick:
        big = results.get("big")
        if big:
            check("N=%d converged in one play < 30 s" % big["n"], big["play_s"] < 30, "%.1f s" % big["play_s"])
            check("N=%d converged = 1 call/item, no writes" % big["n"],
                  big["api_calls_per_item"] == 1 and big["writes"] == 0, "%.2f" % big["api_calls_per_item"])
        imp = results["imports"]
        check("action plugin import per task <= 30 ms", imp["import_ms"] <= 30, "%.1f ms" % imp["import_ms"])
        check("no cryptography serialization at import", not imp["cryptography_serialization_imported"],
              str(imp["cryptography_serialization_imported"]))
    return verdicts


def report(results, verdicts):
    print("\nPer-task time (ms, median of %d; timed inside each ansible-playbook run from the start of the first "
          "task to the end of the play, / N) and API calls per task" % results["reps"])
    print("(noop = an action that does nothing with the same two templated arguments: Ansible's floor)")
    head = "%-14s %7s %7s %7s %8s %9s %7s %7s %8s %9s %10s %9s  %s" % (
        "size/form", "debug", "noop", "ping", "create", "converged", "check", "info", "replace", "conv/ping",
        "conv/debug", "conv-noop", "calls c/cv/ck/i/r")
    print(head)
    print("-" * len(head))
    for row in results["rows"]:
        pt = {k: v * 1000 for k, v in row["per_task_s"].items()}
        c = row["api_calls_per_task"]
        print("%-14s %7.1f %7.1f %7.1f %8.1f %9.1f %7.1f %7.1f %8.1f %9.3f %10.2f %9.1f  %g/%g/%g/%g/%g" % (
            "N=%d %s" % (row["n"], row["form"]), pt["debug"], pt["noop"], pt["ping"], pt["create"], pt["converged"],
            pt["check"], pt["info"], pt["replace"], pt["converged"] / pt["ping"] if pt["ping"] else 0,
            pt["converged"] / pt["debug"] if pt["debug"] else 0, pt["converged"] - pt["noop"],
            c["create"], c["converged"], c["check"], c["info"], c["replace"]))
    if results.get("big"):
        big = results["big"]
        print("\nN=%d converged key pairs, one play (loop): %.1f s for the whole ansible-playbook run, %.1f s for "
              "the task (%.1f ms/item; debug over the same loop: %.1f ms/item), %.2f API calls/item" % (
                  big["n"], big["play_s"], big["in_play_s"], big["in_play_s"] * 1000 / big["n"],
                  big["debug_in_play_s"] * 1000 / big["n"], big["api_calls_per_item"]))
    if results.get("imports"):
        imp = results["imports"]
        print("Import of the action plugin + module_utils: %.2f ms per task in a worker (already loaded: %s); "
              "%.1f ms once per ansible-playbook (cold, in the controller process); cryptography serialization "
              "imported by it: %s" % (imp["import_ms"], imp["already_loaded"], imp["cold_import_ms"],
                                      imp["cryptography_serialization_imported"]))
    print("Emulator time per request (median ms): %s" % ", ".join(
        "%.2f" % row["emulator_ms_per_request"] for row in results["rows"]))
    print("Peak RSS of ansible-playbook: %.0f MB" % (results["peak_rss_kb"] / 1024))
    separate = [row for row in results["rows"] if row["form"] == "separate"]
    if separate and not results["quick"]:
        ping = separate[-1]["per_task_s"]["ping"] * 1000
        print("Machine speed: ansible.builtin.ping costs %.0f ms per task here; the issue set its budgets where it cost "
              "about 250 ms (%.1fx)." % (ping, ping / 250))
    print("\nBudgets:")
    for name, ok, detail in verdicts:
        print("  %-4s %-45s %s" % ("ok" if ok else "MISS", name, detail))
    failed = sum(1 for v in verdicts if not v[1])
    print("%d passed, %d failed" % (len(verdicts) - failed, failed))
    return failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="N=20, 1 repetition, API-call budgets only")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--sizes", default="20,100")
    parser.add_argument("--big", type=int, default=1000, help="converged key pairs in one play (0 to skip)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    sizes = [20] if args.quick else [int(s) for s in args.sizes.split(",")]
    reps = 1 if args.quick else max(3, args.reps)
    work = tempfile.mkdtemp(prefix="tencent-bench-")
    emu = Emulator()
    try:
        bench = Bench(emu, work)
        results = {"reps": reps, "rows": [], "quick": args.quick}
        for n in sizes:
            for form in ("separate", "loop"):
                print("measuring N=%d %s ..." % (n, form), flush=True)
                results["rows"].append(measure(bench, n, form, reps))
        if not args.quick and args.big:
            print("measuring N=%d converged ..." % args.big, flush=True)
            results["big"] = measure_big(bench, args.big, reps)
        if not args.quick:
            results["imports"] = import_cost(bench)
            results["imports"]["cold_import_ms"] = cold_import_ms()
        results["peak_rss_kb"] = bench.peak_rss_kb
    finally:
        emu.stop()
        shutil.rmtree(work, ignore_errors=True)
    verdicts = budgets(results, args.quick)
    results["budgets"] = [{"name": n, "ok": ok, "detail": d} for n, ok, d in verdicts]
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return 1 if report(results, verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
