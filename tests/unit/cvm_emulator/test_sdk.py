# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator driven over real HTTP by the official Tencent Cloud SDK (test-only dependency)."""

import json
import re
import threading
import urllib.request

import pytest


from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import models

from helpers import CREDS, PEM_BEGIN
from sdk_helpers import RSA_PUB, UUID, create, describe, make_client, raw_call, raw_error, sdk_error


# --- every action succeeds ------------------------------------------------------------------------

@pytest.mark.parametrize("sign_method,method", [("TC3-HMAC-SHA256", "POST"), ("TC3-HMAC-SHA256", "GET"),
                                                ("HmacSHA256", "POST"), ("HmacSHA256", "GET"),
                                                ("HmacSHA1", "POST"), ("HmacSHA1", "GET")])
def test_every_action_succeeds(emulator, sign_method, method):
    client = make_client(emulator, sign_method=sign_method, method=method)
    created = create(client, "k_one", tags={"team": "platform"}).KeyPair
    assert re.match(r"^skey-[0-9a-z]{8}$", created.KeyId)
    assert created.PrivateKey.startswith(PEM_BEGIN + "\n")
    assert created.PrivateKey.endswith("\n-----END RSA PRIVATE KEY-----\n")
    assert "\r" not in created.PrivateKey
    assert created.PublicKey.startswith("ssh-rsa AAAA") and created.PublicKey.endswith(" " + created.KeyId)
    # the documented answer: KeyId, KeyName, ProjectId, PublicKey, PrivateKey, and nothing else
    assert (created.KeyName, created.ProjectId) == ("k_one", 0)
    assert (created.CreatedTime, created.Tags, created.Description, created.AssociatedInstanceIds) == \
        (None, None, None, None)
    described = describe(client, KeyIds=[created.KeyId]).KeyPairSet[0]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", described.CreatedTime)

    req = models.ImportKeyPairRequest()
    req.KeyName, req.ProjectId, req.PublicKey = "k_two", 0, RSA_PUB
    imported = client.ImportKeyPair(req)
    assert re.match(r"^skey-[0-9a-z]{8}$", imported.KeyId)

    listed = describe(client, Filters=[{"Name": "tag:team", "Values": ["platform"]}])
    assert listed.TotalCount == 1 and listed.KeyPairSet[0].KeyId == created.KeyId
    assert listed.KeyPairSet[0].PrivateKey is None
    assert listed.KeyPairSet[0].Tags[0].Key == "team"

    modify = models.ModifyKeyPairAttributeRequest()
    modify.KeyId, modify.Description = created.KeyId, "described"
    client.ModifyKeyPairAttribute(modify)
    assert describe(client, KeyIds=[created.KeyId]).KeyPairSet[0].Description == "described"

    instance = emulator.instance(region="ap-guangzhou")
    assoc = models.AssociateInstancesKeyPairsRequest()
    assoc.InstanceIds, assoc.KeyIds = [instance["instance_id"]], [created.KeyId]
    client.AssociateInstancesKeyPairs(assoc)  # asynchronous: bound when the operation ends
    emulator.wait_idle_instances()
    assert describe(client, KeyIds=[created.KeyId]).KeyPairSet[0].AssociatedInstanceIds == [instance["instance_id"]]
    dis = models.DisassociateInstancesKeyPairsRequest()
    dis.InstanceIds, dis.KeyIds = [instance["instance_id"]], [created.KeyId]
    client.DisassociateInstancesKeyPairs(dis)
    emulator.wait_idle_instances()
    assert not describe(client, KeyIds=[created.KeyId]).KeyPairSet[0].AssociatedInstanceIds

    delete = models.DeleteKeyPairsRequest()
    delete.KeyIds = [created.KeyId, imported.KeyId]
    client.DeleteKeyPairs(delete)
    assert describe(client).TotalCount == 0
    logged = {(r["action"], r["signature_method"], r["code"]) for r in emulator.requests()}
    assert ("DeleteKeyPairs", sign_method, "OK") in logged


