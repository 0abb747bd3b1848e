# SPDX-License-Identifier: GPL-3.0-or-later
"""tencent_instance_keypairs through ansible-playbook against the emulator: bind, unbind, exclusive, force_stop,
check and diff mode, idempotence, waiting, and bad input (which makes no write call)."""

import pytest
import yaml

import helpers
from helpers import INSTANCE_KEYPAIRS

pytestmark = pytest.mark.core  # also run on the oldest supported ansible-core (scripts/test-oldest.sh)


def task(args, title="bind", **keywords):
    """A tencent_instance_keypairs task, registered (the result the test reads)."""
    return helpers.task(args, title, INSTANCE_KEYPAIRS, register="out", **keywords)


def bound(admin, instance_id):
    return next(i for i in admin.instances() if i["instance_id"] == instance_id)["key_ids"]


def instance_state(admin, instance_id):
    return next(i for i in admin.instances() if i["instance_id"] == instance_id)["state"]


def calls(admin):
    return [r["action"] for r in admin.requests()]


def test_bind_then_converged(ansible, admin):
    a_id, b_id = admin.seed(["key_a", "key_b"])
    one = admin.instance(key_ids=[a_id])["instance_id"]
    two = admin.instance()["instance_id"]
    admin.clear_requests()
    first = ansible.play(task({"instance_ids": [one, two], "key_pairs": ["key_b"]}))
    out = first.task("bind")
    assert out["changed"] is True and out["key_ids"] == [b_id]
    assert bound(admin, one) == [a_id, b_id] and bound(admin, two) == [b_id]  # added, not replaced
    assert {i["instance_id"]: i["key_ids"] for i in out["instances"]} == {one: [a_id, b_id], two: [b_id]}
    assert all(i["state"] == "STOPPED" and i["latest_operation_state"] == "SUCCESS" for i in out["instances"])
    # one call for both instances (they need the same key pair), then reads until done
    assert calls(admin).count("AssociateInstancesKeyPairs") == 1 and "DisassociateInstancesKeyPairs" not in calls(admin)
    admin.clear_requests()
    by_name = ansible.play(task({"instance_ids": [one, two], "key_pairs": ["key_b"]})).task("bind")
    assert by_name["changed"] is False and calls(admin) == ["DescribeInstances", "DescribeKeyPairs"]
    admin.clear_requests()
    by_id = ansible.play(task({"instance_ids": [one, two], "key_pairs": [b_id]})).task("bind")
    assert by_id["changed"] is False and calls(admin) == ["DescribeInstances"]  # bound KeyIds exist: one read


def test_unbind(ansible, admin):
    a_id, b_id = admin.seed(["key_a", "key_b"])
    one = admin.instance(key_ids=[a_id, b_id])["instance_id"]
    out = ansible.play(task({"instance_ids": [one], "key_pairs": ["key_a", "gone_key"], "state": "absent"},
                            "unbind")).task("unbind")
    assert out["changed"] is True and bound(admin, one) == [b_id] and "warnings" not in out
    assert ansible.play(task({"instance_ids": [one], "key_pairs": ["key_a"], "state": "absent"},
                             "unbind")).task("unbind")["changed"] is False
    last = ansible.play(task({"instance_ids": [one], "key_pairs": [b_id], "state": "absent"}, "unbind")).task("unbind")
    assert bound(admin, one) == [] and "left with no key pair" in " ".join(last["warnings"])


def test_exclusive_binds_before_it_unbinds(ansible, admin):
    a_id, b_id, c_id = admin.seed(["key_a", "key_b", "key_c"])
    one = admin.instance(key_ids=[a_id, c_id])["instance_id"]
    admin.clear_requests()
    out = ansible.play(task({"instance_ids": [one], "key_pairs": ["key_b"], "exclusive": True})).task("bind")
    assert out["changed"] is True and bound(admin, one) == [b_id]
    writes = [a for a in calls(admin) if a.endswith("InstancesKeyPairs")]
    assert writes == ["AssociateInstancesKeyPairs", "DisassociateInstancesKeyPairs"]
    assert ansible.play(task({"instance_ids": [one], "key_pairs": ["key_b"], "exclusive": True})).task(
        "bind")["changed"] is False


