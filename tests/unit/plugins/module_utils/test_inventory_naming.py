# SPDX-License-Identifier: GPL-3.0-or-later
"""_inventory/naming.py: the name of each host (the first hostnames preference whose value may name a host, else
its instance ID), the values refused on the way, and no two instances merged. The plugin's Jinja is a stub here."""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.records import Instance
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.hosts import Clash, Host
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.naming import (
    HostNames, NameRefusal, WantedName, name_hosts, wanted_name,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.spec import InventorySpec
import pytest

DEFAULTS = {"regions": [], "filters": {}, "exclude_filters": [], "hostnames": ["instance-id"],
            "connect_with": "public_ip", "private_key_paths": [], "use_login_user": True, "use_login_port": True,
            "hostvars_prefix": "tencent_", "strict_permissions": True, "concurrency": 8}
CONTROLLER = ("127.0.0.1", "localhost", "::1")


def spec(**options):
    return InventorySpec.from_options(dict(DEFAULTS, **options).get)


def host(instance_id="ins-aaaaaaaa", **fields):
    fields.setdefault("private_ips", ("10.0.0.1",))
    return Host.of("ap-guangzhou", Instance(instance_id=instance_id, **fields), {}, "public_ip")


class Jinja:
    """A stand-in for the plugin's evaluation: answers from a table, and records what it was asked."""

    def __init__(self, answers):
        self.answers = answers
        self.asked = []

    def __call__(self, expression, variables, instance_id):
        self.asked.append((expression, dict(variables), instance_id))
        return self.answers.get((expression, instance_id))


def test_the_first_preference_with_a_value_wins():
    one = host(name="web-1", tags=(("Name", "front"),))
    assert wanted_name(one, spec(hostnames=["tag:Name", "instance-name"]), Jinja({}), CONTROLLER) == WantedName(
        "front", ())
    assert wanted_name(one, spec(hostnames=["tag:none", "instance-name"]), Jinja({}), CONTROLLER) == WantedName(
        "web-1", ())


def test_values_that_cannot_name_a_host_are_refused_and_the_next_one_is_tried():
    one = host(name="{{ lookup('pipe', 'id') }}", tags=(("Name", "localhost"),))
    chosen = wanted_name(one, spec(hostnames=["instance-name", "tag:Name", "private-ip-address"]), Jinja({}), CONTROLLER)
    assert chosen.name == "10.0.0.1"
    assert [(r.preference, r.value) for r in chosen.refusals] == [
        ("instance-name", "{{ lookup('pipe', 'id') }}"), ("tag:Name", "localhost")]
    assert "not a plain host name" in chosen.refusals[0].reason
    assert chosen.refusals[1].reason == "it is a name Ansible takes for the control node"
    assert all(r.instance_id == "ins-aaaaaaaa" for r in chosen.refusals)


def test_a_name_ansible_gives_the_controller_is_refused():
    one = host(name="controller")
    chosen = wanted_name(one, spec(hostnames=["instance-name"]), Jinja({}), ("controller",))
    assert chosen == WantedName("ins-aaaaaaaa", (NameRefusal("ins-aaaaaaaa", "instance-name", "controller",
                                                             "it is a name Ansible takes for the control node"),))


def test_without_any_usable_value_the_instance_id_names_the_host():
    assert wanted_name(host(), spec(hostnames=["instance-name", "public-ip-address"]), Jinja({}), CONTROLLER) == \
        WantedName("ins-aaaaaaaa", ())


def test_an_expression_is_evaluated_by_the_plugin_with_the_host_variables_once():
    one = host(tags=(("owner", "ann"),))
    jinja = Jinja({("tencent_tags.owner ~ '-box'", "ins-aaaaaaaa"): "ann-box"})
    chosen = wanted_name(one, spec(hostnames=["missing_var", "tencent_tags.owner ~ '-box'"]), jinja, CONTROLLER)
    assert chosen == WantedName("ann-box", ())
    assert [(expression, instance_id) for expression, _vars, instance_id in jinja.asked] == [
        ("missing_var", "ins-aaaaaaaa"), ("tencent_tags.owner ~ '-box'", "ins-aaaaaaaa")]
    variables = jinja.asked[0][1]
    assert variables["tencent_tags"] == {"owner": "ann"} and variables["tencent_region"] == "ap-guangzhou"
    assert jinja.asked[0][1] == jinja.asked[1][1]


def test_an_expression_that_gives_something_else_than_text_is_shown_as_text():
    chosen = wanted_name(host(), spec(hostnames=["1 + 1"]), Jinja({("1 + 1", "ins-aaaaaaaa"): 2}), CONTROLLER)
    assert chosen == WantedName("2", ())


def test_field_preferences_never_ask_the_plugin():
    jinja = Jinja({})
    wanted_name(host(name="web"), spec(hostnames=["instance-name", "tag:x", "instance-id"]), jinja, CONTROLLER)
    assert jinja.asked == []


def test_two_instances_that_want_one_name_are_named_by_their_ids():
    a, b, c = host("ins-aaaaaaaa", name="web"), host("ins-bbbbbbbb", name="web"), host("ins-cccccccc", name="db")
    names = name_hosts([a, b, c], spec(hostnames=["instance-name"]), Jinja({}), CONTROLLER)
    assert names == HostNames(by_instance={"ins-aaaaaaaa": "ins-aaaaaaaa", "ins-bbbbbbbb": "ins-bbbbbbbb",
                                           "ins-cccccccc": "db"},
                              refusals=(), clashes=(Clash("web", ["ins-aaaaaaaa", "ins-bbbbbbbb"]),))
    assert names.of(c) == "db" and names.of(a) == "ins-aaaaaaaa"


def test_the_refusals_of_every_host_are_kept_in_host_order():
    a, b = host("ins-aaaaaaaa", name="-oProxyCommand=x"), host("ins-bbbbbbbb", name="web 2")
    names = name_hosts([a, b], spec(hostnames=["instance-name"]), Jinja({}), CONTROLLER)
    assert [(r.instance_id, r.value) for r in names.refusals] == [("ins-aaaaaaaa", "-oProxyCommand=x"),
                                                                  ("ins-bbbbbbbb", "web 2")]
    assert names.by_instance == {"ins-aaaaaaaa": "ins-aaaaaaaa", "ins-bbbbbbbb": "ins-bbbbbbbb"}
    assert names.clashes == ()


def test_the_records_are_frozen():
    refusal = NameRefusal("ins-aaaaaaaa", "instance-name", "x y", "why")
    with pytest.raises(AttributeError, match="cannot assign to field 'value'"):
        refusal.value = "other"
