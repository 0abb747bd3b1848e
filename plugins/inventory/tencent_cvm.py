# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tencent_cvm: an inventory of CVM instances that knows which private key, user and port open each one."""

from __future__ import annotations

DOCUMENTATION = r"""
name: tencent_cvm
short_description: Tencent Cloud CVM instances, with the key, user and port that open each one
version_added: 0.2.0
description:
  - Lists the CVM instances of one or more regions (C(DescribeInstances), pages of 100, regions read concurrently)
    and makes each one a host.
  - For each instance it looks up the key pairs bound to it (C(LoginSettings.KeyIds); names by C(DescribeKeyPairs),
    100 IDs a call) and sets C(ansible_ssh_private_key_file) to the first of O(private_key_paths) that names an
    existing private key file; C(ansible_user) and C(ansible_port) come from the instance's C(DefaultLoginUser) and
    C(DefaultLoginPort). So a play reaches instances provisioned with a key made by M(tencentcloud.cvm.tencent_keypair)
    with nothing written anywhere else.
  - The configuration file's name must end in C(tencent_cvm.yml) or C(tencent_cvm.yaml). A key in it that is no
    option of this plugin (C(filter) for O(filters), say) gives a warning that names it and the option it resembles;
    with O(strict=true) it is an error, before any API call.
  - Credentials, region, endpoint and transport options are the modules' own (same names, same environment
    variables, same profile files), so one credential setup serves both.
  - Every value that comes from the cloud (names, tags, addresses) is data, never a template (marked unsafe before
    ansible-core 2.19). A value becomes a host name only when it is a plain name and not one Ansible takes for the
    control node (see O(hostnames)); what reaches a path or the cache is checked as an answer is (see
    O(private_key_paths), O(cache)).
author:
  - Tencent Cloud CVM collection maintainers (@tencentcloud-cvm)
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - tencentcloud.cvm.tencentcloud
  - tencentcloud.cvm.tencentcloud.inventory
options:
  plugin:
    description: The name of this plugin; the file is this plugin's configuration only if it says so.
    required: true
    choices: [tencentcloud.cvm.tencent_cvm]
    type: str
  regions:
    description:
      - The regions to list. C(all) asks the service for every region available to the account, through the Region
        API's C(DescribeRegions) (C(region.tencentcloudapi.com), C(Product=cvm)), or CVM's own C(DescribeRegions)
        where the Region API is not there or not permitted. C(all) needs no home region (no O(region) at all).
      - Empty (the default) lists the one region given by O(region), E(TENCENTCLOUD_REGION) or the profile.
    type: list
    elements: str
    default: []
  filters:
    description:
      - C(DescribeInstances) filters, sent to the service, as a dict of filter name to a value or a list of values
        (values of one filter are OR-ed, filters are AND-ed).
      - Names; C(zone), C(project-id), C(vpc-id), C(subnet-id), C(instance-id), C(uuid), C(security-group-id),
        C(instance-name), C(instance-charge-type), C(instance-state), C(private-ip-address), C(public-ip-address),
        C(ipv6-address), C(tag-key), C(tag-value), C(tag:<key>), C(host-id), C(dedicated-cluster-id),
        C(creation-start-time), C(creation-end-time). An unknown name is an error before any call.
      - The service takes at most 10 filters of at most 5 values a query. More than 10 filters is an error; a filter
        with more values is split into several queries (at most 25).
    type: dict
    default: {}
  exclude_filters:
    description:
      - A list of filter dicts like O(filters); instances that match any of them are left out (each is one more
        query per region).
    type: list
    elements: dict
    default: []
  hostnames:
    description:
      - How hosts are named, in order of preference; the first non-empty value that may name a host wins.
      - A value from the cloud may name a host only when it is a plain name (at most 253 letters and digits of any
        script, V(_), V(.), V(-), starting with a letter, digit or V(_); so no leading V(-), no V({), V(}), V(%) or V(#),
        no white space) or an IP address that is not loopback, and not V(localhost), V(*.localhost), V(127.0.0.1), V(::1) or
        another name Ansible takes for the control node. Otherwise the next preference is tried, then the instance
        ID, and one warning names the instances and values refused; with O(strict=true) that is an error.
      - C(instance-id), C(instance-name), C(private-ip-address), C(public-ip-address), C(ipv6-address),
        C(tag:<key>), or a Jinja expression over the host's variables (for example
        C(tencent_tags.role ~ '-' ~ tencent_instance_id)).
      - Two instances are never merged into one host; when two would get the same name, both are named by their
        instance IDs, and a warning says so.
    type: list
    elements: str
    default: [instance-id]
  connect_with:
    description:
      - The address that becomes C(ansible_host). C(public_ip) falls back to the private address when the instance
        has no public one.
      - An instance without an address of the chosen kind connects to another kind (public, private, IPv6), with a
        warning (except C(public_ip) to the private address). An instance without any address is left out, never
        reached by its name, with a warning; with O(strict=true) that is an error.
    type: str
    choices: [public_ip, private_ip, ipv6]
    default: public_ip
  private_key_paths:
    description:
      - Templates of where private keys live. Each sees C(key_name), C(key_id) and the host's variables (and
        C(inventory_dir)).
      - The key pairs bound to an instance are tried in order, each with every template in order; the first that
        names a usable private key file sets C(ansible_ssh_private_key_file).
      - C(key_id) is used only when it is a KeyId (V(skey-) and 8 lower-case letters or digits), C(key_name) only when
        it is a key-pair name; a host variable from the cloud that holds V(/) or V(..) never reaches a path (the
        path is refused).
      - A file is usable when it is a regular file owned by you or root that you can read, in a directory owned by
        you or root that others cannot write (unless it is sticky), reached without following a link someone else
        could have made; it is opened without following a link, blocking or taking a terminal. Anything else there
        (a link, FIFO, device, directory, another user's file) is refused and named in one warning, and the next
        template is tried; with O(strict=true) that is an error.
      - An instance for which none matches gets no key variable, and is named in one summary warning; with
        O(strict=true) that is an error. Empty (the default) sets no key variable.
    type: list
    elements: str
    default: []
  use_login_user:
    description: Set C(ansible_user) from the instance's C(DefaultLoginUser).
    type: bool
    default: true
  use_login_port:
    description: Set C(ansible_port) from the instance's C(DefaultLoginPort).
    type: bool
    default: true
  hostvars_prefix:
    description: The prefix of the host variables this plugin sets from the instance (C(tencent_instance_id), ...).
    type: str
    default: tencent_
  strict_permissions:
    description:
      - With C(false), a region that answers C(UnauthorizedOperation) is skipped with a warning instead of failing
        the inventory.
    type: bool
    default: true
  concurrency:
    description: How many regions are read at the same time.
    type: int
    default: 8
  private_key_source:
    description:
      - V(files) sets C(ansible_ssh_private_key_file) from O(private_key_paths). V(secrets_manager) (ansible-core
        2.19+, E(ANSIBLE_SSH_AGENT=auto) or an agent's socket) gives a host bound to a key pair an SSH-key secret holds
        C(tencent_ssh_key_secret) and an C(ansible_ssh_private_key_file) template calling
        P(tencentcloud.cvm.tencent_ssh_key#lookup) with C(deliver=agent); C(--list) and the cache hold no key.
    type: str
    choices: [files, secrets_manager]
    default: files
    version_added: 0.3.0
notes:
  - O(compose) is applied after the variables this plugin sets, so it can override C(ansible_host),
    C(ansible_user), C(ansible_port) and C(ansible_ssh_private_key_file).
  - With O(cache=true) the instances and key names are cached; groups, names and variables are built again from the
    cache. The cache key covers the regions, filters, endpoint and account. C(--flush-cache) reads afresh.
  - The cache is input too. An entry is read back through the checks a fresh answer passes, and one that fails them
    is read afresh. With a cache plugin that keeps files, O(cache_connection) must be a directory of yours (or
    root's) that others cannot write; an entry elsewhere, or one that is not a regular file of yours, is neither read
    nor written (a warning says so). Entries this plugin writes get mode 0600.
  - A region with more than 20,000 instances that match is refused (200 pages).
seealso:
  - module: tencentcloud.cvm.tencent_keypair
  - module: tencentcloud.cvm.tencent_instance_keypairs
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_inventory
    description: "The inventory guide: host names, groups, the key that opens each instance, caching, speed.
      The guide also ships in the collection, as C(docs/docsite/rst/guide_inventory.rst)."
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_awx
    description: A Tencent Cloud credential type for AWX and Automation Platform, with this inventory as a source.
      The guide also ships in the collection, as C(docs/docsite/rst/guide_awx.rst).
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_keys_without_files
    description: "Keys without files: Secrets Manager, the run's ssh-agent, the threat model.
      The guide also ships in the collection, as C(docs/docsite/rst/guide_keys_without_files.rst)."
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_credentials
    description: "Credentials and regions: every place the plugins look, in order.
      The guide also ships in the collection, as C(docs/docsite/rst/guide_credentials.rst)."
"""

