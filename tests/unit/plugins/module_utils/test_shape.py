# SPDX-License-Identifier: GPL-3.0-or-later
"""The shape of an answer (_core/shape.py) and the records built on it: whatever the API sends, a value that is
not what the field must be is an InvalidResponse that names the field (never its value), raised before anything
reads it."""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import TencentCloudAPIError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.shape import (
    MAX_PUBLIC_KEY, MAX_TEXT, Shape, invalid_answer,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.records import Instance
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.records import KeyPair, created_key_pair
import pytest

SECRET = "s3cr3t-value-never-shown"
ANSWER = {"RequestId": "6EF60BEC-0242-43AF-BB20-270359FB54A7"}


def shape():
    return Shape("DescribeKeyPairs", ANSWER)


def refusal(check, *args, **kwargs):
    """The error `check` raises: always an InvalidResponse of this answer, ambiguous, that repeats no value."""
    with pytest.raises(TencentCloudAPIError) as info:
        check(*args, **kwargs)
    exc = info.value
    assert (exc.code, exc.action, exc.request_id, exc.ambiguous) == (
        "InvalidResponse", "DescribeKeyPairs", ANSWER["RequestId"], True)
    assert SECRET not in str(exc)
    return exc.message


def test_invalid_answer_is_an_ambiguous_invalid_response():
    exc = invalid_answer("CreateKeyPair", None, "a KeyPair that is not an object")
    assert (exc.code, exc.action, exc.request_id, exc.ambiguous, exc.retryable) == (
        "InvalidResponse", "CreateKeyPair", None, True, False)
    assert str(exc) == "CreateKeyPair answered a KeyPair that is not an object (InvalidResponse)"


def test_the_request_id_comes_from_the_answer_when_there_is_one():
    assert Shape("DescribeKeyPairs", ANSWER).request_id == ANSWER["RequestId"]
    assert Shape("DescribeKeyPairs", {}).request_id is None
    assert Shape("DescribeKeyPairs", ["not", "an", "object"]).request_id is None


def test_text():
    assert shape().text("web", "KeyName") == "web"
    assert shape().text(None, "Description", optional=True) is None
    assert shape().text("x" * MAX_TEXT, "KeyName") == "x" * MAX_TEXT
    expected = "DescribeKeyPairs answered KeyName that is not a string of at most 4096 characters"
    assert refusal(shape().text, None, "KeyName") == expected
    assert refusal(shape().text, 7, "KeyName") == expected
    assert refusal(shape().text, SECRET * 1000, "KeyName") == expected
    assert refusal(shape().text, SECRET, "KeyName", limit=5) == \
        "DescribeKeyPairs answered KeyName that is not a string of at most 5 characters"


def test_integer():
    assert shape().integer(0, "ProjectId") == 0
    assert shape().integer(None, "ProjectId", optional=True) is None
    assert shape().integer(22, "Port", bounds=(1, 65535)) == 22
    assert refusal(shape().integer, True, "ProjectId") == \
        "DescribeKeyPairs answered ProjectId that is not an integer from 0 to 9223372036854775807"
    assert refusal(shape().integer, "1", "ProjectId", optional=True) == \
        "DescribeKeyPairs answered ProjectId that is not an integer from 0 to 9223372036854775807"
    assert refusal(shape().integer, 0, "Port", bounds=(1, 65535)) == \
        "DescribeKeyPairs answered Port that is not an integer from 1 to 65535"
    assert refusal(shape().integer, None, "ProjectId") == \
        "DescribeKeyPairs answered ProjectId that is not an integer from 0 to 9223372036854775807"


def test_items_and_obj():
    assert shape().items(None, "Tags") == []
    assert shape().items([1, 2], "Tags") == [1, 2]
    assert refusal(shape().items, None, "KeyPairSet", optional=False) == \
        "DescribeKeyPairs answered KeyPairSet that is not a list of at most 1000 items"
    assert refusal(shape().items, [0] * 3, "Tags", limit=2) == \
        "DescribeKeyPairs answered Tags that is not a list of at most 2 items"
    assert refusal(shape().items, {"a": 1}, "Tags") == \
        "DescribeKeyPairs answered Tags that is not a list of at most 1000 items"
    assert shape().obj({"KeyId": "skey-12345678"}, "KeyPair") == {"KeyId": "skey-12345678"}
    assert refusal(shape().obj, [SECRET], "KeyPair") == "DescribeKeyPairs answered KeyPair that is not an object"


def test_texts_and_addresses_name_the_element():
    assert shape().texts(["ins-1", "ins-2"], "AssociatedInstanceIds") == ("ins-1", "ins-2")
    assert shape().texts(None, "AssociatedInstanceIds") == ()
    assert refusal(shape().texts, ["ins-1", 2], "AssociatedInstanceIds") == \
        "DescribeKeyPairs answered AssociatedInstanceIds[1] that is not a string of at most 4096 characters"
    assert shape().addresses(["10.0.0.1", "2001:db8::1"], "PrivateIpAddresses") == ("10.0.0.1", "2001:db8::1")
    for bad in ("999.1.1.1", "-oProxyCommand=x", 167772161, "1" * 65):
        assert refusal(shape().addresses, ["10.0.0.1", bad], "PrivateIpAddresses") == \
            "DescribeKeyPairs answered PrivateIpAddresses[1] that is not an IP address"


def test_page():
    answer = dict(ANSWER, KeyPairSet=[{"KeyId": "a"}], TotalCount=1)
    assert shape().page(answer, "KeyPairSet", 100) == ([{"KeyId": "a"}], 1)
    assert refusal(shape().page, dict(ANSWER, TotalCount=1), "KeyPairSet", 100) == \
        "DescribeKeyPairs answered KeyPairSet that is not a list of at most 100 items"
    assert refusal(shape().page, dict(ANSWER, KeyPairSet=[]), "KeyPairSet", 100) == \
        "DescribeKeyPairs answered TotalCount that is not an integer from 0 to 9223372036854775807"
    assert refusal(shape().page, dict(ANSWER, KeyPairSet=[], TotalCount=-1), "KeyPairSet", 100) == \
        "DescribeKeyPairs answered TotalCount that is not an integer from 0 to 9223372036854775807"


# --- the records: every field checked, the failure names it --------------------------------------------------

KEY_PAIR = {"KeyId": "skey-12345678", "KeyName": "web", "ProjectId": 0, "PublicKey": "ssh-rsa AAAA",
            "Description": "", "AssociatedInstanceIds": ["ins-12345678"], "CreatedTime": "2024-01-01T00:00:00Z",
            "Tags": [{"Key": "team", "Value": "web"}]}


def test_a_key_pair_record_of_a_good_model():
    pair = KeyPair.from_api(KEY_PAIR, answer=ANSWER)
    assert (pair.key_id, pair.key_name, pair.project_id, pair.associated_instance_ids, pair.tags) == (
        "skey-12345678", "web", 0, ("ins-12345678",), {"team": "web"})


@pytest.mark.parametrize("field, value, named, what", [
    ("KeyId", None, "KeyPairSet[].KeyId", "a string of at most 4096 characters"),
    ("KeyName", ["web"], "KeyPairSet[].KeyName", "a string of at most 4096 characters"),
    ("ProjectId", "0", "KeyPairSet[].ProjectId", "an integer from 0 to 9223372036854775807"),
    ("PublicKey", "x" * (MAX_PUBLIC_KEY + 1), "KeyPairSet[].PublicKey", "a string of at most 16384 characters"),
    ("AssociatedInstanceIds", "ins-12345678", "KeyPairSet[].AssociatedInstanceIds",
     "a list of at most 1000 items"),
    ("AssociatedInstanceIds", [SECRET, 5], "KeyPairSet[].AssociatedInstanceIds[1]",
     "a string of at most 4096 characters"),
    ("Tags", [{"Key": "team", "Value": 5}], "KeyPairSet[].Tags[0].Value", "a string of at most 4096 characters"),
    ("Tags", [SECRET], "KeyPairSet[].Tags[0]", "an object"),
])
def test_a_key_pair_of_the_wrong_shape_names_the_field(field, value, named, what):
    assert refusal(KeyPair.from_api, dict(KEY_PAIR, **{field: value}), answer=ANSWER) == \
        "DescribeKeyPairs answered %s that is not %s" % (named, what)


def test_a_created_key_pair_needs_its_key_id_public_and_private_key():
    answer = {"RequestId": "r-1", "KeyPair": {"KeyId": "skey-12345678", "PublicKey": "ssh-rsa AAAA",
                                              "PrivateKey": SECRET}}
    pair, private = created_key_pair(answer, "web", 0)
    assert (pair.key_id, pair.key_name, pair.public_key, private) == ("skey-12345678", "web", "ssh-rsa AAAA", SECRET)
    for broken, message in (
            (dict(answer, KeyPair=None), "KeyPair that is not an object"),
            (dict(answer, KeyPair=dict(answer["KeyPair"], PrivateKey=None)),
             "KeyPair.PrivateKey that is not a string of at most 65536 characters"),
            (dict(answer, KeyPair=dict(answer["KeyPair"], KeyId="")),
             "KeyPair.KeyId/PublicKey/PrivateKey that is not filled in")):
        with pytest.raises(TencentCloudAPIError) as info:
            created_key_pair(broken, "web", 0)
        assert (info.value.code, info.value.request_id, info.value.ambiguous) == ("InvalidResponse", "r-1", True)
        assert info.value.message == "CreateKeyPair answered " + message
        assert SECRET not in str(info.value)


INSTANCE = {"InstanceId": "ins-12345678", "InstanceState": "RUNNING", "OsName": "Ubuntu",
            "LoginSettings": {"KeyIds": ["skey-12345678"]}, "PrivateIpAddresses": ["10.0.0.2"],
            "DefaultLoginUser": "ubuntu", "DefaultLoginPort": 22}


@pytest.mark.parametrize("field, value, named, what", [
    ("InstanceId", "../etc", "InstanceSet[].InstanceId", "an instance ID (ins- and 8 lower-case letters or digits)"),
    ("PrivateIpAddresses", ["-oProxyCommand=x"], "InstanceSet[].PrivateIpAddresses[0]", "an IP address"),
    ("DefaultLoginPort", 0, "InstanceSet[].DefaultLoginPort", "an integer from 1 to 65535"),
    ("DefaultLoginUser", "root;rm", "InstanceSet[].DefaultLoginUser", "a POSIX user name"),
    ("LoginSettings", [], "InstanceSet[].LoginSettings", "an object"),
])
def test_an_instance_of_the_wrong_shape_names_the_field(field, value, named, what):
    with pytest.raises(TencentCloudAPIError) as info:
        Instance.from_api(dict(INSTANCE, **{field: value}), answer={"RequestId": "r-2"})
    assert (info.value.code, info.value.request_id) == ("InvalidResponse", "r-2")
    assert info.value.message == "DescribeInstances answered %s that is not %s" % (named, what)


def test_an_instance_keeps_only_key_ids_of_the_pattern():
    instance = Instance.from_api(dict(INSTANCE, LoginSettings={"KeyIds": ["skey-12345678", "", "../../k"]}))
    assert (instance.instance_id, instance.key_ids, instance.private_ips, instance.login_port) == (
        "ins-12345678", ("skey-12345678",), ("10.0.0.2",), 22)
