# SPDX-License-Identifier: GPL-3.0-or-later
"""Regions.available(): the Region API (region.tencentcloudapi.com, 2022-06-27, Product cvm) first, CVM's own
DescribeRegions only where the Region API is not there; both without a home region (no X-TC-Region, no Region
parameter), against a real emulator and against an endpoint that scripts its answers."""

import json
import uuid

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Client, Settings
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import Credentials
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import TaskError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.regions import REGION_API_UNAVAILABLE, Regions
from helpers import CREDS, HostileEndpoint, send_json
import pytest

from cvm_emulator.actions import REGIONS

CREDENTIALS = Credentials(CREDS["secret_id"], CREDS["secret_key"])


def settings_of(url, **options):
    """Settings as a plugin makes them from its options (Settings.from_args), the region left to the caller."""
    return Settings.from_args(dict({"endpoint": url, "retries": 0}, **options), environ={})


@pytest.mark.parametrize("api_style", ["tc3", "v1", "legacy"])
def test_no_home_region_one_call_to_the_region_api(emulator, api_style):
    """What the inventory's `regions: [all]` does when no region is configured: one call, no region sent."""
    client = Client(CREDENTIALS, settings_of(emulator.url, api_style=api_style).in_region(None))
    assert Regions(client).available() == sorted(REGIONS)
    log = emulator.requests()
    assert [(r["action"], r["service"], r["region"], r["code"]) for r in log] == [
        ("DescribeRegions", "region", "", "OK")]
    # API 3.0 always: the legacy gateway is CVM's only
    assert log[0]["signature_method"] == ("HmacSHA256" if api_style == "v1" else "TC3-HMAC-SHA256")
    assert len(client.request_ids) == 1 and client.request_ids[0] == log[0]["request_id"]


def test_a_home_region_is_sent_and_changes_nothing(emulator):
    client = Client(CREDENTIALS, settings_of(emulator.url).in_region("ap-singapore"))
    assert Regions(client).available() == sorted(REGIONS)
    assert [(r["service"], r["region"]) for r in emulator.requests()] == [("region", "ap-singapore")]


@pytest.mark.parametrize("code", sorted(REGION_API_UNAVAILABLE))
def test_falls_back_to_cvm_where_the_region_api_is_missing_or_not_permitted(emulator, code):
    """The Region API answers that it is not there, or that these credentials may not call it (a CAM policy of CVM's
    read actions), injected into the emulator's DescribeRegions once: CVM's
    DescribeRegions, still without a region, answers instead."""
    emulator.fault(action="DescribeRegions", mode="error", code=code, count=1)
    client = Client(CREDENTIALS, settings_of(emulator.url).in_region(None))
    assert Regions(client).available() == sorted(REGIONS)
    assert [(r["action"], r["service"], r["region"], r["code"]) for r in emulator.requests()] == [
        ("DescribeRegions", "region", "", code), ("DescribeRegions", "cvm", "", "OK")]
    assert len(client.request_ids) == 2


@pytest.mark.parametrize("code", ["InvalidParameter", "AuthFailure.SignatureFailure", "AuthFailure.SecretIdNotFound",
                                  "InternalError"])
def test_other_region_api_failures_are_failures(emulator, code):
    """Any other answer of the Region API is the task's failure, with its code: no second call."""
    emulator.fault(action="DescribeRegions", mode="error", code=code, count=1)
    with pytest.raises(TaskError, match=r"^Could not list the regions") as info:
        Regions(Client(CREDENTIALS, settings_of(emulator.url).in_region(None))).available()
    assert info.value.code == code
    assert [(r["service"], r["code"]) for r in emulator.requests()] == [("region", code)]


def test_a_throttled_region_api_answer_is_tried_again(emulator):
    """Throttling did nothing: the same Region API call again (not CVM's), within throttle_timeout."""
    emulator.fault(action="DescribeRegions", mode="error", code="RequestLimitExceeded", count=1)
    client = Client(CREDENTIALS, settings_of(emulator.url).in_region(None), sleep=lambda _seconds: None)
    assert Regions(client).available() == sorted(REGIONS)
    assert [(r["service"], r["code"]) for r in emulator.requests()] == [("region", "RequestLimitExceeded"),
                                                                        ("region", "OK")]


