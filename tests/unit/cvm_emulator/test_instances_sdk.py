# SPDX-License-Identifier: GPL-3.0-or-later
"""Instances and key binding in the emulator, driven by the official SDK: the asynchronous operation (OPERATING,
the ForceStop power cycle, the state that lags), DescribeInstances parsed by the SDK's own Instance model, and the
codes of the SDK's per-action lists (research-instance-key-binding.md §3, §4, §6, §8)."""

import json
import time
import urllib.error
import warnings

import pytest


from tencentcloud.cvm.v20170312 import models

from cvm_emulator import errorcodes
from cvm_emulator.instances import STATES, state_code
from sdk_helpers import create, make_client, sdk_error


def associate(client, instance_ids, key_ids, force=None, action="AssociateInstancesKeyPairs"):
    req = getattr(models, action + "Request")()
    req.InstanceIds, req.KeyIds, req.ForceStop = instance_ids, key_ids, force
    return getattr(client, action)(req)


def describe_instance(client, instance_id):
    req = models.DescribeInstancesRequest()
    req.InstanceIds = [instance_id]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "<fields> fields are useless": the model does not know them
        answer = client.DescribeInstances(req)
    assert answer.TotalCount == 1
    return answer.InstanceSet[0]


def watch(client, instance_id, timeout=10):
    """(InstanceState, LatestOperationState) as seen until the operation is over."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        inst = describe_instance(client, instance_id)
        pair = (inst.InstanceState, inst.LatestOperationState)
        if not seen or seen[-1] != pair:
            seen.append(pair)
        if inst.LatestOperationState in ("SUCCESS", "FAILED"):
            return seen, inst
        time.sleep(0.02)
    raise AssertionError("still in progress: %s" % seen)


def test_force_stop_is_a_power_cycle_under_one_operation(emulator):
    client = make_client(emulator)
    kp = create(client, "k").KeyPair
    inst = emulator.instance(state="RUNNING")["instance_id"]
    emulator.config(operation_delay=1)
    answer = associate(client, [inst], [kp.KeyId], force=True)
    seen, final = watch(client, inst)
    assert seen[0] == ("RUNNING", "OPERATING")  # the state lags the operation (packer #9054)
    assert [s for s, _op in seen] == ["RUNNING", "STOPPING", "STOPPED", "STARTING", "RUNNING", "RUNNING"]
    assert final.LatestOperation == "AssociateInstancesKeyPairs" and final.LatestOperationRequestId == answer.RequestId
    assert final.LoginSettings.KeyIds == [kp.KeyId] and final.LatestOperationErrorMsg == ""


def test_a_stopped_instance_stays_stopped_and_keys_are_added(emulator):
    client = make_client(emulator)
    a, b = create(client, "a").KeyPair, create(client, "b").KeyPair
    inst = emulator.instance(key_ids=[a.KeyId])["instance_id"]
    associate(client, [inst], [b.KeyId], force=True)
    seen, final = watch(client, inst)
    assert {s for s, _op in seen} == {"STOPPED"} and final.LoginSettings.KeyIds == [a.KeyId, b.KeyId]
    associate(client, [inst], [b.KeyId])  # bound already: accepted, nothing changes
    assert watch(client, inst)[1].LoginSettings.KeyIds == [a.KeyId, b.KeyId]
    associate(client, [inst], [a.KeyId, b.KeyId], action="DisassociateInstancesKeyPairs")
    assert watch(client, inst)[1].LoginSettings.KeyIds is None  # may be null (SDK model)


def test_describe_instances_model(emulator):
    client = make_client(emulator)
    inst = emulator.instance(state="RUNNING")["instance_id"]
    got = describe_instance(client, inst)
    assert got.OsName and got.DefaultLoginUser == "root" and got.DefaultLoginPort == 22
    assert got.PrivateIpAddresses and got.PublicIpAddresses is None and got.Placement.Zone == "ap-guangzhou-3"
    req = models.DescribeInstancesRequest()
    req.InstanceIds = [inst, "ins-zzzzzzzz"]  # an unknown well-formed ID is left out, not refused
    assert client.DescribeInstances(req).TotalCount == 1
    req.InstanceIds = ["ins-bad"]
    assert sdk_error(client.DescribeInstances, req) == "InvalidInstanceId.Malformed"


def test_refusals(emulator):
    client = make_client(emulator)
    kp = create(client, "k").KeyPair
    emulator.config(operation_delay=2)
    busy = emulator.instance()["instance_id"]
    associate(client, [busy], [kp.KeyId])
    assert sdk_error(associate, client, [busy], [kp.KeyId]) == "OperationDenied.InstanceOperationInProgress"
    other = emulator.instance()["instance_id"]
    # one unknown instance refuses the whole batch, and nothing starts on the others
    assert sdk_error(associate, client, [other, "ins-zzzzzzzz"], [kp.KeyId]) == "InvalidInstanceId.NotFound"
    assert describe_instance(client, other).LatestOperationState is None
    assert sdk_error(associate, client, [other], [""]) == "InvalidKeyPairId.Malformed"  # Terraform #1403
    assert sdk_error(associate, client, [other], ["skey-zzzzzzzz"]) == "InvalidKeyPairId.NotFound"
    windows = emulator.instance(os="windows")["instance_id"]
    assert sdk_error(associate, client, [windows], [kp.KeyId]) == "UnsupportedOperation.InstanceOsWindows"


@pytest.mark.parametrize("action", ["AssociateInstancesKeyPairs", "DisassociateInstancesKeyPairs"])
def test_every_state_answers_a_code_of_the_sdk_list(emulator, action):
    client = make_client(emulator)
    kp = create(client, "k").KeyPair
    for state in STATES:
        if state == "STOPPED":
            continue
        inst = emulator.instance(state=state)["instance_id"]
        code = sdk_error(associate, client, [inst], [kp.KeyId], True if state != "RUNNING" else None,
                         action=action)
        expected = state_code(state) if state_code(state) in errorcodes.BY_ACTION[action] else \
            "InvalidInstance.NotSupported"
        assert code == expected, state  # ForceStop turns only RUNNING into a stop
        assert code in errorcodes.codes(action)


def test_operation_failed_fault(emulator):
    client = make_client(emulator)
    kp = create(client, "k").KeyPair
    inst = emulator.instance(state="RUNNING")["instance_id"]
    emulator.fault(action="AssociateInstancesKeyPairs", mode="operation_failed", message="guest agent timeout")
    associate(client, [inst], [kp.KeyId], force=True)
    seen, final = watch(client, inst)
    assert final.LatestOperationState == "FAILED" and final.LatestOperationErrorMsg == "guest agent timeout"
    assert final.InstanceState == "RUNNING" and final.LoginSettings.KeyIds is None


def test_variants_replace_and_lagging(emulator):
    client = make_client(emulator)
    a, b = create(client, "a").KeyPair, create(client, "b").KeyPair
    inst = emulator.instance(key_ids=[a.KeyId])["instance_id"]
    emulator.config(associate_mode="replace", operation_report="lagging", operation_delay=1)
    associate(client, [inst], [b.KeyId])
    first = describe_instance(client, inst)
    assert first.LatestOperationState is None and first.LatestOperationRequestId is None  # the previous one
    seen, final = watch(client, inst)
    assert ("STOPPED", "OPERATING") in seen and final.LatestOperationRequestId is None
    assert final.LoginSettings.KeyIds == [b.KeyId]  # "the original key becomes invalid", read literally


def test_settings_are_checked(emulator):
    for bad in ({"operation_delay": -1}, {"associate_mode": "merge"}, {"operation_report": "never"}):
        with pytest.raises(urllib.error.HTTPError, match="400"):
            emulator.config(**bad)
    assert json.dumps(emulator.state()["settings"]["operation_delay"]) == "0.5"
