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
"""

from concurrent.futures import ThreadPoolExecutor
import hashlib
import json
import os

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.compat.version import LooseVersion
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.release import __version__ as core_version
from ansible.utils.unsafe_proxy import wrap_var as _wrap_var
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Client, Settings
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import (
    CredentialsError, resolve_credentials, resolve_region,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import TaskError, TencentCloudAPIError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.files import LocalFileJudge
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.hosts import (
    Host, InventorySpec, cache_entry, field_value, from_cache, host_name_problem, host_vars, path_safe, read_region,
    unique_names, unknown_keys, unknown_keys_text, with_code,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.regions import Regions
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.keys import KeyFileError
import jinja2
import jinja2.meta

CLIENT_OPTIONS = ("secret_id", "secret_key", "security_token", "profile", "region", "endpoint", "allow_insecure_http",
                  "api_style", "validate_certs", "ca_path", "timeout", "retries", "retry_max_delay")
SECRET_OPTIONS = ("secret_key", "security_token")
UNAUTHORIZED = ("UnauthorizedOperation", "AuthFailure.UnauthorizedOperation")
# ansible-core 2.19 and later never template what an inventory plugin sets (it is not trusted); before, values are
# marked unsafe. Marking them on 2.19+ would show them as {"__ansible_unsafe": ...} in ansible-inventory --list.
TRUSTS_NOTHING = LooseVersion(core_version) >= LooseVersion("2.19")
# What a cloud value holding / or .. becomes in a private_key_paths template: no path can hold it, so a path that
# does is refused (the cloud never chooses which directory a key is taken from).
NOT_IN_A_PATH = "\x00"
SHOWN = 10  # hosts named in one warning


def wrap_var(value):
    return value if TRUSTS_NOTHING else _wrap_var(value)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "tencentcloud.cvm.tencent_cvm"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("tencent_cvm.yml", "tencent_cvm.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._secrets, self._cache_file = set(), None
        self._files = LocalFileJudge()
        try:
            self._parse(path, cache)
        except AnsibleError as exc:
            if not self._secrets:
                raise
            raise AnsibleError(self._masked(str(exc.message))) from None
        finally:
            self._files.close()

    def _parse(self, path, cache):
        self._report_unknown_keys(path, self._read_config_data(path))
        try:
            args = {name: self._rendered(name) for name in CLIENT_OPTIONS}
            self._secrets = {str(args[name]) for name in SECRET_OPTIONS if args.get(name)}
            spec = InventorySpec.from_options(self.get_option)
            credentials, settings = resolve_credentials(args, origin="inventory source"), Settings.from_args(args)
            self._secrets |= {value for value in (credentials.secret_key, credentials.token) if value}
            home = _home_region(args, spec)
        except (CredentialsError, TaskError, TencentCloudAPIError, ValueError) as exc:
            code = getattr(exc, "code", None) or "InvalidArgument"  # a ValueError: a proxy setting, a number
            raise AnsibleError("%s: %s" % (path, with_code(str(exc), code))) from None
        key = "%s_%s" % (self.get_cache_key(path), _digest(spec.regions or [home], spec, settings,
                                                           credentials.secret_id))
        use_cache = self.get_option("cache")
        found = self._cache_entry(key) if use_cache else None  # judged even with --flush-cache: it may be written
        regions = self._cached(key) if found and cache else None
        if regions is None:
            regions = self._read(spec, credentials, settings, home)
            if use_cache and found is not None:
                self._cache[key] = cache_entry(regions)
        self._populate(spec, regions)

    def _report_unknown_keys(self, path, config):
        """A key of the file that is no option (a typo: `filter:` for `filters:`) is a warning, with strict an error
        before anything is read; ansible-core itself ignores it."""
        found = unknown_keys(config, self.option_definitions)
        if not found:
            return
        if self.get_option("strict"):
            raise AnsibleError("tencent_cvm: %s: %s (strict: true)" % (path, unknown_keys_text(found)))
        self._warn("%s: %s (with strict: true it is an error)" % (path, unknown_keys_text(found, ignored=True)))

    def _rendered(self, name):
        value = self.get_option(name)
        if isinstance(value, str) and "{{" in value:
            value = self.templar.template(value)
        return value

    def _warn(self, text):
        self.display.warning(self._masked("tencent_cvm: " + text))

    def _masked(self, text):
        """Credentials in use, wherever they came from, are masked in every message, as the modules mask them."""
        return remove_values(text, self._secrets) if self._secrets else text

    # the cache -----------------------------------------------------------------------------------
    def _cache_entry(self, key):
        """Whether the cache entry of `key` is there and may be read (True), is not there (False), or is refused: None,
        with a warning, and then it is neither read nor written. A file cache's entry is judged as a key file is (yours
        or root's, in a directory others cannot write, not a link); other cache plugins (redis, ...) keep no file."""
        self._cache_file = _cache_file(self._cache._plugin, key)
        if self._cache_file is None:
            return True
        try:
            return self._files.usable(self._cache_file)
        except KeyFileError as exc:
            self._warn("the cache entry was neither used nor written (%s); cache_connection must be a directory of "
                       "yours that others cannot write. The instances were read afresh." % exc)
            self._cache_file = None
            return None

    def _cached(self, key):
        """The regions of the cache entry of `key`, checked as an answer is; None (with a warning when there was an
        entry) when there is none that passes: the instances are then read afresh."""
        try:
            data = self._cache.get(key)
            return from_cache(data) if data is not None else None
        except (AnsibleError, ValueError) as exc:
            self._warn("the cache entry was not used (%s); the instances were read afresh" % exc)
            return None

    def update_cache_if_changed(self):
        """As Cacheable does; then a cache file this run wrote gets mode 0600 (ansible-core writes 0644)."""
        super().update_cache_if_changed()
        if self._cache_file is not None:
            judge = LocalFileJudge()
            try:
                judge.make_private(self._cache_file)
            finally:
                judge.close()

    # reading -----------------------------------------------------------------------------------
    def _read(self, spec, credentials, settings, home):
        """{region: (instances, {KeyId: key name})}. `home` is the region of the credentials setup (None: the
        regions are listed by the Region API, which needs none)."""
        regions = [r for r in spec.regions if r != "all"] or [home]
        if "all" in spec.regions:
            regions = _all_regions(credentials, settings.but(region=home))
        read = {}
        with ThreadPoolExecutor(max_workers=min(spec.concurrency, max(1, len(regions)))) as pool:
            futures = {r: pool.submit(read_region, Client(credentials, settings.but(region=r)), spec) for r in regions}
            for region, future in futures.items():
                try:
                    read[region] = future.result()
                except TaskError as exc:
                    if not spec.strict_permissions and str(exc.code).startswith(UNAUTHORIZED):
                        self._warn("region %s skipped: %s" % (region, exc.msg))
                        continue
                    raise AnsibleError("tencent_cvm: region %s: %s" % (region, with_code(exc.msg, exc.code))) from None
        return read

    # building ----------------------------------------------------------------------------------
    def _populate(self, spec, regions):
        self._seen, self._refused = {}, {}  # see _key_file
        hosts, left_out = [], []
        for region, (instances, names) in regions.items():
            for inst in instances:
                host = Host.of(region, inst, names, spec.connect_with)
                (hosts if host.address else left_out).append(host)
        named = [(host, self._wanted_name(spec, host)) for host in hosts]
        self._report_names([(host.instance.instance_id, refused) for host, (_name, refused) in named if refused])
        final, clashes = unique_names([(host.instance, name) for host, (name, _refused) in named])
        if clashes:
            self._warn("%s named by instance ID: %s" % (
                "hosts" if len(clashes) > 1 else "a host name shared by several instances, the instances",
                "; ".join("%s wanted by %s" % (name, ", ".join(owners)) for name, owners in clashes)))
        missing = []
        for host in hosts:
            self._add(spec, final[host.instance.instance_id], host, missing)
        self._report_hosts(spec, hosts, left_out, missing)

    def _report_names(self, refusals):
        """[(instance ID, [(preference, value, why)])]: the host names refused; strict: an error."""
        if not refusals:
            return
        said = ["%s: %s gave %s, refused: %s" % (instance_id, preference, _shown(value), why)
                for instance_id, refused in refusals for preference, value, why in refused]
        if self.get_option("strict"):
            raise AnsibleError("tencent_cvm: a host name from the cloud cannot name a host (strict): " + said[0])
        self._warn("%d host name(s) from the cloud refused, the next hostnames preference used: %s"
                   % (len(said), _some(said)))

    def _report_hosts(self, spec, hosts, left_out, missing):
        """Warnings (strict: errors) for instances left out, addresses of another kind, key files refused or none."""
        strict = self.get_option("strict")
        problems = []
        if left_out:
            problems.append("%d instance(s) left out: no address to connect to (never their names): %s"
                            % (len(left_out), _some([h.instance.instance_id for h in left_out])))
        if self._refused:
            problems.append("private key files refused: %s" % _some(["%s (%s)" % (path, why) for path, why
                                                                     in self._refused.items()]))
        if missing and spec.private_key_paths:
            problems.append("no private key file found for %d host(s) (key pairs tried): %s" % (
                len(missing), "; ".join("%s (%s)" % (h, ", ".join(k) or "no key pair bound") for h, k in missing)))
        if problems and strict:
            raise AnsibleError(self._masked("tencent_cvm: " + "; ".join(problems)))
        for problem in problems:
            self._warn(problem)
        other = [h for h in hosts if h.address_kind != spec.connect_with
                 and (spec.connect_with, h.address_kind) != ("public_ip", "private_ip")]
        if other:
            self._warn("%d host(s) have no %s address and connect to another kind: %s" % (
                len(other), spec.connect_with, _some(["%s (%s)" % (h.instance.instance_id, h.address_kind)
                                                      for h in other])))

    def _wanted_name(self, spec, host):
        """(the host name, [(preference, value, why refused)]): the first hostnames preference whose value may name a
        host (host_name_problem); else the instance ID (which matches its pattern)."""
        refused, variables = [], None
        for preference in spec.hostnames:
            value = field_value(host.instance, preference)
            if value is NotImplemented:
                variables = variables or host_vars(host.instance, host.region, host.key_names, spec.hostvars_prefix)
                value = self._expression(preference, variables, host.instance)
            if not value:
                continue
            problem = host_name_problem(str(value), C.LOCALHOST)
            if problem is None:
                return str(value), refused
            refused.append((preference, str(value), problem))
        return host.instance.instance_id, refused

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
        """Adds host `name` for `host`; a host without a key file found is appended to `missing`."""
        inst, strict = host.instance, self.get_option("strict")
        self.inventory.add_host(name)
        for var, value in wrap_var(host_vars(inst, host.region, host.key_names, spec.hostvars_prefix)).items():
            self.inventory.set_variable(name, var, value)
        self.inventory.set_variable(name, "ansible_host", wrap_var(host.address))
        if spec.use_login_user and inst.login_user:
            self.inventory.set_variable(name, "ansible_user", wrap_var(inst.login_user))
        if spec.use_login_port and inst.login_port:
            self.inventory.set_variable(name, "ansible_port", inst.login_port)
        if spec.private_key_paths:
            found = self._key_file(spec, host, self.inventory.get_host(name).get_vars())
            if found:
                self.inventory.set_variable(name, "ansible_ssh_private_key_file", found)
            else:
                missing.append((name, [host.key_names.get(k, k) for k in inst.key_ids]))
        hostvars = self.inventory.get_host(name).get_vars()
        self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)

    def _key_file(self, spec, host, hostvars):
        """The first template, for the first bound key pair, that names a usable private key file (LocalFileJudge);
        None if there is none. A template that uses only the key pair and the inventory's directory is rendered (and
        its file judged) once per key pair, not once per host."""
        for key_id in host.instance.key_ids:  # KeyIds of the service's pattern only (Instance.from_api)
            for template in spec.private_key_paths:
                shared = _host_independent(template)
                found = self._seen.get((template, key_id)) if shared else None
                if found is None:
                    variables = hostvars if shared else dict(hostvars, **path_safe(
                        host_vars(host.instance, host.region, host.key_names, spec.hostvars_prefix), NOT_IN_A_PATH))
                    found = self._key_candidate(template, dict(variables, key_id=key_id,
                                                               key_name=host.key_names.get(key_id) or key_id))
                    if shared:
                        self._seen[(template, key_id)] = found
                if found:
                    return found
        return None

    def _key_candidate(self, template, variables):
        """The path `template` renders to when a usable key file is there, else "" (a file that is there but refused
        is kept in self._refused, for the warning)."""
        self.templar.available_variables = wrap_var(variables)
        path = os.path.expanduser(str(self.templar.template(template)))
        if NOT_IN_A_PATH in path:
            self._refused[template] = "it uses a value from the cloud that holds / or .."
            return ""
        try:
            return path if self._files.usable(path) else ""
        except KeyFileError as exc:
            self._refused[path] = str(exc)
            return ""


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


