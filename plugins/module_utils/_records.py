# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Typed records of what the collection reads: key pairs and instances from the API (mapped from its answers,
each field checked first: what the API answers is input too), and the files found at a destination. Pure.

An answer of the wrong shape (a key pair that is a number, a missing KeyId, an address that is not an IP address,
a list that never ends) is a TencentCloudAPIError with code InvalidResponse, never a traceback. Bounds are generous
(the service's own limits are far below them): they catch garbage, not unusual data."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace

from ._errors import TencentCloudAPIError
from ._keys import KeyFileError, blob_of, fingerprint
from ._rules import INSTANCE_ID_RE, KEY_ID_RE

MAX_PAGES = 200            # 20,000 items at 100 per page: far above any quota (100 key pairs per account)
MAX_TEXT = 4096            # names, IDs, states, descriptions, times
MAX_PUBLIC_KEY = 16384     # an OpenSSH RSA-16384 public key is about 2.8 kB
MAX_PRIVATE_KEY = 65536
MAX_ITEMS = 1000           # elements of a list inside one item (tags, bindings, addresses)
LOGIN_USER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")  # a plain POSIX user name: never an ssh option


def invalid_answer(action, request_id, message):
    return TencentCloudAPIError(code="InvalidResponse", action=action, request_id=request_id, ambiguous=True,
                                message="%s answered %s" % (action, message))


class Shape:
    """Checks one answer of `action`; every problem names the field (never its value: it may be anything)."""

    def __init__(self, action, answer):
        self.action = action
        self.request_id = answer.get("RequestId") if isinstance(answer, dict) else None

    def fail(self, where, what):
        return invalid_answer(self.action, self.request_id, "%s that is not %s" % (where, what))

    def text(self, value, where, optional=False, limit=MAX_TEXT):
        if value is None and optional:
            return None
        if not isinstance(value, str) or len(value) > limit:
            raise self.fail(where, "a string of at most %d characters" % limit)
        return value

    def integer(self, value, where, optional=False, bounds=(0, 2 ** 63 - 1)):
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
            raise self.fail(where, "an integer from %d to %d" % bounds)
        return value

    def items(self, value, where, optional=True, limit=MAX_ITEMS):
        if value is None and optional:
            return []
        if not isinstance(value, list) or len(value) > limit:
            raise self.fail(where, "a list of at most %d items" % limit)
        return value

    def obj(self, value, where):
        if not isinstance(value, dict):
            raise self.fail(where, "an object")
        return value

    def texts(self, value, where):
        return tuple(self.text(v, "%s[%d]" % (where, i)) for i, v in enumerate(self.items(value, where)))

    def addresses(self, value, where):
        out = []
        for i, address in enumerate(self.items(value, where)):
            try:
                ipaddress.ip_address(address if isinstance(address, str) and len(address) <= 64 else None)
            except ValueError:
                raise self.fail("%s[%d]" % (where, i), "an IP address")
            out.append(address)
        return tuple(out)

    def page(self, answer, list_name, limit):
        """(items, TotalCount) of one page of a Describe* answer."""
        items = self.items(answer.get(list_name), list_name, optional=False, limit=limit)
        return items, self.integer(answer.get("TotalCount"), "TotalCount")


# --- key pairs -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KeyPair:
    """A key pair as DescribeKeyPairs shows it (fields this collection reads)."""

    key_id: str | None
    key_name: str
    project_id: int | None = None
    public_key: str | None = None
    description: str = ""
    associated_instance_ids: tuple = ()
    created_time: str | None = None
    tags: dict = field(default_factory=dict)

    @property
    def blob(self):
        return blob_of(self.public_key)

    def but(self, **changes):
        return replace(self, **changes)

    def result(self):
        """The module's key_pair: API field names in snake_case, with the fingerprint; never a private key."""
        try:
            fp = fingerprint(self.public_key) if self.public_key else None
        except KeyFileError:
            fp = None
        return {"key_id": self.key_id, "key_name": self.key_name, "project_id": self.project_id,
                "public_key": self.public_key or None, "fingerprint": fp, "description": self.description or "",
                "associated_instance_ids": list(self.associated_instance_ids), "created_time": self.created_time,
                "tags": dict(self.tags)}

    @classmethod
    def from_api(cls, model, action="DescribeKeyPairs", answer=None, where="KeyPairSet[]"):
        shape = Shape(action, answer if answer is not None else {})
        shape.obj(model, where)
        tags = {}
        for i, tag in enumerate(shape.items(model.get("Tags"), where + ".Tags")):
            shape.obj(tag, "%s.Tags[%d]" % (where, i))
            tags[shape.text(tag.get("Key"), "%s.Tags[%d].Key" % (where, i))] = shape.text(
                tag.get("Value"), "%s.Tags[%d].Value" % (where, i))
        return cls(key_id=shape.text(model.get("KeyId"), where + ".KeyId"),
                   key_name=shape.text(model.get("KeyName"), where + ".KeyName"),
                   project_id=shape.integer(model.get("ProjectId"), where + ".ProjectId", optional=True),
                   public_key=shape.text(model.get("PublicKey"), where + ".PublicKey", optional=True,
                                         limit=MAX_PUBLIC_KEY),
                   description=shape.text(model.get("Description"), where + ".Description", optional=True) or "",
                   associated_instance_ids=shape.texts(model.get("AssociatedInstanceIds"),
                                                       where + ".AssociatedInstanceIds"),
                   created_time=shape.text(model.get("CreatedTime"), where + ".CreatedTime", optional=True),
                   tags=tags)


def created_key_pair(answer, name, project_id):
    """(KeyPair, PrivateKey) from CreateKeyPair's answer: KeyId, PublicKey and PrivateKey are required."""
    shape = Shape("CreateKeyPair", answer)
    model = shape.obj(answer.get("KeyPair"), "KeyPair")
    key_id = shape.text(model.get("KeyId"), "KeyPair.KeyId")
    public = shape.text(model.get("PublicKey"), "KeyPair.PublicKey", limit=MAX_PUBLIC_KEY)
    private = shape.text(model.get("PrivateKey"), "KeyPair.PrivateKey", limit=MAX_PRIVATE_KEY)
    created = shape.text(model.get("CreatedTime"), "KeyPair.CreatedTime", optional=True)
    if not key_id or not public or not private:
        raise shape.fail("KeyPair.KeyId/PublicKey/PrivateKey", "filled in")
    return KeyPair(key_id, name, project_id, public, created_time=created), private


# --- instances -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Instance:
    """An instance as DescribeInstances shows it (fields this collection reads)."""

    instance_id: str
    state: str | None = None
    os_name: str | None = None
    key_ids: tuple = ()
    private_ips: tuple = ()
    public_ips: tuple = ()
    login_user: str | None = None
    login_port: int | None = None
    operation: str | None = None
    operation_state: str | None = None
    operation_request_id: str | None = None
    operation_error: str | None = None
    # what an inventory shows (DescribeInstances' Instance object, SDK model cvm 2017-03-12)
    name: str | None = None
    zone: str | None = None
    project_id: int | None = None
    instance_type: str | None = None
    image_id: str | None = None
    vpc_id: str | None = None
    subnet_id: str | None = None
    security_group_ids: tuple = ()
    ipv6s: tuple = ()
    tags: tuple = ()            # ((key, value), ...)
    created_time: str | None = None
    charge_type: str | None = None

    @property
    def windows(self):
        return "windows" in str(self.os_name or "").lower()

    def result(self):
        return {"instance_id": self.instance_id, "state": self.state, "key_ids": list(self.key_ids),
                "os_name": self.os_name, "private_ip_addresses": list(self.private_ips),
                "public_ip_addresses": list(self.public_ips), "default_login_user": self.login_user,
                "default_login_port": self.login_port, "latest_operation": self.operation,
                "latest_operation_state": self.operation_state}

    @classmethod
    def from_api(cls, model, action="DescribeInstances", answer=None, where="InstanceSet[]"):
        """What reaches ssh, a host name or a path later must be what it claims to be: an instance ID of the
        service's pattern (an inventory names hosts by it), IP literals, a POSIX user name, a port number (an address
        such as `-oProxyCommand=...` would be an ssh option). A KeyId that is not one (`../../etc/ssh/...`) is left
        out: it would otherwise reach a key path."""
        shape = Shape(action, answer if answer is not None else {})
        shape.obj(model, where)
        login = model.get("LoginSettings")
        key_ids = shape.texts(shape.obj(login, where + ".LoginSettings").get("KeyIds"),
                              where + ".LoginSettings.KeyIds") if login is not None else ()
        user = shape.text(model.get("DefaultLoginUser"), where + ".DefaultLoginUser", optional=True, limit=32)
        if user and not LOGIN_USER_RE.match(user):
            raise shape.fail(where + ".DefaultLoginUser", "a POSIX user name")
        instance_id = shape.text(model.get("InstanceId"), where + ".InstanceId")
        if not INSTANCE_ID_RE.match(instance_id):
            raise shape.fail(where + ".InstanceId", "an instance ID (ins- and 8 lower-case letters or digits)")
        operation = {name: shape.text(model.get(name), "%s.%s" % (where, name), optional=True) for name in (
            "LatestOperation", "LatestOperationState", "LatestOperationRequestId", "LatestOperationErrorMsg")}
        return cls(instance_id=instance_id,
                   state=shape.text(model.get("InstanceState"), where + ".InstanceState", optional=True),
                   os_name=shape.text(model.get("OsName"), where + ".OsName", optional=True),
                   key_ids=tuple(k for k in key_ids if KEY_ID_RE.match(k)),  # [""] has been seen (Terraform #1403)
                   private_ips=shape.addresses(model.get("PrivateIpAddresses"), where + ".PrivateIpAddresses"),
                   public_ips=shape.addresses(model.get("PublicIpAddresses"), where + ".PublicIpAddresses"),
                   login_user=user or None,
                   login_port=shape.integer(model.get("DefaultLoginPort"), where + ".DefaultLoginPort",
                                            optional=True, bounds=(1, 65535)),
                   operation=operation["LatestOperation"], operation_state=operation["LatestOperationState"],
                   operation_request_id=operation["LatestOperationRequestId"],
                   operation_error=operation["LatestOperationErrorMsg"], **_described(shape, model, where))

    def to_model(self):
        """The DescribeInstances model of what this record holds: Instance.from_api(to_model()) gives it back, so
        that stored records (the inventory's cache, which another user may have written) pass every check an answer
        passes, by the same code."""
        model = {"InstanceId": self.instance_id, "InstanceState": self.state, "OsName": self.os_name,
                 "LoginSettings": {"KeyIds": list(self.key_ids)}, "PrivateIpAddresses": list(self.private_ips),
                 "PublicIpAddresses": list(self.public_ips), "DefaultLoginUser": self.login_user,
                 "DefaultLoginPort": self.login_port, "LatestOperation": self.operation,
                 "LatestOperationState": self.operation_state, "LatestOperationRequestId": self.operation_request_id,
                 "LatestOperationErrorMsg": self.operation_error, "InstanceName": self.name,
                 "Placement": {"Zone": self.zone, "ProjectId": self.project_id}, "InstanceType": self.instance_type,
                 "ImageId": self.image_id, "VirtualPrivateCloud": {"VpcId": self.vpc_id, "SubnetId": self.subnet_id},
                 "SecurityGroupIds": list(self.security_group_ids), "IPv6Addresses": list(self.ipv6s),
                 "Tags": [{"Key": k, "Value": v} for k, v in self.tags], "CreatedTime": self.created_time,
                 "InstanceChargeType": self.charge_type}
        return model


def _described(shape, model, where):
    """The fields an inventory shows, each checked (none reaches a command line; all are marked unsafe)."""
    placement = shape.obj(model.get("Placement") or {}, where + ".Placement")
    vpc = shape.obj(model.get("VirtualPrivateCloud") or {}, where + ".VirtualPrivateCloud")
    tags = tuple((shape.text(t.get("Key"), where + ".Tags[].Key", limit=127),
                  shape.text(t.get("Value"), where + ".Tags[].Value", limit=255))
                 for t in (shape.obj(t, where + ".Tags[]") for t in shape.items(model.get("Tags"), where + ".Tags")))
    optional = {"name": (model, "InstanceName"), "zone": (placement, "Zone"), "instance_type": (model, "InstanceType"),
                "image_id": (model, "ImageId"), "vpc_id": (vpc, "VpcId"), "subnet_id": (vpc, "SubnetId"),
                "created_time": (model, "CreatedTime"), "charge_type": (model, "InstanceChargeType")}
    fields = {name: shape.text(source.get(key), "%s.%s" % (where, key), optional=True)
              for name, (source, key) in optional.items()}
    fields.update(project_id=shape.integer(placement.get("ProjectId"), where + ".Placement.ProjectId", optional=True),
                  security_group_ids=shape.texts(model.get("SecurityGroupIds"), where + ".SecurityGroupIds"),
                  ipv6s=shape.addresses(model.get("IPv6Addresses"), where + ".IPv6Addresses"), tags=tags)
    return fields


# --- what is at a destination ------------------------------------------------------------------------------

SIBLINGS = {"public": "%s.pub", "staging": "%s.new", "record": ".%s.reservation"}


def sibling(path, kind):
    """The one naming rule of the files beside a key file (a path or a bare name): its public key ("public"),
    a replacement's new private key waiting for its key pair to take the name ("staging"), and the record of a
    creation in progress ("record", see _reservation)."""
    head, sep, tail = path.rpartition("/")
    return head + sep + SIBLINGS[kind] % tail


@dataclass
class LocalFiles:
    """What is at private_key_path, as the decision sees it (the Destination in _keyfile reads it)."""

    path: str
    target: str = ""             # the file really written (a trusted symlink's target)
    exists: bool = False
    public_key: str | None = None  # `ssh-rsa <blob>` of the key in the existing file
    read_error: str | None = None
    encrypted: bool | None = None
    weakly_encrypted: bool = False  # encrypted more weakly than this collection writes keys
    mode: int | None = None      # permission bits of the existing file
    pub_exists: bool = False
    pub_blob: str | None = None  # base64 blob in <path>.pub, "" when that file is not a public key
    staged_public_key: str | None = None  # the key in the staging file of an interrupted replacement
    record: dict | None = None   # the record an interrupted creation left (see _reservation), if any
    reserved_public_key: str | None = None  # the key in that creation's reserved key file, if it was written
    reserved_encrypted: bool | None = None
    reserved_mode: int | None = None

    def __post_init__(self):
        self.target = self.target or self.path

    @property
    def pub_path(self):
        return sibling(self.path, "public")

    @property
    def staging_path(self):
        return sibling(self.target, "staging")

    @property
    def record_path(self):
        return sibling(self.target, "record")

    def summary(self):
        """What the diff shows of the local files."""
        return {"private_key_mode": "%04o" % self.mode if self.exists else None,
                "private_key_encrypted": self.encrypted if self.exists else None,
                "public_key_file": "present" if self.pub_exists else "absent"}
