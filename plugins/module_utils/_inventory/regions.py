# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The regions CVM offers: the Region API, CVM's own DescribeRegions as a fallback."""

from __future__ import annotations

from .._core.errors import TencentCloudAPIError
from .._core.resource import Resource
from .._core.rules import REGION_RE
from .._core.shape import Shape

# What a gateway answers when a service, a version of it or an action is not there (reference section 8), or when
# the credentials may not call it: then CVM's own DescribeRegions is asked instead. The Region API missing at an
# endpoint (an older or private one); a least-privilege CAM policy that grants CVM's read actions (cvm:Describe*) but
# not region:DescribeRegions, which worked before the Region API was used.
REGION_API_UNAVAILABLE = frozenset(["InvalidAction", "NoSuchVersion", "UnsupportedOperation", "ActionOffline",
                                    "UnauthorizedOperation", "AuthFailure.UnauthorizedOperation"])


class Regions(Resource):
    """The regions CVM offers. Neither call needs a region: the client may have none (no home region)."""

    def available(self) -> list[str]:
        """The names of the regions CVM offers this account (RegionState AVAILABLE): the Region API's DescribeRegions
        (region.tencentcloudapi.com, 2022-06-27, Product cvm), to which CVM's DescribeRegions page points (CVM's is
        no longer updated); CVM's own DescribeRegions only when the Region API is not there or not permitted
        (REGION_API_UNAVAILABLE).
        One call when the Region API answers, two when it is missing."""
        what = "Could not list the regions"
        try:
            answer = self.client.for_service("region").call("DescribeRegions", {"Product": "cvm"})
        except TencentCloudAPIError as exc:
            if exc.code not in REGION_API_UNAVAILABLE:
                raise self.failure(what, exc)
            answer = self.call("DescribeRegions", {}, what)
        shape = Shape("DescribeRegions", answer)
        try:
            listed = shape.items(answer.get("RegionSet"), "RegionSet", optional=False)
            regions = [shape.obj(r, "RegionSet[]") for r in listed]
            names = [shape.text(r.get("Region"), "RegionSet[].Region", limit=64) for r in regions
                     if shape.text(r.get("RegionState"), "RegionSet[].RegionState", limit=64) == "AVAILABLE"]
            if not all(REGION_RE.match(name) for name in names):
                raise shape.fail("RegionSet[].Region", "a region name (lower-case letters, digits, -)")
            return names
        except TencentCloudAPIError as exc:
            raise self.failure(what, exc)
