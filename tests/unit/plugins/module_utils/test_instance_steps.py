# SPDX-License-Identifier: GPL-3.0-or-later
"""The write side of tencent_instance_keypairs: its steps (what each says, predicts and does), the executor running
them against a scripted client (each DescribeInstances answers the next model of each instance; writes answer as
told), the journal in the failures ("Already sent: ..."), the resource's one error contract (LostAnswer) and the one
result function."""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import TaskError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.steps import predict
from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.api import Instances, LostAnswer
from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.decide import Observed, decide
from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.reconcile import (
    InstanceKeyPairsReconciler, Outcome, result,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.records import Instance
from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.steps import (
    Progress, Sent, Watch, finished,
)
from helpers import ScriptedClient, api_error, instance_keypairs_spec
import pytest

ONE, TWO = "ins-00000001", "ins-00000002"
KA, KB, KC = "skey-0000000a", "skey-0000000b", "skey-0000000c"


def model(instance_id=ONE, state="STOPPED", keys=(), op=None, request_id=None, action=None, error=None):
    return {"InstanceId": instance_id, "InstanceState": state, "OsName": "TencentOS Server 3.1",
            "LoginSettings": {"KeyIds": list(keys)}, "LatestOperationState": op, "LatestOperationRequestId": request_id,
            "LatestOperation": action, "LatestOperationErrorMsg": error}


def spec(**kw):
    return instance_keypairs_spec(**dict(dict(instance_ids=[ONE], key_pairs=[KB]), **kw))


def instances(*models):
    return {m["InstanceId"]: Instance.from_api(m) for m in models}


def plan_for(task, *models):
    return decide(task, Observed(instances(*models), tuple(task.key_pairs)))


def says(steps):
    return [step.says() for step in steps]


def test_steps_say_what_they_do_and_predict_the_keys():
    task = spec(instance_ids=[ONE, TWO], exclusive=True, force_stop=True)
    plan = plan_for(task, model(keys=[KA]), model(TWO, state="RUNNING", keys=[KA, KC]))
    assert says(plan.steps) == [
        "bind ['skey-0000000b'] to ['ins-00000001']",
        "bind ['skey-0000000b'] to ['ins-00000002'] with ForceStop",  # only the RUNNING one, with force_stop
        "wait until Tencent Cloud has carried out the bind on instances ['ins-00000001', 'ins-00000002']",
        "unbind ['skey-0000000a'] from ['ins-00000001']",
        "unbind ['skey-0000000a', 'skey-0000000c'] from ['ins-00000002'] with ForceStop",
        "wait until Tencent Cloud has carried out the unbind on instances ['ins-00000001', 'ins-00000002']",
        "read instances ['ins-00000001', 'ins-00000002']"]
    before = Progress(instances(model(keys=[KA]), model(TWO, state="RUNNING", keys=[KA, KC])))
    assert predict(plan.steps, before).bound() == {ONE: [KB], TWO: [KB]}
    assert before.bound() == {ONE: [KA], TWO: [KA, KC]}  # a prediction changes nothing it was given


def test_one_call_per_hundred_instances_that_need_the_same_keys():
    ids = ["ins-%08d" % n for n in range(105)]
    task = spec(instance_ids=ids)
    plan = plan_for(task, *(model(i, keys=[KA] if n % 2 else []) for n, i in enumerate(ids)))
    sizes = [len(step.group.instance_ids) for step in plan.steps if type(step).__name__ == "Bind"]
    assert sizes == [100, 5]  # KA bound or not, each needs the same one KeyId: one group, cut at 100


def test_a_failure_after_a_bind_says_what_was_sent():
    client = ScriptedClient({ONE: [model(keys=[KA]), model(keys=[KA, KB], op="SUCCESS", request_id="r-write")]},
                            writes=[None, api_error("InvalidKeyPairId.NotFound")])
    with pytest.raises(TaskError) as info:
        InstanceKeyPairsReconciler(client).run(spec(exclusive=True))
    assert info.value.msg == (
        "Could not unbind key pairs ['skey-0000000a'] from instances ['ins-00000001']: no such key pair in this region "
        "(the message) (InvalidKeyPairId.NotFound, RequestId r-err). Already sent: bind ['skey-0000000b'] to "
        "['ins-00000001'] (RequestId r-write).")
    assert info.value.changed is True and info.value.code == "InvalidKeyPairId.NotFound"


def test_a_refused_first_call_changed_nothing():
    client = ScriptedClient({ONE: [model()]}, writes=[api_error("InvalidKeyPairId.NotFound")])
    with pytest.raises(TaskError) as info:
        InstanceKeyPairsReconciler(client).run(spec())
    assert info.value.changed is False and "Already sent" not in info.value.msg
    assert info.value.msg.startswith("Could not bind key pairs ['skey-0000000b'] to instances ['ins-00000001']: ")


def test_a_lost_answer_is_a_task_error_that_may_have_changed_something():
    client = ScriptedClient({ONE: [model()]}, writes=[api_error("ClientNetworkError", ambiguous=True, timed_out=True)])
    with pytest.raises(LostAnswer) as info:
        Instances(client).change_key_pairs("bind", [ONE], [KB], False)
    assert isinstance(info.value, TaskError) and info.value.ambiguous and info.value.timed_out
    assert info.value.changed is True and info.value.code == "ClientNetworkError"
    assert "the answer was lost, so the operation may be under way; the next run waits for it" in info.value.msg
    client = ScriptedClient({ONE: [model()]}, writes=[api_error("ClientNetworkError", ambiguous=True)])
    with pytest.raises(LostAnswer) as info:  # through a run: still a LostAnswer, still changed
        InstanceKeyPairsReconciler(client).run(spec())
    assert info.value.changed is True and not info.value.timed_out


def test_a_busy_instance_is_tried_again_until_the_deadline():
    busy = [api_error("OperationDenied.InstanceOperationInProgress") for _n in range(100)]
    client = ScriptedClient({ONE: [model()]}, writes=busy)
    with pytest.raises(TaskError) as info:
        InstanceKeyPairsReconciler(client).run(spec(wait_timeout=5))
    assert info.value.code == "OperationDenied.InstanceOperationInProgress" and info.value.changed is False
    assert "another operation is in progress on the instance" in info.value.msg
    assert 1 < client.calls.count("AssociateInstancesKeyPairs") < 100 and client.now <= 5


def test_a_busy_instance_is_waited_for_and_the_decision_made_again():
    # an earlier run's bind of KB is still OPERATING: once it is over, there is nothing left to do
    client = ScriptedClient({ONE: [model(op="OPERATING"), model(op="OPERATING"), model(keys=[KB], op="SUCCESS")]})
    out = result(InstanceKeyPairsReconciler(client).run(spec()), spec(), diff=True)
    assert out["changed"] is False and client.sent == []
    assert out["diff"] == {"before": {"instances": {ONE: [KB]}}, "after": {"instances": {ONE: [KB]}}}


def test_waiting_for_a_busy_instance_times_out_without_a_change():
    client = ScriptedClient({ONE: [model(op="OPERATING")]})
    with pytest.raises(TaskError) as info:
        InstanceKeyPairsReconciler(client).run(spec(wait_timeout=5))
    assert info.value.msg == ("Timed out after wait_timeout=5s waiting for instances ['ins-00000001'] to finish the "
                              "operation in progress on them (ins-00000001 STOPPED/OPERATING). Nothing was changed.")
    assert info.value.code == "OperationTimeout" and info.value.changed is False and client.sent == []


def test_check_mode_predicts_and_sends_nothing():
    client = ScriptedClient({ONE: [model(keys=[KA], op="OPERATING")]})
    task = spec(exclusive=True)
    out = result(InstanceKeyPairsReconciler(client, check_mode=True).run(task), task, diff=True)
    assert out["changed"] is True and client.sent == [] and client.calls == ["DescribeInstances", "DescribeKeyPairs"]
    assert out["diff"] == {"before": {"instances": {ONE: [KA]}}, "after": {"instances": {ONE: [KB]}}}
    assert out["instances"][0]["key_ids"] == [KA]  # as read
    assert out["warnings"] == ["Instances ['ins-00000001'] have an operation in progress; a real run waits for it "
                               "first."]


class Vanishing(ScriptedClient):
    """The instance is gone once something was sent to it."""

    def call(self, action, params, retry=True):
        if action == "DescribeInstances" and self.sent:
            self.script[ONE] = []
        return super().call(action, params, retry)


def test_an_instance_that_disappears_while_waited_for():
    client = Vanishing({ONE: [model()]})
    with pytest.raises(TaskError) as info:
        InstanceKeyPairsReconciler(client).run(spec())
    assert info.value.code == "InstanceNotFound" and info.value.changed is True
    assert info.value.msg == ("Instance ins-00000001 disappeared while its key pairs were being changed. Already "
                              "sent: bind ['skey-0000000b'] to ['ins-00000001'] (RequestId r-write).")


def record(**kw):
    return Instance.from_api(model(**kw))


WATCH = Watch(ONE, "bind", (KB,), Sent("r-1", at=0.0))


@pytest.mark.parametrize("found,operating,now,done", [
    (record(keys=[KB], op="SUCCESS", request_id="r-1"), False, 1.0, True),          # ours, SUCCESS
    (record(op="SUCCESS", request_id="r-1"), False, 1.0, True),                     # ours: trusted without the key
    (record(keys=[KB], op="OPERATING", request_id="r-1"), False, 1.0, False),       # still going
    (record(keys=[KB], state="STOPPING", op="SUCCESS", request_id="r-1"), False, 1.0, False),  # state lags behind
    (record(keys=[KB], op="SUCCESS"), False, 1.0, True),                            # no RequestId: by the effect
    (record(op="SUCCESS"), False, 1.0, False),                                      # the previous operation's
    (record(op="FAILED", action="AssociateInstancesKeyPairs"), False, 1.0, False),  # an old failure, just sent
])
def test_when_an_operation_is_over(found, operating, now, done):
    assert finished(WATCH, found, operating, now) is done


@pytest.mark.parametrize("found,operating,now", [
    (record(op="FAILED", request_id="r-1", error="disk full"), False, 1.0),        # ours
    (record(op="FAILED", action="AssociateInstancesKeyPairs"), True, 1.0),          # seen OPERATING since the call
    (record(op="FAILED", action="AssociateInstancesKeyPairs"), False, 11.0),        # long after the call
])
def test_an_operation_that_failed(found, operating, now):
    with pytest.raises(TaskError) as info:
        finished(WATCH, found, operating, now)
    assert info.value.code == "OperationFailed" and info.value.changed is True
    assert info.value.msg.startswith("Tencent Cloud could not bind key pairs ['skey-0000000b'] on instance "
                                     "ins-00000001: ")


def test_one_result_shape():
    read = instances(model(keys=[KA]))
    after = instances(model(keys=[KA, KB]))
    outcome = Outcome(True, (KB,), read, after, after, ("a warning",))
    out = result(outcome, spec(), diff=False)
    assert out == {"changed": True, "key_ids": [KB], "instances": [after[ONE].result()], "warnings": ["a warning"]}
    diff = {"before": {"instances": {ONE: [KA]}}, "after": {"instances": {ONE: [KA, KB]}}}
    assert result(outcome, spec(), diff=True)["diff"] == diff


def test_force_stop_only_as_decided():
    # STOPPED when the task decided, started by someone else during the bind: the unbind does not power it off
    client = ScriptedClient({ONE: [model(keys=[KA]), model(state="RUNNING", keys=[KA, KB], op="SUCCESS",
                                                           request_id="r-write")]})
    InstanceKeyPairsReconciler(client).run(spec(exclusive=True))
    assert [(action, "ForceStop" in params) for action, params in client.sent] == [
        ("AssociateInstancesKeyPairs", False), ("DisassociateInstancesKeyPairs", False)]
    client = ScriptedClient({ONE: [model(state="RUNNING", keys=[KA]),
                                   model(state="RUNNING", keys=[KA, KB], op="SUCCESS", request_id="r-write")]})
    InstanceKeyPairsReconciler(client).run(spec(exclusive=True, force_stop=True))
    assert [params.get("ForceStop") for _action, params in client.sent] == [True, True]
