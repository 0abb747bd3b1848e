# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The instance resource: Instances (DescribeInstances, binding and unbinding key pairs). Every method raises
TaskError (LostAnswer when a write's answer was lost), never the API error itself."""

from __future__ import annotations

from collections.abc import Sequence

from .._core.errors import LostAnswer, TencentCloudAPIError
from .._core.resource import PAGE, Resource
from .._core.shape import Shape
from .._core.signing import Param, Params
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

# Answers that say the instance is busy and nothing was done: a caller may try again.
BUSY_CODES = frozenset(["OperationDenied.InstanceOperationInProgress", "MutexOperation.TaskRunning"])

# What binding and unbinding are called in the API (an instance's LatestOperation names them too).
OPERATIONS = {"bind": "AssociateInstancesKeyPairs", "unbind": "DisassociateInstancesKeyPairs"}


def preposition(verb: str) -> str:
    """"bind ... to", "unbind ... from"."""
    return "to" if verb == "bind" else "from"


class Instances(Resource):
    HINTS = INSTANCE_HINTS
    OPERATIONS = OPERATIONS

    def describe(self, instance_ids: Sequence[str], what: str | None = None) -> dict[str, Instance]:
        """{instance_id: Instance} of those that exist (DescribeInstances leaves unknown IDs out)."""
        found: dict[str, Instance] = {}
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

    def list(self, filters: Sequence[Params]) -> list[Instance]:
        """Every instance that matches `filters` (DescribeInstances Filters; at most 10, 5 values each), as Instance
        records, in the service's order."""
        params: Params = {"Filters": list(filters)} if filters else {}
        found: list[Instance] = self.pages("DescribeInstances", params, "InstanceSet", Instance.from_api,
                                           "Could not list instances")
        return found

    def change_key_pairs(self, verb: str, instance_ids: Sequence[str], key_ids: Sequence[str],
                         force_stop: bool) -> str | None:
        """`verb` "bind" (AssociateInstancesKeyPairs) or "unbind" (DisassociateInstancesKeyPairs), never repeated
        blindly (only a throttled call, which did nothing, is retried). Returns the RequestId. Raises TaskError
        (its code BUSY_CODES when the instance was busy and nothing was done), or LostAnswer."""
        what = "Could not %s key pairs %s %s instances %s" % (verb, list(key_ids), preposition(verb),
                                                              list(instance_ids))
        params: dict[str, Param] = {"InstanceIds": list(instance_ids), "KeyIds": list(key_ids)}
        if force_stop:
            params["ForceStop"] = True
        try:
            answer = self.client.call(OPERATIONS[verb], params, retry="throttled")
        except TencentCloudAPIError as exc:
            if exc.ambiguous:
                raise LostAnswer.from_api("%s: the answer was lost, so the operation may be under way; the next run "
                                          "waits for it and finishes" % what, exc, self.HINTS, changed=True) from None
            raise self.failure(what, exc) from None
        request_id: str | None = answer.get("RequestId")
        return request_id
