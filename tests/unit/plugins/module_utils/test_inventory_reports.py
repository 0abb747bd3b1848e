# SPDX-License-Identifier: GPL-3.0-or-later
"""_inventory/reports.py: what the inventory tells its user, each finding as warnings and the error strict: true
fails with instead, with exact texts; values from the cloud quoted and cut, long host lists cut to SHOWN."""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.records import Instance
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.hosts import Clash, Host
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.naming import NameRefusal
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.reports import (
    NOTHING, SHOWN, Finding, MissingKey, clashes_finding, host_problems_finding, other_address_kinds_finding,
    refused_names_finding, shown, some, unknown_keys_finding,
)

DEFINITIONS = {"plugin": {}, "filters": {}, "regions": {"aliases": ["region_list"]}}


def host(instance_id, connect_with="public_ip", **addresses):
    return Host.of("ap-guangzhou", Instance(instance_id=instance_id, **addresses), {}, connect_with)


def test_nothing_to_say_is_nothing():
    assert NOTHING == Finding(warnings=(), error=None)
    assert unknown_keys_finding("a.tencent_cvm.yml", {"plugin": "x", "region_list": []}, DEFINITIONS) is NOTHING
    assert refused_names_finding([]) is NOTHING and clashes_finding([]) is NOTHING
    assert host_problems_finding([], {}, []) == NOTHING
    assert other_address_kinds_finding([host("ins-aaaaaaaa", public_ips=("1.2.3.4",))], "public_ip") is NOTHING


def test_shown_quotes_escapes_and_cuts():
    assert shown("web\n1") == '"web\\n1"'
    assert shown("生产") == '"生产"'
    assert shown("x" * 100) == '"' + "x" * 79 + '..."'
    assert shown("x" * 10, most=5) == '"xxxx..."'


def test_some_names_at_most_shown_and_counts_the_rest():
    assert some(["a", "b"]) == "a; b"
    items = ["h%d" % i for i in range(SHOWN + 3)]
    assert some(items) == "; ".join(items[:SHOWN]) + "; and 3 more"


def test_unknown_keys_warn_and_with_strict_fail():
    finding = unknown_keys_finding("demo.tencent_cvm.yml", {"plugin": "x", "filter": {}}, DEFINITIONS)
    assert finding.warnings == ("demo.tencent_cvm.yml: the key 'filter' (did you mean 'filters'?) is not an option "
                                "of this plugin and was ignored (with strict: true it is an error)",)
    assert finding.error == ("demo.tencent_cvm.yml: the key 'filter' (did you mean 'filters'?) is not an option of "
                             "this plugin (strict: true)")


def test_refused_names_one_warning_with_a_count_strict_the_first():
    refusals = [NameRefusal("ins-aaaaaaaa", "instance-name", "web\n1", "it is not a plain host name"),
                NameRefusal("ins-bbbbbbbb", "tag:Name", "localhost", "it is a name Ansible takes for the control node")]
    finding = refused_names_finding(refusals)
    assert finding.warnings == (
        '2 host name(s) from the cloud refused, the next hostnames preference used: ins-aaaaaaaa: instance-name gave '
        '"web\\n1", refused: it is not a plain host name; ins-bbbbbbbb: tag:Name gave "localhost", refused: it is a '
        'name Ansible takes for the control node',)
    assert finding.error == ('a host name from the cloud cannot name a host (strict): ins-aaaaaaaa: instance-name '
                             'gave "web\\n1", refused: it is not a plain host name')


def test_clashes_are_a_warning_even_with_strict():
    one = clashes_finding([Clash("web", ["ins-aaaaaaaa", "ins-bbbbbbbb"])])
    assert one == Finding(warnings=("a host name shared by several instances, the instances named by instance ID: "
                                    "web wanted by ins-aaaaaaaa, ins-bbbbbbbb",), error=None)
    two = clashes_finding([Clash("web", ["ins-aaaaaaaa", "ins-bbbbbbbb"]), Clash("db", ["ins-cccccccc", "ins-dddddddd"])])
    assert two.warnings == ("hosts named by instance ID: web wanted by ins-aaaaaaaa, ins-bbbbbbbb; db wanted by "
                            "ins-cccccccc, ins-dddddddd",)


def test_host_problems_one_warning_each_and_one_error_for_all():
    left_out = [host("ins-aaaaaaaa")]
    refused = {"/keys/deploy": "/keys/deploy is a FIFO (named pipe); move it away"}
    missing = [MissingKey("web-1", ("deploy", "skey-bbbbbbbb")), MissingKey("db-0", ())]
    finding = host_problems_finding(left_out, refused, missing)
    assert finding.warnings == (
        "1 instance(s) left out: no address to connect to (never their names): ins-aaaaaaaa",
        "private key files refused: /keys/deploy (/keys/deploy is a FIFO (named pipe); move it away)",
        "no private key file found for 2 host(s) (key pairs tried): web-1 (deploy, skey-bbbbbbbb); "
        "db-0 (no key pair bound)")
    assert finding.error == "; ".join(finding.warnings)
    assert host_problems_finding([], {}, missing[1:]).warnings == (
        "no private key file found for 1 host(s) (key pairs tried): db-0 (no key pair bound)",)


def test_another_address_kind_is_named_except_public_falling_back_to_private():
    hosts = [host("ins-aaaaaaaa", private_ips=("10.0.0.1",)), host("ins-bbbbbbbb", ipv6s=("2001:db8::1",))]
    assert other_address_kinds_finding(hosts, "public_ip") == Finding(
        warnings=("1 host(s) have no public_ip address and connect to another kind: ins-bbbbbbbb (ipv6)",))
    private = [host("ins-aaaaaaaa", "private_ip", public_ips=("1.2.3.4",))]
    assert other_address_kinds_finding(private, "private_ip").warnings == (
        "1 host(s) have no private_ip address and connect to another kind: ins-aaaaaaaa (public_ip)",)


def test_a_host_no_secret_opens_is_named_as_such():
    missing = [MissingKey("web1", ("plain",))]
    assert host_problems_finding([], {}, missing, from_secrets=True).warnings == (
        "no key pair bound to 1 host(s) is held by an enabled SSH-key secret (key pairs bound): web1 (plain)",)
