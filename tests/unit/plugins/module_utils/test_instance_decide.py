# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure part of tencent_instance_keypairs: validate() and decide() on DescribeInstances models (each row with
the steps its plan yields); and the waiting logic of the reconciler against a scripted client (each poll answers the
next model)."""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import TaskError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs import decide as _instance_decide
from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.decide import Observed, check
from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.reconcile import (
    InstanceKeyPairsReconciler, result,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.records import Instance
from helpers import ScriptedClient, api_error, instance_keypairs_spec
import pytest

ONE, TWO = "ins-00000001", "ins-00000002"
KA, KB, KC = "skey-0000000a", "skey-0000000b", "skey-0000000c"
BUSY = api_error("OperationDenied.InstanceOperationInProgress")  # nothing was done: tried again


def model(instance_id=ONE, state="STOPPED", keys=(), op=None, os_name="TencentOS Server 3.1", request_id=None,
          action=None, error=None):
    return {"InstanceId": instance_id, "InstanceState": state, "OsName": os_name,
            "LoginSettings": {"KeyIds": list(keys) or None}, "LatestOperationState": op,
            "LatestOperationRequestId": request_id, "LatestOperation": action, "LatestOperationErrorMsg": error}


def spec(**kw):
    base = dict(instance_ids=[ONE], key_pairs=[KB])
    base.update(kw)
    return instance_keypairs_spec(**base)


def decide(task, models, wanted):
    """The decision for API models (dicts, as DescribeInstances answers them) and the resolved KeyIds."""
    instances = {i: Instance.from_api(m) for i, m in models.items()}
    return _instance_decide.decide(task, Observed(instances, tuple(wanted)))


def changes_of(plan):
    """plan.changes as {instance_id: ([add], [remove])}."""
    return {i: (list(change.add), list(change.remove)) for i, change in plan.changes.items()}


def names(steps):
    return [type(step).__name__ for step in steps]


def run(client, task):
    """The module's result of a real run of `task` against `client`."""
    return result(InstanceKeyPairsReconciler(client).run(task), task, diff=False)


def bound_of(model):
    return list(Instance.from_api(dict({"InstanceId": ONE}, **model)).key_ids)


@pytest.mark.parametrize("kw,message", [
    ({"instance_ids": []}, "instance_ids is empty"),
    ({"key_pairs": []}, "key_pairs is empty"),
    ({"instance_ids": ["ins-1"]}, "are not instance IDs"),
    ({"instance_ids": ["INS-00000001"]}, "are not instance IDs"),
    ({"key_pairs": ["bad-name"]}, "neither key-pair names"),
    ({"key_pairs": ["x" * 26]}, "neither key-pair names"),
    ({"state": "bound"}, "state must be present or absent"),
    ({"state": "absent", "exclusive": True}, "exclusive applies to state=present only"),
    ({"wait_timeout": 0}, "wait_timeout must be a positive"),
])
def test_validate_refuses(kw, message):
    with pytest.raises(TaskError, match=message) as info:
        spec(**kw)
    assert info.value.code == "InvalidArgument"


def test_validate_drops_duplicates_in_order():
    s = spec(instance_ids=[TWO, ONE, TWO], key_pairs=["deploy", KB, "deploy"])
    assert list(s.instance_ids) == [TWO, ONE] and list(s.key_pairs) == ["deploy", KB]  # frozen: tuples


@pytest.mark.parametrize("kw,bound,wanted,changes,steps", [
    ({}, [KA], [KB], {ONE: ([KB], [])}, ["Bind", "WaitDone", "Describe"]),                     # added next to KA
    ({"wait": False}, [KA], [KB], {ONE: ([KB], [])}, ["Bind", "Describe"]),                    # not waited for
    ({}, [KA, KB], [KB], {}, []),                                                              # converged
    ({"exclusive": True}, [KA, KC], [KB], {ONE: ([KB], [KA, KC])},                             # bind, then unbind
     ["Bind", "WaitDone", "Unbind", "WaitDone", "Describe"]),
    ({"exclusive": True, "wait": False}, [KA, KC], [KB], {ONE: ([KB], [KA, KC])},              # bound before unbind
     ["Bind", "WaitDone", "Unbind", "Describe"]),
    ({"exclusive": True}, [KB], [KB], {}, []),
    ({"state": "absent"}, [KA, KB], [KB], {ONE: ([], [KB])}, ["Unbind", "WaitDone", "Describe"]),
    ({"state": "absent"}, [KA], [KB], {}, []),
    ({"state": "absent"}, [KA], [None], {}, []),                                               # an unknown key pair
])
def test_decide_changes(kw, bound, wanted, changes, steps):
    plan = decide(spec(**kw), {ONE: model(keys=bound)}, wanted)
    assert changes_of(plan) == changes and not plan.running and not plan.busy
    assert names(plan.steps) == steps and plan.settle == ()


