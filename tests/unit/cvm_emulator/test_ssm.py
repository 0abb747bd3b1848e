# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's Secrets Manager (ssm, 2019-09-23) driven by the official SDK's SsmClient (tencentcloud-sdk-python-ssm
3.1.194) as the oracle: SSH key pair secrets whose key pair is an ordinary CVM key pair of the same store, the fields
the SDK's models ask and answer, and the codes the emulator answers (cvm_emulator/secrets.py names each one's source,
or says no public source settles it)."""

import base64
import functools
import json
import os
import re
import time
import urllib.error

import pytest

from cryptography.hazmat.primitives import serialization
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import models as cvm_models
from tencentcloud.ssm.v20190923 import models, ssm_client

from cvm_emulator import errorcodes
from cvm_emulator.secrets import DEFAULT_KMS_KEY_ID
from cvm_emulator.server import start
from helpers import CREDS, Admin
from sdk_helpers import describe, make_client, outcomes, raw_call, sdk_error

KMS_KEY = "0b7f6a1e-7c2d-11ef-8a61-525400abcdef"


def make_ssm(emulator, region="ap-guangzhou"):
    cred = credential.Credential(CREDS["secret_id"], CREDS["secret_key"])
    hp = HttpProfile(protocol="http", endpoint=emulator.url_host, reqTimeout=10)
    return ssm_client.SsmClient(cred, region, ClientProfile(httpProfile=hp, language="en-US"))


def call(client, action, **fields):
    """The SDK's typed call: the request model built from `fields` (the model must know every one)."""
    req = getattr(models, action + "Request")()
    req.from_json_string(json.dumps(fields))
    return getattr(client, action)(req)


def create(client, name, **fields):
    return call(client, "CreateSSHKeyPairSecret", SecretName=name, ProjectId=fields.pop("ProjectId", 0), **fields)


def value(client, **fields):
    answer = call(client, "GetSSHKeyPairValue", **fields)
    return answer, base64.b64decode(answer.PrivateKey).decode("ascii")


def code(client, action, **fields):
    found = sdk_error(call, client, action, **fields)
    assert found in errorcodes.codes(action), found
    return found


def names(answer):
    return [s.SecretName for s in answer.SecretMetadatas]


def model_fields(name):
    return {key[1:] for key in vars(getattr(models, name)())}


def bind(emulator, cvm, instance_id, key_id, action="AssociateInstancesKeyPairs"):
    req = getattr(cvm_models, action + "Request")()
    req.InstanceIds, req.KeyIds = [instance_id], [key_id]
    getattr(cvm, action)(req)
    emulator.wait_idle_instances()


def delete_key_pairs(cvm, key_id):
    req = cvm_models.DeleteKeyPairsRequest()
    req.KeyIds = [key_id]
    return cvm.DeleteKeyPairs(req)


def test_the_key_pair_is_an_ordinary_cvm_key_pair(emulator):
    ssm, cvm = make_ssm(emulator), make_client(emulator)
    made = create(ssm, "web-1", ProjectId=1000, SSHKeyName="web_key", Description="the web tier")
    assert (made.SecretName, made.SSHKeyName, made.TagCode, made.TagMsg) == ("web-1", "web_key", 0, "")
    assert re.match(r"^skey-[0-9a-z]{8}$", made.SSHKeyID)
    listed = describe(cvm, KeyIds=[made.SSHKeyID])
    assert listed.TotalCount == 1
    kp = listed.KeyPairSet[0]
    assert (kp.KeyName, kp.ProjectId, kp.AssociatedInstanceIds) == ("web_key", 1000, [])
    assert [k["key_name"] for k in emulator.key_pairs()] == ["web_key"]
    anonymous = create(ssm, "web-2")  # no SSHKeyName: the emulator names one, a valid CVM name
    assert re.match(r"^[A-Za-z0-9][A-Za-z0-9_]{0,24}$", anonymous.SSHKeyName)
    assert describe(cvm, KeyIds=[anonymous.SSHKeyID]).KeyPairSet[0].KeyName == anonymous.SSHKeyName
    emulator.config(quota=2)  # the quota counts the key pairs secrets hold
    assert code(ssm, "CreateSSHKeyPairSecret", SecretName="web-3", ProjectId=0) == "LimitExceeded"
    assert [s["secret_name"] for s in emulator.secrets()] == ["web-1", "web-2"]
    assert all("sealed" not in s for s in emulator.secrets() + emulator.state()["secrets"])


