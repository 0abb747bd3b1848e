# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory's logic, without Ansible: its options as a frozen, checked InventorySpec; the DescribeInstances
queries a filter set needs (the service takes at most 10 filters of at most 5 values); and, for each instance, its
host variables, its host-name candidates and where to connect. Reading is the resource layer's (_resources);
templates and groups are the plugin's (plugins/inventory/tencent_cvm.py)."""

from __future__ import annotations

import ipaddress
import itertools
import re
from dataclasses import dataclass

from ._resources import PAGE, Instances, KeyPairs
from ._records import LOGIN_USER_RE
from ._rules import INSTANCE_ID_RE, KEY_PAIR_NAME_RE, REGION_RE, invalid

# DescribeInstances filter names (CVM API 2017-03-12, Filters; see research-instance-key-binding.md §6.1).
FILTER_NAMES = frozenset([
    "zone", "project-id", "host-id", "dedicated-cluster-id", "vpc-id", "subnet-id", "instance-id", "uuid",
    "security-group-id", "instance-name", "instance-charge-type", "instance-state", "private-ip-address",
    "public-ip-address", "ipv6-address", "tag-key", "tag-value", "creation-start-time", "creation-end-time"])
TAG_FILTER = re.compile(r"\Atag:.{1,127}\Z", re.S)
MAX_FILTERS, MAX_VALUES = 10, 5
HOSTNAME_FIELDS = ("instance-id", "instance-name", "private-ip-address", "public-ip-address", "ipv6-address")
CONNECT_WITH = ("public_ip", "private_ip", "ipv6")
MAX_QUERIES = 25  # value chunks multiply: a filter set that needs more queries than this is refused


def _filter_values(name, value, where):
    values = value if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise invalid("%s: filter %s has no values" % (where, name))
    checked = []
    for item in values:
        if isinstance(item, bool) or not isinstance(item, (str, int)) or str(item) == "":
            raise invalid("%s: filter %s takes strings or integers, not %r" % (where, name, item))
        checked.append(str(item))
    return tuple(dict.fromkeys(checked))


def checked_filters(filters, where="filters"):
    """A dict of DescribeInstances filter names to a value or a list, as ((name, (value, ...)), ...), sorted."""
    if filters is None:
        return ()
    if not isinstance(filters, dict):
        raise invalid("%s must be a dict of filter names to values" % where)
    unknown = sorted(str(n) for n in filters if not (n in FILTER_NAMES or TAG_FILTER.match(str(n))))
    if unknown:
        raise invalid("%s: unknown DescribeInstances filter %s; known: %s, tag:<key>"
                      % (where, ", ".join(unknown), ", ".join(sorted(FILTER_NAMES))))
    if len(filters) > MAX_FILTERS:
        raise invalid("%s: %d filters, but DescribeInstances takes at most %d in one query (values of one filter "
                      "are OR-ed and may be many; filters are AND-ed and cannot be split)"
                      % (where, len(filters), MAX_FILTERS))
    return tuple(sorted((name, _filter_values(name, value, where)) for name, value in filters.items()))


def queries(filters):
    """The Filters parameters of the queries whose union is the filter set: a filter with more than 5 values is
    split into chunks of 5 (its values are OR-ed), and every combination of chunks is one query."""
    chunked = [[(name, values[i:i + MAX_VALUES]) for i in range(0, len(values), MAX_VALUES)]
               for name, values in filters]
    combos = list(itertools.islice(itertools.product(*chunked), MAX_QUERIES + 1))
    if len(combos) > MAX_QUERIES:
        raise invalid("filters: the values given need more than %d DescribeInstances queries (at most %d values per "
                      "filter and query); give fewer values" % (MAX_QUERIES, MAX_VALUES))
    return [[{"Name": name, "Values": list(values)} for name, values in combo] for combo in combos]


def _text_list(value, where):
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise invalid("%s must be a list of non-empty strings" % where)
    return tuple(value)


@dataclass(frozen=True)
class InventorySpec:
    """The inventory source's own options, checked (credentials and transport are the client's Settings)."""

    regions: tuple
    filters: tuple
    exclude_filters: tuple
    hostnames: tuple
    connect_with: str
    private_key_paths: tuple
    use_login_user: bool
    use_login_port: bool
    hostvars_prefix: str
    strict_permissions: bool
    concurrency: int

    @classmethod
    def from_options(cls, get):
        """`get(name)` returns an option's value (the plugin's get_option, templates already rendered)."""
        regions = _text_list(get("regions"), "regions")
        if not all(r == "all" or REGION_RE.match(r) for r in regions):
            raise invalid("regions must be region names (such as ap-guangzhou) or all")
        excludes = get("exclude_filters") or []
        if not isinstance(excludes, list):
            raise invalid("exclude_filters must be a list of dicts of filter names to values")
        if get("connect_with") not in CONNECT_WITH:
            raise invalid("connect_with must be one of %s" % ", ".join(CONNECT_WITH))
        prefix = get("hostvars_prefix")
        if not isinstance(prefix, str) or not re.match(r"\A[A-Za-z_][A-Za-z0-9_]*\Z|\A\Z", prefix):
            raise invalid("hostvars_prefix must be empty or a valid variable name prefix (letters, digits, _)")
        concurrency = get("concurrency")
        if not isinstance(concurrency, int) or not 1 <= concurrency <= 32:
            raise invalid("concurrency must be an integer from 1 to 32")
        return cls(regions=regions, filters=checked_filters(get("filters")),
                   exclude_filters=tuple(checked_filters(f, "exclude_filters[%d]" % i) for i, f in enumerate(excludes)),
                   hostnames=_text_list(get("hostnames"), "hostnames") or ("instance-id",),
                   connect_with=get("connect_with"), private_key_paths=_text_list(get("private_key_paths"),
                                                                                  "private_key_paths"),
                   use_login_user=bool(get("use_login_user")), use_login_port=bool(get("use_login_port")),
                   hostvars_prefix=prefix, strict_permissions=bool(get("strict_permissions")),
                   concurrency=concurrency)


