# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading an inventory source: as whom and through which settings (a Source, built from the same client options
as the modules'), which regions (listed, the home region, or all that CVM offers), and what each region holds, the
regions read concurrently, one client each. Nothing here knows Ansible: a failure that ends the inventory is a
ReadError whose message is final."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .._core.client import Client, Settings
from .._core.credentials import Credentials, resolve_region
from .._core.errors import TaskError
from .._core.resource import PAGE
from .._instance_keypairs.api import Instances
from .._instance_keypairs.records import Instance
from .._keypair.api import KeyPairs
from .._secret.api import Secrets
from .hosts import RegionRead, admitted_key_names, admitted_key_secrets
from .regions import Regions
from .reports import with_code
from .spec import InventorySpec, queries

# The options of an inventory source that make its client (the modules' own, documented by the doc fragment).
CLIENT_OPTIONS = ("secret_id", "secret_key", "security_token", "profile", "region", "endpoint", "allow_insecure_http",
                  "api_style", "validate_certs", "ca_path", "timeout", "retries", "retry_max_delay",
                  "throttle_timeout")
SECRET_OPTIONS = ("secret_key", "security_token")
# The codes of a region the credentials may not read: skipped with a warning when strict_permissions is false.
UNAUTHORIZED = ("UnauthorizedOperation", "AuthFailure.UnauthorizedOperation")

Warn = Callable[[str], None]


class ReadError(Exception):
    """A failure that ends the inventory; its message is final (it names the region and ends with the code)."""


@dataclass(frozen=True)
class Source:
    """What an inventory source reads (its checked options), as whom, through which settings, and its home region:
    the region of the credentials setup, where no regions are listed or for regions: [all]; None otherwise."""

    spec: InventorySpec
    credentials: Credentials
    settings: Settings
    home_region: str | None

    def client(self, region: str | None) -> Client:
        """A client of CVM in `region` (None: no region, for the Region API)."""
        return Client(self.credentials, self.settings.in_region(region))


def given_secrets(args: Mapping[str, object]) -> set[str]:
    """The secrets the options give, masked in every message from the moment they are read."""
    return {str(args[name]) for name in SECRET_OPTIONS if args.get(name)}


def credential_secrets(credentials: Credentials) -> set[str]:
    """The secrets of the credentials in use, wherever they came from (options, environment, profile files)."""
    return {value for value in (credentials.secret_key, credentials.token) if value}


def home_region(args: Mapping[str, object], spec: InventorySpec) -> str | None:
    """The region of the credentials setup, where no regions are listed (required) or for regions: [all] (optional:
    the Region API needs none); None when regions are listed."""
    if spec.regions and "all" not in spec.regions:
        return None
    return resolve_region(args, required="all" not in spec.regions)


def regions_to_read(source: Source) -> list[str]:
    """The regions listed, all that CVM offers (regions: [all], one or two calls), or the home region."""
    if "all" in source.spec.regions:
        return all_regions(source)
    if source.spec.regions:
        return list(source.spec.regions)
    if source.home_region is None:  # never: home_region() raises when no region is listed and none is set up
        raise ReadError("tencent_cvm: no region to read (InvalidArgument)")
    return [source.home_region]


def all_regions(source: Source) -> list[str]:
    try:
        return Regions(source.client(source.home_region)).available()
    except TaskError as exc:
        raise ReadError("tencent_cvm: regions all: %s" % with_code(exc.msg, exc.code)) from None


def read_regions(source: Source, warn: Warn) -> dict[str, RegionRead]:
    """{region: what it holds}, at most `concurrency` regions read at a time, in the order of regions_to_read. A
    region the credentials may not read is skipped with a warning when strict_permissions is false; any other
    failure is a ReadError naming the region."""
    spec = source.spec
    regions = regions_to_read(source)
    read = {}
    with ThreadPoolExecutor(max_workers=min(spec.concurrency, max(1, len(regions)))) as pool:
        futures = {region: pool.submit(read_region, source.client(region), spec) for region in regions}
        for region, future in futures.items():
            try:
                read[region] = future.result()
            except TaskError as exc:
                if not spec.strict_permissions and str(exc.code).startswith(UNAUTHORIZED):
                    warn("region %s skipped: %s" % (region, exc.msg))
                    continue
                raise ReadError("tencent_cvm: region %s: %s" % (region, with_code(exc.msg, exc.code))) from None
    return read


def read_region(client: Client, spec: InventorySpec) -> RegionRead:
    """What one region holds for this inventory: the instances that match the filters and none of the exclude
    filters, in the service's order, {KeyId: key name} of the key pairs bound to them, and with private_key_source:
    secrets_manager {key name: secret name} of the enabled SSH-key secrets that hold them. Calls: the pages of each
    query, the pages of each exclude query, one DescribeKeyPairs per 100 KeyIds, the pages of one ListSecrets."""
    instances = Instances(client)
    found: dict[str, Instance] = {}
    for filters in queries(spec.filters):
        found.update((i.instance_id, i) for i in instances.list(filters))
    for exclude in spec.exclude_filters if found else ():
        for filters in queries(exclude):
            for dropped in instances.list(filters):
                found.pop(dropped.instance_id, None)
    key_ids = sorted({k for i in found.values() for k in i.key_ids})
    names: dict[str, str] = {}
    for start in range(0, len(key_ids), PAGE):
        asked = key_ids[start:start + PAGE]
        names.update(admitted_key_names((kp.key_id, kp.key_name) for kp in KeyPairs(client).describe(key_ids=asked)
                                        if kp.key_id in asked))
    secrets: dict[str, str] = {}
    if spec.from_secrets and names:
        bound = set(names.values())
        secrets = admitted_key_secrets((secret.key_name, secret.name) for secret in Secrets(client).list_ssh_keys()
                                       if secret.enabled and secret.key_name in bound)
    return RegionRead(list(found.values()), names, secrets)
