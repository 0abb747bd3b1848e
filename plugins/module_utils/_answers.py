# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the API answers is input too: the shapes of the answers the collection reads, checked before anything is
done with them. An answer of the wrong shape (a key pair that is a number, a missing KeyId, an address that is not
an IP address, a list that never ends) is a TencentCloudAPIError with code InvalidResponse, never a traceback.

Bounds are generous (the service's own limits are far below them): they catch garbage, not unusual data."""

from __future__ import annotations

import ipaddress
import re

from ._errors import TencentCloudAPIError

MAX_PAGES = 200            # 20,000 items at 100 per page: far above any quota (100 key pairs per account)
MAX_TEXT = 4096            # names, IDs, states, descriptions, times
MAX_PUBLIC_KEY = 16384     # an OpenSSH RSA-16384 public key is about 2.8 kB
MAX_PRIVATE_KEY = 65536
MAX_ITEMS = 1000           # elements of a list inside one item (tags, bindings, addresses)
LOGIN_USER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")  # a plain POSIX user name: never an ssh option


def invalid(action, request_id, message):
    return TencentCloudAPIError(code="InvalidResponse", action=action, request_id=request_id, ambiguous=True,
                                message="%s answered %s" % (action, message))


class Shape:
    """Checks one answer of `action`; every problem names the field (never its value: it may be anything)."""

    def __init__(self, action, answer):
        self.action = action
        self.request_id = answer.get("RequestId") if isinstance(answer, dict) else None

    def fail(self, where, what):
        return invalid(self.action, self.request_id, "%s that is not %s" % (where, what))

    def text(self, value, where, optional=False, limit=MAX_TEXT):
        if value is None and optional:
            return None
        if not isinstance(value, str) or len(value) > limit:
            raise self.fail(where, "a string of at most %d characters" % limit)
        return value

    def integer(self, value, where, optional=False, low=0, high=2 ** 63 - 1):
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(where, "an integer from %d to %d" % (low, high))
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

    def texts(self, value, where, optional=True):
        return [self.text(v, "%s[%d]" % (where, i)) for i, v in enumerate(self.items(value, where, optional))]

    def addresses(self, value, where):
        out = []
        for i, address in enumerate(self.items(value, where)):
            try:
                ipaddress.ip_address(address if isinstance(address, str) and len(address) <= 64 else None)
            except ValueError:
                raise self.fail("%s[%d]" % (where, i), "an IP address")
            out.append(address)
        return out


def page(action, answer, list_name, limit):
    """(items, TotalCount) of one page of a Describe* answer."""
    shape = Shape(action, answer)
    items = shape.items(answer.get(list_name), list_name, optional=False, limit=limit)
    total = shape.integer(answer.get("TotalCount"), "TotalCount")
    return items, total


def key_pair(action, answer, model, where="KeyPairSet[]"):
    """A KeyPair object of DescribeKeyPairs (or CreateKeyPair): the fields this collection reads, checked."""
    shape = Shape(action, answer)
    shape.obj(model, where)
    shape.text(model.get("KeyId"), where + ".KeyId")
    shape.text(model.get("KeyName"), where + ".KeyName")
    shape.integer(model.get("ProjectId"), where + ".ProjectId", optional=True)
    shape.text(model.get("PublicKey"), where + ".PublicKey", optional=True, limit=MAX_PUBLIC_KEY)
    shape.text(model.get("Description"), where + ".Description", optional=True)
    shape.text(model.get("CreatedTime"), where + ".CreatedTime", optional=True)
    shape.texts(model.get("AssociatedInstanceIds"), where + ".AssociatedInstanceIds")
    for i, tag in enumerate(shape.items(model.get("Tags"), where + ".Tags")):
        shape.obj(tag, "%s.Tags[%d]" % (where, i))
        shape.text(tag.get("Key"), "%s.Tags[%d].Key" % (where, i))
        shape.text(tag.get("Value"), "%s.Tags[%d].Value" % (where, i))
    return model


def created_key_pair(action, answer):
    """CreateKeyPair's KeyPair: KeyId, PublicKey and PrivateKey are required."""
    shape = Shape(action, answer)
    model = shape.obj(answer.get("KeyPair"), "KeyPair")
    shape.text(model.get("KeyId"), "KeyPair.KeyId")
    shape.text(model.get("PublicKey"), "KeyPair.PublicKey", limit=MAX_PUBLIC_KEY)
    shape.text(model.get("PrivateKey"), "KeyPair.PrivateKey", limit=MAX_PRIVATE_KEY)
    shape.text(model.get("CreatedTime"), "KeyPair.CreatedTime", optional=True)
    if not model["KeyId"] or not model["PublicKey"] or not model["PrivateKey"]:
        raise shape.fail("KeyPair.KeyId/PublicKey/PrivateKey", "filled in")
    return model


def instance(action, answer, model, where="InstanceSet[]"):
    """An Instance object of DescribeInstances. What reaches ssh later (addresses, login user, port) must be what it
    claims to be: IP literals, a POSIX user name, a port number (an address such as `-oProxyCommand=...` would be
    an ssh option)."""
    shape = Shape(action, answer)
    shape.obj(model, where)
    shape.text(model.get("InstanceId"), where + ".InstanceId")
    shape.text(model.get("InstanceState"), where + ".InstanceState", optional=True)
    shape.text(model.get("OsName"), where + ".OsName", optional=True)
    for name in ("LatestOperation", "LatestOperationState", "LatestOperationRequestId", "LatestOperationErrorMsg"):
        shape.text(model.get(name), "%s.%s" % (where, name), optional=True)
    login = model.get("LoginSettings")
    if login is not None:
        shape.obj(login, where + ".LoginSettings")
        shape.texts(login.get("KeyIds"), where + ".LoginSettings.KeyIds")
    shape.addresses(model.get("PrivateIpAddresses"), where + ".PrivateIpAddresses")
    shape.addresses(model.get("PublicIpAddresses"), where + ".PublicIpAddresses")
    user = shape.text(model.get("DefaultLoginUser"), where + ".DefaultLoginUser", optional=True, limit=32)
    if user and not LOGIN_USER_RE.match(user):
        raise shape.fail(where + ".DefaultLoginUser", "a POSIX user name")
    shape.integer(model.get("DefaultLoginPort"), where + ".DefaultLoginPort", optional=True, low=1, high=65535)
    return model
