# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory's pure logic: filters checked and split to the service's limits, host names without silent merges,
where to connect, the spec, and the trust boundary cloud strings cross (host names, key names, paths, the cache)."""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import ArgumentError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.records import Instance
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.cache import (
    CACHE_VERSION, cache_entry, from_cache,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.hosts import (
    RegionRead, admitted_key_names, connect_address, field_value, host_name_problem, host_vars, path_safe, unique_names,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.spec import (
    InventorySpec, checked_filters, queries,
)
import pytest

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


@pytest.mark.parametrize("addresses,connect_with,expected", [
    ({"public_ips": ("1.2.3.4",), "private_ips": ("10.0.0.1",)}, "public_ip", ("1.2.3.4", "public_ip")),
    ({"private_ips": ("10.0.0.1",), "ipv6s": ("2001:db8::1",)}, "public_ip", ("10.0.0.1", "private_ip")),
    ({"private_ips": ("10.0.0.1",), "ipv6s": ("2001:db8::1",)}, "ipv6", ("2001:db8::1", "ipv6")),
    ({"public_ips": ("1.2.3.4",)}, "private_ip", ("1.2.3.4", "public_ip")),   # another kind: the plugin warns
    ({"ipv6s": ("2001:db8::1",)}, "public_ip", ("2001:db8::1", "ipv6")),
    ({}, "private_ip", (None, None)),   # no address at all: left out, never reached by its name
    ({}, "ipv6", (None, None)),
])
def test_where_to_connect(addresses, connect_with, expected):
    assert connect_address(inst(**addresses), connect_with) == expected


LOCALHOST = ("127.0.0.1", "localhost", "::1")  # ansible.constants.LOCALHOST


@pytest.mark.parametrize("name", [
    "web-01", "ins-aaaaaaaa", "db_2.prod.example", "10.0.0.1", "2001:db8::1", "生产-web", "_x", "a" * 253,
])
def test_host_names_that_pass(name):
    assert host_name_problem(name, LOCALHOST) is None


@pytest.mark.parametrize("name,why", [
    ("{{ lookup('pipe', 'id') }}", "not a plain host name"),
    ("{%print(1)%}", "not a plain host name"),
    ("web{#x#}", "not a plain host name"),
    ("-oProxyCommand=touch_x", "not a plain host name"),
    ("-x", "not a plain host name"),
    ("web 1", "not a plain host name"),
    ("web\n1", "not a plain host name"),
    ("web\u20281", "not a plain host name"),  # a Unicode line separator
    ("a,b", "not a plain host name"),
    ("web:22", "not a plain host name"),
    ("all!x", "not a plain host name"),
    (".hidden", "not a plain host name"),
    ("a" * 254, "not a plain host name"),
    ("", "empty"),
    ("localhost", "takes for the control node"),
    ("LocalHost", "takes for the control node"),
    ("evil.localhost", "takes for the control node"),
    ("127.0.0.1", "loopback or unspecified"),
    ("127.0.0.2", "loopback or unspecified"),
    ("::1", "loopback or unspecified"),
    ("0.0.0.0", "loopback or unspecified"),
    ("fe80::1%eth0", "not a plain host name"),
])
def test_host_names_refused(name, why):
    assert why in host_name_problem(name, LOCALHOST)


def test_a_controller_name_given_by_ansible_is_refused_too():
    assert "control node" in host_name_problem("controller", ("controller",))


def test_only_key_ids_and_names_of_the_services_patterns_reach_a_path():
    pairs = [("skey-aaaaaaaa", "deploy"), ("skey-bbbbbbbb", "../../etc/shadow"), ("../../etc/ssh/ssh_host_key", "x"),
             ("skey-cccccccc", "a/b"), (1, "deploy"), ("skey-dddddddd", None)]
    assert admitted_key_names(pairs) == {"skey-aaaaaaaa": "deploy"}


def test_values_with_a_slash_or_dot_dot_never_reach_a_path_template():
    values = {"zone": "ap-guangzhou-3", "name": "../x", "tags": {"k": "a/b", "ok": "v", "a/b": "v", "n": 1},
              "ips": ["10.0.0.1", ".."], "port": 22}
    assert path_safe(values, "\x00") == {"zone": "ap-guangzhou-3", "name": "\x00", "tags": {"k": "\x00", "ok": "v", "n": 1},
                                         "ips": ["10.0.0.1", "\x00"], "port": 22}


def test_an_instance_id_or_key_id_of_another_shape_is_refused_or_dropped_on_a_read():
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import TencentCloudAPIError

    for bad in ("{{ lookup('pipe', 'id') }}", "-oProxyCommand=x", "localhost", "ins-AAAAAAAA"):
        with pytest.raises(TencentCloudAPIError, match="InstanceId that is not an instance ID") as info:
            Instance.from_api({"InstanceId": bad})
        assert info.value.code == "InvalidResponse"
    read = Instance.from_api({"InstanceId": "ins-aaaaaaaa", "LoginSettings": {"KeyIds": [
        "skey-aaaaaaaa", "../../../etc/ssh/ssh_host_ed25519_key", "", "skey-bbbbbbbb"]}})
    assert read.key_ids == ("skey-aaaaaaaa", "skey-bbbbbbbb")


GOOD = inst("ins-aaaaaaaa", private_ips=("10.0.0.1",), login_user="root", login_port=22, name="web 1 {{ x }}",
            tags=(("role", "web"),), key_ids=("skey-aaaaaaaa",), zone="ap-guangzhou-3", project_id=0)


def test_the_cache_holds_answer_models_and_gives_back_the_same_records():
    entry = cache_entry({"ap-guangzhou": RegionRead([GOOD], {"skey-aaaaaaaa": "deploy"})})
    assert entry["version"] == CACHE_VERSION
    assert from_cache(entry) == {"ap-guangzhou": RegionRead([GOOD], {"skey-aaaaaaaa": "deploy"})}
    assert Instance.from_api(GOOD.to_model()) == GOOD


def tampered(change):
    entry = cache_entry({"ap-guangzhou": RegionRead([GOOD], {"skey-aaaaaaaa": "deploy"})})
    change(entry, entry["regions"]["ap-guangzhou"]["instances"][0], entry["regions"]["ap-guangzhou"])
    return entry


@pytest.mark.parametrize("change,message", [
    (lambda e, m, r: m.update(InstanceId="{{ lookup('pipe','id') }}"), "InstanceId that is not an instance ID"),
    (lambda e, m, r: m.update(DefaultLoginUser="-oProxyCommand=x"), "DefaultLoginUser that is not a POSIX user"),
    (lambda e, m, r: m.update(PrivateIpAddresses=["-oProxyCommand=x"]), "that is not an IP address"),
    (lambda e, m, r: m.update(DefaultLoginPort=True), "DefaultLoginPort that is not an integer"),
    (lambda e, m, r: m.update(InstanceName=["not", "text"]), "InstanceName that is not a string"),
    (lambda e, m, r: m.update(Tags=[{"Key": 1, "Value": "v"}]), "Tags[].Key that is not a string"),
    (lambda e, m, r: r["key_names"].update({"skey-aaaaaaaa": "../../etc/shadow"}), "key name is not one"),
    (lambda e, m, r: r["key_names"].update({"../x": "deploy"}), "key name is not one"),
    (lambda e, m, r: r["instances"].append(dict(m)), "listed twice"),
    (lambda e, m, r: e["regions"].update({"ap guangzhou": r}), "not a region name"),
    (lambda e, m, r: e.update(version=1), "not an inventory cache of this version"),
    (lambda e, m, r: r.update(instances="many"), "not a region name with a list"),
])
def test_a_tampered_cache_is_refused_by_the_checks_an_answer_passes(change, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        from_cache(tampered(change))


def test_a_cache_entry_beyond_what_a_read_can_return_is_refused():
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.cache import MAX_CACHED

    with pytest.raises(ValueError, match="not a region name with a list"):
        from_cache({"version": CACHE_VERSION, "regions": {"ap-guangzhou": {
            "instances": [{}] * (MAX_CACHED + 1), "key_names": {}}}})


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
