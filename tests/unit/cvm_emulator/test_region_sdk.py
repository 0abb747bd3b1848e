# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's Region API (region.tencentcloudapi.com, 2022-06-27) driven by the official SDK's RegionClient
(tencentcloud-sdk-python-region, test-only), next to CVM's DescribeRegions (2017-03-12) of the same name: the
signed service (TC3) or the Version (v1) tells them apart, and neither needs the common parameter Region."""

import json

import pytest

from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import models as cvm_models
from tencentcloud.region.v20220627 import models, region_client

from cvm_emulator.actions import REGIONS
from helpers import CREDS
from sdk_helpers import describe, make_client, raw_call, sdk_error

SIGNINGS = [("TC3-HMAC-SHA256", "POST"), ("TC3-HMAC-SHA256", "GET"), ("HmacSHA256", "POST"), ("HmacSHA1", "GET")]


def profile(emulator, sign_method="TC3-HMAC-SHA256", method="POST"):
    hp = HttpProfile(protocol="http", endpoint=emulator.url_host, reqTimeout=10, reqMethod=method)
    return ClientProfile(httpProfile=hp, signMethod=sign_method, language="en-US")


def make_region_client(emulator, region="", sign_method="TC3-HMAC-SHA256", method="POST"):
    """The SDK's RegionClient; region "" is how the SDK is told there is none (it then sends no X-TC-Region)."""
    cred = credential.Credential(CREDS["secret_id"], CREDS["secret_key"])
    return region_client.RegionClient(cred, region, profile(emulator, sign_method, method))


def common_client(emulator, service, version, region=""):
    cred = credential.Credential(CREDS["secret_id"], CREDS["secret_key"])
    return CommonClient(service, version, cred, region, profile(emulator))


def regions(client, **fields):
    req = models.DescribeRegionsRequest()
    req.from_json_string(json.dumps(dict({"Product": "cvm"}, **fields)))
    return client.DescribeRegions(req)


@pytest.mark.parametrize("sign_method,method", SIGNINGS)
def test_region_api_lists_cvm_regions_without_a_region(emulator, sign_method, method):
    answer = regions(make_region_client(emulator, sign_method=sign_method, method=method))
    assert answer.TotalCount == len(answer.RegionSet) == len(REGIONS)
    assert {r.Region for r in answer.RegionSet} == set(REGIONS)
    assert {r.RegionState for r in answer.RegionSet} == {"AVAILABLE"}
    first = answer.RegionSet[0]
    # the console fields are null in the real answers (tccli's example); the SDK model has them
    assert (first.RegionTypeMC, first.LocationMC, first.RegionNameMC, first.RegionIdMC) == (None, None, None, None)
    assert [(r["action"], r["service"], r["region"], r["signature_method"], r["code"]) for r in emulator.requests()] \
        == [("DescribeRegions", "region", "", sign_method, "OK")]


def test_region_api_with_a_region_and_a_scene(emulator):
    answer = regions(make_region_client(emulator, region="ap-tokyo"), Scene=1)
    assert answer.TotalCount == len(REGIONS)
    assert [(r["service"], r["region"]) for r in emulator.requests()] == [("region", "ap-tokyo")]


@pytest.mark.parametrize("sign_method,method", SIGNINGS)
def test_cvm_describe_regions_needs_no_region_either(emulator, sign_method, method):
    """CVM's page: the common parameter Region "is not required for this API" (only for this one)."""
    client = make_client(emulator, region="", sign_method=sign_method, method=method)
    answer = client.DescribeRegions(cvm_models.DescribeRegionsRequest())
    assert {r.Region for r in answer.RegionSet} == set(REGIONS) and answer.TotalCount == len(REGIONS)
    assert sdk_error(describe, client) == "MissingParameter"  # DescribeKeyPairs still needs one
    assert [(r["action"], r["service"], r["code"]) for r in emulator.requests()] == [
        ("DescribeRegions", "cvm", "OK"), ("DescribeKeyPairs", "cvm", "MissingParameter")]


@pytest.mark.parametrize("params,code", [
    ({}, "MissingParameter"),                                  # Product is required (tccli api.json)
    ({"Product": "cdb"}, "InvalidParameter"),                  # a product the emulator does not know
    ({"Product": "cvm", "Scene": "one"}, "InvalidParameter"),
    ({"Product": "cvm", "Zone": "ap-guangzhou-3"}, "UnknownParameter"),
])
def test_region_api_parameters(emulator, params, code):
    assert sdk_error(raw_call, make_region_client(emulator), "DescribeRegions", params) == code


@pytest.mark.parametrize("service,version,action,code", [
    ("region", "2017-03-12", "DescribeRegions", "NoSuchVersion"),     # the Region API has no such version
    ("cvm", "2022-06-27", "DescribeRegions", "NoSuchVersion"),        # nor CVM this one
    ("region", "2022-06-27", "DescribeZones", "InvalidAction"),       # an action no service has here
    # an action signed for a service that does not have it, as test_tag_sdk's for CVM and Tag
    ("region", "2022-06-27", "DescribeKeyPairs", "AuthFailure.SignatureFailure"),
    ("tag", "2022-06-27", "DescribeRegions", "AuthFailure.SignatureFailure"),
])
def test_service_and_version_route_the_call(emulator, service, version, action, code):
    client = common_client(emulator, service, version)
    assert sdk_error(raw_call, client, action, {"Product": "cvm"} if action != "DescribeKeyPairs" else {}) == code
    assert [(r["action"], r["code"]) for r in emulator.requests()] == [(action, code)]


def test_region_api_with_an_unknown_region_is_refused(emulator):
    assert sdk_error(regions, make_region_client(emulator, region="xx-nowhere")) == "UnsupportedRegion"


def test_faults_named_describe_regions_reach_the_region_api(emulator):
    """A fault or a rate limit named DescribeRegions applies to both services' action of that name."""
    emulator.fault(action="DescribeRegions", mode="error", code="InvalidAction", count=1)
    assert sdk_error(regions, make_region_client(emulator)) == "InvalidAction"
    assert regions(make_region_client(emulator)).TotalCount == len(REGIONS)
