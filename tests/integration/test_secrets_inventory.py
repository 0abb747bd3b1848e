# SPDX-License-Identifier: GPL-3.0-or-later
"""Keys without files (issue 27): instances bound to key pairs that Secrets Manager holds, reached through the
inventory alone (private_key_source: secrets_manager) with the keys delivered into the run's ssh-agent, against the
emulator's real sshd instances; the budget of GetSSHKeyPairValue calls; no key bytes in any output or file."""

import base64
import glob
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile

import pytest
import yaml

from helpers import COLLECTIONS, CREDS, PEM_BEGIN, alive, interrupt, make_client, regular_files, until

PLUGIN = "tencentcloud.cvm.tencent_cvm"
BIN = os.path.dirname(sys.executable)
AGENT = {"ANSIBLE_SSH_AGENT": "auto", "ANSIBLE_HOST_KEY_CHECKING": "false",
         "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true"}
SSH_ARGS = "-o ControlMaster=no -o IdentitiesOnly=yes -o UserKnownHostsFile=%s"


def make_secret(admin_client, name, key_name):
    """An SSH-key secret made through the API, as tencent_keypair with private_key_secret makes it."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import NewSecret, Secrets
    Secrets(admin_client).create(NewSecret(name=name, key_name=key_name))


@pytest.fixture
def client(emulator_process):
    return make_client(emulator_process.url)


@pytest.fixture
def secret_fleet(ansible, admin, client, tmp_path):
    """Three RUNNING instances with sshd, each bound to its own key pair held by its own secret."""
    fleet = []
    for number in range(3):
        make_secret(client, "web-key-%d" % number, "web_key_%d" % number)
    held = {k["key_name"]: k["key_id"] for k in admin.key_pairs()}
    for number in range(3):
        fleet.append(admin.instance(ssh=True, state="RUNNING", key_ids=[held["web_key_%d" % number]]))
    source = tmp_path / "fleet.tencent_cvm.yml"
    source.write_text(yaml.safe_dump({"plugin": PLUGIN, "filters": {"instance-state": "RUNNING"},
                                      "private_key_source": "secrets_manager"}))
    return fleet, source


def private_bodies(client, names):
    """A 64-character run from the middle of each key's base64 body, in PEM (PKCS#1) and OpenSSH form."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import Secrets
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.keys import LoadedKey
    runs = []
    for name in names:
        key = LoadedKey.from_pem(Secrets(client).value(name=name).private_key)
        for text in (key.pem(), key.openssh()):
            body = "".join(line for line in text.splitlines() if not line.startswith("-----"))
            runs.append(body[len(body) // 2:len(body) // 2 + 64])
    return runs


def value_calls(admin):
    return [r for r in admin.requests() if r["action"] == "GetSSHKeyPairValue"]


def agents_of(local_temp):
    """The pids of the ssh-agents whose socket is under `local_temp` (ansible-core starts `ssh-agent -D -s -a
    <ANSIBLE_LOCAL_TEMP>/ansible-local-*/ssh_agent/agent.sock`)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                argv = handle.read().split(b"\0")
        except (OSError, ValueError):
            continue
        if entry.isdigit() and os.path.basename(argv[0]) == b"ssh-agent" and alive(int(entry)) and any(
                arg.startswith(local_temp.encode() + b"/") for arg in argv[1:]):
            found.append(int(entry))
    return found


@pytest.fixture
def local_temp():
    """A short ANSIBLE_LOCAL_TEMP: the agent's socket lives in it, and a Unix socket path has at most 107 bytes.
    An ssh-agent of a run that did not end cleanly is stopped at the end (its socket is in here)."""
    path = tempfile.mkdtemp(prefix="t27-", dir="/tmp")
    yield path
    for pid in agents_of(path):
        os.kill(pid, signal.SIGTERM)
    until(lambda: not agents_of(path), 10, "the left ssh-agents to stop")
    shutil.rmtree(path, ignore_errors=True)


def run_ping(ansible, source, tmp_path, local_temp, tasks=1, verbosity=0, env=None, forks=None):
    play = [{"name": "reach", "hosts": "all", "gather_facts": False,
             "tasks": [{"name": "ping %d" % i, "ansible.builtin.ping": None} for i in range(tasks)]}]
    return ansible.play(None, raw=yaml.safe_dump(play), inventory=str(source), env=agent_env(tmp_path, local_temp, env),
                        verbosity=verbosity, forks=forks)


def agent_env(tmp_path, local_temp, env=None):
    return dict(AGENT, ANSIBLE_SSH_ARGS=SSH_ARGS % (tmp_path / "known_hosts"), ANSIBLE_LOCAL_TEMP=local_temp,
                **(env or {}))


def pongs(run, task="ping 0"):
    return sorted(r["host"] for r in run.results if r["task"] == task and r["result"].get("ping") == "pong")


def test_three_hosts_three_secrets_reached_through_the_inventory_alone(ansible, admin, client, secret_fleet,
                                                                       tmp_path, local_temp):
    fleet, source = secret_fleet
    admin.clear_requests()
    run = run_ping(ansible, source, tmp_path, local_temp, tasks=2, verbosity=4)  # 5 tasks: the budget test
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
    ids = sorted(i["instance_id"] for i in fleet)
    assert [pongs(run, "ping %d" % i) for i in range(2)] == [ids] * 2, [
        (r["host"], r["task"], r["result"].get("msg")) for r in run.results] or run.stdout[-2500:] + run.stderr[-2500:]
    assert len(value_calls(admin)) == 3  # 3 hosts x 2 tasks, 3 key pairs: one read each
    for run_of_key in private_bodies(client, ["web-key-0", "web-key-1", "web-key-2"]):
        assert run_of_key not in run.stdout and run_of_key not in run.stderr


# --- what the acceptance tests share -----------------------------------------------------------------------------

SECRETS = ["web-key-0", "web-key-1", "web-key-2"]


def key_runs(client, names):
    """private_bodies, and a 64-character run of the base64 of the PEM text, as GetSSHKeyPairValue answers it
    (whatever kept an API answer would hold that form). Reads each secret: call it outside a counted window."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import Secrets
    runs = private_bodies(client, names)
    for name in names:
        answer = base64.b64encode(Secrets(client).value(name=name).private_key).decode("ascii")
        runs.append(answer[len(answer) // 2:len(answer) // 2 + 64])
    assert len(runs) == 3 * len(names) and all(len(run) == 64 for run in runs)
    return runs


def flat(data):
    """Text with line breaks removed, raw or escaped (JSON, repr): a key split over lines is found whole."""
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    return data.replace(b"\\n", b"").replace(b"\n", b"").replace(b"\r", b"")


def leaks(text, runs):
    """The runs of `runs` found in `text` (str or bytes), and a private key's armour."""
    found = [run for run in runs if run.encode("ascii") in flat(text)]
    raw = text.encode("utf-8", "replace") if isinstance(text, str) else text
    return found + (["PRIVATE KEY armour"] if b"PRIVATE KEY-----" in raw else [])


def files_holding(roots, runs):
    """([(file, what it holds)], [every regular file read]) under `roots`, links not followed; sockets and FIFOs
    (the agent's socket) are not files that hold anything."""
    hits, scanned = [], []
    for path, data in regular_files(roots):
        scanned.append(path)
        hits.extend((path, what) for what in leaks(data, runs))
    return hits, scanned


def cached_source(source, cache):
    """The fleet's source with the inventory cache on (jsonfile in `cache`)."""
    path = source.parent / "cached.tencent_cvm.yml"
    path.write_text(yaml.safe_dump(dict(yaml.safe_load(source.read_text()), cache=True,
                                        cache_plugin="ansible.builtin.jsonfile", cache_connection=str(cache))))
    return path


def inventory_list(ansible, source, *more, env=None):
    return subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(source), "--list", *more],
                          env=ansible.env(**dict(AGENT, **(env or {}))), cwd=str(ansible.tmp_path),
                          capture_output=True, text=True, timeout=120, check=False)


def the_template(secret, url):
    return ("{{ lookup('tencentcloud.cvm.tencent_ssh_key', '%s', deliver='agent', region='ap-guangzhou', "
            "endpoint='%s') }}" % (secret, url))


def cache_data(cache):
    (entry,) = [p for p in cache.iterdir() if p.is_file()]
    stored = json.loads(entry.read_text())
    return entry, json.loads(stored["__payload__"]) if "__payload__" in stored else stored


def public_files(local_temp):
    return sorted(glob.glob(os.path.join(local_temp, "ansible-local-*", "tencent_ssh_keys", "*.pub")))


# --- AWX: the job run by ansible-runner on a private data directory ----------------------------------------------

def test_an_awx_job_through_ansible_runner_reaches_three_hosts_with_three_keys_and_no_key_file(
        emulator_process, admin, client, secret_fleet, tmp_path, local_temp):
    """As AWX does it: the inventory update runs `ansible-inventory --list --export` on the source and AWX keeps
    its JSON; the job gets it back as an inventory script in its private data directory, with the environment the
    Tencent Cloud credential type injects, ANSIBLE_SSH_AGENT=auto, and no machine credential."""
    import ansible_runner
    from test_awx import credential_type, injected

    fleet, source = secret_fleet
    ids = sorted(i["instance_id"] for i in fleet)
    secret_of = {instance["instance_id"]: SECRETS[number] for number, instance in enumerate(fleet)}
    runs = key_runs(client, SECRETS)
    _inputs, injectors, _source = credential_type()
    env = injected(injectors, {"secret_id": CREDS["secret_id"], "secret_key": CREDS["secret_key"],
                               "region": "ap-guangzhou"})
    env.update(agent_env(tmp_path, local_temp), TENCENTCLOUD_ENDPOINT=emulator_process.url,
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""), ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, HOME=str(tmp_path / "home"))
    os.makedirs(env["HOME"], exist_ok=True)

    admin.clear_requests()
    update = tmp_path / "update"  # the inventory update's own private data directory
    (update / "inventory").mkdir(parents=True)
    update_source = update / "inventory" / "fleet.tencent_cvm.yml"
    update_source.write_text(source.read_text())
    listed, err, rc = ansible_runner.run_command(
        executable_cmd="ansible-inventory", cmdline_args=["-i", str(update_source), "--list", "--export"],
        envvars=env, private_data_dir=str(update), quiet=True, timeout=120)
    assert rc == 0, err
    stored = json.loads(listed)  # what AWX keeps in its database
    hostvars = stored["_meta"]["hostvars"]
    assert sorted(hostvars) == ids
    for host, variables in hostvars.items():
        assert variables["tencent_ssh_key_secret"] == {"__ansible_unsafe": secret_of[host]}  # data
        assert variables["ansible_ssh_private_key_file"] == the_template(secret_of[host], emulator_process.url)
    assert leaks(listed + err, runs) == []
    assert value_calls(admin) == []  # the inventory update reads no key

    job = tmp_path / "job"
    for folder in ("project", "inventory", "env"):
        (job / folder).mkdir(parents=True)
    play = [{"name": "reach", "hosts": "all", "gather_facts": False,
             "tasks": [{"name": "ping", "ansible.builtin.ping": None}]}]
    (job / "project" / "site.yml").write_text(yaml.safe_dump(play))
    script = job / "inventory" / "hosts"  # as AWX writes the stored inventory for a job
    script.write_text("#! /usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(%r)\n" % json.dumps(stored))
    script.chmod(0o700)
    admin.clear_requests()
    run = ansible_runner.run(private_data_dir=str(job), playbook="site.yml", inventory=str(script), envvars=env,
                             quiet=True, timeout=240)
    stdout = run.stdout.read()
    assert (run.rc, run.status) == (0, "successful"), stdout[-4000:]
    events = list(run.events)
    oks = sorted(e["event_data"]["host"] for e in events
                 if e["event"] == "runner_on_ok" and e["event_data"].get("task") == "ping")
    assert oks == ids
    assert len(value_calls(admin)) == 3
    assert leaks(json.dumps(events) + stdout, runs) == []
    hits, scanned = files_holding([tmp_path, local_temp], runs)
    assert hits == []
    assert any("/job_events/" in path for path in scanned) and str(script) in scanned  # the scan saw the job
    assert "ssh_key" not in os.listdir(job / "env")  # no machine credential
    assert agents_of(local_temp) == []  # the job's agent ended with the job


# --- no key on disk, even when a run is killed -------------------------------------------------------------------

def test_a_run_killed_in_the_middle_leaves_no_key_bytes_on_disk(ansible, admin, client, secret_fleet, tmp_path,
                                                                local_temp):
    """The cache and --list hold the secret names, never a key; during a run the run's directory holds only the
    public halves, and the agent the three keys; SIGKILL then (no cleanup runs): no file under the run's home, the
    temporary directories, the cache or ANSIBLE_LOCAL_TEMP holds any of the keys."""
    fleet, source = secret_fleet
    runs = key_runs(client, SECRETS)
    cache = tmp_path / "cache"
    cached = cached_source(source, cache)
    listing = inventory_list(ansible, cached)
    assert listing.returncode == 0, listing.stderr
    hostvars = json.loads(listing.stdout)["_meta"]["hostvars"]
    assert sorted(v["tencent_ssh_key_secret"]["__ansible_unsafe"] for v in hostvars.values()) == SECRETS
    assert leaks(listing.stdout + listing.stderr, runs) == []
    entry, data = cache_data(cache)
    assert data["regions"]["ap-guangzhou"]["key_secrets"] == {"web_key_%d" % n: SECRETS[n] for n in range(3)}
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600 and leaks(entry.read_bytes(), runs) == []

    play = [{"name": "reach", "hosts": "all", "gather_facts": False,
             "tasks": [{"name": "ping 0", "ansible.builtin.ping": None},
                       {"name": "hold", "ansible.builtin.pause": {"seconds": 120}}]}]
    proc = ansible.spawn(None, raw=yaml.safe_dump(play), inventory=str(cached), env=agent_env(tmp_path, local_temp))
    try:
        until(lambda: len(pongs_so_far(proc)) == 3 or proc.poll() is not None, 120, "3 pongs")
        assert proc.poll() is None, proc.communicate()
        assert pongs_so_far(proc) == sorted(i["instance_id"] for i in fleet)
        blobs = {kp["key_name"]: kp["key_blob"] for kp in admin.key_pairs()}
        files = public_files(local_temp)
        assert [os.path.basename(f) for f in files] == ["secret-%s.pub" % name for name in SECRETS]
        for name, path in zip(SECRETS, files):
            with open(path) as handle:
                assert handle.read() == "ssh-rsa %s tencentcloud.cvm secret-%s\n" % (
                    blobs[name.replace("-", "_")], name)
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        (agent,) = agents_of(local_temp)
        (sock,) = glob.glob(os.path.join(local_temp, "ansible-local-*", "ssh_agent", "agent.sock"))
        held = subprocess.run(["ssh-add", "-L"], env=dict(os.environ, SSH_AUTH_SOCK=sock), capture_output=True,
                              text=True, timeout=30, check=False)
        assert sorted(line.split()[1] for line in held.stdout.splitlines()) == sorted(blobs.values())
    finally:
        if proc.poll() is None:
            interrupt(proc, signal.SIGKILL, hard=True)
    killed = ansible.finish(proc)
    assert killed.rc == -signal.SIGKILL
    assert leaks(killed.stdout + killed.stderr, runs) == []
    assert not alive(agent)  # SIGKILL to the run's process group ends its agent too (the fixture stops a survivor)
    hits, scanned = files_holding([tmp_path, local_temp], runs)
    assert hits == []
    assert set(files) <= set(scanned) and str(entry) in scanned and str(proc.results_file) in scanned


def pongs_so_far(proc):
    if not proc.results_file.exists():
        return []
    records = [json.loads(line) for line in proc.results_file.read_text().splitlines() if line.endswith("}")]
    return sorted(r["host"] for r in records if r["task"] == "ping 0" and r["result"].get("ping") == "pong")


# --- a secret deleted after the listing -------------------------------------------------------------------------

def test_a_host_whose_secret_was_deleted_after_the_listing_fails_alone(ansible, admin, client, secret_fleet,
                                                                       tmp_path, local_temp):
    """The inventory came from the cache (as it would from AWX's stored inventory) and still names web-key-1, which
    was deleted since (disabled, then deleted keeping its key pair, which stays bound): that host fails, with a
    message naming it and the secret; the others are reached. A fresh listing gives that host no key, and says so."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import Secrets

    fleet, source = secret_fleet
    runs = key_runs(client, SECRETS)
    cached = cached_source(source, tmp_path / "cache")
    assert inventory_list(ansible, cached).returncode == 0
    Secrets(client).disable("web-key-1")
    Secrets(client).delete("web-key-1", clean_ssh_key=False)
    assert sorted(s["secret_name"] for s in admin.secrets()) == ["web-key-0", "web-key-2"]
    assert "web_key_1" in [kp["key_name"] for kp in admin.key_pairs()]
    admin.clear_requests()
    run = run_ping(ansible, cached, tmp_path, local_temp, tasks=2, verbosity=4, env={"ANSIBLE_PIPELINING": "true"})
    gone = fleet[1]["instance_id"]
    others = sorted(i["instance_id"] for i in fleet if i["instance_id"] != gone)
    assert run.rc == 2, run.stdout[-3000:] + run.stderr[-3000:]
    assert [pongs(run, "ping 0"), pongs(run, "ping 1")] == [others, others]
    failures = [(r["host"], r["task"]) for r in run.results if r["status"] == "failed"]
    assert failures == [(gone, "ping 0")]
    message = " ".join(run.task("ping 0", gone)["msg"].split())
    assert ("tencent_ssh_key: host %s: Could not read the private key of secret web-key-1: the secret does not "
            "exist in this region" % gone) in message, message
    assert "(ResourceNotFound, RequestId " in message
    assert sorted(r["code"] for r in value_calls(admin)) == ["OK", "OK", "ResourceNotFound"]
    assert leaks(run.stdout + run.stderr, runs) == []

    fresh = inventory_list(ansible, cached, "--flush-cache")
    assert fresh.returncode == 0, fresh.stderr
    hostvars = json.loads(fresh.stdout)["_meta"]["hostvars"]
    assert "tencent_ssh_key_secret" not in hostvars[gone] and "ansible_ssh_private_key_file" not in hostvars[gone]
    assert sorted(h for h, v in hostvars.items() if "tencent_ssh_key_secret" in v) == sorted(
        i["instance_id"] for i in fleet if i["instance_id"] != gone)
    warning = "no key pair bound to 1 host(s) is held by an enabled SSH-key secret (key pairs bound): %s (web_key_1)"
    assert warning % gone in " ".join(fresh.stderr.split()), fresh.stderr
    assert files_holding([tmp_path, local_temp], runs)[0] == []


# --- the budget --------------------------------------------------------------------------------------------------

def test_six_hosts_five_tasks_three_key_pairs_read_three_times_even_throttled(
        ansible, admin, client, tmp_path, local_temp):
    """6 hosts sharing 3 key pairs, 5 tasks, 6 forks: each key pair read once. Then with the service's rate limits
    and three throttled answers of GetSSHKeyPairValue, with the default retries: the run still succeeds."""
    for number in range(3):
        make_secret(client, SECRETS[number], "web_key_%d" % number)
    held = {k["key_name"]: k["key_id"] for k in admin.key_pairs()}
    ids = sorted(admin.instance(ssh=True, state="RUNNING", key_ids=[held["web_key_%d" % (n % 3)]])["instance_id"]
                 for n in range(6))
    source = tmp_path / "six.tencent_cvm.yml"
    source.write_text(yaml.safe_dump({"plugin": PLUGIN, "filters": {"instance-state": "RUNNING"},
                                      "private_key_source": "secrets_manager"}))
    runs = key_runs(client, SECRETS)
    quick = {"ANSIBLE_PIPELINING": "true"}  # one ssh connection per task: the lookup still runs for each
    admin.clear_requests()
    run = run_ping(ansible, source, tmp_path, local_temp, tasks=5, forks=6, env=quick)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert [pongs(run, "ping %d" % i) for i in range(5)] == [ids] * 5
    assert [r["code"] for r in value_calls(admin)] == ["OK"] * 3  # not 6 hosts x 5 tasks

    admin.config(rate_limits="realistic")
    try:
        admin.fault(action="GetSSHKeyPairValue", mode="error", code="RequestLimitExceeded", count=3)
        admin.clear_requests()
        run = run_ping(ansible, source, tmp_path, local_temp, forks=6, env=quick)
        assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert pongs(run) == ids
        assert sorted(r["code"] for r in value_calls(admin)) == ["OK"] * 3 + ["RequestLimitExceeded"] * 3
    finally:
        admin.clear_faults()
        admin.config(rate_limits="off")
    assert leaks(run.stdout + run.stderr, runs) == [] and files_holding([tmp_path, local_temp], runs)[0] == []


# --- older cores (also run on ansible-core 2.16 by scripts/test-oldest.sh) ---------------------------------------

def core_version():
    from ansible.release import __version__
    return __version__


def older_core():
    from ansible.module_utils.compat.version import LooseVersion
    return LooseVersion(core_version()) < LooseVersion("2.19")


@pytest.mark.core
def test_the_inventory_mode_names_its_requirement_on_older_cores(ansible, admin, client, tmp_path):
    make_secret(client, "web-key-0", "web_key_0")
    (key_id,) = [k["key_id"] for k in admin.key_pairs()]
    (instance_id,) = admin.instance_batch(1, state="RUNNING", key_ids=[key_id])
    source = tmp_path / "fleet.tencent_cvm.yml"
    source.write_text(yaml.safe_dump({"plugin": PLUGIN, "private_key_source": "secrets_manager"}))
    admin.clear_requests()
    proc = inventory_list(ansible, source)
    if older_core():
        assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
        assert ("private_key_source: secrets_manager needs ansible-core 2.19 or later (its ssh-agent and key "
                "delivery); this is ansible-core %s. Use private_key_source: files with private_key_paths, or a newer "
                "ansible-core (InvalidArgument)" % core_version()) in " ".join(proc.stderr.split()), proc.stderr
        assert admin.requests() == []  # refused before any call
    else:
        assert proc.returncode == 0, proc.stderr
        hostvars = json.loads(proc.stdout)["_meta"]["hostvars"]
        assert hostvars[instance_id]["tencent_ssh_key_secret"] == {"__ansible_unsafe": "web-key-0"}
        assert [r["action"] for r in admin.requests()] == ["DescribeInstances", "DescribeKeyPairs", "ListSecrets"]


@pytest.mark.core
def test_the_lookup_gives_the_key_text_on_every_core_and_the_agent_only_from_2_19(ansible, admin, client):
    """deliver=text: an OpenSSH private key that ssh-keygen reads and whose public half is the key pair's (by name),
    PEM by key_id; deliver=agent: the clear error of this core (2.16: the requirement; 2.19+: no run agent)."""
    make_secret(client, "web-key-0", "web_key_0")
    (pair,) = admin.key_pairs()
    runs = key_runs(client, ["web-key-0"])
    lookup = "lookup('tencentcloud.cvm.tencent_ssh_key', %s)"
    tasks = [
        {"name": "derive", "ansible.builtin.command": {"argv": ["ssh-keygen", "-y", "-f", "/dev/stdin"],
                                                       "stdin": "{{ %s }}" % (lookup % "'web-key-0'")},
         "register": "derived", "no_log": True},
        {"name": "public", "ansible.builtin.debug": {"msg": "{{ derived.stdout }}"}},
        {"name": "pem", "ansible.builtin.assert": {"quiet": True, "that": [  # armour cut: 2.19+ quote a task's lines
            "(%s) is match('%s')" % (lookup % ("key_id='%s', format='pem'" % pair["key_id"]), PEM_BEGIN.rstrip("-"))]}},
        {"name": "agent", "ansible.builtin.debug": {"msg": "{{ %s }}" % (lookup % "'web-key-0', deliver='agent'")},
         "ignore_errors": True},
    ]
    admin.clear_requests()
    run = ansible.play(yaml.safe_dump(tasks))
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.task("public")["msg"].split()[:2] == ["ssh-rsa", pair["key_blob"]]
    assert run.task("pem").get("failed") is not True
    said = " ".join(run.task("agent")["msg"].split())
    assert run.task("agent")["failed"] is True
    if older_core():
        assert said == ("tencent_ssh_key: host localhost: secret web-key-0: deliver=agent needs ansible-core 2.19 or "
                        "later (its SSH_AGENT setting); this is ansible-core %s. Use deliver=text, or "
                        "private_key_source: files (InvalidArgument)" % core_version()), said
    else:
        assert said.endswith("tencent_ssh_key: host localhost: secret web-key-0: deliver=agent needs the run's "
                             "ssh-agent: set ANSIBLE_SSH_AGENT=auto (or ssh_agent=auto in the [connection] section of "
                             "ansible.cfg) (InvalidArgument)"), said
    assert [r["code"] for r in value_calls(admin)] == ["OK", "OK"]  # text by name, PEM by key id; agent: none
    assert leaks(run.stdout + run.stderr + json.dumps(run.results), runs) == []


@pytest.mark.core
def test_the_search_finds_a_key_in_each_of_its_forms(client, tmp_path):
    """The searches above are not blind: each form a key could be written in (PEM, OpenSSH, the API's base64, any of
    them escaped in JSON) is found, in text and in a file."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import Secrets
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.keys import LoadedKey

    make_secret(client, "web-key-0", "web_key_0")
    runs = key_runs(client, ["web-key-0"])
    pem = Secrets(client).value(name="web-key-0").private_key
    key = LoadedKey.from_pem(pem)
    api = base64.b64encode(pem).decode("ascii")
    for text in (key.pem(), key.openssh(), json.dumps({"key": key.openssh()}), repr(key.pem()), api,
                 json.dumps(api)):
        for given in (text, text.encode("ascii")):
            assert set(leaks(given, runs)) & set(runs), text[:40]  # a run of the body, not only the armour
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "events.json").write_text(json.dumps({"stdout": key.openssh()}))
    hits, scanned = files_holding([tmp_path], runs)
    assert [path for path, _what in hits] and {path for path, _what in hits} == {str(tmp_path / "deep/er/events.json")}
    assert scanned == [str(tmp_path / "deep/er/events.json")]