def region_api_missing(seen):
    """An endpoint's DescribeRegions: no Region API (InvalidAction for version 2022-06-27), and CVM's answer with a
    region that is not available. `seen` collects (X-TC-Version, X-TC-Region, params)."""
    def answer(handler, params):
        version = handler.headers.get("X-TC-Version")
        seen.append((version, handler.headers.get("X-TC-Region"), params))
        if version == "2022-06-27":
            response = {"Error": {"Code": "InvalidAction", "Message": "The action `DescribeRegions` is not found."}}
        else:
            response = {"TotalCount": 3, "RegionSet": [
                {"Region": "ap-guangzhou", "RegionName": "South China (Guangzhou)", "RegionState": "AVAILABLE"},
                {"Region": "ap-closed", "RegionName": "Closed", "RegionState": "UNAVAILABLE"},
                {"Region": "eu-frankfurt", "RegionName": "Europe (Frankfurt)", "RegionState": "AVAILABLE"}]}
        send_json(handler, json.dumps({"Response": dict(response, RequestId=str(uuid.uuid4()))}).encode())
    return answer


def test_fallback_against_an_endpoint_without_the_region_api():
    seen = []
    with HostileEndpoint({"DescribeRegions": region_api_missing(seen)}) as endpoint:
        client = Client(CREDENTIALS, settings_of(endpoint.url).in_region(None))
        assert Regions(client).available() == ["ap-guangzhou", "eu-frankfurt"]  # AVAILABLE only
    # no X-TC-Region header on either call, as the SDK does for an empty region
    assert seen == [("2022-06-27", None, {"Product": "cvm"}), ("2017-03-12", None, {})]


@pytest.mark.parametrize("region_set", [
    [{"Region": "../../etc", "RegionState": "AVAILABLE"}],
    [{"Region": "ap-guangzhou"}],
    "ap-guangzhou",
])
def test_a_malformed_region_api_answer_is_refused_not_fallen_back_from(region_set):
    with HostileEndpoint({"DescribeRegions": {"TotalCount": 1, "RegionSet": region_set}}) as endpoint:
        with pytest.raises(TaskError, match=r"^Could not list the regions") as info:
            Regions(Client(CREDENTIALS, settings_of(endpoint.url).in_region(None))).available()
        assert info.value.code == "InvalidResponse" and endpoint.calls == [("DescribeRegions", {"Product": "cvm"})]


@pytest.mark.parametrize("endpoint,expected", [
    (None, None),                                                             # the default host
    ("cvm.tencentcloudapi.com", "https://region.tencentcloudapi.com"),
    ("https://cvm.intl.tencentcloudapi.com", "https://region.intl.tencentcloudapi.com"),
    ("cvm.api.qcloud.com", "https://region.tencentcloudapi.com"),            # the legacy gateway serves CVM only
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),                       # an emulator serves every service
    ("https://gateway.example.com:8443", "https://gateway.example.com:8443"),
])
def test_the_region_api_endpoint_beside_the_cvm_endpoint(endpoint, expected):
    settings = Settings.from_args({"endpoint": endpoint}, environ={}).in_region(None)
    assert settings.for_service("region").endpoint == expected
    region = Client(CREDENTIALS, settings).for_service("region")
    assert (region.service, region.version, region.region, region.api_style) == ("region", "2022-06-27", None, "tc3")
    assert region.host == (expected.split("//", 1)[1] if expected else "region.tencentcloudapi.com")


def test_the_tag_endpoint_beside_the_legacy_gateway_is_the_tag_api():
    assert Settings.from_args({"endpoint": "cvm.api.qcloud.com", "api_style": "legacy"},
                              environ={}).tag_endpoint == "https://tag.tencentcloudapi.com"
