# SPDX-License-Identifier: GPL-3.0-or-later
"""The base of the resource layer (_core/resource.py): calls through the failure funnel with the resource's hints,
and Describe* paging, against the emulator and against scripted endpoints on 127.0.0.1."""

from dataclasses import dataclass
import json

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import TaskError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.resource import PAGE, Resource
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.shape import MAX_PAGES, Shape
from helpers import HostileEndpoint, make_client
import pytest


@dataclass(frozen=True)
class Thing:
    name: str

    @classmethod
    def from_api(cls, item, answer=None):
        shape = Shape("DescribeThings", answer)
        return cls(shape.text(shape.obj(item, "ThingSet[]").get("Name"), "ThingSet[].Name"))


class Things(Resource):
    HINTS = {"InvalidParameterValue.Thing": "things are special here"}

    def all(self):
        return self.pages("DescribeThings", {"Filters": []}, "ThingSet", Thing.from_api, "Could not list things")


def send_json(handler, body):
    """The whole answer in one write (two would wait for a delayed ACK: 200 pages would take 10 s, not 1)."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                        % (len(body), body))


def pages_of(total, per_page=PAGE, item=lambda n: {"Name": "t%d" % n}, request_id="r-page"):
    """An answer of DescribeThings that serves `total` things by Offset/Limit (per_page at most per page)."""
    def answer(handler, params):
        offset, limit = params["Offset"], params["Limit"]
        items = [item(n) for n in range(offset, min(total, offset + min(limit, per_page)))]
        send_json(handler, json.dumps({"Response": {"ThingSet": items, "TotalCount": total,
                                                    "RequestId": request_id}}).encode())
    return answer


def things(endpoint, **settings):
    return Things(make_client(endpoint.url, sleep=lambda _seconds: None, **settings))


def test_a_call_returns_the_response(emulator):
    resource = Resource(make_client(emulator.url))
    answer = resource.call("DescribeKeyPairs", {"Limit": 10}, "Could not list key pairs")
    assert answer["TotalCount"] == 0 and answer["KeyPairSet"] == [] and answer["RequestId"]


def test_a_failed_call_is_a_task_error_with_the_generic_hint(emulator):
    resource = Resource(make_client(emulator.url, secret_key="wrong"))
    with pytest.raises(TaskError) as info:
        resource.call("DescribeKeyPairs", {}, "Could not list key pairs")
    exc = info.value
    assert exc.code == "AuthFailure.SignatureFailure" and exc.changed is False
    request_id = exc.api_error.request_id
    assert exc.msg.startswith("Could not list key pairs: the signature does not match: check secret_key for the "
                              "given secret_id (")
    assert exc.msg.endswith(") (AuthFailure.SignatureFailure, RequestId %s)" % request_id)


def test_a_resource_hint_comes_before_the_generic_ones():
    error = {"Error": {"Code": "InvalidParameterValue.Thing", "Message": "no such thing"}}
    with HostileEndpoint({"DescribeThings": error}) as endpoint:
        with pytest.raises(TaskError) as info:
            things(endpoint).call("DescribeThings", {}, "Could not list things")
    assert info.value.code == "InvalidParameterValue.Thing"
    assert info.value.msg.startswith("Could not list things: things are special here (no such thing) "
                                     "(InvalidParameterValue.Thing, RequestId ")


def test_the_retry_policy_is_the_callers():
    busy = {"Error": {"Code": "InternalError", "Message": "busy"}}
    with HostileEndpoint({"CreateThing": busy, "DescribeThings": busy}) as endpoint:
        resource = things(endpoint, retries=2)
        for action, retry in (("DescribeThings", True), ("CreateThing", "throttled")):
            with pytest.raises(TaskError, match=r"\(InternalError, RequestId "):
                resource.call(action, {}, "Could not", retry=retry)
        assert endpoint.actions() == ["DescribeThings"] * 3 + ["CreateThing"]


def test_pages_are_read_until_the_total_and_made_records():
    with HostileEndpoint({"DescribeThings": pages_of(250)}) as endpoint:
        found = things(endpoint).all()
        assert found == [Thing("t%d" % n) for n in range(250)]
        assert [(p["Offset"], p["Limit"], p["Filters"]) for _action, p in endpoint.calls] == [
            (0, PAGE, []), (PAGE, PAGE, []), (2 * PAGE, PAGE, [])]


def test_an_empty_page_ends_the_list_even_if_the_total_says_more():
    with HostileEndpoint({"DescribeThings": pages_of(1000, per_page=0)}) as endpoint:
        assert things(endpoint).all() == []
        assert len(endpoint.calls) == 1


def test_a_list_that_never_ends_is_refused():
    endless = pages_of(10 ** 9)
    with HostileEndpoint({"DescribeThings": endless}) as endpoint:
        with pytest.raises(TaskError) as info:
            things(endpoint).all()
        assert len(endpoint.calls) == MAX_PAGES
    assert info.value.code == "InvalidResponse"
    assert info.value.msg == (
        "Could not list things: the endpoint's answer could not be read (DescribeThings answered more than 200 pages "
        "(TotalCount 1000000000): not a list that ends) (InvalidResponse, RequestId r-page)")


def test_a_malformed_item_fails_the_listing_with_the_field_named():
    with HostileEndpoint({"DescribeThings": pages_of(3, item=lambda n: {"Name": n})}) as endpoint:
        with pytest.raises(TaskError) as info:
            things(endpoint).all()
    assert info.value.code == "InvalidResponse" and info.value.api_error.ambiguous
    assert info.value.msg == (
        "Could not list things: the endpoint's answer could not be read (DescribeThings answered ThingSet[].Name "
        "that is not a string of at most 4096 characters) (InvalidResponse, RequestId r-page)")


def test_a_page_without_its_list_or_total_is_refused():
    def answer(handler, _params):
        send_json(handler, json.dumps({"Response": {"TotalCount": 1, "RequestId": "r-x"}}).encode())

    with HostileEndpoint({"DescribeThings": answer}) as endpoint:
        with pytest.raises(TaskError) as info:
            things(endpoint).all()
    assert info.value.msg == (
        "Could not list things: the endpoint's answer could not be read (DescribeThings answered ThingSet that is "
        "not a list of at most 100 items) (InvalidResponse, RequestId r-x)")
