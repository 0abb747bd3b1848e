# SPDX-License-Identifier: GPL-3.0-or-later
"""Signing: every vector of the reference byte for byte, and the official SDK's signer on random inputs."""

import json
import os
import random
import string
from urllib.parse import parse_qsl

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core import signing as _signing
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "fixtures")
VECTORS_FILE = os.path.join(FIXTURES, "signing-vectors.json")

with open(VECTORS_FILE, encoding="utf-8") as handle:
    DATA = json.load(handle)
TC3 = [v for v in DATA["vectors"] if v["algorithm"] == "TC3-HMAC-SHA256"]
V1 = [v for v in DATA["vectors"] if v["algorithm"] != "TC3-HMAC-SHA256"]


@pytest.mark.parametrize("vector", TC3, ids=[v["name"] for v in TC3])
def test_tc3_vectors(vector):
    inputs, request, inter = vector["inputs"], vector["request"], vector["intermediate"]
    body = request["body"].encode("utf-8")
    if "body_utf8_hex" in request:
        body = bytes.fromhex(request["body_utf8_hex"])
    signed = inputs.get("signed_headers", "content-type;host").split(";")
    out = _signing.tc3_sign(inputs["secret_id"], inputs["secret_key"], inputs["service"], inputs["timestamp"],
                            _signing.Tc3Request(inputs["method"], request["headers"], body,
                                                query=request["canonical_querystring"], signed_headers=signed))
    assert out["date"] == inter["date"]
    assert out["canonical_request"] == inter["canonical_request"]
    assert out["string_to_sign"] == inter["string_to_sign"]
    assert _signing.tc3_signing_key(inputs["secret_key"], inter["date"], "cvm").hex() == inter["k_signing_hex"]
    assert out["signature"] == vector["signature"]
    assert out["authorization"] == vector["authorization"] == request["headers"]["Authorization"]


@pytest.mark.parametrize("vector", V1, ids=[v["name"] for v in V1])
def test_v1_vectors(vector):
    inputs = vector["inputs"]
    params = _signing.flatten_params(inputs["params"])
    params.update(vector["all_signed_params_sorted"])
    request = _signing.V1Request(inputs["method"], inputs["host"], inputs["path"], params)
    assert _signing.v1_string_to_sign(request) == vector["string_to_sign"]
    assert _signing.v1_sign(inputs["secret_key"], request) == vector["signature"]


DOC = DATA["official_doc_examples"]


@pytest.mark.parametrize("example", DOC, ids=[d["name"] for d in DOC])
def test_official_doc_examples(example):
    inputs = example["inputs"]
    if example["algorithm"] == "TC3-HMAC-SHA256":
        headers = {"Content-Type": inputs["content_type"], "Host": inputs["host"], "X-TC-Action": inputs["action"]}
        signed = inputs.get("signed_headers", "content-type;host").split(";")
        out = _signing.tc3_sign(inputs["secret_id"], inputs["secret_key"], "cvm", inputs["timestamp"],
                                _signing.Tc3Request("POST", headers, inputs["payload"].encode("utf-8"),
                                                    signed_headers=signed))
        assert out["canonical_request"] == example["intermediate"]["canonical_request"]
        assert out["signature"] == example["signature"]
    else:
        sts = example["string_to_sign"]
        method_host_path, query = sts.split("?", 1)
        params = dict(parse_qsl(query, keep_blank_values=True))
        host_path = method_host_path[3:]
        host, path = host_path.split("/", 1)
        method = "HmacSHA1" if "HmacSHA1" in example["algorithm"] else "HmacSHA256"
        request = _signing.V1Request("GET", host, "/" + path, params)
        assert _signing.v1_string_to_sign(request) == sts
        assert _signing.v1_sign(inputs["secret_key"], request, method) == example["signature"]


def test_flatten_booleans_and_nesting():
    flat = _signing.flatten_params({"ForceStop": True, "Filters": [{"Name": "key-name", "Values": ["a", "b"]}]})
    assert flat == {"ForceStop": "true", "Filters.0.Name": "key-name", "Filters.0.Values.0": "a",
                    "Filters.0.Values.1": "b"}


