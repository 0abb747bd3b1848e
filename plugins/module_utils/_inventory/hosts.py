# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory's logic, without Ansible: its options as a frozen, checked InventorySpec; the DescribeInstances
queries a filter set needs (the service takes at most 10 filters of at most 5 values); for each instance, its
host variables, its host-name candidates and where to connect; and the trust boundary every cloud string crosses
before it becomes a host name or part of a path, for fresh answers and cached ones alike (the cache holds answers'
models and is read back through Instance.from_api, the code an answer goes through). Reading is the resource
layer's (the api modules); templates and groups are the plugin's (plugins/inventory/tencent_cvm.py)."""

from __future__ import annotations

from dataclasses import dataclass
import difflib
import ipaddress
import itertools
import re

from .._core.errors import TencentCloudAPIError
from .._core.resource import PAGE
from .._core.rules import KEY_ID_RE, KEY_PAIR_NAME_RE, REGION_RE, invalid
from .._core.shape import MAX_PAGES
from .._instance_keypairs.api import Instances
from .._instance_keypairs.records import Instance
from .._keypair.api import KeyPairs

# DescribeInstances filter names (CVM API 2017-03-12, Filters; see research-instance-key-binding.md §6.1).
FILTER_NAMES = frozenset([
    "zone", "project-id", "host-id", "dedicated-cluster-id", "vpc-id", "subnet-id", "instance-id", "uuid",
    "security-group-id", "instance-name", "instance-charge-type", "instance-state", "private-ip-address",
    "public-ip-address", "ipv6-address", "tag-key", "tag-value", "creation-start-time", "creation-end-time"])
TAG_FILTER = re.compile(r"\Atag:.{1,127}\Z", re.S)
MAX_FILTERS, MAX_VALUES = 10, 5
HOSTNAME_FIELDS = ("instance-id", "instance-name", "private-ip-address", "public-ip-address", "ipv6-address")
CONNECT_WITH = ("public_ip", "private_ip", "ipv6")
# The address kinds tried, in order, for each connect_with: the chosen kind first. Only public_ip -> private is
# silent (documented); any other fallback is named in a warning, and a host with no address at all is left out.
ADDRESS_ORDER = {"public_ip": ("public_ip", "private_ip", "ipv6"), "private_ip": ("private_ip", "public_ip", "ipv6"),
                 "ipv6": ("ipv6", "private_ip", "public_ip")}
# A host name taken from the cloud: letters and digits (of any script), _ . -, starting with a letter, digit or _;
# so never an ssh option (-o...), a template ({{ }} {% %} {# #}), a host pattern (: , ! & * ? [ ~) or white space.
HOST_NAME_RE = re.compile(r"\A\w[\w.-]{0,252}\Z")
CACHE_VERSION = 2  # 2: instances as DescribeInstances models, read back through Instance.from_api
MAX_CACHED = MAX_PAGES * PAGE  # instances (and key names) of one region: what read_region can return at most
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


def unknown_keys(config, definitions):
    """The keys of an inventory source (a dict) that are no option of the plugin (`definitions`: option name ->
    its definition, with any `aliases`), each as (key, the option it most likely means or None), in the file's
    order. ansible-core ignores such keys without a word (2.16 to 2.21): `filter:` for `filters:` would list every
    instance."""
    known = set()
    for name, definition in definitions.items():
        known.add(name)
        known.update((definition or {}).get("aliases") or ())
    found = []
    for key in config:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.75) if isinstance(key, str) else []
        found.append((key, close[0] if close else None))
    return found


def unknown_keys_text(found, ignored=False):
    """`unknown_keys`'s finding as a message says it: "the key 'filter' (did you mean 'filters'?) is not an option of
    this plugin[ and was ignored]" (keys are shown quoted and cut short: the file may hold anything)."""
    said = ["%s%s" % (_quoted(key), " (did you mean '%s'?)" % close if close else "") for key, close in found]
    if len(said) == 1:
        return "the key %s is not an option of this plugin%s" % (said[0], " and was ignored" if ignored else "")
    return "the keys %s are not options of this plugin%s" % (", ".join(said), " and were ignored" if ignored else "")


def with_code(message, code):
    """`message` ending with its code as the modules' API failures do: " (<Code>)" appended unless it already ends
    with "(<Code>)" or holds "(<Code>, RequestId <id>)"."""
    if message.endswith("(%s)" % code) or "(%s, RequestId " % code in message:
        return message
    return "%s (%s)" % (message, code)


def _quoted(key, most=60):
    text = str(key)
    text = text if len(text) <= most else text[:most] + "..."
    return "'%s'" % "".join(c if c.isprintable() else "?" for c in text)


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