def test_the_value_by_name_and_by_key_id_holds_the_key_pairs_private_key(emulator):
    ssm, cvm = make_ssm(emulator), make_client(emulator)
    made = create(ssm, "db", ProjectId=1001, SSHKeyName="db_key")
    by_name, pem = value(ssm, SecretName="db")
    by_id, pem_again = value(ssm, SSHKeyId=made.SSHKeyID)
    both, _pem = value(ssm, SecretName="db", SSHKeyId=made.SSHKeyID)
    assert pem == pem_again and pem.startswith("-----BEGIN RSA PRIVATE KEY-----\n")  # PKCS#1, base64 of the text
    public = describe(cvm, KeyIds=[made.SSHKeyID]).KeyPairSet[0].PublicKey
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    derived = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    assert public.split()[:2] == derived.decode("ascii").split()
    for answer in (by_name, by_id, both):
        assert (answer.SSHKeyID, answer.SSHKeyName, answer.ProjectID, answer.SSHKeyDescription) == (
            made.SSHKeyID, "db_key", 1001, "")
        assert answer.PublicKey == public  # the OpenSSH line (setting ssh_public_key_format: openssh)
    emulator.config(ssh_public_key_format="base64")
    assert base64.b64decode(value(ssm, SecretName="db")[0].PublicKey).decode("ascii") == public


def test_answers_carry_every_field_of_the_sdk_models(emulator):
    ssm, cvm = make_ssm(emulator), make_client(emulator)
    made = create(ssm, "described", SSHKeyName="described_key", Description="d")
    emulator.config(operation_delay=0)
    instance = emulator.instance()["instance_id"]
    bind(emulator, cvm, instance, made.SSHKeyID)
    raw = raw_call(ssm, "DescribeSecret", {"SecretName": "described"})
    assert set(raw) == model_fields("DescribeSecretResponse")
    assert (raw["SecretType"], raw["ResourceName"], raw["ResourceID"], raw["ProjectID"], raw["Status"],
            raw["KmsKeyId"], raw["Description"]) == (2, "described_key", made.SSHKeyID, 0, "Enabled",
                                                     DEFAULT_KMS_KEY_ID, "d")
    assert raw["AssociatedInstanceIDs"] == [instance] and isinstance(raw["CreateTime"], int)
    listed = raw_call(ssm, "ListSecrets", {"SecretType": 2})
    assert set(listed) == model_fields("ListSecretsResponse") and listed["TotalCount"] == 1
    metadata = listed["SecretMetadatas"][0]
    assert set(metadata) == model_fields("SecretMetadata") and metadata["KmsKeyType"] == "DEFAULT"
    assert {k: metadata[k] for k in ("SecretType", "ResourceName", "AssociatedInstanceIDs", "ProjectID")} == {
        "SecretType": 2, "ResourceName": "described_key", "AssociatedInstanceIDs": [instance], "ProjectID": 0}
    assert set(raw_call(ssm, "GetSSHKeyPairValue", {"SecretName": "described"})) == model_fields(
        "GetSSHKeyPairValueResponse")
    assert set(raw_call(ssm, "CreateSSHKeyPairSecret", {"SecretName": "x", "ProjectId": 0})) == model_fields(
        "CreateSSHKeyPairSecretResponse")


def test_a_rename_through_cvm_shows_in_the_secret(emulator):
    ssm, cvm = make_ssm(emulator), make_client(emulator)
    made = create(ssm, "renamed", SSHKeyName="old_name")
    req = cvm_models.ModifyKeyPairAttributeRequest()
    req.KeyId, req.KeyName, req.Description = made.SSHKeyID, "new_name", "changed in CVM"
    cvm.ModifyKeyPairAttribute(req)
    assert call(ssm, "DescribeSecret", SecretName="renamed").ResourceName == "new_name"
    answer, _pem = value(ssm, SecretName="renamed")
    assert (answer.SSHKeyName, answer.SSHKeyDescription) == ("new_name", "changed in CVM")


