# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for tests that drive the emulator with the official Tencent Cloud SDK (a test-only dependency)."""

import json
import re

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client, models

import pytest

from helpers import CREDS

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RSA_PUB = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDCnSzVnhnCldO3JsNiCwtyOMS4KUDH+7/CtpVEqB6N+/a4LS3lhvgmBCXZ/"
           "yqDjv0pN0SSf+WOzE1ma0G4l7pvRI1IuQAMwbjLdhOWTmjK2E6aUXX28M0Tz0JutwjOgbiKNApmRZhrIMBg7p4RVLbpDj7X/"
           "fNiVJUUyhKWMj/7uZ0O7PFmSZVGZ5O7yoI7tkDXm5Yn27v/jBQqUOhmZJAfyfWXj2ng3aJTnt/9p2W4o74BpsOSDx+DcIvGy"
           "Yem8OO/7UW5b6yZvbO8PQ5phT2i1YHbPqaQ1C84ms0ErKQ7nSLsQv1PYWQP6JzgV9DfIPfX2Oz8B7lnBgo4QyWizaPr import")


def make_client(emulator, region="ap-guangzhou", secret_id=None, secret_key=None, token=None,
                sign_method="TC3-HMAC-SHA256", method="POST", timeout=10):
    cred = credential.Credential(secret_id or CREDS["secret_id"], secret_key or CREDS["secret_key"], token)
    hp = HttpProfile(protocol="http", endpoint=emulator.url_host, reqTimeout=timeout, reqMethod=method)
    return cvm_client.CvmClient(cred, region, ClientProfile(httpProfile=hp, signMethod=sign_method,
                                                            language="en-US"))


def create(client, name, project_id=0, tags=None):
    req = models.CreateKeyPairRequest()
    req.KeyName = name
    req.ProjectId = project_id
    if tags:
        spec = models.TagSpecification()
        spec.ResourceType = "keypair"
        spec.Tags = []
        for key, value in tags.items():
            tag = models.Tag()
            tag.Key, tag.Value = key, value
            spec.Tags.append(tag)
        req.TagSpecification = [spec]
    return client.CreateKeyPair(req)


def describe(client, **kwargs):
    req = models.DescribeKeyPairsRequest()
    req.from_json_string(json.dumps(kwargs))
    return client.DescribeKeyPairs(req)


def raw_error(func, *args, **kwargs):
    """The SDK's exception for an API error answer (with a RequestId)."""
    with pytest.raises(TencentCloudSDKException) as info:
        func(*args, **kwargs)
    exc = info.value
    assert UUID.match(exc.requestId or ""), exc
    return exc


def sdk_error(func, *args, **kwargs):
    return raw_error(func, *args, **kwargs).code


def raw_call(client, action, params):
    """The SDK's generic call (any action, any params); raises TencentCloudSDKException on error."""
    body = client.call(action, params)
    data = json.loads(body)
    if "Error" in data["Response"]:
        err = data["Response"]["Error"]
        raise TencentCloudSDKException(err["Code"], err["Message"], data["Response"]["RequestId"])
    return data["Response"]


def outcomes(times, func, *args):
    """Call func(*args) `times` times: "ok" for each success, the error code for each SDK error."""
    found = []
    for _attempt in range(times):
        try:
            func(*args)
            found.append("ok")
        except TencentCloudSDKException as exc:
            found.append(exc.code)
    return found
