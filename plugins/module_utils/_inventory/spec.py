# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An inventory source's own options, checked before any call: a frozen InventorySpec (credentials and transport
are the client's Settings); the DescribeInstances filters, checked and split into the queries the service takes (at
most 10 filters of at most 5 values a query); and the keys of a source that are no option (a typo that ansible-core
would ignore without a word)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
import difflib
import itertools
import re
from typing import NamedTuple

from .._core.rules import REGION_RE, invalid
from .._core.signing import Param

# DescribeInstances filter names (CVM API 2017-03-12, Filters; see research-instance-key-binding.md §6.1).
FILTER_NAMES = frozenset([
    "zone", "project-id", "host-id", "dedicated-cluster-id", "vpc-id", "subnet-id", "instance-id", "uuid",
    "security-group-id", "instance-name", "instance-charge-type", "instance-state", "private-ip-address",
    "public-ip-address", "ipv6-address", "tag-key", "tag-value", "creation-start-time", "creation-end-time"])
TAG_FILTER = re.compile(r"\Atag:.{1,127}\Z", re.S)
MAX_FILTERS, MAX_VALUES = 10, 5
CONNECT_WITH = ("public_ip", "private_ip", "ipv6")
KEY_SOURCES = ("files", "secrets_manager")
MAX_QUERIES = 25  # value chunks multiply: a filter set that needs more queries than this is refused

# A checked filter set: ((filter name, (value, ...)), ...), sorted by name, each value a non-empty string.
FilterSet = tuple[tuple[str, tuple[str, ...]], ...]
# One DescribeInstances Filters parameter: [{"Name": name, "Values": [value, ...]}, ...].
Query = list[dict[str, Param]]


def _filter_values(name: str, value: object, where: str) -> tuple[str, ...]:
    values = value if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise invalid("%s: filter %s has no values" % (where, name))
    checked = []
    for item in values:
        if isinstance(item, bool) or not isinstance(item, (str, int)) or str(item) == "":
            raise invalid("%s: filter %s takes strings or integers, not %r" % (where, name, item))
        checked.append(str(item))
    return tuple(dict.fromkeys(checked))


def checked_filters(filters: object, where: str = "filters") -> FilterSet:
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


def queries(filters: FilterSet) -> list[Query]:
    """The Filters parameters of the queries whose union is the filter set: a filter with more than 5 values is
    split into chunks of 5 (its values are OR-ed), and every combination of chunks is one query."""
    chunked = [[(name, values[i:i + MAX_VALUES]) for i in range(0, len(values), MAX_VALUES)]
               for name, values in filters]
    combos = list(itertools.islice(itertools.product(*chunked), MAX_QUERIES + 1))
    if len(combos) > MAX_QUERIES:
        raise invalid("filters: the values given need more than %d DescribeInstances queries (at most %d values per "
                      "filter and query); give fewer values" % (MAX_QUERIES, MAX_VALUES))
    return [[{"Name": name, "Values": list(values)} for name, values in combo] for combo in combos]


def _text_list(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise invalid("%s must be a list of non-empty strings" % where)
    return tuple(value)  # not str(v): a template from the source file keeps its trust (ansible-core 2.19+)


class UnknownKey(NamedTuple):
    """A key of an inventory source that is no option of the plugin, and the option it most likely means."""

    key: object
    suggestion: str | None


def unknown_keys(config: Mapping[object, object], definitions: Mapping[str, object]) -> list[UnknownKey]:
    """The keys of an inventory source (a dict) that are no option of the plugin (`definitions`: option name ->
    its definition, with any `aliases`), in the file's order. ansible-core ignores such keys without a word (2.16 to
    2.21): `filter:` for `filters:` would list every instance."""
    known = set()
    for name, definition in definitions.items():
        known.add(name)
        aliases = definition.get("aliases") if isinstance(definition, dict) else None
        known.update(str(alias) for alias in aliases or () if isinstance(aliases, (list, tuple)))
    found = []
    for key in config:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.75) if isinstance(key, str) else []
        found.append(UnknownKey(key, close[0] if close else None))
    return found