def test_secret_names_are_unique_per_region_and_follow_the_rules(emulator):
    ssm = make_ssm(emulator)
    create(ssm, "shared", SSHKeyName="first")
    assert code(ssm, "CreateSSHKeyPairSecret", SecretName="shared", ProjectId=0) == "ResourceInUse.SecretExists"
    assert create(make_ssm(emulator, "ap-shanghai"), "shared").SecretName == "shared"  # another region
    assert code(ssm, "CreateSSHKeyPairSecret", SecretName="other", ProjectId=0, SSHKeyName="first") == \
        "FailedOperation"  # the CVM name is taken (the code is not settled)
    for bad in ("-leading", "_leading", "a.b", "with space", "x" * 129, "名字"):
        assert code(ssm, "CreateSSHKeyPairSecret", SecretName=bad, ProjectId=0) == "InvalidParameterValue", bad
    for bad in ("_key", "with-dash", "k" * 26):
        assert code(ssm, "CreateSSHKeyPairSecret", SecretName="ok", ProjectId=0, SSHKeyName=bad) == \
            "InvalidParameterValue", bad
    assert code(ssm, "CreateSSHKeyPairSecret", SecretName="ok", ProjectId=42) == "InvalidParameterValue"
    assert code(ssm, "CreateSSHKeyPairSecret", SecretName="ok", ProjectId=0, Description="d" * 2049) == \
        "InvalidParameterValue"
    assert create(ssm, "9" + "x" * 127, SSHKeyName="k" * 25).SecretName == "9" + "x" * 127
    assert [s["secret_name"] for s in emulator.secrets() if s["region"] == "ap-guangzhou"] == [
        "shared", "9" + "x" * 127]


def test_tags_of_a_secret(emulator):
    ssm = make_ssm(emulator)
    assert code(ssm, "CreateSSHKeyPairSecret", SecretName="t", ProjectId=0, Tags=[
        {"TagKey": "team", "TagValue": "a"}, {"TagKey": "team", "TagValue": "b"}]) == \
        "InvalidParameterValue.TagKeysDuplicated"
    made = create(ssm, "t", Tags=[{"TagKey": "qcs:reserved", "TagValue": "x"}])
    assert made.TagCode == 2 and "qcs:reserved" in made.TagMsg  # the secret is made, its tags are not applied
    assert emulator.secrets()[0]["tags"] == []
    assert create(ssm, "u", Tags=[{"TagKey": "team", "TagValue": "a"}]).TagCode == 0
    assert emulator.secrets()[1]["tags"] == [{"Key": "team", "Value": "a"}]


def test_delete_needs_a_disabled_secret_and_no_recovery_window(emulator):
    ssm, cvm = make_ssm(emulator), make_client(emulator)
    made = create(ssm, "gone", SSHKeyName="kept_key")
    assert code(ssm, "DeleteSecret", SecretName="gone") == "FailedOperation"  # enabled (the code is not settled)
    assert call(ssm, "DisableSecret", SecretName="gone").SecretName == "gone"
    assert call(ssm, "DisableSecret", SecretName="gone").SecretName == "gone"  # as Terraform does before deleting
    assert code(ssm, "GetSSHKeyPairValue", SecretName="gone") == "ResourceUnavailable"
    assert code(ssm, "DeleteSecret", SecretName="gone", RecoveryWindowInDays=7) == "InvalidParameterValue"
    assert code(ssm, "DeleteSecret", SecretName="gone", RecoveryWindowInDays=31) == "InvalidParameterValue"
    answer = call(ssm, "DeleteSecret", SecretName="gone", CleanSSHKey=False)
    assert answer.SecretName == "gone" and isinstance(answer.DeleteTime, int)
    assert emulator.secrets() == [] and code(ssm, "DescribeSecret", SecretName="gone") == "ResourceNotFound"
    assert describe(cvm, KeyIds=[made.SSHKeyID]).KeyPairSet[0].KeyName == "kept_key"  # an ordinary key pair now
    delete_key_pairs(cvm, made.SSHKeyID)
    assert describe(cvm).TotalCount == 0


def test_a_held_key_pair_is_deleted_with_its_secret_never_while_bound(emulator):
    ssm, cvm = make_ssm(emulator), make_client(emulator)
    emulator.config(operation_delay=0)
    made = create(ssm, "held", SSHKeyName="held_key")
    instance = emulator.instance()["instance_id"]
    bind(emulator, cvm, instance, made.SSHKeyID)
    assert call(ssm, "DescribeSecret", SecretName="held").AssociatedInstanceIDs == [instance]
    assert sdk_error(delete_key_pairs, cvm, made.SSHKeyID) == "InvalidParameterValue.KeyPairNotSupported"
    emulator.config(held_key_pair_code="UnsupportedOperation")  # the code no public source settles is a setting
    assert sdk_error(delete_key_pairs, cvm, made.SSHKeyID) == "UnsupportedOperation"
    call(ssm, "DisableSecret", SecretName="held")
    assert code(ssm, "DeleteSecret", SecretName="held", CleanSSHKey=True) == "FailedOperation"
    assert [s["status"] for s in emulator.secrets()] == ["Disabled"]  # nothing changed
    bind(emulator, cvm, instance, made.SSHKeyID, action="DisassociateInstancesKeyPairs")
    assert call(ssm, "DescribeSecret", SecretName="held").AssociatedInstanceIDs == []
    assert sdk_error(delete_key_pairs, cvm, made.SSHKeyID) == "UnsupportedOperation"  # unbound, still held
    call(ssm, "DeleteSecret", SecretName="held", CleanSSHKey=True)
    assert emulator.secrets() == [] and describe(cvm).TotalCount == 0


