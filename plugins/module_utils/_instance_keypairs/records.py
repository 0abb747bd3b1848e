# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Instance record, mapped from DescribeInstances answers, each field checked first."""

from __future__ import annotations

from dataclasses import dataclass
import re

from .._core.rules import INSTANCE_ID_RE, KEY_ID_RE
from .._core.shape import Shape

LOGIN_USER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")  # a plain POSIX user name: never an ssh option


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