def test_null_and_empty_key_ids_mean_none_bound():  # Terraform #1403 met KeyIds [""]
    assert bound_of({"LoginSettings": {"KeyIds": None}}) == [] == bound_of({"LoginSettings": {"KeyIds": [""]}})
    assert bound_of({}) == []


@pytest.mark.parametrize("instances,wanted,code", [
    ({}, [KB], "InstanceNotFound"),
    ({ONE: model(os_name="Windows Server 2022 DataCenter")}, [KB], "UnsupportedInstance"),
    ({ONE: model()}, [None], "KeyPairNotFound"),
])
def test_decide_refuses(instances, wanted, code):
    with pytest.raises(TaskError) as info:
        decide(spec(), instances, wanted)
    assert info.value.code == code and "Nothing was changed" in info.value.msg


def test_running_needs_force_stop_and_other_states_are_refused():
    instances = {ONE: model(state="RUNNING"), TWO: model(TWO, state="RESCUE_MODE")}
    plan = decide(spec(instance_ids=[ONE, TWO]), instances, [KB])
    assert list(plan.running) == [ONE] and plan.unusable == {TWO: "RESCUE_MODE"}
    with pytest.raises(TaskError, match="RESCUE_MODE") as info:
        check(plan)
    assert info.value.code == "InstanceStateUnsupported"
    with pytest.raises(TaskError, match=r"\['ins-00000001'\] are RUNNING") as info:
        check(decide(spec(), {ONE: model(state="RUNNING")}, [KB]))
    assert info.value.code == "InstanceRunning"
    forced = decide(spec(force_stop=True), {ONE: model(state="RUNNING")}, [KB])
    check(forced)
    assert changes_of(forced) == {ONE: ([KB], [])}
    assert names(forced.steps) == ["Bind", "WaitDone", "Describe"] and forced.steps[0].group.force_stop is True
    converged = decide(spec(), {ONE: model(state="RUNNING", keys=[KB])}, [KB])  # nothing to change: no refusal
    check(converged)


def test_busy_instances_are_waited_for_and_keyless_ones_warned():
    plan = decide(spec(instance_ids=[ONE, TWO]), {ONE: model(op="OPERATING"), TWO: model(TWO, state="STOPPING")},
                  [KB])
    assert list(plan.busy) == [ONE, TWO]
    assert names(plan.settle) == ["WaitIdle"] and plan.settle[0].instance_ids == (ONE, TWO)
    assert names(plan.steps) == ["Bind", "WaitDone", "Describe"]  # what check mode predicts
    plan = decide(spec(state="absent"), {ONE: model(keys=[KB])}, [KB])
    assert list(plan.keyless) == [ONE]


def test_waits_by_request_id_or_by_effect():
    # read, then: the previous operation still shown (lagging, no RequestId), OPERATING, then done without an ID
    client = ScriptedClient({ONE: [model(keys=[KA]), model(keys=[KA], op="SUCCESS"), model(keys=[KA], op="OPERATING"),
                                   model(keys=[KA, KB], op="SUCCESS")]}, writes=[BUSY, BUSY])
    out = run(client, spec(instance_ids=[ONE], key_pairs=[KB]))
    assert out["changed"] is True and out["instances"][0]["key_ids"] == [KA, KB]
    assert client.calls.count("AssociateInstancesKeyPairs") == 3  # two busy answers retried, nothing else


def test_failed_operation_with_our_request_id():
    failed = model(op="FAILED", request_id="r-write", error="disk full", action="AssociateInstancesKeyPairs")
    client = ScriptedClient({ONE: [model(), failed]})
    with pytest.raises(TaskError, match="disk full") as info:
        run(client, spec(instance_ids=[ONE], key_pairs=[KB]))
    assert info.value.code == "OperationFailed" and info.value.changed is True


def test_timeout_says_what_was_sent():
    client = ScriptedClient({ONE: [model(), model(op="OPERATING")]})
    with pytest.raises(TaskError, match="Already sent: bind") as info:
        run(client, spec(instance_ids=[ONE], key_pairs=[KB], wait_timeout=5))
    assert info.value.code == "OperationTimeout" and info.value.changed is True