def _random_text(rng, n):
    alphabet = string.ascii_letters + string.digits + "_-. 测试"
    return "".join(rng.choice(alphabet) for _position in range(n))


def _sdk_client(host, method, sign_method):
    from tencentcloud.common.credential import Credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.cvm.v20170312.cvm_client import CvmClient

    profile = ClientProfile(httpProfile=HttpProfile(endpoint=host, reqMethod=method), signMethod=sign_method)
    return CvmClient(Credential("AKIDx", "unused"), "ap-guangzhou", profile)


@pytest.mark.parametrize("seed", range(40))
def test_tc3_against_official_sdk(seed):
    """The SDK's own canonicalisation and signer (AbstractClient._get_tc3_signature) on random requests."""
    import tencentcloud.common.http.request as from_sdk
    rng = random.Random(seed)
    secret_key = _random_text(rng, 32).replace(" ", "x")
    timestamp = rng.randint(1_400_000_000, 2_000_000_000)
    method = rng.choice(["POST", "GET"])
    host = rng.choice(["cvm.tencentcloudapi.com", "127.0.0.1:%d" % rng.randint(1024, 65535)])
    params = {"KeyName": _random_text(rng, 10), "ProjectId": rng.randint(0, 10 ** 6),
              "TagSpecification": [{"ResourceType": "keypair",
                                    "Tags": [{"Key": _random_text(rng, 5), "Value": _random_text(rng, 8)}]}]}
    client = _sdk_client(host, method, "TC3-HMAC-SHA256")
    req = from_sdk.RequestInternal(host, method, "/")
    if method == "POST":
        req.header["Content-Type"] = "application/json"
        req.data = json.dumps(params)
        body, query = req.data.encode("utf-8"), ""
    else:
        req.header["Content-Type"] = "application/x-www-form-urlencoded"
        req.data = _signing.form_encode(_signing.flatten_params(params))
        body, query = b"", req.data
    req.header["Host"] = host
    req.header["X-TC-Timestamp"] = str(timestamp)
    date = _signing.utc_date(timestamp)
    expected = client._get_tc3_signature(params, req, date, "cvm", secret_key)
    ours = _signing.tc3_sign("AKIDx", secret_key, "cvm", timestamp,
                             _signing.Tc3Request(method, req.header, body, query=query))
    assert ours["signature"] == expected


@pytest.mark.parametrize("seed", range(40))
def test_v1_against_official_sdk(seed):
    """The SDK's own v1 string-to-sign (AbstractClient._format_sign_string) and signer on random requests."""
    from tencentcloud.common import sign
    rng = random.Random(1000 + seed)
    secret_key = _random_text(rng, 32).replace(" ", "x")
    method = rng.choice(["GET", "POST"])
    host = rng.choice(["cvm.tencentcloudapi.com", "127.0.0.1:%d" % rng.randint(1024, 65535)])
    algorithm = rng.choice(["HmacSHA256", "HmacSHA1"])
    client = _sdk_client(host, method, algorithm)
    nested = {
        "Action": "DescribeKeyPairs", "Nonce": rng.randint(1, 2 ** 63 - 1), "Region": "ap-guangzhou",
        "SecretId": "AKID" + _random_text(rng, 8).replace(" ", "_"), "SignatureMethod": algorithm,
        "Timestamp": rng.randint(1_400_000_000, 2_000_000_000), "Version": "2017-03-12",
        "Filters": [{"Name": "key-name", "Values": [_random_text(rng, 6)]}], "Offset": 0, "Limit": 100,
    }
    sdk_params = client._fix_params(nested)
    expected = sign.Sign.sign(secret_key, client._format_sign_string(sdk_params), algorithm)
    ours = _signing.flatten_params(nested)
    assert ours == {k: str(v) for k, v in sdk_params.items()}
    assert _signing.v1_sign(secret_key, _signing.V1Request(method, host, "/", ours), algorithm) == expected
