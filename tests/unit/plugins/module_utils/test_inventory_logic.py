# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory's pure logic: filters checked and split to the service's limits, host names without silent merges,
where to connect, the spec."""

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils._errors import ArgumentError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory import (
    InventorySpec, checked_filters, connect_address, field_value, host_vars, queries, unique_names,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._records import Instance

DEFAULTS = {"regions": [], "filters": {}, "exclude_filters": [], "hostnames": ["instance-id"],
            "connect_with": "public_ip", "private_key_paths": [], "use_login_user": True, "use_login_port": True,
            "hostvars_prefix": "tencent_", "strict_permissions": True, "concurrency": 8}


def spec(**options):
    return InventorySpec.from_options(dict(DEFAULTS, **options).get)


def inst(instance_id="ins-aaaaaaaa", **fields):
    return Instance(instance_id=instance_id, **fields)


def test_filters_are_normalised():
    assert checked_filters({"zone": "ap-guangzhou-3", "project-id": [0, 1000], "tag:role": ["web", "web"]}) == (
        ("project-id", ("0", "1000")), ("tag:role", ("web",)), ("zone", ("ap-guangzhou-3",)))


@pytest.mark.parametrize("filters,message", [
    ({"colour": "red"}, "unknown DescribeInstances filter colour"),
    ({"tag:": "x"}, "unknown DescribeInstances filter tag:"),
    ({"zone": []}, "filter zone has no values"),
    ({"zone": [True]}, "takes strings or integers"),
    ({"zone": ""}, "takes strings or integers"),
    ({"tag:k%d" % i: "v" for i in range(11)}, "11 filters, but DescribeInstances takes at most 10"),
    (["zone"], "must be a dict"),
])
def test_bad_filters(filters, message):
    with pytest.raises(ArgumentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        checked_filters(filters)


def test_values_beyond_five_are_split_into_queries():
    assert queries(()) == [[]]
    assert queries(checked_filters({"zone": "z"})) == [[{"Name": "zone", "Values": ["z"]}]]
    seven = ["ins-%08d" % i for i in range(7)]
    split = queries(checked_filters({"instance-id": seven, "instance-state": ["RUNNING"]}))
    assert [q[0]["Values"] for q in split] == [seven[:5], seven[5:]]
    assert all(q[1] == {"Name": "instance-state", "Values": ["RUNNING"]} for q in split)
    both = queries(checked_filters({"instance-id": seven, "zone": ["z%d" % i for i in range(6)]}))
    assert len(both) == 4  # 2 chunks x 2 chunks: every combination, so the union is the filter set
    with pytest.raises(ArgumentError, match="more than 25 DescribeInstances queries"):
        queries(checked_filters({"instance-id": ["ins-%08d" % i for i in range(130)]}))


def test_names_never_merge_two_instances():
    a, b, c = inst("ins-aaaaaaaa"), inst("ins-bbbbbbbb"), inst("ins-cccccccc")
    final, clashes = unique_names([(a, "web"), (b, "web"), (c, "db")])
    assert final == {"ins-aaaaaaaa": "ins-aaaaaaaa", "ins-bbbbbbbb": "ins-bbbbbbbb", "ins-cccccccc": "db"}
    assert clashes == [("web", ["ins-aaaaaaaa", "ins-bbbbbbbb"])]
    final, clashes = unique_names([(a, "ins-cccccccc"), (c, "ins-cccccccc")])  # a name that is another's ID
    assert final == {"ins-aaaaaaaa": "ins-aaaaaaaa", "ins-cccccccc": "ins-cccccccc"} and len(clashes) == 1


def test_field_values_and_addresses():
    one = inst(name="web-1", private_ips=("10.0.0.1",), public_ips=(), ipv6s=("2001:db8::1",),
               tags=(("Name", "front"),))
    assert field_value(one, "tag:Name") == "front" and field_value(one, "tag:none") is None
    assert field_value(one, "public-ip-address") is None and field_value(one, "private-ip-address") == "10.0.0.1"
    assert field_value(one, "tencent_tags.role") is NotImplemented  # a Jinja expression: the plugin's
    assert connect_address(one, "public_ip") == "10.0.0.1"  # falls back to the private address
    assert connect_address(one, "ipv6") == "2001:db8::1"
    assert connect_address(inst(public_ips=("1.2.3.4",), private_ips=("10.0.0.1",)), "public_ip") == "1.2.3.4"
    assert connect_address(inst(), "private_ip") is None


def test_host_vars_name_key_pairs_and_keep_unknown_ids():
    values = host_vars(inst(key_ids=("skey-aaaaaaaa", "skey-bbbbbbbb"), tags=(("a", "1"),)), "ap-guangzhou",
                       {"skey-aaaaaaaa": "deploy"}, "t_")
    assert values["t_key_names"] == ["deploy", "skey-bbbbbbbb"] and values["t_tags"] == {"a": "1"}
    assert values["t_region"] == "ap-guangzhou" and all(k.startswith("t_") for k in values)


@pytest.mark.parametrize("options,message", [
    ({"regions": ["ap-guangzhou; id"]}, "regions must be region names"),
    ({"regions": "ap-guangzhou"}, "regions must be a list"),
    ({"connect_with": "dns"}, "connect_with must be one of"),
    ({"hostvars_prefix": "bad-prefix"}, "hostvars_prefix"),
    ({"concurrency": 0}, "concurrency must be an integer from 1 to 32"),
    ({"exclude_filters": {"zone": "z"}}, "exclude_filters must be a list"),
    ({"exclude_filters": [{"zone": "z"}, {"nope": 1}]}, r"exclude_filters\[1\]: unknown"),
    ({"private_key_paths": [""]}, "private_key_paths must be a list of non-empty strings"),
])
def test_bad_options(options, message):
    with pytest.raises(ArgumentError, match=message):
        spec(**options)


def test_spec_defaults():
    made = spec(regions=["all"], exclude_filters=[{"zone": "z"}])
    assert made.regions == ("all",) and made.hostnames == ("instance-id",)
    assert made.exclude_filters == ((("zone", ("z",)),),)


def test_cached_data_is_checked_like_an_answer():
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory import trusted_cache

    good = inst("ins-aaaaaaaa", private_ips=("10.0.0.1",), login_user="root", login_port=22)
    assert trusted_cache("ap-guangzhou", [good], {"skey-aaaaaaaa": "deploy"})
    assert not trusted_cache("ap-guangzhou", [good], {"skey-aaaaaaaa": "../../etc/shadow"})
    assert not trusted_cache("ap-guangzhou", [inst(login_user="-oProxyCommand=x")], {})
    assert not trusted_cache("ap-guangzhou", [inst(private_ips=("-oProxyCommand=x",))], {})
    assert not trusted_cache("ap-guangzhou", [inst(login_port=True)], {})
    assert not trusted_cache("ap guangzhou", [good], {})
