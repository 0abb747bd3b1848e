# SPDX-License-Identifier: GPL-3.0-or-later
"""_inventory/spec.py beyond the tables of test_inventory_logic.py: the templates of a source reach the plugin as
the very strings the source gave (ansible-core 2.19+ renders only a string that keeps its trust mark, so a copy made
with str() would never be rendered), option defaults, and unknown keys as named records that know aliases."""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import ArgumentError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.spec import (
    InventorySpec, UnknownKey, checked_filters, unknown_keys,
)
import pytest

DEFAULTS = {"regions": [], "filters": {}, "exclude_filters": [], "hostnames": ["instance-id"],
            "connect_with": "public_ip", "private_key_paths": [], "use_login_user": True, "use_login_port": True,
            "hostvars_prefix": "tencent_", "strict_permissions": True, "concurrency": 8}


class Trusted(str):
    """A string that carries a mark, as ansible-core 2.19+ marks the templates of an inventory source."""


def spec(**options):
    return InventorySpec.from_options(dict(DEFAULTS, **options).get)


def test_templates_are_the_strings_the_source_gave():
    made = spec(hostnames=[Trusted("tencent_tags.role ~ '-x'")], private_key_paths=[Trusted("~/{{ key_name }}")])
    # the very type, not a str made of it (a subclass check would pass for a copy of another kind)
    assert type(made.hostnames[0]) is Trusted and type(made.private_key_paths[0]) is Trusted  # pylint: disable=unidiomatic-typecheck
    assert made.hostnames == ("tencent_tags.role ~ '-x'",) and made.private_key_paths == ("~/{{ key_name }}",)


def test_no_hostnames_means_the_instance_id_and_none_is_empty():
    assert spec(hostnames=[]).hostnames == ("instance-id",)
    assert spec(hostnames=None, private_key_paths=None, regions=None).private_key_paths == ()
    assert spec(exclude_filters=None).exclude_filters == ()


def test_the_spec_is_frozen():
    made = spec()
    with pytest.raises(AttributeError, match="cannot assign to field 'regions'"):
        made.regions = ("ap-guangzhou",)


@pytest.mark.parametrize("options,message", [
    ({"connect_with": ["public_ip"]}, "connect_with must be one of public_ip, private_ip, ipv6"),
    ({"concurrency": 33}, "concurrency must be an integer from 1 to 32"),
    ({"hostvars_prefix": None}, "hostvars_prefix must be empty or a valid variable name prefix"),
    ({"hostnames": ["ok", 1]}, "hostnames must be a list of non-empty strings"),
])
def test_options_of_the_wrong_type(options, message):
    with pytest.raises(ArgumentError, match="^" + message):
        spec(**options)


def test_an_empty_prefix_is_allowed():
    assert spec(hostvars_prefix="").hostvars_prefix == ""


def test_filter_values_keep_their_first_order_without_repeats():
    assert checked_filters({"instance-id": ["b", "a", "b", 7]}) == (("instance-id", ("b", "a", "7")),)


def test_unknown_keys_are_named_records_and_aliases_are_options():
    definitions = {"plugin": {}, "filters": {"aliases": ["filter_set"]}, "regions": None}
    found = unknown_keys({"plugin": "x", "filter_set": {}, "filtres": {}, 3: "y", "regions": []}, definitions)
    assert found == [UnknownKey("filtres", "filters"), UnknownKey(3, None)]
    assert (found[0].key, found[0].suggestion) == ("filtres", "filters")
