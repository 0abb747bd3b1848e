# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory's hosts, without Ansible: what one region holds, each instance as a Host (its host variables, its
host-name candidates and where to connect), and the trust boundary every cloud string crosses before it becomes a
host name or part of a path, for fresh answers and cached ones alike. The options are spec.py's, reading is
reading.py's, the cache's format cache.py's; templates and groups are the plugin's (inventory/tencent_cvm.py)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
import ipaddress
import re
from typing import TYPE_CHECKING, NamedTuple

from .._core.rules import KEY_ID_RE, KEY_PAIR_NAME_RE, REGION_RE, SECRET_NAME_RE, invalid
from .._instance_keypairs.records import Instance
from .spec import InventorySpec

if TYPE_CHECKING:
    from types import NotImplementedType

# The address kinds tried, in order, for each connect_with: the chosen kind first. Only public_ip -> private is
# silent (documented); any other fallback is named in a warning, and a host with no address at all is left out.
ADDRESS_ORDER = {"public_ip": ("public_ip", "private_ip", "ipv6"), "private_ip": ("private_ip", "public_ip", "ipv6"),
                 "ipv6": ("ipv6", "private_ip", "public_ip")}
# A host name taken from the cloud: letters and digits (of any script), _ . -, starting with a letter, digit or _;
# so never an ssh option (-o...), a template ({{ }} {% %} {# #}), a host pattern (: , ! & * ? [ ~) or white space.
HOST_NAME_RE = re.compile(r"\A\w[\w.-]{0,252}\Z")


@dataclass(frozen=True)
class Host:
    """One instance as the inventory adds it: where it was read, the names of the key pairs bound, and the address it
    is reached at (its kind: public_ip, private_ip or ipv6), or None when it has none and is left out."""

    region: str
    instance: Instance
    key_names: Mapping[str, str]
    address: str | None
    address_kind: str | None
    key_secrets: Mapping[str, str] = field(default_factory=dict)  # {key name: the SSH-key secret that holds it}

    @classmethod
    def of(cls, region: str, instance: Instance, key_names: Mapping[str, str], connect_with: str,
           key_secrets: Mapping[str, str] | None = None) -> Host:
        address, kind = connect_address(instance, connect_with)
        return cls(region, instance, key_names, address, kind, dict(key_secrets or {}))

    def key_secret(self) -> str | None:
        """The secret that holds the first bound key pair a secret holds, in binding order; None when none does."""
        return next((self.key_secrets[name] for name in self.bound_key_names() if name in self.key_secrets), None)

    def variables(self, prefix: str) -> dict[str, object]:
        """The host variables this instance gets (host_vars)."""
        return host_vars(self.instance, self.region, self.key_names, prefix)

    def inventory_vars(self, spec: InventorySpec) -> dict[str, object]:
        """What the plugin sets for this host, in this order: its host_vars under the prefix, ansible_host, and
        ansible_user and ansible_port from DefaultLoginUser and DefaultLoginPort (when wanted and given)."""
        variables = self.variables(spec.hostvars_prefix)
        variables["ansible_host"] = self.address
        if spec.use_login_user and self.instance.login_user:
            variables["ansible_user"] = self.instance.login_user
        if spec.use_login_port and self.instance.login_port:
            variables["ansible_port"] = self.instance.login_port
        return variables

    def bound_key_names(self) -> list[str]:
        """The names of the key pairs bound to the instance, in order; a KeyId whose name is unknown as itself."""
        return [self.key_names.get(key_id, key_id) for key_id in self.instance.key_ids]


class RegionRead(NamedTuple):
    """What one region holds for this inventory: the instances that match, in the service's order, the names of
    the key pairs bound to them ({KeyId: name}, admitted_key_names), and with private_key_source: secrets_manager
    the SSH-key secrets that hold some of them ({key name: secret name}, admitted_key_secrets)."""

    instances: list[Instance]
    key_names: dict[str, str]
    key_secrets: dict[str, str] = {}


class Placement(NamedTuple):
    reachable: list[Host]   # hosts with an address, in the order read (regions in order, then instances)
    left_out: list[Host]    # instances with no address at all: never reached by their names


def place_hosts(regions: Mapping[str, RegionRead], connect_with: str) -> Placement:
    """Every instance read, as a Host reached at its connect_with address (or another kind, ADDRESS_ORDER); those
    without any address are left out."""
    reachable: list[Host] = []
    left_out: list[Host] = []
    for region, read in regions.items():
        for instance in read.instances:
            host = Host.of(region, instance, read.key_names, connect_with, read.key_secrets)
            (reachable if host.address else left_out).append(host)
    return Placement(reachable, left_out)


def host_vars(instance: Instance, region: str, key_names: Mapping[str, str], prefix: str) -> dict[str, object]:
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


def field_value(instance: Instance, preference: str) -> str | None | NotImplementedType:
    """The value of a host-name preference that names a field ("instance-id", "tag:<key>", ...); None when the
    instance has no such value; NotImplemented when `preference` is not a field name (a Jinja expression)."""
    if preference.startswith("tag:"):
        tags: dict[str, str] = dict(instance.tags)
        return tags.get(preference[4:]) or None
    fields: dict[str, Sequence[str | None]] = {
        "instance-id": [instance.instance_id], "instance-name": [instance.name],
        "private-ip-address": instance.private_ips, "public-ip-address": instance.public_ips,
        "ipv6-address": instance.ipv6s}
    if preference not in fields:
        return NotImplemented  # type: ignore[no-any-return]  # typeshed's NotImplementedType derives from Any
    return next((v for v in fields[preference] if v), None)