def unknown_keys_text(found: Sequence[tuple[object, str | None]], ignored: bool = False) -> str:
    """`unknown_keys`'s finding as a message says it: "the key 'filter' (did you mean 'filters'?) is not an option of
    this plugin[ and was ignored]" (keys are shown quoted and cut short: the file may hold anything)."""
    said = ["%s%s" % (_quoted(key), " (did you mean '%s'?)" % close if close else "") for key, close in found]
    if len(said) == 1:
        return "the key %s is not an option of this plugin%s" % (said[0], " and was ignored" if ignored else "")
    return "the keys %s are not options of this plugin%s" % (", ".join(said), " and were ignored" if ignored else "")


def _quoted(key: object, most: int = 60) -> str:
    text = str(key)
    text = text if len(text) <= most else text[:most] + "..."
    return "'%s'" % "".join(c if c.isprintable() else "?" for c in text)


@dataclass(frozen=True)
class InventorySpec:
    """The inventory source's own options, checked (credentials and transport are the client's Settings)."""

    regions: tuple[str, ...]
    filters: FilterSet
    exclude_filters: tuple[FilterSet, ...]
    hostnames: tuple[str, ...]
    connect_with: str
    private_key_paths: tuple[str, ...]
    use_login_user: bool
    use_login_port: bool
    hostvars_prefix: str
    strict_permissions: bool
    concurrency: int
    private_key_source: str = "files"

    @property
    def from_secrets(self) -> bool:
        """Whether the hosts' keys come from Secrets Manager (through the run's ssh-agent), not from files."""
        return self.private_key_source == "secrets_manager"

    @classmethod
    def from_options(cls, get: Callable[[str], object]) -> InventorySpec:
        """`get(name)` returns an option's value (the plugin's get_option, templates already rendered)."""
        regions = _text_list(get("regions"), "regions")
        if not all(r == "all" or REGION_RE.match(r) for r in regions):
            raise invalid("regions must be region names (such as ap-guangzhou) or all")
        excludes = get("exclude_filters") or []
        if not isinstance(excludes, list):
            raise invalid("exclude_filters must be a list of dicts of filter names to values")
        connect_with = get("connect_with")
        if not isinstance(connect_with, str) or connect_with not in CONNECT_WITH:
            raise invalid("connect_with must be one of %s" % ", ".join(CONNECT_WITH))
        prefix = get("hostvars_prefix")
        if not isinstance(prefix, str) or not re.match(r"\A[A-Za-z_][A-Za-z0-9_]*\Z|\A\Z", prefix):
            raise invalid("hostvars_prefix must be empty or a valid variable name prefix (letters, digits, _)")
        concurrency = get("concurrency")
        if not isinstance(concurrency, int) or not 1 <= concurrency <= 32:
            raise invalid("concurrency must be an integer from 1 to 32")
        source = get("private_key_source") or "files"
        if source not in KEY_SOURCES:
            raise invalid("private_key_source must be one of %s" % ", ".join(KEY_SOURCES))
        paths = _text_list(get("private_key_paths"), "private_key_paths")
        if source == "secrets_manager" and paths:
            raise invalid("private_key_paths and private_key_source: secrets_manager exclude each other: the keys come "
                          "from files or from Secrets Manager")
        return cls(regions=regions, filters=checked_filters(get("filters")),
                   exclude_filters=tuple(checked_filters(f, "exclude_filters[%d]" % i) for i, f in enumerate(excludes)),
                   hostnames=_text_list(get("hostnames"), "hostnames") or ("instance-id",),
                   connect_with=connect_with, private_key_paths=paths, private_key_source=str(source),
                   use_login_user=bool(get("use_login_user")), use_login_port=bool(get("use_login_port")),
                   hostvars_prefix=prefix, strict_permissions=bool(get("strict_permissions")),
                   concurrency=concurrency)