def test_list_secrets_pages_and_filters(emulator):
    ssm = make_ssm(emulator)
    for number in range(5):
        create(ssm, "node-%d" % number, Tags=[{"TagKey": "tier", "TagValue": "web" if number % 2 else "db"}])
    emulator.user_secret("plain-secret")
    assert names(call(ssm, "ListSecrets")) == ["plain-secret"]  # SecretType 0 unless given (SDK model)
    first = call(ssm, "ListSecrets", SecretType=2, Limit=2)
    assert first.TotalCount == 5 and names(first) == ["node-4", "node-3"]  # newest first by default
    pages = [names(call(ssm, "ListSecrets", SecretType=2, Offset=offset, Limit=2)) for offset in (0, 2, 4, 6)]
    assert pages == [["node-4", "node-3"], ["node-2", "node-1"], ["node-0"], []]
    assert names(call(ssm, "ListSecrets", SecretType=2, OrderType=1, Offset=3)) == ["node-3", "node-4"]
    assert names(call(ssm, "ListSecrets", SecretType=2, Limit=0)) == ["node-4", "node-3", "node-2", "node-1", "node-0"]
    assert names(call(ssm, "ListSecrets", SecretType=2, SearchSecretName="node-2")) == ["node-2"]
    tagged = call(ssm, "ListSecrets", SecretType=2, TagFilters=[{"TagKey": "tier", "TagValue": ["web"]}])
    assert tagged.TotalCount == 2 and names(tagged) == ["node-3", "node-1"]
    call(ssm, "DisableSecret", SecretName="node-1")
    assert names(call(ssm, "ListSecrets", SecretType=2, State=2)) == ["node-1"]
    assert call(ssm, "ListSecrets", SecretType=2, State=1).TotalCount == 4
    assert call(make_ssm(emulator, "ap-shanghai"), "ListSecrets", SecretType=2).TotalCount == 0
    for bad in (dict(Offset=-1), dict(SecretType=9), dict(State=6), dict(OrderType=2)):
        assert code(ssm, "ListSecrets", **bad) == "InvalidParameterValue", bad


def test_kms_keys_are_opaque(emulator):
    ssm = make_ssm(emulator)
    assert code(ssm, "CreateSSHKeyPairSecret", SecretName="k", ProjectId=0, KmsKeyId=KMS_KEY) == \
        "FailedOperation.AccessKmsError"  # not settled by a public source: the setting kms_key_missing_code
    emulator.config(kms_key_missing_code="InvalidParameterValue")
    assert code(ssm, "CreateSSHKeyPairSecret", SecretName="k", ProjectId=0, KmsKeyId=KMS_KEY) == \
        "InvalidParameterValue"
    emulator.config(kms_keys=[KMS_KEY])
    create(ssm, "k", KmsKeyId=KMS_KEY)
    create(ssm, "d", KmsKeyId="")  # empty: the default key
    create(ssm, "s", EncryptType=1)  # a software key: no KMS key
    listed = call(ssm, "ListSecrets", SecretType=2, OrderType=1).SecretMetadatas
    assert [(s.KmsKeyId, s.KmsKeyType, s.EncryptType) for s in listed] == [
        (KMS_KEY, "CUSTOMER", 0), (DEFAULT_KMS_KEY_ID, "DEFAULT", 0), ("", "", 1)]
    for name in ("k", "d", "s"):
        assert value(ssm, SecretName=name)[1].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert code(ssm, "CreateSSHKeyPairSecret", SecretName="x", ProjectId=0, EncryptType=1, KmsKeyId=KMS_KEY) == \
        "InvalidParameterValue"
    with pytest.raises(urllib.error.HTTPError) as refused:  # the admin API refuses a malformed list
        emulator.config(kms_keys="not-a-list")
    assert refused.value.code == 400 and b"kms_keys must be a list" in refused.value.read()