def test_running_instance_needs_force_stop(ansible, admin):
    (a_id,) = admin.seed(["key_a"])
    running = admin.instance(state="RUNNING")["instance_id"]
    stopped = admin.instance()["instance_id"]
    refused = ansible.play(task({"instance_ids": [stopped, running], "key_pairs": ["key_a"]}))
    out = refused.task("bind")
    assert out["failed"] is True and out["failure"]["code"] == "InstanceRunning" and out["changed"] is False
    assert running in out["msg"] and stopped not in out["msg"] and "force_stop=true" in out["msg"]
    assert admin.writes() == [] and bound(admin, stopped) == []  # not even the stopped one
    forced = ansible.play(task({"instance_ids": [stopped, running], "key_pairs": ["key_a"], "force_stop": True}))
    out = forced.task("bind")
    assert out["changed"] is True and bound(admin, running) == [a_id] and bound(admin, stopped) == [a_id]
    # the running one was powered off and on again; the stopped one stays stopped
    assert instance_state(admin, running) == "RUNNING" and instance_state(admin, stopped) == "STOPPED"
    # one call each: ForceStop only for the running one
    assert [r["action"] for r in admin.writes()] == ["AssociateInstancesKeyPairs"] * 2


def test_check_and_diff_mode(ansible, admin):
    a_id, b_id = admin.seed(["key_a", "key_b"])
    one = admin.instance(key_ids=[a_id])["instance_id"]
    run = ansible.play(task({"instance_ids": [one], "key_pairs": ["key_b"], "exclusive": True}), check=True, diff=True)
    out = run.task("bind")
    assert out["changed"] is True and admin.writes() == [] and bound(admin, one) == [a_id]
    assert out["diff"] == {"before": {"instances": {one: [a_id]}}, "after": {"instances": {one: [b_id]}}}
    assert "-                \"%s\"" % a_id in run.stdout or a_id in run.stdout  # the diff is shown
    running = admin.instance(state="RUNNING")["instance_id"]
    checked = ansible.play(task({"instance_ids": [running], "key_pairs": ["key_b"]}), check=True).task("bind")
    assert checked["failure"]["code"] == "InstanceRunning"  # check mode refuses what a real run would refuse
    real = ansible.play(task({"instance_ids": [one], "key_pairs": ["key_b"], "exclusive": True}), diff=True)
    assert real.task("bind")["diff"]["after"] == {"instances": {one: [b_id]}}


@pytest.mark.parametrize("args,code,what", [
    ({"instance_ids": ["ins-zzzzzzzz"], "key_pairs": ["key_a"]}, "InstanceNotFound", "ins-zzzzzzzz"),
    ({"instance_ids": ["INSTANCE"], "key_pairs": ["key_a"]}, "InvalidArgument", "INSTANCE"),
    ({"instance_ids": ["@one"], "key_pairs": ["no_such_key"]}, "KeyPairNotFound", "no_such_key"),
    ({"instance_ids": ["@one"], "key_pairs": ["skey-zzzzzzzz"]}, "KeyPairNotFound", "skey-zzzzzzzz"),
    ({"instance_ids": ["@one"], "key_pairs": ["bad-name"]}, "InvalidArgument", "bad-name"),
    ({"instance_ids": ["@windows"], "key_pairs": ["key_a"]}, "UnsupportedInstance", "Windows"),
    ({"instance_ids": [], "key_pairs": ["key_a"]}, "InvalidArgument", "instance_ids is empty"),
    ({"instance_ids": ["@one"], "key_pairs": []}, "InvalidArgument", "key_pairs is empty"),
    ({"instance_ids": ["@one"], "key_pairs": ["key_a"], "state": "absent", "exclusive": True}, "InvalidArgument",
     "exclusive applies to state=present"),
    ({"instance_ids": ["@one"], "key_pairs": ["key_a"], "wait_timeout": 0}, "InvalidArgument", "wait_timeout"),
    ({"instance_ids": ["@rescue"], "key_pairs": ["key_a"], "force_stop": True}, "InstanceStateUnsupported",
     "RESCUE_MODE"),
])
def test_bad_input_changes_nothing(ansible, admin, args, code, what):
    admin.seed(["key_a"])
    ids = {"@one": admin.instance()["instance_id"], "@windows": admin.instance(os="windows")["instance_id"],
           "@rescue": admin.instance(state="RESCUE_MODE")["instance_id"]}
    args = dict(args, instance_ids=[ids.get(i, i) for i in args["instance_ids"]])
    admin.clear_requests()
    out = ansible.play(task(args)).task("bind")
    assert out["failed"] is True and out["failure"]["code"] == code and out["changed"] is False
    assert what in out["msg"]
    assert admin.writes() == []
    if code == "InvalidArgument":
        assert admin.requests() == [] and out["request_ids"] == []  # refused before the first call


