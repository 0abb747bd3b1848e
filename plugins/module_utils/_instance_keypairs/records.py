# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Instance record, mapped from DescribeInstances answers, each field checked first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import re
from typing import TypedDict

from .._core.rules import INSTANCE_ID_RE, KEY_ID_RE
from .._core.shape import JSON, Shape

LOGIN_USER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")  # a plain POSIX user name: never an ssh option
# The states in which key pairs can change (RUNNING with ForceStop only), and in which an operation is over.
STABLE = frozenset(["RUNNING", "STOPPED"])
# States that pass by themselves: an instance in one of them is waited for, like one with an operation in progress.
PASSING = frozenset(["PENDING", "STARTING", "STOPPING", "REBOOTING"])


# --- instances -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Instance:
    """An instance as DescribeInstances shows it (fields this collection reads)."""

    instance_id: str
    state: str | None = None
    os_name: str | None = None
    key_ids: tuple[str, ...] = ()
    private_ips: tuple[str, ...] = ()
    public_ips: tuple[str, ...] = ()
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
    security_group_ids: tuple[str, ...] = ()
    ipv6s: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    created_time: str | None = None
    charge_type: str | None = None

    @property
    def busy(self) -> bool:
        """An operation in progress, or a state that passes by itself: wait."""
        return self.operation_state == "OPERATING" or self.state in PASSING

    @property
    def windows(self) -> bool:
        return "windows" in str(self.os_name or "").lower()

    def result(self) -> dict[str, object]:
        return {"instance_id": self.instance_id, "state": self.state, "key_ids": list(self.key_ids),
                "os_name": self.os_name, "private_ip_addresses": list(self.private_ips),
                "public_ip_addresses": list(self.public_ips), "default_login_user": self.login_user,
                "default_login_port": self.login_port, "latest_operation": self.operation,
                "latest_operation_state": self.operation_state}

    @classmethod
    def from_api(cls, model: JSON, action: str = "DescribeInstances", answer: JSON = None,
                 where: str = "InstanceSet[]") -> Instance:
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

    def to_model(self) -> dict[str, object]:
        """The DescribeInstances model of what this record holds: Instance.from_api(to_model()) gives it back, so
        that stored records (the inventory's cache, which another user may have written) pass every check an answer
        passes, by the same code."""
        return {"InstanceId": self.instance_id, "InstanceState": self.state, "OsName": self.os_name,
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


class Described(TypedDict):
    """The fields of an Instance that only an inventory shows."""

    name: str | None
    zone: str | None
    project_id: int | None
    instance_type: str | None
    image_id: str | None
    vpc_id: str | None
    subnet_id: str | None
    security_group_ids: tuple[str, ...]
    ipv6s: tuple[str, ...]
    tags: tuple[tuple[str, str], ...]
    created_time: str | None
    charge_type: str | None


def _described(shape: Shape, model: Mapping[str, JSON], where: str) -> Described:
    """The fields an inventory shows, each checked (none reaches a command line; all are marked unsafe)."""
    placement = shape.obj(model.get("Placement") or {}, where + ".Placement")
    vpc = shape.obj(model.get("VirtualPrivateCloud") or {}, where + ".VirtualPrivateCloud")

    def text(source: Mapping[str, JSON], key: str) -> str | None:
        return shape.text(source.get(key), "%s.%s" % (where, key), optional=True)

    tags = _tags(shape, model, where)
    return Described(name=text(model, "InstanceName"), zone=text(placement, "Zone"),
                     instance_type=text(model, "InstanceType"), image_id=text(model, "ImageId"),
                     vpc_id=text(vpc, "VpcId"), subnet_id=text(vpc, "SubnetId"),
                     created_time=text(model, "CreatedTime"), charge_type=text(model, "InstanceChargeType"),
                     project_id=shape.integer(placement.get("ProjectId"), where + ".Placement.ProjectId",
                                              optional=True),
                     security_group_ids=shape.texts(model.get("SecurityGroupIds"), where + ".SecurityGroupIds"),
                     ipv6s=shape.addresses(model.get("IPv6Addresses"), where + ".IPv6Addresses"), tags=tags)


def _tags(shape: Shape, model: Mapping[str, JSON], where: str) -> tuple[tuple[str, str], ...]:
    """((key, value), ...) of the instance's Tags."""
    items = (shape.obj(t, where + ".Tags[]") for t in shape.items(model.get("Tags"), where + ".Tags"))
    return tuple((shape.text(t.get("Key"), where + ".Tags[].Key", limit=127),
                  shape.text(t.get("Value"), where + ".Tags[].Value", limit=255)) for t in items)