def host_vars(instance, region, key_names, prefix):
    """The variables of one instance under `prefix` (values as the API gave them; the plugin marks them unsafe)."""
    values = {
        "instance_id": instance.instance_id, "instance_name": instance.name, "instance_state": instance.state,
        "region": region, "zone": instance.zone, "project_id": instance.project_id,
        "instance_type": instance.instance_type, "image_id": instance.image_id, "os_name": instance.os_name,
        "private_ip_addresses": list(instance.private_ips), "public_ip_addresses": list(instance.public_ips),
        "ipv6_addresses": list(instance.ipv6s), "vpc_id": instance.vpc_id, "subnet_id": instance.subnet_id,
        "security_group_ids": list(instance.security_group_ids), "tags": dict(instance.tags),
        "key_ids": list(instance.key_ids), "key_names": [key_names.get(k) or k for k in instance.key_ids],
        "created_time": instance.created_time, "charge_type": instance.charge_type,
        "default_login_user": instance.login_user, "default_login_port": instance.login_port,
    }
    return {prefix + name: value for name, value in values.items()}


def field_value(instance, preference):
    """The value of a host-name preference that names a field ("instance-id", "tag:<key>", ...); None when the
    instance has no such value; NotImplemented when `preference` is not a field name (a Jinja expression)."""
    if preference.startswith("tag:"):
        return dict(instance.tags).get(preference[4:]) or None
    first = {"instance-id": [instance.instance_id], "instance-name": [instance.name],
             "private-ip-address": instance.private_ips, "public-ip-address": instance.public_ips,
             "ipv6-address": instance.ipv6s}.get(preference, NotImplemented)
    if first is NotImplemented:
        return NotImplemented
    return next((v for v in first if v), None)


def connect_address(instance, connect_with):
    """ansible_host: public_ip falls back to the private address; None when there is no address of that kind."""
    if connect_with == "ipv6":
        return next(iter(instance.ipv6s), None)
    if connect_with == "public_ip" and instance.public_ips:
        return instance.public_ips[0]
    return next(iter(instance.private_ips), None)


def unique_names(named):
    """[(instance, wanted name)] -> ({instance_id: host name}, [(name, [instance IDs])] of the duplicates). A name two
    instances want (or one that is another instance's ID) goes to neither: both fall back to their instance IDs."""
    counts = {}
    for instance, name in named:
        counts.setdefault(name, []).append(instance.instance_id)
    ids = {instance.instance_id for instance, _name in named}
    final, clashes = {}, []
    for name, owners in counts.items():
        if len(owners) > 1 or (name in ids and owners != [name]):
            clashes.append((name, owners))
            final.update((owner, owner) for owner in owners)
        else:
            final[owners[0]] = name
    return final, clashes


def read_region(client, spec):
    """What one region holds for this inventory: (instances that match the filters and none of the exclude
    filters, in the service's order; {KeyId: key name} of the key pairs bound to them). Calls: the pages of each
    query, the pages of each exclude query, and one DescribeKeyPairs per 100 KeyIds."""
    instances = Instances(client)
    found = {}
    for filters in queries(spec.filters):
        found.update((i.instance_id, i) for i in instances.list(filters))
    for exclude in spec.exclude_filters if found else ():
        for filters in queries(exclude):
            for dropped in instances.list(filters):
                found.pop(dropped.instance_id, None)
    key_ids = sorted({k for i in found.values() for k in i.key_ids})
    names = {}
    for start in range(0, len(key_ids), PAGE):
        asked = key_ids[start:start + PAGE]
        names.update((kp.key_id, kp.key_name) for kp in KeyPairs(client).describe(key_ids=asked)
                     if kp.key_id in asked and KEY_PAIR_NAME_RE.match(kp.key_name))  # a name goes into a path
    return list(found.values()), names


def trusted_cache(region, instances, names):
    """Whether cached data (a file someone else may have written) holds only what read_region could have returned:
    what reaches a path or ssh (key names, addresses, login user and port, IDs) is checked again."""
    return bool(REGION_RE.match(region)) and all(_trusted(inst) for inst in instances) and all(
        isinstance(k, str) and isinstance(v, str) and KEY_PAIR_NAME_RE.match(v) for k, v in names.items())


def _trusted(inst):
    port = inst.login_port
    try:
        addresses = [ipaddress.ip_address(a) for a in inst.private_ips + inst.public_ips + inst.ipv6s]
    except (TypeError, ValueError):
        return False
    return bool(isinstance(inst.instance_id, str) and INSTANCE_ID_RE.match(inst.instance_id) and addresses is not None
                and (inst.login_user is None or (isinstance(inst.login_user, str)
                                                 and LOGIN_USER_RE.match(inst.login_user)))
                and (port is None or (isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536)))
