# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shape of an API answer, checked before anything reads it: Shape, bounds, invalid_answer."""

from __future__ import annotations


import ipaddress

from .errors import TencentCloudAPIError

MAX_PAGES = 200            # 20,000 items at 100 per page: far above any quota (100 key pairs per account)
MAX_TEXT = 4096            # names, IDs, states, descriptions, times
MAX_PUBLIC_KEY = 16384     # an OpenSSH RSA-16384 public key is about 2.8 kB
MAX_PRIVATE_KEY = 65536
MAX_ITEMS = 1000           # elements of a list inside one item (tags, bindings, addresses)


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
