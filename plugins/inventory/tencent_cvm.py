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
  - The configuration file's name must end in C(tencent_cvm.yml) or C(tencent_cvm.yaml).
  - Credentials, region, endpoint and transport options are the modules' own (same names, same environment
    variables, same profile files), so one credential setup serves both.
  - Every value that comes from the cloud (names, tags, addresses) is marked unsafe, so an instance name or a tag
    cannot inject a template.
author:
  - Tencent Cloud CVM collection maintainers (@tencentcloud-cvm)
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - tencentcloud.cvm.tencentcloud
options:
  plugin:
    description: The name of this plugin; the file is this plugin's configuration only if it says so.
    required: true
    choices: [tencentcloud.cvm.tencent_cvm]
    type: str
  regions:
    description:
      - The regions to list. C(all) asks the service for every region available to the account (CVM
        C(DescribeRegions)).
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
      - How hosts are named, in order of preference; the first non-empty value wins.
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
    type: str
    choices: [public_ip, private_ip, ipv6]
    default: public_ip
  private_key_paths:
    description:
      - Templates of where private keys live. Each sees C(key_name), C(key_id) and the host's variables (and
        C(inventory_dir)).
      - The key pairs bound to an instance are tried in order, each with every template in order; the first that
        names an existing, readable file sets C(ansible_ssh_private_key_file).
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
notes:
  - O(compose) is applied after the variables this plugin sets, so it can override C(ansible_host),
    C(ansible_user), C(ansible_port) and C(ansible_ssh_private_key_file).
  - With O(cache=true) the instances and key names are cached; groups, names and variables are built again from the
    cache. The cache key covers the regions, filters, endpoint and account. C(--flush-cache) reads afresh.
  - A region with more than 20,000 instances that match is refused (200 pages).
seealso:
  - module: tencentcloud.cvm.tencent_keypair
  - module: tencentcloud.cvm.tencent_instance_keypairs
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_inventory
    description: "The inventory guide: host names, groups, the key that opens each instance, caching, speed."
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_awx
    description: A Tencent Cloud credential type for AWX and Automation Platform, with this inventory as a source.
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_credentials
    description: "Credentials and regions: every place the plugins look, in order."
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

# Named by a tag when there is one, grouped by role, without the staging project
---
plugin: tencentcloud.cvm.tencent_cvm
regions: [all]
hostnames: [tag:Name, instance-name, instance-id]
exclude_filters:
  - project-id: 1001
connect_with: private_ip
private_key_paths:
  - "{{ inventory_dir }}/keys/{{ key_name }}"
groups:
  web: "'web' in (tencent_tags.role | default(''))"