@dataclass(frozen=True)
class Host:
    """One instance as the inventory adds it: where it was read, the names of the key pairs bound, and the address it
    is reached at (its kind: public_ip, private_ip or ipv6), or None when it has none and is left out."""

    region: str
    instance: Instance
    key_names: dict
    address: str | None
    address_kind: str | None

    @classmethod
    def of(cls, region, instance, key_names, connect_with):
        address, kind = connect_address(instance, connect_with)
        return cls(region, instance, key_names, address, kind)


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
    """(ansible_host, the kind of address it is) of the first kind in ADDRESS_ORDER[connect_with] the instance has;
    (None, None) when it has no address at all (never its name: the plugin leaves such a host out)."""
    addresses = {"public_ip": instance.public_ips, "private_ip": instance.private_ips, "ipv6": instance.ipv6s}
    for kind in ADDRESS_ORDER[connect_with]:
        if addresses[kind]:
            return addresses[kind][0], kind
    return None, None


def host_name_problem(name, controller=()):
    """None when `name` (from the cloud) may name a host; else why not. `controller` holds the names Ansible treats
    as the control node (its constant LOCALHOST), refused with localhost, *.localhost and any loopback or
    unspecified IP address: a host of that name would receive the tasks a play delegates to the controller."""
    if not isinstance(name, str) or not name:
        return "it is empty"
    try:
        address = ipaddress.ip_address(name) if "%" not in name else None
    except ValueError:
        address = None
    if address is not None and (address.is_loopback or address.is_unspecified):
        return "it is a loopback or unspecified address, which Ansible takes for the control node"
    if address is None and not HOST_NAME_RE.match(name):
        return ("it is not a plain host name (at most 253 letters, digits, _ . -, starting with a letter, digit or _; "
                "no white space, no { } % #, not starting with -)")
    lowered = name.casefold()
    if name in controller or lowered == "localhost" or lowered.endswith(".localhost"):
        return "it is a name Ansible takes for the control node"
    return None


def path_safe(value, replacement):
    """`value` (host variables from the cloud) with every string that holds / or .. (and every dict entry whose key
    does) replaced by `replacement`: what a private_key_paths template may put into a path."""
    if isinstance(value, str):
        return replacement if "/" in value or ".." in value or "\x00" in value else value
    if isinstance(value, dict):
        return {k: path_safe(v, replacement) for k, v in value.items() if path_safe(k, None) is not None}
    if isinstance(value, (list, tuple)):
        return [path_safe(v, replacement) for v in value]
    return value


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
        names.update(admitted_key_names((kp.key_id, kp.key_name) for kp in KeyPairs(client).describe(key_ids=asked)
                                        if kp.key_id in asked))
    return list(found.values()), names


def admitted_key_names(pairs):
    """{KeyId: name} of the (KeyId, name) pairs whose KeyId and name match the service's patterns: both go into
    paths (private_key_paths), so neither may hold / or .. ; others are left out (that key pair is then tried by
    neither)."""
    return {key_id: name for key_id, name in pairs if isinstance(key_id, str) and isinstance(name, str)
            and KEY_ID_RE.match(key_id) and KEY_PAIR_NAME_RE.match(name)}


def cache_entry(regions):
    """What the cache keeps of {region: (instances, key names)}: the instances as DescribeInstances models."""
    return {"version": CACHE_VERSION, "regions": {region: {"instances": [i.to_model() for i in instances],
                                                           "key_names": dict(names)}
                                                  for region, (instances, names) in regions.items()}}


def from_cache(data):
    """{region: (instances, key names)} from a cache entry (a file or a server someone else may have written), checked
    by the code a fresh answer goes through (Instance.from_api, admitted_key_names) and bounded as reading is.
    Raises ValueError saying what is wrong (never quoting a value)."""
    regions = data.get("regions") if isinstance(data, dict) and data.get("version") == CACHE_VERSION else None
    if not isinstance(regions, dict):
        raise ValueError("it is not an inventory cache of this version")
    checked = {}
    for region, found in regions.items():
        models = found.get("instances") if isinstance(found, dict) else None
        names = found.get("key_names") if isinstance(found, dict) else None
        if not (isinstance(region, str) and REGION_RE.match(region) and isinstance(models, list)
                and isinstance(names, dict) and len(models) <= MAX_CACHED and len(names) <= MAX_CACHED):
            raise ValueError("a region's entry is not a region name with a list of instances and key names")
        try:
            instances = [Instance.from_api(model, action="the cached DescribeInstances") for model in models]
        except TencentCloudAPIError as exc:
            raise ValueError(exc.message) from None
        if len({i.instance_id for i in instances}) != len(instances) or admitted_key_names(names.items()) != names:
            raise ValueError("an instance is listed twice, or a KeyId or key name is not one")
        checked[region] = (instances, names)
    return checked
