# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base of the resource layer: a client, the failure funnel with a resource's hints, and paging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Protocol, TypeVar

from .client import Client, Retry
from .errors import TaskError, TencentCloudAPIError
from .shape import JSON, MAX_PAGES, Shape, invalid_answer
from .signing import Params

PAGE = 100              # items per Describe page, and IDs per call

R_co = TypeVar("R_co", covariant=True)
R = TypeVar("R")


class ToRecord(Protocol[R_co]):
    """Makes a record of one item of a Describe* answer (KeyPair.from_api, Instance.from_api); `answer` is the whole
    answer, for the RequestId of a failure. Raises the TencentCloudAPIError of Shape when the item is malformed."""

    def __call__(self, item: JSON, /, *, answer: dict[str, JSON]) -> R_co:
        ...


class Resource:
    """What every resource shares: the client, and the failure funnel with the domain's hints."""

    HINTS: ClassVar[Mapping[str, str]] = {}

    def __init__(self, client: Client) -> None:
        self.client = client

    def failure(self, what: str, exc: TencentCloudAPIError, changed: bool = False) -> TaskError:
        return TaskError.from_api(what, exc, self.HINTS, changed=changed)

    def call(self, action: str, params: Params, what: str, retry: Retry = True) -> dict[str, JSON]:
        try:
            return self.client.call(action, params, retry=retry)
        except TencentCloudAPIError as exc:
            raise self.failure(what, exc)

    def pages(self, action: str, params: Params, list_name: str, to_record: ToRecord[R], what: str) -> list[R]:
        """Every page of a Describe* action (Offset/Limit, pages of PAGE) as records (`to_record(item,
        answer=...)`); at most MAX_PAGES pages: an answer that never ends is refused."""
        found: list[R] = []
        answer: dict[str, JSON] = {}
        total = 0
        for number in range(MAX_PAGES):
            answer = self.call(action, dict(params, Offset=number * PAGE, Limit=PAGE), what)
            try:
                page, total = Shape(action, answer).page(answer, list_name, PAGE)
                found.extend(to_record(item, answer=answer) for item in page)
            except TencentCloudAPIError as exc:
                raise self.failure(what, exc)
            if (number + 1) * PAGE >= total or not page:
                return found
        raise self.failure(what, invalid_answer(action, answer.get("RequestId"), "more than %d pages (TotalCount "
                                                "%d): not a list that ends" % (MAX_PAGES, total)))
