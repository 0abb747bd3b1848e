# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base of the resource layer: a client, the failure funnel with a resource's hints, and paging."""

from __future__ import annotations

from .errors import TaskError, TencentCloudAPIError
from .shape import MAX_PAGES, Shape, invalid_answer

PAGE = 100              # items per Describe page, and IDs per call


class Resource:
    """What every resource shares: the client, and the failure funnel with the domain's hints."""

    HINTS = {}

    def __init__(self, client):
        self.client = client

    def failure(self, what, exc, changed=False):
        return TaskError.from_api(what, exc, self.HINTS, changed=changed)

    def call(self, action, params, what, retry=True):
        try:
            return self.client.call(action, params, retry=retry)
        except TencentCloudAPIError as exc:
            raise self.failure(what, exc)

    def pages(self, action, params, list_name, record, what):
        """Every page of a Describe* action (Offset/Limit, pages of PAGE) as records (`record(model, answer=...)`);
        at most MAX_PAGES pages: an answer that never ends is refused."""
        found = []
        for number in range(MAX_PAGES):
            answer = self.call(action, dict(params, Offset=number * PAGE, Limit=PAGE), what)
            try:
                page, total = Shape(action, answer).page(answer, list_name, PAGE)
                found.extend(record(model, answer=answer) for model in page)
            except TencentCloudAPIError as exc:
                raise self.failure(what, exc)
            if (number + 1) * PAGE >= total or not page:
                return found
        raise self.failure(what, invalid_answer(action, answer.get("RequestId"), "more than %d pages (TotalCount "
                                                "%d): not a list that ends" % (MAX_PAGES, total)))
