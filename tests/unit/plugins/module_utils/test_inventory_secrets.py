# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory's private_key_source: secrets_manager, below the plugin: the option, one ListSecrets listing per
region joined to the bound key pairs by name (against a real emulator), what a secret name must be to reach the
template, the template itself, and the cache entry that keeps the secret names (read back through the same checks)."""

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Client, Settings
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import Credentials
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import ArgumentError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.cache import cache_entry, from_cache
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.hosts import (
    Host, RegionRead, admitted_key_secrets, key_lookup, lookup_endpoint, needs_agent,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.reading import read_region
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.spec import InventorySpec
from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.records import Instance
from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import NewSecret, Secrets
from helpers import CREDS

DEFAULTS = {"regions": [], "filters": {}, "exclude_filters": [], "hostnames": ["instance-id"],
            "connect_with": "public_ip", "private_key_paths": [], "use_login_user": True, "use_login_port": True,
            "hostvars_prefix": "tencent_", "strict_permissions": True, "concurrency": 8,
            "private_key_source": "secrets_manager"}


def spec(**options):
    return InventorySpec.from_options(dict(DEFAULTS, **options).get)


def client(emulator, region="ap-guangzhou"):
    return Client(Credentials(CREDS["secret_id"], CREDS["secret_key"]),
                  Settings(endpoint=emulator.url, retries=0, region=region))


def test_the_option_and_its_exclusions():
    assert spec().from_secrets and not spec(private_key_source="files").from_secrets
    assert spec(private_key_source=None).private_key_source == "files"
    with pytest.raises(ArgumentError, match="^private_key_source must be one of files, secrets_manager$"):
        spec(private_key_source="vault")
    with pytest.raises(ArgumentError, match="^private_key_paths and private_key_source: secrets_manager exclude"):
        spec(private_key_paths=["~/.ssh/{{ key_name }}"])


def test_one_listing_joins_the_bound_key_pairs_to_their_secrets(emulator):
    """Two secrets hold the bound key pairs, a third holds one no instance is bound to, a fourth is disabled."""
    secrets = Secrets(client(emulator))
    for name, key in (("web-a", "web_a"), ("web-b", "web_b"), ("spare", "spare_key"), ("off", "off_key")):
        secrets.create(NewSecret(name=name, key_name=key))
    secrets.disable("off")
    ids = {kp["key_name"]: kp["key_id"] for kp in emulator.key_pairs()}
    emulator.instance_batch(1, region="ap-guangzhou", key_ids=[ids["web_a"]])
    emulator.instance_batch(1, region="ap-guangzhou", key_ids=[ids["web_b"], ids["off_key"]])
    emulator.clear_requests()
    read = read_region(client(emulator), spec())
    assert read.key_secrets == {"web_a": "web-a", "web_b": "web-b"}
    assert [r["action"] for r in emulator.requests()] == ["DescribeInstances", "DescribeKeyPairs", "ListSecrets"]
    emulator.clear_requests()
    assert read_region(client(emulator), spec(private_key_source="files")).key_secrets == {}
    assert "ListSecrets" not in [r["action"] for r in emulator.requests()]


def test_no_listing_when_no_key_pair_is_bound(emulator):
    emulator.instance_batch(2, region="ap-guangzhou")
    emulator.clear_requests()
    assert read_region(client(emulator), spec()).key_secrets == {}
    assert [r["action"] for r in emulator.requests()] == ["DescribeInstances"]


@pytest.mark.parametrize("pair", [
    ("web_a", "a'b"), ("web_a", "{{ lookup('pipe', 'id') }}"), ("web_a", ""), ("web_a", "-x"), ("web a", "ok"),
    ("x" * 26, "ok"), ("web_a", "s" * 129), (None, "ok"), ("web_a", 5),
])
def test_only_names_that_match_their_rules_reach_the_template(pair):
    assert admitted_key_secrets([pair]) == {}


def test_a_key_pair_two_secrets_claim_gets_neither():
    assert admitted_key_secrets([("k", "one"), ("k", "two"), ("j", "three"), ("j", "three")]) == {"j": "three"}


def test_the_host_gets_the_secret_of_its_first_held_key_pair_in_binding_order():
    instance = Instance(instance_id="ins-aaaaaaaa", key_ids=("skey-aaaaaaaa", "skey-bbbbbbbb"))
    host = Host.of("ap-guangzhou", instance, {"skey-aaaaaaaa": "plain", "skey-bbbbbbbb": "held"}, "public_ip",
                   {"held": "held-secret", "other": "x"})
    assert host.key_secret() == "held-secret"
    assert Host.of("ap-guangzhou", instance, {}, "public_ip").key_secret() is None


def test_the_template():
    assert key_lookup("web-a", "ap-guangzhou") == (
        "{{ lookup('tencentcloud.cvm.tencent_ssh_key', 'web-a', deliver='agent', region='ap-guangzhou') }}")
    assert key_lookup("web-a", "ap-guangzhou", "http://127.0.0.1:8080") == (
        "{{ lookup('tencentcloud.cvm.tencent_ssh_key', 'web-a', deliver='agent', region='ap-guangzhou', "
        "endpoint='http://127.0.0.1:8080') }}")
    with pytest.raises(ArgumentError, match="^a secret or region name is not one$"):
        key_lookup("a' ~ lookup('pipe','id') ~ '", "ap-guangzhou")


@pytest.mark.parametrize("endpoint", ["http://h/'x", "https://h/{{x}}", "http://user:pa ss@h"])
def test_an_endpoint_no_template_may_hold_is_refused(endpoint):
    with pytest.raises(ArgumentError, match="may hold only letters, digits and"):
        lookup_endpoint(endpoint)


def test_the_requirement_is_named():
    assert needs_agent("2.16.19").startswith("private_key_source: secrets_manager needs ansible-core 2.19 or later")
    assert "this is ansible-core 2.16.19" in needs_agent("2.16.19")


def test_the_cache_keeps_the_secret_names_and_checks_them():
    good = Instance(instance_id="ins-aaaaaaaa", key_ids=("skey-aaaaaaaa",))
    entry = cache_entry({"ap-guangzhou": RegionRead([good], {"skey-aaaaaaaa": "held"}, {"held": "held-secret"})})
    assert from_cache(entry)["ap-guangzhou"].key_secrets == {"held": "held-secret"}
    entry["regions"]["ap-guangzhou"]["key_secrets"] = {"held": "x' }}{{ lookup('pipe', 'id') }}"}
    with pytest.raises(ValueError, match="^a key name or a secret name is not one$"):
        from_cache(entry)
    del entry["regions"]["ap-guangzhou"]["key_secrets"]
    with pytest.raises(ValueError, match="not a region name with a list of instances, key names and secrets"):
        from_cache(entry)
