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


# --- what an inventory reads: filters, pages, regions (research-instance-key-binding.md §6.1) ---------------------

def describe_filtered(client, filters, offset=0, limit=100):
    req = models.DescribeInstancesRequest()
    req.Filters = [models.Filter() for _f in filters]
    for flt, (name, values) in zip(req.Filters, filters):
        flt.Name, flt.Values = name, values
    req.Offset, req.Limit = offset, limit
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # every field the emulator answers is in the SDK's model
        return client.DescribeInstances(req)


def test_filters_pages_and_the_inventory_fields(emulator):
    client = make_client(emulator)
    web = emulator._call("POST", "instance-batch", {
        "count": 3, "region": "ap-guangzhou", "zone": "ap-guangzhou-6", "state": "RUNNING", "name_prefix": "web",
        "tags": {"role": "web"}, "project_id": 1000, "vpc_id": "vpc-abcdefgh", "subnet_id": "subnet-abcdefgh",
        "security_group_ids": ["sg-abcdefgh"], "ipv6_addresses": ["2001:db8::1"],
        "charge_type": "PREPAID"})["instance_ids"]
    emulator._call("POST", "instance-batch", {"count": 2, "region": "ap-guangzhou", "name_prefix": "db"})
    emulator._call("POST", "instance-batch", {"count": 1, "region": "ap-shanghai", "tags": {"role": "web"}})
    found = describe_filtered(client, [("tag:role", ["web"]), ("instance-state", ["RUNNING", "STOPPED"])])
    assert found.TotalCount == 3 and sorted(i.InstanceId for i in found.InstanceSet) == sorted(web)
    one = found.InstanceSet[0]
    assert (one.Placement.Zone, one.Placement.ProjectId, one.VirtualPrivateCloud.VpcId, one.SecurityGroupIds,
            one.IPv6Addresses, one.InstanceChargeType) == ("ap-guangzhou-6", 1000, "vpc-abcdefgh", ["sg-abcdefgh"],
                                                           ["2001:db8::1"], "PREPAID")
    assert [(t.Key, t.Value) for t in one.Tags] == [("role", "web")] and one.InstanceName.startswith("web-")
    for name, values, count in [("zone", ["ap-guangzhou-6"], 3), ("project-id", ["0"], 2), ("tag-key", ["role"], 3),
                                ("instance-name", ["db-"], 2), ("vpc-id", ["vpc-abcdefgh"], 3),
                                ("security-group-id", ["sg-abcdefgh"], 3), ("instance-id", web[:1], 1),
                                ("ipv6-address", ["2001:db8::1"], 3), ("host-id", ["host-x"], 0)]:
        assert describe_filtered(client, [(name, values)]).TotalCount == count, name
    paged = describe_filtered(client, [], offset=4, limit=2)
    assert paged.TotalCount == 5 and len(paged.InstanceSet) == 1


@pytest.mark.parametrize("filters,code", [
    ([("colour", ["red"])], "InvalidFilter"),
    ([("zone", ["a", "b", "c", "d", "e", "f"])], "InvalidFilterValue.LimitExceeded"),
    ([("tag:k%d" % i, ["v"]) for i in range(11)], "InvalidParameterValue.LimitExceeded"),
])
def test_filter_limits(emulator, filters, code):
    assert sdk_error(describe_filtered, make_client(emulator), filters) == code


def test_describe_regions(emulator):
    answer = make_client(emulator).DescribeRegions(models.DescribeRegionsRequest())
    regions = {r.Region: r.RegionState for r in answer.RegionSet}
    assert answer.TotalCount == len(regions) and regions["ap-guangzhou"] == "AVAILABLE" and "na-ashburn" in regions