def test_not_found_and_other_secrets(emulator):
    ssm = make_ssm(emulator)
    assert code(ssm, "DescribeSecret", SecretName="nope") == "ResourceNotFound"
    assert code(ssm, "DisableSecret", SecretName="nope") == "ResourceNotFound"
    assert code(ssm, "EnableSecret", SecretName="nope") == "ResourceNotFound"
    assert code(ssm, "DeleteSecret", SecretName="nope") == "ResourceNotFound"
    assert code(ssm, "GetSSHKeyPairValue", SecretName="nope") == "ResourceNotFound"
    assert code(ssm, "GetSSHKeyPairValue", SSHKeyId="skey-00000000") == "ResourceNotFound"
    assert code(ssm, "GetSSHKeyPairValue", SSHKeyId="not-a-key") == "InvalidParameterValue"
    assert code(ssm, "GetSSHKeyPairValue") == "MissingParameter"
    made = create(ssm, "mine")
    other = create(ssm, "theirs")
    assert code(ssm, "GetSSHKeyPairValue", SecretName="mine", SSHKeyId=other.SSHKeyID) == "InvalidParameterValue"
    assert code(make_ssm(emulator, "ap-shanghai"), "GetSSHKeyPairValue", SSHKeyId=made.SSHKeyID) == \
        "ResourceNotFound"  # secrets are regional
    emulator.user_secret("plain")
    assert call(ssm, "DescribeSecret", SecretName="plain").SecretType == 0
    assert code(ssm, "GetSSHKeyPairValue", SecretName="plain") == "InvalidParameterValue"
    assert sdk_error(raw_call, make_client(emulator), "DescribeSecret", {"SecretName": "mine"}) == \
        "AuthFailure.SignatureFailure"  # signed for cvm: the credential scope names the service


def test_pending_delete_of_a_user_defined_secret(emulator):
    ssm = make_ssm(emulator)
    emulator.user_secret("plain")
    call(ssm, "DisableSecret", SecretName="plain")
    answer = call(ssm, "DeleteSecret", SecretName="plain", RecoveryWindowInDays=7)
    described = call(ssm, "DescribeSecret", SecretName="plain")
    assert described.Status == "PendingDelete" and described.DeleteTime == answer.DeleteTime
    assert code(ssm, "EnableSecret", SecretName="plain") == "FailedOperation"
    assert names(call(ssm, "ListSecrets", State=3)) == ["plain"]


def test_the_request_log_faults_and_rate_limits_cover_the_actions(emulator):
    ssm = make_ssm(emulator)
    create(ssm, "logged")
    value(ssm, SecretName="logged")
    log = [(r["action"], r["service"], r.get("write"), r["code"]) for r in emulator.requests()]
    assert log == [("CreateSSHKeyPairSecret", "ssm", True, "OK"), ("GetSSHKeyPairValue", "ssm", False, "OK")]
    emulator.fault(action="GetSSHKeyPairValue", mode="error", code="RequestLimitExceeded")
    assert sdk_error(value, ssm, SecretName="logged") == "RequestLimitExceeded"
    emulator.config(rate_limits="realistic")
    limits = emulator.faults()["rate_limits"]
    assert {limits[action] for action in ("CreateSSHKeyPairSecret", "GetSSHKeyPairValue", "DescribeSecret",
                                          "ListSecrets", "DisableSecret", "EnableSecret", "DeleteSecret")} == {20}
    started = time.monotonic()
    seen = outcomes(25, functools.partial(call, ssm, "DescribeSecret", SecretName="logged"))
    assert seen[:20] == ["ok"] * 20
    if time.monotonic() - started < 1.0:  # 25 calls within a second: the 21st is over the limit
        assert seen[20] == "RequestLimitExceeded"
    assert emulator.requests()[-1]["code"] in ("OK", "RequestLimitExceeded")


def test_a_db_file_never_holds_a_private_key_in_the_clear(tmp_path):
    db = str(tmp_path / "state.db")
    server = start(db=db)
    try:
        emulator = Admin(server.url, server.emulator.admin_token)
        emulator.url_host = "127.0.0.1:%d" % server.server_address[1]
        ssm = make_ssm(emulator)
        create(ssm, "at-rest")
        _answer, pem = value(ssm, SecretName="at-rest")
    finally:
        server.shutdown()
        server.server_close()
    body = "".join(pem.strip().splitlines()[1:-1])
    runs = {body[i:i + 64] for i in range(0, len(body) - 64, 16)}
    stored = b"".join(open(os.path.join(tmp_path, name), "rb").read() for name in os.listdir(tmp_path))
    assert len(runs) > 50 and not any(run.encode() in stored for run in runs)
    server = start(db=db)  # and the secret still answers its key after a restart
    try:
        emulator = Admin(server.url, server.emulator.admin_token)
        emulator.url_host = "127.0.0.1:%d" % server.server_address[1]
        assert value(make_ssm(emulator), SecretName="at-rest")[1] == pem
    finally:
        server.shutdown()
        server.server_close()
