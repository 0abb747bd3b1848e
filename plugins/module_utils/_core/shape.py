# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shape of an API answer, checked before anything reads it: Shape, bounds, invalid_answer."""

from __future__ import annotations


import ipaddress
from collections.abc import Mapping
from typing import Any, Literal, overload

from .errors import TencentCloudAPIError

# An API answer, or a part of one, before Shape checked it: whatever json.loads made of the body (a dict, list,
# str, int, float, bool or None, nested to any depth). Any, not object, on purpose and only here: such a value is
# read only through Shape, whose checks (text, integer, items, obj) are the isinstance tests that give it a real
# type; a union spelled out would make every reader repeat them.
JSON = Any

MAX_PAGES = 200            # 20,000 items at 100 per page: far above any quota (100 key pairs per account)
MAX_TEXT = 4096            # names, IDs, states, descriptions, times
MAX_PUBLIC_KEY = 16384     # an OpenSSH RSA-16384 public key is about 2.8 kB
MAX_PRIVATE_KEY = 65536
MAX_ITEMS = 1000           # elements of a list inside one item (tags, bindings, addresses)
COUNT = (0, 2 ** 63 - 1)   # the bounds of an integer by default: a count, an ID, a port


def invalid_answer(action: str, request_id: str | None, message: str) -> TencentCloudAPIError:
    return TencentCloudAPIError(code="InvalidResponse", action=action, request_id=request_id, ambiguous=True,
                                message="%s answered %s" % (action, message))


class Shape:
    """Checks one answer of `action`; every problem names the field (never its value: it may be anything)."""

    def __init__(self, action: str, answer: JSON) -> None:
        self.action = action
        request_id = answer.get("RequestId") if isinstance(answer, dict) else None
        self.request_id: str | None = request_id  # the client let only a well-formed RequestId through

    def fail(self, where: str, what: str) -> TencentCloudAPIError:
        return invalid_answer(self.action, self.request_id, "%s that is not %s" % (where, what))

    @overload
    def text(self, value: JSON, where: str, optional: Literal[False] = ..., limit: int = ...) -> str:
        ...

    @overload
    def text(self, value: JSON, where: str, optional: bool, limit: int = ...) -> str | None:
        ...

    def text(self, value: JSON, where: str, optional: bool = False, limit: int = MAX_TEXT) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or len(value) > limit:
            raise self.fail(where, "a string of at most %d characters" % limit)
        return value

    def integer(self, value: JSON, where: str, optional: bool = False,
                bounds: tuple[int, int] = COUNT) -> int | None:
        if value is None and optional:
            return None
        return self._integer_within(value, where, bounds)

    def _integer_within(self, value: JSON, where: str, bounds: tuple[int, int]) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
            raise self.fail(where, "an integer from %d to %d" % bounds)
        return value

    def items(self, value: JSON, where: str, optional: bool = True, limit: int = MAX_ITEMS) -> list[JSON]:
        if value is None and optional:
            return []
        if not isinstance(value, list) or len(value) > limit:
            raise self.fail(where, "a list of at most %d items" % limit)
        return value

    def obj(self, value: JSON, where: str) -> dict[str, JSON]:
        if not isinstance(value, dict):
            raise self.fail(where, "an object")
        return value

    def texts(self, value: JSON, where: str) -> tuple[str, ...]:
        return tuple(self.text(v, "%s[%d]" % (where, i)) for i, v in enumerate(self.items(value, where)))

    def addresses(self, value: JSON, where: str) -> tuple[str, ...]:
        out = []
        for i, address in enumerate(self.items(value, where)):
            if not (isinstance(address, str) and len(address) <= 64 and _is_ip_address(address)):
                raise self.fail("%s[%d]" % (where, i), "an IP address")
            out.append(address)
        return tuple(out)

    def page(self, answer: Mapping[str, JSON], list_name: str, limit: int) -> tuple[list[JSON], int]:
        """(items, TotalCount) of one page of a Describe* answer."""
        items = self.items(answer.get(list_name), list_name, optional=False, limit=limit)
        return items, self._integer_within(answer.get("TotalCount"), "TotalCount", COUNT)


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