def test_private_key_is_a_real_rsa_2048_key_matching_the_public_key(emulator):
    from cryptography.hazmat.primitives import serialization

    created = create(make_client(emulator), "k_real").KeyPair
    key = serialization.load_pem_private_key(created.PrivateKey.encode(), password=None)
    assert key.key_size == 2048
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    assert created.PublicKey.split()[1] == public.decode().split()[1]
    stored = emulator.key_pairs()[0]
    assert "PRIVATE" not in json.dumps(stored)


def test_paging_and_total_count(emulator):
    client = make_client(emulator)
    emulator.config(quota=300)
    for i in range(7):
        create(client, "page_%d" % i)
    first = describe(client, Offset=0, Limit=3)
    assert first.TotalCount == 7 and len(first.KeyPairSet) == 3
    rest = describe(client, Offset=6, Limit=3)
    assert len(rest.KeyPairSet) == 1
    assert len(describe(client).KeyPairSet) == 7  # default Limit 20


def test_key_name_filter_is_loose_and_project_filter(emulator):
    client = make_client(emulator)
    create(client, "web")
    create(client, "web_old", project_id=1000)
    names = {kp.KeyName for kp in describe(client, Filters=[{"Name": "key-name", "Values": ["web"]}]).KeyPairSet}
    assert names == {"web", "web_old"}  # clients must compare names exactly themselves
    listed = describe(client, Filters=[{"Name": "project-id", "Values": ["1000"]}]).KeyPairSet
    assert [kp.KeyName for kp in listed] == ["web_old"]


def test_regions_are_separate(emulator):
    create(make_client(emulator, region="ap-guangzhou"), "same")
    create(make_client(emulator, region="ap-shanghai"), "same")
    assert describe(make_client(emulator, region="ap-shanghai")).TotalCount == 1


# --- every error code -----------------------------------------------------------------------------

def test_auth_errors(emulator):
    assert sdk_error(describe, make_client(emulator, secret_id="AKIDunknown")) == "AuthFailure.SecretIdNotFound"
    assert sdk_error(describe, make_client(emulator, secret_key="wrong")) == "AuthFailure.SignatureFailure"
    assert sdk_error(describe, make_client(emulator, secret_key="wrong", sign_method="HmacSHA256")) \
        == "AuthFailure.SignatureFailure"
    emulator.config(clock_offset=400)
    assert sdk_error(describe, make_client(emulator)) == "AuthFailure.SignatureExpire"
    emulator.config(clock_offset=-299)
    describe(make_client(emulator))
    emulator.config(clock_offset=0)
    emulator.credential(secret_id="AKIDsts", secret_key="stskey", token="tok-1")
    assert sdk_error(describe, make_client(emulator, "ap-guangzhou", "AKIDsts", "stskey")) \
        == "AuthFailure.TokenFailure"
    assert sdk_error(describe, make_client(emulator, "ap-guangzhou", "AKIDsts", "stskey", "tok-2")) \
        == "AuthFailure.TokenFailure"
    describe(make_client(emulator, "ap-guangzhou", "AKIDsts", "stskey", "tok-1"))
    describe(make_client(emulator, "ap-guangzhou", "AKIDsts", "stskey", "tok-1", sign_method="HmacSHA1"))
    emulator.credential(secret_id="AKIDsts", secret_key="stskey", token="tok-1", token_expired=True)
    assert sdk_error(describe, make_client(emulator, "ap-guangzhou", "AKIDsts", "stskey", "tok-1")) \
        == "AuthFailure.TokenFailure"