def _cache_file(plugin, key):
    """The file of a file cache plugin (jsonfile, yaml, ...) that holds `key`; None for other plugins (redis, ...).
    ansible-core 2.19 and later wrap the plugin in an interposer that puts a schema prefix before every key."""
    locate = getattr(plugin, "_get_cache_file_name", None)
    qualify = getattr(type(plugin), "_get_key", None)
    return locate(qualify(key) if qualify is not None else key) if locate is not None else None


def _shown(value, most=80):
    """A value from the cloud as a message shows it: quoted, control characters escaped, cut to `most`."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= most else text[:most] + '..."'


def _some(items):
    return "; ".join(items[:SHOWN]) + ("; and %d more" % (len(items) - SHOWN) if len(items) > SHOWN else "")


def _home_region(args, spec):
    """The region of the credentials setup, where no regions are listed (required) or for regions: [all] (optional:
    the Region API needs none)."""
    if spec.regions and "all" not in spec.regions:
        return None
    return resolve_region(args, required="all" not in spec.regions)


def _all_regions(credentials, settings):
    try:
        return Regions(Client(credentials, settings)).available()
    except TaskError as exc:
        raise AnsibleError("tencent_cvm: regions all: %s" % with_code(exc.msg, exc.code)) from None


def _digest(regions, spec, settings, secret_id):
    text = json.dumps([list(regions), spec.filters, spec.exclude_filters, settings.endpoint, settings.api_style,
                       secret_id], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