def test_waits_for_an_operation_already_in_progress(ansible, admin):
    a_id, b_id = admin.seed(["key_a", "key_b"])
    admin.config(operation_delay=2)
    one = admin.instance()["instance_id"]
    first = ansible.play(task({"instance_ids": [one], "key_pairs": ["key_a"], "wait": False}))
    assert first.task("bind")["changed"] is True and "wait=false" in " ".join(first.task("bind")["warnings"])
    assert any(i["operation"] for i in admin.instances())  # still in progress when the task returned
    # a second task (another key pair) finds the instance busy: it waits instead of failing
    second = ansible.play(task({"instance_ids": [one], "key_pairs": ["key_b"]})).task("bind")
    assert second["changed"] is True and bound(admin, one) == [a_id, b_id]
    assert "OperationDenied.InstanceOperationInProgress" not in [r["code"] for r in admin.requests()]


def test_operation_that_fails(ansible, admin):
    admin.seed(["key_a"])
    one = admin.instance()["instance_id"]
    admin.fault(action="AssociateInstancesKeyPairs", mode="operation_failed", message="disk is read-only")
    out = ansible.play(task({"instance_ids": [one], "key_pairs": ["key_a"]})).task("bind")
    assert out["failure"]["code"] == "OperationFailed" and out["changed"] is True
    assert "disk is read-only" in out["msg"] and "Already sent: bind" in out["msg"] and bound(admin, one) == []
    again = ansible.play(task({"instance_ids": [one], "key_pairs": ["key_a"]})).task("bind")  # the fault was once
    assert again["changed"] is True and len(bound(admin, one)) == 1


def test_wait_timeout(ansible, admin):
    admin.seed(["key_a"])
    admin.config(operation_delay=30)
    one = admin.instance()["instance_id"]
    out = ansible.play(task({"instance_ids": [one], "key_pairs": ["key_a"], "wait_timeout": 1})).task("bind")
    assert out["failure"]["code"] == "OperationTimeout" and out["changed"] is True
    assert "the next run waits for it" in out["msg"] and one in out["msg"]


@pytest.mark.parametrize("setting", [{"operation_report": "lagging"}, {"associate_mode": "replace"}])
def test_service_variants(ansible, admin, setting):
    """A service that leaves LatestOperationRequestId empty and shows the previous operation's state for a while
    (the race Terraform sleeps 10 s for); and one that reads the docs' "the original key becomes invalid"
    literally, replacing the instance's key pairs on bind."""
    admin.config(**setting)
    a_id, b_id, c_id = admin.seed(["key_a", "key_b", "key_c"])
    one = admin.instance(key_ids=[a_id, c_id])["instance_id"]
    out = ansible.play(task({"instance_ids": [one], "key_pairs": ["key_b"], "exclusive": True})).task("bind")
    assert out["changed"] is True and bound(admin, one) == [b_id]
    again = ansible.play(task({"instance_ids": [one], "key_pairs": ["key_a"]})).task("bind")
    assert again["changed"] is True and a_id in bound(admin, one)
    assert ansible.play(task({"instance_ids": [one], "key_pairs": ["key_a"]})).task("bind")["changed"] is False


def test_many_instances_in_batches(ansible, admin):
    (a_id,) = admin.seed(["key_a"])
    ids = [admin.instance()["instance_id"] for _i in range(105)]
    out = ansible.play(task({"instance_ids": ids, "key_pairs": ["key_a"]})).task("bind")
    assert out["changed"] is True and all(bound(admin, i) == [a_id] for i in ids)
    assert [r["action"] for r in admin.writes()] == ["AssociateInstancesKeyPairs"] * 2  # 100 + 5


def test_module_examples_run_against_the_emulator(ansible, admin):
    import importlib

    module = importlib.import_module("ansible_collections.tencentcloud.cvm.plugins.modules.tencent_instance_keypairs")
    tasks = yaml.safe_load(module.EXAMPLES)
    deploy, newer = admin.seed(["deploy_key", "deploy_key_2027"])
    admin.instance(instance_id="ins-a1b2c3d4")
    admin.instance(instance_id="ins-e5f6g7h8")
    raw = yaml.safe_dump([{"name": "examples", "hosts": "localhost", "connection": "local", "gather_facts": False,
                           "vars": {"web_instance_ids": ["ins-e5f6g7h8"]}, "tasks": tasks}], sort_keys=False)
    run = ansible.play(None, raw=raw)
    assert run.rc == 0, run.stdout + run.stderr
    assert [r["result"]["changed"] for r in run.by_action(INSTANCE_KEYPAIRS)] == [True, True, False]
    assert bound(admin, "ins-a1b2c3d4") == [deploy] and bound(admin, "ins-e5f6g7h8") == [newer]