EXAMPLES = r"""
# demo.tencent_cvm.yml: every running instance of two regions, reached with the key that is bound to it
plugin: tencentcloud.cvm.tencent_cvm
regions: [ap-guangzhou, ap-shanghai]
filters:
  instance-state: RUNNING
private_key_paths:
  - ~/.ssh/tencent/{{ key_name }}
keyed_groups:
  - key: tencent_zone
    prefix: zone
  - key: tencent_key_names
    prefix: key
  - key: tencent_tags
    prefix: tag

# prod.tencent_cvm.yml, a second inventory file, shown commented out (an inventory file is one YAML document):
# hosts named by a tag when there is one, grouped by role, without the staging project
# plugin: tencentcloud.cvm.tencent_cvm
# regions: [all]
# hostnames: [tag:Name, instance-name, instance-id]
# exclude_filters:
#   - project-id: 1001
# connect_with: private_ip
# private_key_paths:
#   - "{{ inventory_dir }}/keys/{{ key_name }}"
# groups:
#   web: "'web' in (tencent_tags.role | default(''))"
# compose:
#   ansible_user: "'ubuntu' if 'Ubuntu' in tencent_os_name else ansible_user"
# cache: true
# cache_plugin: ansible.builtin.jsonfile
# cache_connection: ~/.cache/tencent_cvm

# awx.tencent_cvm.yml, commented out too: each host reached with the key its Secrets Manager secret holds, through
# the run's ssh-agent (ansible-core 2.19+, ANSIBLE_SSH_AGENT=auto); no key file anywhere
# plugin: tencentcloud.cvm.tencent_cvm
# regions: [ap-guangzhou]
# private_key_source: secrets_manager
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.release import __version__ as core_version
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Settings
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import (
    CredentialsError, resolve_credentials,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import TaskError, TencentCloudAPIError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.cache import (
    NOT_CACHED, cache_entry, entry_key, from_cache, judge_entry, make_private,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.files import LocalFileJudge
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.hosts import (
    Host, RegionRead, key_lookup, lookup_endpoint, needs_agent, place_hosts,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.keyfiles import (
    KeyFileFinder, host_independent,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.naming import name_hosts
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.reading import (
    CLIENT_OPTIONS, ReadError, Source, credential_secrets, given_secrets, home_region, read_regions,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.reports import (
    Finding, MissingKey, clashes_finding, host_problems_finding, other_address_kinds_finding, refused_names_finding,
    unknown_keys_finding, with_code,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.spec import InventorySpec
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._trust import (
    TRUSTS_NOTHING, as_template, masked, rendered, wrap_var,
)

if TYPE_CHECKING:
    from ansible.inventory.data import InventoryData
    from ansible.parsing.dataloader import DataLoader

SETUP_ERRORS = (CredentialsError, TaskError, TencentCloudAPIError, ValueError)  # ValueError: a proxy setting, a number


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "tencentcloud.cvm.tencent_cvm"
    _secrets: frozenset[str] = frozenset()  # masked in every message: the credentials in use, wherever from
    _cache_file: str | None = None  # the cache entry's file this run may write, made 0600 once written
    _endpoint: str | None = None  # the endpoint the key lookup is given (private_key_source: secrets_manager)

    def verify_file(self, path: str) -> bool:
        # ansible-core's verify_file is not annotated, and a call through super() escapes mypy.ini's exclusion
        valid = super().verify_file(path)  # type: ignore[no-untyped-call]  # unannotated in ansible-core
        return bool(valid) and path.endswith(("tencent_cvm.yml", "tencent_cvm.yaml"))

    def parse(self, inventory: InventoryData, loader: DataLoader, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        self._secrets, self._cache_file = frozenset(), None
        try:
            with LocalFileJudge() as files:
                self._parse(inventory, path, cache, files)
        except ReadError as exc:
            raise AnsibleError(masked(str(exc), self._secrets)) from None
        except AnsibleError as exc:
            if not self._secrets:
                raise
            raise AnsibleError(masked(str(exc.message), self._secrets)) from None

    def _parse(self, inventory: InventoryData, path: str, use_cached: bool, files: LocalFileJudge) -> None:
        """The options checked (unknown keys, then the source: no call made before), the regions read or taken from
        the cache, then the hosts added."""
        self._tell(unknown_keys_finding(path, self._read_config_data(path), self.option_definitions))
        try:
            args = {name: rendered(self.get_option(name), self.templar) for name in CLIENT_OPTIONS}
            self._secrets = frozenset(given_secrets(args))
            spec = InventorySpec.from_options(self.get_option)
            credentials, settings = resolve_credentials(args, origin="inventory source"), Settings.from_args(args)
            self._secrets |= credential_secrets(credentials)
            source = Source(spec, credentials, settings, home_region(args, spec))
            self._endpoint = lookup_endpoint(settings.endpoint) if spec.from_secrets else None
        except SETUP_ERRORS as exc:
            code = getattr(exc, "code", None) or "InvalidArgument"
            raise AnsibleError("%s: %s" % (path, with_code(str(exc), code))) from None
        if spec.from_secrets and not TRUSTS_NOTHING:
            raise AnsibleError("%s: %s" % (path, needs_agent(core_version)))
        regions = self._regions(source, self.get_cache_key(path), use_cached, files)
        self._populate(inventory, spec, regions, files)

    # the cache ---------------------------------------------------------------------------------------------------
    def _regions(self, source: Source, prefix: str, use_cached: bool, files: LocalFileJudge) -> dict[str, RegionRead]:
        """What the source's regions hold: the cache entry's when it may be read and passes the checks an answer
        passes (else a warning), otherwise read afresh, and then written when the entry may be (cache.py)."""
        key = entry_key(prefix, source)
        access = judge_entry(self._cache._plugin, key, files) if self.get_option("cache") else NOT_CACHED
        if access.warning:
            self._warn(access.warning)
        self._cache_file = access.file
        if access.readable and use_cached:
            try:
                data = self._cache.get(key)
                if data is not None:
                    return from_cache(data)
            except (AnsibleError, ValueError) as exc:
                self._warn("the cache entry was not used (%s); the instances were read afresh" % exc)
        regions = read_regions(source, self._warn)
        if access.writable:
            self._cache[key] = cache_entry(regions)
        return regions

    def update_cache_if_changed(self) -> None:
        """As Cacheable does; then a cache file this run wrote gets mode 0600 (ansible-core writes 0644)."""
        super().update_cache_if_changed()
        if self._cache_file is not None:
            make_private(self._cache_file)

    # the hosts ---------------------------------------------------------------------------------------------------
    def _populate(self, inventory: InventoryData, spec: InventorySpec, regions: Mapping[str, RegionRead],
                  files: LocalFileJudge) -> None:
        placed = place_hosts(regions, spec.connect_with)
        names = name_hosts(placed.reachable, spec, self._evaluate, C.LOCALHOST)
        self._tell(refused_names_finding(names.refusals))
        self._tell(clashes_finding(names.clashes))
        keys = KeyFileFinder(spec, files, self._render_path, host_independent(spec.private_key_paths))
        missing = []
        for host in placed.reachable:
            if not self._add(inventory, spec, names.of(host), host, keys):
                missing.append(MissingKey(names.of(host), tuple(host.bound_key_names())))
        self._tell(host_problems_finding(placed.left_out, keys.refused, missing, spec.from_secrets))
        self._tell(other_address_kinds_finding(placed.reachable, spec.connect_with))

    def _add(self, inventory: InventoryData, spec: InventorySpec, name: str, host: Host, keys: KeyFileFinder) -> bool:
        """Adds host `name` for `host`: its variables, its key file, then compose, groups and keyed_groups. False when
        private_key_paths named no key file for it."""
        inventory.add_host(name)
        for variable, value in wrap_var(host.inventory_vars(spec)).items():
            inventory.set_variable(name, variable, value)
        found = keys.find(host, inventory.hosts[name].get_vars()) if spec.private_key_paths else None
        if found:
            inventory.set_variable(name, "ansible_ssh_private_key_file", found)
        secret = host.key_secret() if spec.from_secrets else None
        if secret:
            inventory.set_variable(name, spec.hostvars_prefix + "ssh_key_secret", secret)
            inventory.set_variable(name, "ansible_ssh_private_key_file",
                                   as_template(key_lookup(secret, host.region, self._endpoint)))
        hostvars, strict = inventory.hosts[name].get_vars(), self.get_option("strict")
        self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)
        return found is not None or secret is not None or not (spec.private_key_paths or spec.from_secrets)

    # templates and messages --------------------------------------------------------------------------------------
    def _evaluate(self, expression: str, variables: Mapping[str, object], instance_id: str) -> object:
        """A Jinja hostnames preference; one that cannot be evaluated for this host counts as empty (with
        strict: true it is an error that names it)."""
        try:
            return self._compose(expression, wrap_var(dict(variables)))
        except Exception as exc:  # noqa: BLE001 - any template error: undefined variable, bad filter, syntax
            if self.get_option("strict"):
                raise AnsibleError("tencent_cvm: hostnames entry %r failed for %s: %s"
                                   % (expression, instance_id, exc)) from None
            return None

    def _render_path(self, template: str, variables: Mapping[str, object]) -> str:
        """A private_key_paths template rendered with `variables` (keyfiles.py judges what it names)."""
        self.templar.available_variables = wrap_var(dict(variables))
        return str(self.templar.template(template))

    def _tell(self, finding: Finding) -> None:
        """A finding's warnings, or with strict: true its error."""
        if finding.error is not None and self.get_option("strict"):
            raise AnsibleError("tencent_cvm: " + finding.error)
        for warning in finding.warnings:
            self._warn(warning)

    def _warn(self, text: str) -> None:
        self.display.warning(masked("tencent_cvm: " + text, self._secrets))
