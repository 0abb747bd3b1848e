# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The instance resource: Instances (DescribeInstances, binding and unbinding key pairs)."""

from __future__ import annotations

from .._core.errors import TencentCloudAPIError
from .._core.resource import PAGE, Resource
from .._core.shape import Shape
from .records import Instance

INSTANCE_HINTS = {
    "UnsupportedOperation.InstanceStateRunning": "the instance is running: stop it first, or set force_stop=true "
                                                 "(a forced power-off, then the instance is started again)",
    "UnsupportedOperation.InstanceOsWindows": "key pairs can be bound to Linux instances only",
    "OperationDenied.InstanceOperationInProgress": "another operation is in progress on the instance; try again "
                                                   "when it has finished",
    "MutexOperation.TaskRunning": "the same task is already running on the instance; try again later",
    "InvalidInstanceId.NotFound": "no such instance in this region",
    "InvalidKeyPairId.NotFound": "no such key pair in this region",
    "UnsupportedOperation.StoppedModeStopCharging": "the instance was stopped in no-charge mode; start it, or stop "
                                                    "it with charging kept, first",
}


class Instances(Resource):
    HINTS = INSTANCE_HINTS

    def describe(self, instance_ids, what=None):
        """{instance_id: Instance} of those that exist (DescribeInstances leaves unknown IDs out)."""
        found = {}
        for start in range(0, len(instance_ids), PAGE):
            chunk = list(instance_ids[start:start + PAGE])
            answer = self.call("DescribeInstances", {"InstanceIds": chunk, "Limit": PAGE},
                               what or "Could not read instances %s" % chunk)
            try:
                page, _total = Shape("DescribeInstances", answer).page(answer, "InstanceSet", PAGE)
                models = [Instance.from_api(model, answer=answer) for model in page]
            except TencentCloudAPIError as exc:
                raise self.failure(what or "Could not read instances %s" % chunk, exc)
            found.update((m.instance_id, m) for m in models if m.instance_id in chunk)
        return found

    def list(self, filters):
        """Every instance that matches `filters` (DescribeInstances Filters; at most 10, 5 values each), as Instance
        records, in the service's order."""
        params = {"Filters": filters} if filters else {}
        return self.pages("DescribeInstances", params, "InstanceSet", Instance.from_api, "Could not list instances")

    # what binding and unbinding are called in the API (an instance's LatestOperation names them too)
    OPERATIONS = {"bind": "AssociateInstancesKeyPairs", "unbind": "DisassociateInstancesKeyPairs"}

    def change_key_pairs(self, verb, instance_ids, key_ids, force_stop):
        """`verb` "bind" (AssociateInstancesKeyPairs) or "unbind" (DisassociateInstancesKeyPairs), never repeated
        blindly (only a throttled call, which did nothing, is retried). Returns the RequestId; raises
        TencentCloudAPIError as it is."""
        params = {"InstanceIds": list(instance_ids), "KeyIds": list(key_ids)}
        if force_stop:
            params["ForceStop"] = True
        return self.client.call(self.OPERATIONS[verb], params, retry="throttled").get("RequestId")