def connect_address(instance: Instance, connect_with: str) -> tuple[str, str] | tuple[None, None]:
    """(ansible_host, the kind of address it is) of the first kind in ADDRESS_ORDER[connect_with] the instance has;
    (None, None) when it has no address at all (never its name: the plugin leaves such a host out)."""
    addresses: dict[str, Sequence[str]] = {"public_ip": instance.public_ips, "private_ip": instance.private_ips,
                                           "ipv6": instance.ipv6s}
    for kind in ADDRESS_ORDER[connect_with]:
        if addresses[kind]:
            return addresses[kind][0], kind
    return None, None


def host_name_problem(name: object, controller: Collection[str] = ()) -> str | None:
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


def path_safe(value: object, replacement: str | None) -> object:
    """`value` (host variables from the cloud) with every string that holds / or .. (and every dict entry whose key
    does) replaced by `replacement`: what a private_key_paths template may put into a path."""
    if isinstance(value, str):
        return replacement if "/" in value or ".." in value or "\x00" in value else value
    if isinstance(value, dict):
        return {k: path_safe(v, replacement) for k, v in value.items() if path_safe(k, None) is not None}
    if isinstance(value, (list, tuple)):
        return [path_safe(v, replacement) for v in value]
    return value


def path_safe_vars(variables: Mapping[str, object], replacement: str) -> dict[str, object]:
    """path_safe of a host's variables (a variable whose name holds / or .. is left out, as any dict entry)."""
    return {name: path_safe(value, replacement) for name, value in variables.items()
            if path_safe(name, None) is not None}


class Clash(NamedTuple):
    """A host name several instances want (or one that is another instance's ID): none of them gets it."""

    name: str
    instance_ids: list[str]


class UniqueNames(NamedTuple):
    by_instance: dict[str, str]  # instance ID -> host name
    clashes: list[Clash]


def unique_names(named: Iterable[tuple[Instance, str]]) -> UniqueNames:
    """[(instance, wanted name)] -> ({instance_id: host name}, [Clash(name, [instance IDs])]). A name two instances
    want (or one that is another instance's ID) goes to neither: both fall back to their instance IDs."""
    wanted = list(named)
    owners_of: dict[str, list[str]] = {}
    for instance, name in wanted:
        owners_of.setdefault(name, []).append(instance.instance_id)
    ids = {instance.instance_id for instance, _name in wanted}
    final: dict[str, str] = {}
    clashes = []
    for name, owners in owners_of.items():
        if len(owners) > 1 or (name in ids and owners != [name]):
            clashes.append(Clash(name, owners))
            final.update((owner, owner) for owner in owners)
        else:
            final[owners[0]] = name
    return UniqueNames(final, clashes)


def admitted_key_names(pairs: Iterable[tuple[object, object]]) -> dict[str, str]:
    """{KeyId: name} of the (KeyId, name) pairs whose KeyId and name match the service's patterns: both go into
    paths (private_key_paths), so neither may hold / or .. ; others are left out (that key pair is then tried by
    neither)."""
    return {key_id: name for key_id, name in pairs if isinstance(key_id, str) and isinstance(name, str)
            and KEY_ID_RE.match(key_id) and KEY_PAIR_NAME_RE.match(name)}


def admitted_key_secrets(pairs: Iterable[tuple[object, object]]) -> dict[str, str]:
    """{key name: secret name} of the (key name, secret name) pairs where both are what their rules allow (they
    reach a template and a file name); a key name two secrets claim is left out (neither is sure)."""
    found: dict[str, str] = {}
    claimed: set[str] = set()
    for key_name, secret in pairs:
        if not (isinstance(key_name, str) and isinstance(secret, str) and KEY_PAIR_NAME_RE.match(key_name)
                and SECRET_NAME_RE.match(secret)):
            continue
        if key_name in found and found[key_name] != secret:
            claimed.add(key_name)
        found[key_name] = secret
    return {name: secret for name, secret in found.items() if name not in claimed}


LOOKUP_ENDPOINT_RE = re.compile(r"\A[A-Za-z0-9.:/_-]{1,255}\Z")  # what may sit in a quoted template argument


def key_lookup(secret: str, region: str, endpoint: str | None = None) -> str:
    """The template that puts the key `secret` holds into the run's ssh-agent when a connection needs it, and gives
    ssh its public key file (the lookup tencent_ssh_key with deliver=agent). Every value in it matches a strict
    pattern first: nothing from the cloud or the source can end the quoted string."""
    if not (SECRET_NAME_RE.match(secret) and REGION_RE.match(region)):
        raise invalid("a secret or region name is not one")
    arguments = "'%s', deliver='agent', region='%s'" % (secret, region)
    if lookup_endpoint(endpoint):
        arguments += ", endpoint='%s'" % endpoint
    return "{{ lookup('tencentcloud.cvm.tencent_ssh_key', %s) }}" % arguments


def lookup_endpoint(endpoint: str | None) -> str | None:
    """The endpoint, when it may be handed to the key lookup in a template (InvalidArgument otherwise)."""
    if endpoint and not LOOKUP_ENDPOINT_RE.match(endpoint):
        raise invalid("endpoint: with private_key_source: secrets_manager the endpoint is handed to the key lookup, "
                      "so it may hold only letters, digits and . : / _ -")
    return endpoint or None


def needs_agent(core_version: str) -> str:
    return ("private_key_source: secrets_manager needs ansible-core 2.19 or later (its ssh-agent and key delivery); "
            "this is ansible-core %s. Use private_key_source: files with private_key_paths, or a newer ansible-core "
            "(InvalidArgument)" % core_version)
