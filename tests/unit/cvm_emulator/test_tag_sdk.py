# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's Tag API (2018-08-13) driven by the official SDK's TagClient: the contract for the actions the
collection uses (ModifyResourceTags) and the read-back Terraform uses (DescribeResourceTagsByResourceIds)."""

import json

import pytest


from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.tag.v20180813 import models, tag_client

from helpers import CREDS
from sdk_helpers import create, describe, make_client, outcomes, raw_call, sdk_error


def make_tag_client(emulator, sign_method="TC3-HMAC-SHA256", method="POST"):
    cred = credential.Credential(CREDS["secret_id"], CREDS["secret_key"])
    hp = HttpProfile(protocol="http", endpoint=emulator.url_host, reqTimeout=10, reqMethod=method)
    profile = ClientProfile(httpProfile=hp, signMethod=sign_method, language="en-US")
    return tag_client.TagClient(cred, "ap-guangzhou", profile)


def resource(key_id, region="ap-guangzhou"):
    return "qcs::cvm:%s:uin/:keypair/%s" % (region, key_id)


def modify(client, res, replace=None, delete=None):
    req = models.ModifyResourceTagsRequest()
    body = {"Resource": res}
    if replace is not None:
        body["ReplaceTags"] = [{"TagKey": k, "TagValue": v} for k, v in replace.items()]
    if delete is not None:
        body["DeleteTags"] = [{"TagKey": k} for k in delete]
    req.from_json_string(json.dumps(body))
    return client.ModifyResourceTags(req)


def tags_of(cvm, key_id):
    return {t.Key: t.Value for t in describe(cvm, KeyIds=[key_id]).KeyPairSet[0].Tags}


@pytest.mark.parametrize("sign_method,method", [("TC3-HMAC-SHA256", "POST"), ("TC3-HMAC-SHA256", "GET"),
                                                ("HmacSHA256", "POST")])
def test_modify_and_read_back(emulator, sign_method, method):
    cvm = make_client(emulator)
    key_id = create(cvm, "tagged", tags={"team": "a", "env": "dev"}).KeyPair.KeyId
    tags = make_tag_client(emulator, sign_method, method)
    answer = modify(tags, resource(key_id), replace={"team": "b", "owner": "ops"}, delete=["env"])
    assert answer.RequestId
    assert tags_of(cvm, key_id) == {"team": "b", "owner": "ops"}  # DescribeKeyPairs reflects it at once
    req = models.DescribeResourceTagsByResourceIdsRequest()
    req.ServiceType, req.ResourcePrefix, req.ResourceRegion, req.ResourceIds = "cvm", "keypair", "ap-guangzhou", \
        [key_id]
    read = tags.DescribeResourceTagsByResourceIds(req)
    assert read.TotalCount == 2 and {(t.TagKey, t.TagValue, t.ResourceId) for t in read.Tags} == {
        ("team", "b", key_id), ("owner", "ops", key_id)}
    modify(tags, resource(key_id), delete=["team", "owner", "never-there"])
    assert tags_of(cvm, key_id) == {}
    assert [r["action"] for r in emulator.requests() if r["action"] != "DescribeKeyPairs"][-3:] == [
        "ModifyResourceTags", "DescribeResourceTagsByResourceIds", "ModifyResourceTags"]


def test_errors(emulator):
    cvm = make_client(emulator)
    key_id = create(cvm, "tagged").KeyPair.KeyId
    tags, res = make_tag_client(emulator), resource(key_id)
    cases = [
        (dict(replace={"qcs:owner": "x"}), "InvalidParameter.ReservedTagKey"),
        (dict(replace={"project": "x"}), "InvalidParameter.ReservedTagKey"),
        (dict(replace={"项目": "x"}), "InvalidParameter.ReservedTagKey"),
        (dict(replace={"": "x"}), "InvalidParameterValue.TagKeyEmpty"),
        (dict(replace={"k": ""}), "InvalidParameterValue.TagValueEmpty"),
        (dict(replace={"k" * 128: "v"}), "InvalidParameterValue.TagKeyLengthExceeded"),
        (dict(replace={"k": "v" * 256}), "InvalidParameterValue.TagValueLengthExceeded"),
        (dict(replace={"bad*key": "v"}), "InvalidParameterValue.TagKeyCharacterIllegal"),
        (dict(replace={" lead": "v"}), "InvalidParameterValue.TagKeyCharacterIllegal"),
        (dict(replace={"k": "bad|value"}), "InvalidParameterValue.TagValueCharacterIllegal"),
        (dict(replace={"k": "v"}, delete=["k"]), "InvalidParameterValue.DeleteTagsParamError"),
        (dict(replace={"k%d" % i: "v" for i in range(11)}), "LimitExceeded.TagNumPerRequest"),
        (dict(), "MissingParameter"),
        (dict(replace={}), "InvalidParameter.Tag"),
    ]
    for kwargs, code in cases:
        assert sdk_error(modify, tags, res, **kwargs) == code, kwargs
    assert sdk_error(modify, tags, "qcs::cvm:ap-guangzhou:keypair/" + key_id, replace={"k": "v"}) == \
        "InvalidParameterValue.ResourceDescriptionError"
    assert sdk_error(modify, tags, resource("skey-zzzzzzzz"), replace={"k": "v"}) == \
        "InvalidParameterValue.ResourceIdInvalid"
    assert sdk_error(modify, tags, resource(key_id, "ap-shanghai"), replace={"k": "v"}) == \
        "InvalidParameterValue.ResourceIdInvalid"  # the key pair is in another region
    for batch in range(5):  # 50 tags at most on one resource
        modify(tags, res, replace={"k%02d" % (batch * 10 + i): "v" for i in range(10)})
    assert sdk_error(modify, tags, res, replace={"one_more": "v"}) == "LimitExceeded.ResourceAttachedTags"
    assert len(tags_of(cvm, key_id)) == 50
    allowed = "Team 1 +-=._:/@()[],;>< 团队"
    modify(tags, res, delete=["k00"], replace={allowed: allowed})
    assert tags_of(cvm, key_id)[allowed] == allowed


def test_each_service_signs_with_its_own_name(emulator):
    cvm = make_client(emulator)
    key_id = create(cvm, "tagged").KeyPair.KeyId
    body = {"Resource": resource(key_id), "ReplaceTags": [{"TagKey": "k", "TagValue": "v"}]}
    cvm._apiVersion = "2018-08-13"  # a CVM client signs with service `cvm`: the Tag API refuses it
    assert sdk_error(raw_call, cvm, "ModifyResourceTags", body) == "AuthFailure.SignatureFailure"
    tags = make_tag_client(emulator)
    tags._apiVersion = "2017-03-12"  # and a Tag client cannot call CVM
    assert sdk_error(raw_call, tags, "DescribeKeyPairs", {}) == "AuthFailure.SignatureFailure"
    right = make_tag_client(emulator)
    right._apiVersion = "2099-01-01"
    assert sdk_error(raw_call, right, "ModifyResourceTags", body) == "NoSuchVersion"
    assert tags_of(make_client(emulator), key_id) == {}


def test_realistic_rate_limits(emulator):
    emulator.config(rate_limits="realistic")
    cvm = make_client(emulator)
    codes = outcomes(12, describe, cvm)
    assert codes[:10] == ["ok"] * 10 and set(codes[10:]) == {"RequestLimitExceeded"}
    emulator.config(rate_limits="off")
    describe(cvm)
