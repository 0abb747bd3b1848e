# SPDX-License-Identifier: GPL-3.0-or-later
"""The role keypair_rotation against emulator instances that run a real OpenSSH sshd: the rotation is proven by
logging in with real `ssh`, before (by the role, through Ansible's SSH connection) and after (by the test)."""

import os
import signal
import subprocess
import time

import pytest
import yaml

from helpers import interrupt, until

ROLE = "tencentcloud.cvm.keypair_rotation"


def login(key, inst):
    """Whether `ssh -i key` logs in to the instance (only that key: no agent, no default identities)."""
    proc = subprocess.run(
        ["ssh", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
         "-o", "ConnectTimeout=10", "-p", str(inst["ssh_port"]), "%s@127.0.0.1" % inst["login_user"], "echo in"],
        capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode in (0, 255), proc.stderr
    if proc.returncode != 0:
        print("login to %s with %s failed: %s" % (inst["instance_id"], key, proc.stderr))  # shown if a test fails
    return proc.returncode == 0 and proc.stdout.strip() == "in"


def rotation(instance_ids, tmp_path, **extra):
    role_vars = {"keypair_rotation_instance_ids": instance_ids, "keypair_rotation_name": "key_b",
                 "keypair_rotation_private_key_path": str(tmp_path / "keys" / "key_b"),
                 "keypair_rotation_old_key_pairs": ["key_a"], "keypair_rotation_force_stop": True,
                 "keypair_rotation_known_hosts_file": str(tmp_path / "known_hosts")}
    role_vars.update(extra)
    return yaml.safe_dump([{"name": "rotate", "hosts": "localhost", "gather_facts": False,
                            "roles": [{"role": ROLE, "vars": role_vars}]}], sort_keys=False)


def recap(run):
    line = [x for x in run.stdout.split("PLAY RECAP")[-1].splitlines() if x.startswith("localhost")][0]
    return {k: int(v) for k, v in (part.split("=") for part in line.split(":", 1)[1].split())}


@pytest.fixture
def fleet(ansible, admin, tmp_path):
    """Key pair key_a (its private key in keys/key_a) bound to two RUNNING instances that run sshd."""
    (tmp_path / "keys").mkdir()
    made = ansible.play(yaml.safe_dump([{"name": "a", "tencentcloud.cvm.tencent_keypair": {
        "name": "key_a", "private_key_path": str(tmp_path / "keys" / "key_a")}, "register": "a"}]))
    a_id = made.task("a")["key_pair"]["key_id"]
    instances = [admin.instance(ssh=True, state="RUNNING", key_ids=[a_id]) for _i in range(2)]
    assert all(login(tmp_path / "keys" / "key_a", inst) for inst in instances)
    return a_id, instances


def state_of(admin):
    return {i["instance_id"]: i for i in admin.instances()}, {k["key_name"]: k for k in admin.key_pairs()}


def check_rotated(admin, tmp_path, instances, deleted):
    now, pairs = state_of(admin)
    b_id = pairs["key_b"]["key_id"]
    for inst in instances:
        assert now[inst["instance_id"]]["key_ids"] == [b_id] and now[inst["instance_id"]]["state"] == "RUNNING"
        assert login(tmp_path / "keys" / "key_b", now[inst["instance_id"]])
        assert not login(tmp_path / "keys" / "key_a", now[inst["instance_id"]])
    assert ("key_a" not in pairs) == deleted


def test_rotation_with_force_stop(ansible, admin, fleet, tmp_path):
    a_id, instances = fleet
    ids = [i["instance_id"] for i in instances]
    play = rotation(ids, tmp_path, keypair_rotation_delete_old=True,
                    keypair_rotation_old_private_key_path=str(tmp_path / "keys" / "key_a"))
    run = ansible.play(None, raw=play)
    assert run.rc == 0, run.stdout + run.stderr
    check_rotated(admin, tmp_path, instances, deleted=True)
    assert len((tmp_path / "known_hosts").read_text().splitlines()) == 2  # the two instances' host keys, here
    order = [r["action"] for r in admin.writes()]
    assert order.index("AssociateInstancesKeyPairs") < order.index("DisassociateInstancesKeyPairs") < \
        order.index("DeleteKeyPairs")
    again = ansible.play(None, raw=play)
    assert again.rc == 0 and recap(again)["changed"] == 0, again.stdout


def test_known_hosts_file_with_white_space_is_refused(ansible, admin, fleet, tmp_path):
    _a_id, instances = fleet
    admin.clear_requests()
    play = rotation([i["instance_id"] for i in instances], tmp_path,
                    keypair_rotation_known_hosts_file=str(tmp_path / "my hosts"))
    run = ansible.play(None, raw=play)
    assert run.rc != 0
    failed = [r for r in run.results if r["status"] == "failed"]
    assert failed[0]["task"].endswith("Check the rotation's variables"), failed
    assert "keypair_rotation_known_hosts_file must not contain white space" in failed[0]["result"]["msg"]
    assert admin.requests() == [] and not (tmp_path / "keys" / "key_b").exists()


def test_verification_that_fails_keeps_the_old_key(ansible, admin, tmp_path):
    """An image whose agent never writes bound keys (no cloud-init): the new key cannot log in, so the role stops
    before anything is unbound, and the old key still works."""
    (tmp_path / "keys").mkdir()
    made = ansible.play(yaml.safe_dump([{"name": "a", "tencentcloud.cvm.tencent_keypair": {
        "name": "key_a", "private_key_path": str(tmp_path / "keys" / "key_a")}, "register": "a"}]))
    a_id = made.task("a")["key_pair"]["key_id"]
    inst = admin.instance(ssh=True, state="RUNNING", key_ids=[a_id], guest_agent=False)
    play = rotation([inst["instance_id"]], tmp_path, keypair_rotation_verify_timeout=3,
                    keypair_rotation_delete_old=True)
    run = ansible.play(None, raw=play)
    assert run.rc != 0
    message = [r for r in run.results if r["status"] == "failed"][-1]["result"]["msg"]
    assert "could not be verified" in message and "stay bound; nothing was unbound" in message
    now, pairs = state_of(admin)
    assert now[inst["instance_id"]]["key_ids"] == [a_id, pairs["key_b"]["key_id"]]  # the old one still bound
    assert login(tmp_path / "keys" / "key_a", now[inst["instance_id"]])
    assert not login(tmp_path / "keys" / "key_b", now[inst["instance_id"]])
    assert "key_a" in pairs and "DisassociateInstancesKeyPairs" not in [r["action"] for r in admin.writes()]


def test_running_instances_need_force_stop(ansible, admin, fleet, tmp_path):
    a_id, instances = fleet
    run = ansible.play(None, raw=rotation([i["instance_id"] for i in instances], tmp_path, keypair_rotation_force_stop=False))
    failed = [r for r in run.results if r["status"] == "failed"][-1]["result"]
    assert failed["failure"]["code"] == "InstanceRunning"
    assert [r["action"] for r in admin.writes()] == ["CreateKeyPair"] * 2  # key_a, key_b; nothing bound or unbound
    assert all(login(tmp_path / "keys" / "key_a", inst) for inst in instances)


# Where the rotation is killed (SIGKILL to every process of the play, as a power cut or an OOM kill would): the
# emulator carries out the call, then holds its answer; the test sees the call's effect in the emulator's state
# (the request log shows a call only once it is answered) and kills the play while it waits for the answer.
def operation(admin, action):
    return any((i["operation"] or {}).get("action") == action for i in admin.instances())


def connected_since(instances):
    """Whether an instance's sshd has been handed a connection since `instances` was read."""
    before = {i["instance_id"]: i["ssh_connections"] for i in instances}
    return lambda admin: any(i["ssh_connections"] > before[i["instance_id"]] for i in admin.instances())


KILL_POINTS = {
    "CreateKeyPair": lambda admin: "key_b" in [k["key_name"] for k in admin.key_pairs()],
    "AssociateInstancesKeyPairs": lambda admin: operation(admin, "AssociateInstancesKeyPairs"),
    "DescribeInstances": None,  # while the role waits for the bind to finish
    "login": "login",  # while the role logs in with the new key (the bind is done, nothing is unbound yet)
    "DisassociateInstancesKeyPairs": lambda admin: operation(admin, "DisassociateInstancesKeyPairs"),
    "DeleteKeyPairs": lambda admin: "key_a" not in [k["key_name"] for k in admin.key_pairs()],
}


@pytest.mark.parametrize("action", list(KILL_POINTS))
def test_killed_anywhere_then_run_again(ansible, admin, fleet, tmp_path, action):
    a_id, instances = fleet
    ids = [i["instance_id"] for i in instances]
    done = KILL_POINTS[action]
    if done == "login":
        done = connected_since(admin.instances())
    elif done is not None:
        admin.fault(action=action, mode="hold", latency=6)
    admin.clear_requests()
    play = rotation(ids, tmp_path, keypair_rotation_delete_old=True)
    proc = ansible.spawn(None, raw=play)
    if done is None:  # the bind was answered; the role is polling DescribeInstances until it is done
        until(lambda: "AssociateInstancesKeyPairs" in [r["action"] for r in admin.requests()], 60, "the bind")
        admin.fault(action="DescribeInstances", mode="hold", latency=6)
        time.sleep(0.6)  # the next poll is held
        assert operation(admin, "AssociateInstancesKeyPairs") or "DescribeInstances" in [
            r["action"] for r in admin.requests()]
    else:
        until(lambda: done(admin) or proc.poll() is not None, 120, action)
    assert proc.poll() is None, ansible.finish(proc).stdout
    interrupt(proc, signal.SIGKILL, hard=True)
    if action == "login":  # killed after the bind and before the unbind
        now, _pairs = state_of(admin)
        assert all(set(now[i]["key_ids"]) >= {a_id} and len(now[i]["key_ids"]) == 2 and not now[i]["operation"]
                   for i in ids), now
    admin.clear_faults()
    again = ansible.play(None, raw=play)
    assert again.rc == 0, again.stdout + again.stderr
    check_rotated(admin, tmp_path, instances, deleted=True)
    assert sorted(os.listdir(tmp_path / "keys")) == ["key_a", "key_a.pub", "key_b", "key_b.pub"]
    third = ansible.play(None, raw=play)
    assert third.rc == 0 and recap(third)["changed"] == 0, third.stdout
