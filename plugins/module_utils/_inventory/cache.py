# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory's cache: the key of an entry, what an entry holds (answers' models, read back through the code a
fresh answer goes through: a cache is input too), and whether this run may read and write its entry. An entry that a
file cache plugin keeps is judged as a key file is (files.py: yours or root's, in a directory others cannot write,
never through a link); one it writes is made 0600. Nothing here knows Ansible: the cache plugin is asked only for
where it keeps a key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import hashlib
import json

from .._core.errors import TencentCloudAPIError
from .._core.files import KeyFileError
from .._core.resource import PAGE
from .._core.rules import REGION_RE
from .._core.shape import MAX_PAGES
from .._instance_keypairs.records import Instance
from .files import LocalFileJudge
from .hosts import RegionRead, admitted_key_names, admitted_key_secrets
from .reading import Source

CACHE_VERSION = 3  # 2: instances as DescribeInstances models, read back through Instance.from_api; 3: key_secrets
MAX_CACHED = MAX_PAGES * PAGE  # instances (and key names) of one region: what read_region can return at most


def entry_key(prefix: str, source: Source) -> str:
    """The key of a source's entry: the plugin's prefix for the source file, and a digest of what the entry depends
    on (regions, filters, endpoint, API style, account, key source), so that no other source or account reads it."""
    spec, settings = source.spec, source.settings
    text = json.dumps([list(spec.regions or [source.home_region]), spec.filters, spec.exclude_filters,
                       settings.endpoint, settings.api_style, source.credentials.secret_id]
                      + ([spec.private_key_source] if spec.from_secrets else []),
                      sort_keys=True, default=str)
    return "%s_%s" % (prefix, hashlib.sha256(text.encode()).hexdigest()[:16])


@dataclass(frozen=True)
class EntryAccess:
    """What this run may do with its cache entry: read it (it is there, or the cache plugin keeps no file), write it
    (a file cache's entry that is not there yet, too), neither (it was refused: `warning` says why). `file` is the
    file a file cache plugin keeps it in, made 0600 once written; None for other cache plugins (redis, ...)."""

    readable: bool
    writable: bool
    file: str | None = None
    warning: str | None = None


NOT_CACHED = EntryAccess(readable=False, writable=False)  # cache: false


def judge_entry(cache_plugin: object, key: str, files: LocalFileJudge) -> EntryAccess:
    """The access this run has to the entry of `key` (checked even with --flush-cache: it may be written)."""
    path = cache_file(cache_plugin, key)
    if path is None:
        return EntryAccess(readable=True, writable=True)
    try:
        there = files.usable(path)
    except KeyFileError as exc:
        return EntryAccess(readable=False, writable=False, warning=(
            "the cache entry was neither used nor written (%s); cache_connection must be a directory of yours that "
            "others cannot write. The instances were read afresh." % exc))
    return EntryAccess(readable=there, writable=True, file=path)


def cache_file(cache_plugin: object, key: str) -> str | None:
    """The file of a file cache plugin (jsonfile, yaml, ...) that holds `key`; None for other plugins (redis, ...).
    ansible-core 2.19 and later wrap the plugin in an interposer that puts a schema prefix before every key."""
    locate = getattr(cache_plugin, "_get_cache_file_name", None)
    if locate is None:
        return None
    qualify = getattr(type(cache_plugin), "_get_key", None)
    path = locate(qualify(key) if qualify is not None else key)
    return path if isinstance(path, str) else None


def make_private(path: str) -> bool:
    """Mode 0600 on the entry file at `path` (the cache plugin writes 0644), when it is a regular file of yours in a
    directory that passes the judgement. Returns whether it did."""
    with LocalFileJudge() as judge:
        return judge.make_private(path)


def cache_entry(regions: Mapping[str, RegionRead]) -> dict[str, object]:
    """What the cache keeps of {region: (instances, key names)}: the instances as DescribeInstances models."""
    return {"version": CACHE_VERSION, "regions": {region: {"instances": [i.to_model() for i in read.instances],
                                                           "key_names": dict(read.key_names),
                                                           "key_secrets": dict(read.key_secrets)}
                                                  for region, read in regions.items()}}


def from_cache(data: object) -> dict[str, RegionRead]:
    """{region: (instances, key names)} from a cache entry (a file or a server someone else may have written), checked
    by the code a fresh answer goes through (Instance.from_api, admitted_key_names) and bounded as reading is.
    Raises ValueError saying what is wrong (never quoting a value)."""
    regions = data.get("regions") if isinstance(data, dict) and data.get("version") == CACHE_VERSION else None
    if not isinstance(regions, dict):
        raise ValueError("it is not an inventory cache of this version")
    checked = {}
    for region, found in regions.items():
        read = _region_from_cache(region, found)  # raises unless `region` is a region name
        checked[str(region)] = read
    return checked


def _region_from_cache(region: object, found: object) -> RegionRead:
    models = found.get("instances") if isinstance(found, dict) else None
    names = found.get("key_names") if isinstance(found, dict) else None
    secrets = found.get("key_secrets") if isinstance(found, dict) else None
    if not (isinstance(region, str) and REGION_RE.match(region) and isinstance(models, list)
            and isinstance(names, dict) and isinstance(secrets, dict) and len(models) <= MAX_CACHED
            and len(names) <= MAX_CACHED and len(secrets) <= MAX_CACHED):
        raise ValueError("a region's entry is not a region name with a list of instances, key names and secrets")
    try:
        instances = [Instance.from_api(model, action="the cached DescribeInstances") for model in models]
    except TencentCloudAPIError as exc:
        raise ValueError(exc.message) from None
    if len({i.instance_id for i in instances}) != len(instances) or admitted_key_names(names.items()) != names:
        raise ValueError("an instance is listed twice, or a KeyId or key name is not one")
    if admitted_key_secrets(secrets.items()) != secrets:
        raise ValueError("a key name or a secret name is not one")
    return RegionRead(instances, names, secrets)