def _raw(emulator, headers, body=b"{}", path="/"):
    req = urllib.request.Request("http://%s%s" % (emulator.url_host, path), data=body, method="POST",
                                 headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/json"
        return json.loads(resp.read())["Response"]


def test_malformed_authorization(emulator):
    resp = _raw(emulator, {"Content-Type": "application/json", "Authorization": "TC3-HMAC-SHA256 garbage",
                           "X-TC-Action": "DescribeKeyPairs"})
    assert resp["Error"]["Code"] == "AuthFailure.InvalidAuthorization"
    assert UUID.match(resp["RequestId"])
    resp = _raw(emulator, {"Content-Type": "application/json"})
    assert resp["Error"]["Code"] == "AuthFailure.InvalidAuthorization"


def test_protocol_errors(emulator):
    client = make_client(emulator)
    assert sdk_error(raw_call, client, "RunInstances", {}) == "InvalidAction"
    assert sdk_error(raw_call, client, "DescribeKeyPairs", {"Bogus": 1}) == "UnknownParameter"
    assert sdk_error(raw_call, client, "DescribeKeyPairs", {"Filters": [{"Name": "key-name", "Values": ["a"],
                                                                         "Extra": 1}]}) == "UnknownParameter"
    assert sdk_error(raw_call, client, "CreateKeyPair", {"KeyName": "x"}) == "MissingParameter"
    assert sdk_error(raw_call, client, "CreateKeyPair", {"KeyName": "x", "ProjectId": "zero"}) == "InvalidParameter"
    assert sdk_error(raw_call, client, "DescribeKeyPairs", {
        "KeyIds": ["skey-11112222"], "Filters": [{"Name": "key-name", "Values": ["a"]}]}) == "InvalidParameter"
    assert sdk_error(raw_call, client, "DescribeKeyPairs", {"Limit": 101}) == "InvalidParameterValueLimit"
    assert sdk_error(raw_call, client, "DescribeKeyPairs", {"Filters": [{"Name": "colour", "Values": ["a"]}]}) \
        == "InvalidFilter"
    assert sdk_error(describe, make_client(emulator, region="xx-nowhere-1")) == "UnsupportedRegion"
    old = make_client(emulator)
    old._apiVersion = "2099-01-01"
    assert sdk_error(describe, old) == "NoSuchVersion"
    v1_old = make_client(emulator, sign_method="HmacSHA256")
    v1_old._apiVersion = "2016-01-01"
    assert sdk_error(describe, v1_old) == "NoSuchVersion"


@pytest.mark.parametrize("name,code,seed_code", [
    ("", "InvalidParameterValue", "InvalidKeyPairNameEmpty"),
    ("a" * 26, "InvalidParameterValue", "InvalidKeyPairNameTooLong"),
    ("bad-name", "InvalidParameterValue", "InvalidKeyPairNameIncludeIllegalChar"),
    ("semi;colon", "InvalidParameterValue", "InvalidKeyPairNameIncludeIllegalChar"),
    ("naïve", "InvalidParameterValue", "InvalidParameterValue"),
    ("tab\there", "InvalidParameterValue", "InvalidParameterValue"),
])
def test_key_name_errors(emulator, name, code, seed_code):
    """Today's service answers InvalidParameterValue; the seed's dedicated codes with error_codes=seed."""
    assert sdk_error(create, make_client(emulator), name) == code
    emulator.config(error_codes="seed")
    assert sdk_error(create, make_client(emulator), name) == seed_code
    assert emulator.key_pairs() == []


def test_real_name_error_messages(emulator):
    client = make_client(emulator)
    exc = raw_error(create, client, "tencent_a_c5ohc2kiqfvqn7ef7tcg")
    assert exc.message == ("The specified key pair name `tencent_a_c5ohc2kiqfvqn7ef7tcg` is too long, more than "
                           "`25` characters.")  # as cb-spider #486 quotes it
    assert raw_error(create, client, "bad-name").message == \
        "The specified key pair name `bad-name` is include illegal character `-`."  # cb-tumblebug #2455


def test_create_errors(emulator):
    client = make_client(emulator)
    create(client, "dup")
    assert sdk_error(create, client, "dup") == "InvalidKeyPairName.Duplicate"
    assert sdk_error(create, client, "proj", 4242) == "InvalidProjectId.NotFound"
    assert sdk_error(create, client, "tagged", 0, {"qcloud:reserved": "x"}) == "FailedOperation.TagKeyReserved"
    assert sdk_error(create, client, "tagged", 0, {"qcs:x": "y"}) == "FailedOperation.TagKeyReserved"
    assert sdk_error(create, client, "tagged", 0, {"team": ""}) == "FailedOperation.IllegalTagValue"
    assert sdk_error(create, client, "tagged", 0, {"bad*key": "v"}) == "FailedOperation.IllegalTagKey"
    assert sdk_error(create, client, "tagged", 0, {"k": "v" * 256}) == "FailedOperation.IllegalTagValue"
    assert sdk_error(create, client, "tagged", 0, {"k%d" % i: "v" for i in range(51)}) == \
        "LimitExceeded.TagResourceQuota"
    emulator.config(quota=2)
    create(make_client(emulator, region="ap-shanghai"), "second")  # the quota is per account, not per region
    assert sdk_error(create, client, "third") == "InvalidKeyPair.LimitExceeded"
    assert len(emulator.key_pairs()) == 2


def test_import_errors(emulator):
    client = make_client(emulator)

    def imp(name, key):
        req = models.ImportKeyPairRequest()
        req.KeyName, req.ProjectId, req.PublicKey = name, 0, key
        return client.ImportKeyPair(req)

    imp("first", RSA_PUB)
    assert sdk_error(imp, "again", RSA_PUB) == "InvalidPublicKey.Duplicate"
    assert sdk_error(imp, "ed", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFakeFake") \
        == "InvalidPublicKey.Malformed"
    assert sdk_error(imp, "junk", "ssh-rsa !!!notbase64") == "InvalidPublicKey.Malformed"
    assert sdk_error(imp, "first", RSA_PUB.replace("import", "x")) == "InvalidKeyPairName.Duplicate"


def test_delete_modify_and_association_errors(emulator):
    client = make_client(emulator)
    kp = create(client, "bound").KeyPair

    def delete(ids):
        req = models.DeleteKeyPairsRequest()
        req.KeyIds = ids
        return client.DeleteKeyPairs(req)

    def modify(**kw):
        req = models.ModifyKeyPairAttributeRequest()
        req.from_json_string(json.dumps(kw))
        return client.ModifyKeyPairAttribute(req)

    def associate(instance_ids, key_ids, force=None):
        req = models.AssociateInstancesKeyPairsRequest()
        req.InstanceIds, req.KeyIds, req.ForceStop = instance_ids, key_ids, force
        return client.AssociateInstancesKeyPairs(req)

    assert sdk_error(delete, ["skey-1122"]) == "InvalidKeyPairId.Malformed"
    assert sdk_error(delete, ["skey-zzzzzzzz"]) == "InvalidKeyPairId.NotFound"
    assert sdk_error(delete, ["skey-%08d" % i for i in range(101)]) == "InvalidParameterValue.LimitExceeded"
    assert sdk_error(modify, KeyId=kp.KeyId, Description="x" * 61) == "InvalidParameterValue"
    assert sdk_error(modify, KeyId=kp.KeyId) == "MissingParameter"
    assert sdk_error(modify, KeyId="skey-zzzzzzzz", Description="d") == "InvalidKeyPairId.NotFound"
    create(client, "other")
    assert sdk_error(modify, KeyId=kp.KeyId, KeyName="other") == "InvalidKeyPairName.Duplicate"

    running = emulator.instance(state="RUNNING")
    assert sdk_error(associate, ["ins-bad"], [kp.KeyId]) == "InvalidInstanceId.Malformed"
    assert sdk_error(associate, ["ins-zzzzzzzz"], [kp.KeyId]) == "InvalidInstanceId.NotFound"
    assert sdk_error(associate, [running["instance_id"]], [kp.KeyId]) == "UnsupportedOperation.InstanceStateRunning"
    associate([running["instance_id"]], [kp.KeyId], True)
    emulator.wait_idle_instances()
    assert sdk_error(delete, [kp.KeyId]) == "InvalidParameterValue.KeyPairNotSupported"
    windows = emulator.instance(os="windows")
    assert sdk_error(associate, [windows["instance_id"]], [kp.KeyId]) == "UnsupportedOperation.InstanceOsWindows"

    imaged = create(client, "imaged").KeyPair
    emulator.image(key_ids=[imaged.KeyId])
    assert sdk_error(delete, [imaged.KeyId]) == "InvalidParameterValue.KeyPairNotSupported"
    emulator.config(error_codes="seed")  # the code of 2019 (Packer #7910), still reachable
    assert sdk_error(delete, [imaged.KeyId]) == "InvalidKeyPair.NotSupported"
    assert sdk_error(modify, KeyId=kp.KeyId, KeyName="bad-name") == "InvalidKeyPairNameIncludeIllegalChar"
    emulator.config(error_codes="current")
    assert sdk_error(modify, KeyId=kp.KeyId, KeyName="bad-name") == "InvalidParameterValue"
    assert {kp["key_name"] for kp in emulator.key_pairs()} == {"bound", "other", "imaged"}


def test_empty_description(emulator):
    client = make_client(emulator)
    kp = create(client, "described").KeyPair

    def modify(**kw):
        req = models.ModifyKeyPairAttributeRequest()
        req.from_json_string(json.dumps(kw))
        return client.ModifyKeyPairAttribute(req)

    modify(KeyId=kp.KeyId, Description="x")
    modify(KeyId=kp.KeyId, Description="")  # by default "" is a value: it clears the description
    assert emulator.key_pairs()[0]["description"] == ""
    emulator.config(empty_description="missing")  # a backend that reads "" as "not given"
    assert sdk_error(modify, KeyId=kp.KeyId, Description="") == "MissingParameter"
    modify(KeyId=kp.KeyId, KeyName="described", Description="")  # with a name: allowed, nothing cleared


def test_terminated_instances_keep_their_bindings_for_a_while(emulator):
    import time

    client = make_client(emulator)
    kp = create(client, "lingering").KeyPair
    inst = emulator.instance(key_ids=[kp.KeyId])["instance_id"]
    emulator.config(binding_linger=1.0)
    emulator.terminate(inst)
    assert describe(client, KeyIds=[kp.KeyId]).KeyPairSet[0].AssociatedInstanceIds == [inst]
    req = models.DescribeInstancesRequest()
    req.InstanceIds = [inst]
    answer = client.DescribeInstances(req)
    assert answer.TotalCount == 1 and answer.InstanceSet[0].InstanceState == "TERMINATING"
    assert answer.InstanceSet[0].LoginSettings.KeyIds == [kp.KeyId]
    delete = models.DeleteKeyPairsRequest()
    delete.KeyIds = [kp.KeyId]
    assert sdk_error(client.DeleteKeyPairs, delete) == "InvalidParameterValue.KeyPairNotSupported"
    time.sleep(1.1)
    assert client.DescribeInstances(req).TotalCount == 0  # gone, and its bindings with it
    client.DeleteKeyPairs(delete)
    assert emulator.key_pairs() == []


# --- the seed's legacy request --------------------------------------------------------------------

def test_seed_example_on_the_legacy_gateway(emulator):
    """The seed's example, v1-signed, at /v2/index.php, answers the seed's response shape."""
    import time
    from urllib.parse import quote

    from tencentcloud.common.sign import Sign

    params = {"Action": "CreateKeyPair", "Version": "2017-03-12", "KeyName": "Tencent", "ProjectId": "0",
              "Region": "ap-guangzhou", "Timestamp": str(int(time.time())), "Nonce": "11886",
              "SecretId": CREDS["secret_id"], "SignatureMethod": "HmacSHA256"}
    s2s = "GET%s/v2/index.php?%s" % (emulator.url_host, "&".join("%s=%s" % (k, params[k]) for k in sorted(params)))
    params["Signature"] = Sign.sign(CREDS["secret_key"], s2s, "HmacSHA256")
    query = "&".join("%s=%s" % (k, quote(v, safe="")) for k, v in params.items())
    with urllib.request.urlopen("http://%s/v2/index.php?%s" % (emulator.url_host, query), timeout=10) as resp:
        assert resp.headers["Content-Type"] == "application/json"
        body = json.loads(resp.read())
    with open(__import__("os").path.join(__import__("helpers").FIXTURES, "seed-CreateKeyPair.md")) as handle:
        seed = handle.read()
    example = json.loads(seed.split("<pre>")[2].split("</pre>")[0])
    assert set(example) == set(body) == {"Response"}
    assert set(example["Response"]) <= set(body["Response"])
    assert set(example["Response"]["KeyPair"]) <= set(body["Response"]["KeyPair"])
    assert body["Response"]["KeyPair"]["KeyName"] == "Tencent"
    assert body["Response"]["KeyPair"]["ProjectId"] == 0
    # TC3 is refused on the legacy path; a v1 signature over another path is refused too
    params["Signature"] = Sign.sign(CREDS["secret_key"], s2s.replace("/v2/index.php", "/"), "HmacSHA256")
    query = "&".join("%s=%s" % (k, quote(v, safe="")) for k, v in params.items())
    with urllib.request.urlopen("http://%s/v2/index.php?%s" % (emulator.url_host, query), timeout=10) as resp:
        assert json.loads(resp.read())["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"


def test_parameters_that_are_only_indexes_are_unknown(emulator):
    """A signed query whose only parameter besides the common ones is an index (`0=x`) names no parameter of the
    API: UnknownParameter, not a request the emulator cannot answer (the type check found that it crashed)."""
    import time
    from urllib.parse import quote

    from tencentcloud.common.sign import Sign

    params = {"Action": "DescribeKeyPairs", "Version": "2017-03-12", "Region": "ap-guangzhou", "0": "x",
              "Timestamp": str(int(time.time())), "Nonce": "11887", "SecretId": CREDS["secret_id"],
              "SignatureMethod": "HmacSHA256"}
    s2s = "GET%s/?%s" % (emulator.url_host, "&".join("%s=%s" % (k, params[k]) for k in sorted(params)))
    params["Signature"] = Sign.sign(CREDS["secret_key"], s2s, "HmacSHA256")
    query = "&".join("%s=%s" % (k, quote(v, safe="")) for k, v in params.items())
    with urllib.request.urlopen("http://%s/?%s" % (emulator.url_host, query), timeout=10) as resp:
        error = json.loads(resp.read())["Response"]["Error"]
    assert error == {"Code": "UnknownParameter", "Message": "The parameter `0` is not recognized."}
    assert [r["code"] for r in emulator.requests()][-1] == "UnknownParameter"


# --- concurrency ----------------------------------------------------------------------------------

def test_twenty_concurrent_clients(emulator):
    emulator.config(quota=100)
    results, lock = [], threading.Lock()

    def worker(i):
        client = make_client(emulator)
        for name in ("shared_name", "own_%d" % i):
            try:
                create(client, name)
                outcome = "ok"
            except TencentCloudSDKException as exc:
                outcome = exc.code
            with lock:
                results.append((name, outcome))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    shared = [o for n, o in results if n == "shared_name"]
    assert shared.count("ok") == 1
    assert set(shared) == {"ok", "InvalidKeyPairName.Duplicate"}
    assert [o for n, o in results if n != "shared_name"] == ["ok"] * 20
    assert len(emulator.key_pairs()) == 21
    assert not [r for r in emulator.requests() if r["code"].startswith(("Internal", "HTTP"))]


def test_sdk_unsigned_request_is_an_invalid_authorization(emulator):
    """The SDK's SkipSign mode sends `Authorization: SKIP`, which the CVM API rejects."""
    client = make_client(emulator)
    with pytest.raises(TencentCloudSDKException) as info:
        client.call("DescribeKeyPairs", {}, options={"SkipSign": True})
    assert info.value.code == "AuthFailure.InvalidAuthorization" and UUID.match(info.value.requestId)