compose:
  ansible_user: "'ubuntu' if 'Ubuntu' in tencent_os_name else ansible_user"
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/tencent_cvm
"""

import hashlib
import json
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, fields

import jinja2
import jinja2.meta

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.module_utils.compat.version import LooseVersion
from ansible.release import __version__ as core_version
from ansible.utils.unsafe_proxy import wrap_var as _wrap_var
from ansible_collections.tencentcloud.cvm.plugins.module_utils._credentials import (
    CredentialsError, resolve_credentials, resolve_region,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._errors import TaskError, TencentCloudAPIError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory import (
    InventorySpec, connect_address, field_value, host_vars, read_region, trusted_cache, unique_names,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import Client, Settings
from ansible_collections.tencentcloud.cvm.plugins.module_utils._records import Instance
from ansible_collections.tencentcloud.cvm.plugins.module_utils._resources import Regions

CLIENT_OPTIONS = ("secret_id", "secret_key", "security_token", "profile", "region", "endpoint", "allow_insecure_http",
                  "api_style", "validate_certs", "ca_path", "timeout", "retries", "retry_max_delay")
UNAUTHORIZED = ("UnauthorizedOperation", "AuthFailure.UnauthorizedOperation")
CACHE_VERSION = 1
# ansible-core 2.19 and later never template what an inventory plugin sets (it is not trusted); before, values are
# marked unsafe. Marking them on 2.19+ would show them as {"__ansible_unsafe": ...} in ansible-inventory --list.
TRUSTS_NOTHING = LooseVersion(core_version) >= LooseVersion("2.19")


def wrap_var(value):
    return value if TRUSTS_NOTHING else _wrap_var(value)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "tencentcloud.cvm.tencent_cvm"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("tencent_cvm.yml", "tencent_cvm.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        try:
            args = {name: self._rendered(name) for name in CLIENT_OPTIONS}
            spec = InventorySpec.from_options(self.get_option)
            credentials, settings = resolve_credentials(args), Settings.from_args(args)
            home = resolve_region(args) if not spec.regions or "all" in spec.regions else None
        except (CredentialsError, TaskError, TencentCloudAPIError, ValueError) as exc:
            raise AnsibleError("%s: %s" % (path, exc)) from None
        key = "%s_%s" % (self.get_cache_key(path), _digest(spec.regions or [home], spec, settings,
                                                           credentials.secret_id))
        use_cache = self.get_option("cache")
        data = None
        if use_cache and cache:
            data = self._cache.get(key)
            data = data if _usable_cache(data) else None
        if data is None:
            data = self._read(spec, credentials, settings, home)
            if use_cache:
                self._cache[key] = data
        self._populate(spec, data)

    def _rendered(self, name):
        value = self.get_option(name)
        if isinstance(value, str) and "{{" in value:
            value = self.templar.template(value)
        return value

    # reading -----------------------------------------------------------------------------------
    def _read(self, spec, credentials, settings, home):
        """{"version", "regions": {region: {"instances": [Instance as a dict], "key_names": {KeyId: name}}}}: what
        the cache keeps. `home` is the region of the credentials setup (asked for the region list)."""
        regions = [r for r in spec.regions if r != "all"] or [home]
        if "all" in spec.regions:
            regions = _all_regions(credentials, settings.but(region=home))
        read = {}
        with ThreadPoolExecutor(max_workers=min(spec.concurrency, max(1, len(regions)))) as pool:
            futures = {r: pool.submit(read_region, Client(credentials, settings.but(region=r)), spec) for r in regions}
            for region, future in futures.items():
                try:
                    instances, names = future.result()
                except TaskError as exc:
                    if not spec.strict_permissions and str(exc.code).startswith(UNAUTHORIZED):
                        self.display.warning("tencent_cvm: region %s skipped: %s" % (region, exc.msg))
                        continue
                    raise AnsibleError("tencent_cvm: region %s: %s [%s]" % (region, exc.msg, exc.code)) from None
                read[region] = {"instances": [asdict(i) for i in instances], "key_names": names}
        return {"version": CACHE_VERSION, "regions": read}

    # building ----------------------------------------------------------------------------------
    def _populate(self, spec, data):
        self._seen = {}  # (template, KeyId) -> (path, usable): see _key_file
        hosts = []
        for region, found in data["regions"].items():
            hosts.extend((region, _instance(d), found["key_names"]) for d in found["instances"])
        wanted = [(inst, self._wanted_name(spec, inst, region, names)) for region, inst, names in hosts]
        final, clashes = unique_names(wanted)
        if clashes:
            self.display.warning("tencent_cvm: %s named by instance ID: %s" % (
                "hosts" if len(clashes) > 1 else "a host name shared by several instances, the instances",
                "; ".join("%s wanted by %s" % (name, ", ".join(owners)) for name, owners in clashes)))
        missing = []
        for host in hosts:
            self._add(spec, final[host[1].instance_id], host, missing)
        if missing and spec.private_key_paths:
            text = "no private key file found for %d host(s) (key pairs tried): %s" % (
                len(missing), "; ".join("%s (%s)" % (h, ", ".join(k) or "no key pair bound") for h, k in missing))
            if self.get_option("strict"):
                raise AnsibleError("tencent_cvm: " + text)
            self.display.warning("tencent_cvm: " + text)

    def _wanted_name(self, spec, inst, region, names):
        variables = host_vars(inst, region, names, spec.hostvars_prefix)
        for preference in spec.hostnames:
            value = field_value(inst, preference)
            if value is NotImplemented:
                value = self._expression(preference, variables, inst)
            if value:
                return str(value)
        return inst.instance_id

    def _expression(self, expression, variables, inst):
        """A Jinja host-name preference; one that cannot be evaluated for this host counts as empty (with
        strict: true it is an error that names it)."""
        try:
            return self._compose(expression, wrap_var(variables))
        except Exception as exc:  # noqa: BLE001 - any template error: undefined variable, bad filter, syntax
            if self.get_option("strict"):
                raise AnsibleError("tencent_cvm: hostnames entry %r failed for %s: %s"
                                   % (expression, inst.instance_id, exc)) from None
            return None

    def _add(self, spec, name, host, missing):
        """Adds host `name` for `host` (region, Instance, {KeyId: key name}); a host without a key file found is
        appended to `missing`."""
        region, inst, names = host
        strict = self.get_option("strict")
        variables = wrap_var(host_vars(inst, region, names, spec.hostvars_prefix))
        self.inventory.add_host(name)
        for var, value in variables.items():
            self.inventory.set_variable(name, var, value)
        address = connect_address(inst, spec.connect_with)
        if address:
            self.inventory.set_variable(name, "ansible_host", wrap_var(address))
        if spec.use_login_user and inst.login_user:
            self.inventory.set_variable(name, "ansible_user", wrap_var(inst.login_user))
        if spec.use_login_port and inst.login_port:
            self.inventory.set_variable(name, "ansible_port", inst.login_port)
        if spec.private_key_paths:
            found = self._key_file(spec, name, inst, names)
            if found:
                self.inventory.set_variable(name, "ansible_ssh_private_key_file", found)
            else:
                missing.append((name, [names.get(k, k) for k in inst.key_ids]))
        hostvars = self.inventory.get_host(name).get_vars()
        self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)

    def _key_file(self, spec, name, inst, names):
        """The first template, for the first bound key pair, that names a private key file this process can
        open; None if there is none. A template that uses only the key pair and the inventory's directory is
        rendered (and its file checked) once per key pair, not once per host."""
        hostvars = self.inventory.get_host(name).get_vars()
        for key_id in inst.key_ids:
            for template in spec.private_key_paths:
                shared = _host_independent(template)
                found = self._seen.get((template, key_id)) if shared else None
                if found is None:
                    self.templar.available_variables = dict(hostvars, key_name=wrap_var(names.get(key_id) or key_id),
                                                            key_id=wrap_var(key_id))
                    path = os.path.expanduser(str(self.templar.template(template)))
                    found = (path, _readable_file(path, name))
                    if shared:
                        self._seen[(template, key_id)] = found
                if found[1]:
                    return found[0]
        return None


_KNOWN = {}  # template -> whether it is host-independent (parsed once per process)


def _host_independent(template):
    """Whether `template` uses nothing but key_name, key_id, inventory_dir and inventory_file."""
    _known = _KNOWN
    if template not in _known:
        try:
            used = jinja2.meta.find_undeclared_variables(jinja2.Environment().parse(template))
        except jinja2.TemplateSyntaxError:
            used = {None}
        _known[template] = used <= {"key_name", "key_id", "inventory_dir", "inventory_file"}
    return _known[template]


def _readable_file(path, host):
    """Whether `path` is a regular file this process can read (opened, not asked: as root, access() says yes). One
    that exists but cannot be opened is an error that names it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise AnsibleError("tencent_cvm: the private key file %s of host %s cannot be read (%s); fix its "
                           "permissions or remove it" % (path, host, exc.strerror)) from None
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode)
    finally:
        os.close(fd)


def _instance(data):
    """An Instance from its cached form (JSON turns tuples into lists)."""
    names = {f.name for f in fields(Instance)}
    values = {k: tuple(tuple(v) if isinstance(v, list) else v for v in value) if isinstance(value, list) else value
              for k, value in data.items() if k in names}
    return Instance(**values)


def _usable_cache(data):
    """Cached data of this version whose every record passes the checks a fresh read passes; anything else is
    read afresh."""
    try:
        regions = data["regions"] if data.get("version") == CACHE_VERSION else None
        return isinstance(regions, dict) and all(
            trusted_cache(region, [_instance(d) for d in found["instances"]], found["key_names"])
            for region, found in regions.items())
    except (AttributeError, KeyError, TypeError, ValueError):
        return False


def _all_regions(credentials, settings):
    try:
        return Regions(Client(credentials, settings)).available()
    except TaskError as exc:
        raise AnsibleError("tencent_cvm: regions all: %s [%s]" % (exc.msg, exc.code)) from None


def _digest(regions, spec, settings, secret_id):
    text = json.dumps([list(regions), spec.filters, spec.exclude_filters, settings.endpoint, settings.api_style,
                       secret_id], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
