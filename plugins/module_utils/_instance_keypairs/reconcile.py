# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The instance key-pair reconciler: read (DescribeInstances, DescribeKeyPairs) -> decide (decide.py,
pure) -> act (AssociateInstancesKeyPairs first, DisassociateInstancesKeyPairs after), waiting for the asynchronous
operations: both calls answer at once, and the instance then shows LatestOperation/LatestOperationState OPERATING
until the operation ends in SUCCESS or FAILED, its state lagging behind (Packer #9054, Terraform's 10 s sleep)."""

from __future__ import annotations

from .._core.errors import Journal, TaskError, TencentCloudAPIError
from .._core.resource import PAGE
from .._core.rules import KEY_ID_RE
from .._core.wait import Again, Backoff, Exhausted, waiter_for
from .._keypair.api import KeyPairs
from .api import Instances
from .decide import STABLE, Observed, busy, check, decide

# Answers that say the instance is busy and nothing was done: retried until wait_timeout.
BUSY_CODES = frozenset(["OperationDenied.InstanceOperationInProgress", "MutexOperation.TaskRunning"])
# Without LatestOperationRequestId, a FAILED seen this long after the call is taken to be ours (Terraform waits 10 s
# before it trusts LatestOperationState at all).
STALE_GRACE = 10.0
POLL = Backoff(first=0.25, factor=1.5, ceiling=3.0)
BIND, UNBIND = "bind", "unbind"


class InstanceKeyPairsReconciler:
    """tencent_instance_keypairs: run(spec) reads, decides and acts, and returns the task's result."""

    def __init__(self, client, check_mode=False, poll=POLL):
        self.client = client
        self.check_mode = check_mode
        self.poll = poll
        self.instances = Instances(client)

    def run(self, spec):
        deadline = self.client.clock() + spec.wait_timeout
        journal = Journal()
        observed = self.read(spec)
        plan = decide(spec, observed)
        while plan.busy and not self.check_mode:
            # an operation in progress (perhaps this task's own, interrupted on an earlier run): wait, read again
            self._wait_idle(plan.busy, deadline, journal, spec)
            observed = Observed(self.instances.describe(spec.instance_ids), observed.key_ids)
            plan = decide(spec, observed)
        check(plan)
        return self.act(spec, observed, plan, (deadline, journal))

    def read(self, spec):
        instances = self.instances.describe(spec.instance_ids)
        return Observed(instances, self.resolve(spec, instances))

    def resolve(self, spec, instances):
        """The KeyId of each of spec.key_pairs, or None where it does not exist. A KeyId bound to one of the
        instances exists; anything else is looked up (one DescribeKeyPairs per kind of reference)."""
        bound = {k for model in instances.values() for k in model.key_ids}
        key_ids = [ref if ref in bound else None for ref in spec.key_pairs]
        names = [r for r, k in zip(spec.key_pairs, key_ids) if k is None and not KEY_ID_RE.match(r)]
        ids = [r for r, k in zip(spec.key_pairs, key_ids) if k is None and KEY_ID_RE.match(r)]
        if spec.state == "absent":
            ids = []  # a KeyId bound to none of the instances has nothing to unbind, whether it exists or not
        if not names and not ids:
            return tuple(key_ids)
        pairs = KeyPairs(self.client)
        by_name = {kp.key_name: kp.key_id for kp in pairs.query(names=names)} if names else {}
        existing = {kp.key_id for kp in pairs.query(key_ids=ids)} if ids else set()
        return tuple(k if k is not None else by_name.get(ref) if not KEY_ID_RE.match(ref) else ref
                     if ref in existing else None for ref, k in zip(spec.key_pairs, key_ids))

    def act(self, spec, observed, plan, progress):
        """Binds first, then unbinds: an instance never goes without the key pairs it keeps (research §2)."""
        deadline, journal = progress
        before = {i: list(m.key_ids) for i, m in observed.instances.items()}
        warnings = _warnings(plan)
        if not plan.changes or self.check_mode:
            return _result(bool(plan.changes), (spec, observed), before, plan.after(observed.instances), warnings)
        adds = {i: add for i, (add, _remove) in plan.changes.items() if add}
        removes = {i: remove for i, (_add, remove) in plan.changes.items() if remove}
        instances = observed.instances
        if adds:
            sent = self._send(BIND, adds, instances, (deadline, journal))
            if removes or spec.wait:
                self._wait_done(sent, adds, BIND, (deadline, journal, spec))
                if removes:
                    instances = self._describe(spec.instance_ids, journal)
        if removes:
            sent = self._send(UNBIND, removes, instances, (deadline, journal))
            if spec.wait:
                self._wait_done(sent, removes, UNBIND, (deadline, journal, spec))
        final = Observed(self._describe(spec.instance_ids, journal), observed.key_ids)
        if not spec.wait:
            warnings.append("wait=false: the operations were sent and may still be in progress; instances shows "
                            "them as read right after.")
        return _result(True, (spec, final), before, {i: list(m.key_ids) for i, m in final.instances.items()},
                       warnings)

    def _describe(self, instance_ids, journal):
        try:
            return self.instances.describe(instance_ids)
        except TaskError as exc:
            raise _sent(exc, journal)

    def _send(self, action, changes, instances, progress):
        """`action` is "bind" or "unbind" (the resource layer names the API action). One call per group of
        instances that need the same KeyIds and the same ForceStop (only RUNNING ones get it, and only with
        force_stop: check() refused the others). Returns {instance_id: (RequestId, sent at)}."""
        groups = {}
        for instance_id, keys in changes.items():
            groups.setdefault((tuple(keys), instances[instance_id].state == "RUNNING"), []).append(instance_id)
        sent = {}
        for (keys, force), members in groups.items():
            for start in range(0, len(members), PAGE):
                chunk = members[start:start + PAGE]
                request_id = self._call_when_free(action, (chunk, keys, force), progress)
                progress[1].add("%s %s %s %s%s (RequestId %s)" % (
                    action, list(keys), _prep(action), chunk, " with ForceStop" if force else "", request_id))
                sent.update((i, (request_id, self.client.clock())) for i in chunk)
        return sent

    def _call_when_free(self, action, change, progress):
        """The call; an instance busy with another operation (nothing done) is tried again until the deadline."""
        deadline, journal = progress
        chunk, keys, force = change
        what = "Could not %s key pairs %s %s instances %s" % (action, list(keys), _prep(action), chunk)

        def attempt():
            try:
                return self.instances.change_key_pairs(action, chunk, keys, force)
            except TencentCloudAPIError as exc:
                if exc.code in BUSY_CODES:
                    raise Again(exc)
                raise

        try:
            return waiter_for(self.client).wait_until(attempt, self.poll, deadline=deadline)
        except Exhausted as exhausted:
            raise _sent(self.instances.failure(what, exhausted.reason), journal) from None
        except TencentCloudAPIError as exc:
            if exc.ambiguous:
                raise _sent(self.instances.failure("%s: the answer was lost, so the operation may be under way; the "
                                                   "next run waits for it and finishes" % what, exc), journal,
                            maybe=True) from None
            raise _sent(self.instances.failure(what, exc), journal) from None

    def _wait_idle(self, instance_ids, deadline, journal, spec):
        """Polls until none of `instance_ids` is OPERATING or in a passing state."""
        def probe():
            found = self._describe(instance_ids, journal)
            waiting = [i for i in instance_ids if i in found and busy(found[i])]
            if waiting:
                raise Again((waiting, found))
            return found

        try:
            return waiter_for(self.client).wait_until(probe, self.poll, deadline=deadline)
        except Exhausted as exhausted:
            waiting, found = exhausted.reason
            raise TaskError("Timed out after wait_timeout=%ss waiting for instances %s to finish the operation in "
                            "progress on them (%s). %s" % (spec.wait_timeout, waiting, ", ".join(
                                "%s %s/%s" % (i, found[i].state, found[i].operation_state) for i in waiting),
                                _said(journal)), code="OperationTimeout", changed=bool(journal))

    def _wait_done(self, sent, changes, action, progress):
        """Waits for this task's operations: an instance is done when it is RUNNING or STOPPED again, no longer
        OPERATING, and either reports our RequestId with SUCCESS or shows the change (services that do not fill
        LatestOperationRequestId, or show the previous operation's state for a while)."""
        deadline, journal, spec = progress
        pending, seen_operating = dict(sent), set()

        def probe():
            found = self._describe(list(pending), journal)
            for instance_id in list(pending):
                if self._done(found.get(instance_id), (instance_id, pending[instance_id]), (changes, action),
                              (seen_operating, journal)):
                    del pending[instance_id]
            if pending:
                raise Again()

        try:
            waiter_for(self.client).wait_until(probe, self.poll, deadline=deadline)
        except Exhausted:
            raise TaskError("Timed out after wait_timeout=%ss waiting for Tencent Cloud to %s key pairs on instances "
                            "%s; the operation goes on, and the next run waits for it. %s" % (
                                spec.wait_timeout, action, sorted(pending), _said(journal)),
                            code="OperationTimeout", changed=True)

    def _done(self, model, sent, change, seen):
        """Whether one instance's operation is over (raises when it FAILED, or the instance is gone)."""
        (instance_id, (request_id, sent_at)), (changes, action), (seen_operating, journal) = sent, change, seen
        if model is None:
            raise TaskError("Instance %s disappeared while its key pairs were being changed. %s"
                            % (instance_id, _said(journal)), code="InstanceNotFound", changed=True)
        ours = model.operation_request_id == request_id
        if model.operation_state == "OPERATING":
            seen_operating.add(instance_id)
            return False
        if model.operation_state == "FAILED" and model.operation in (Instances.OPERATIONS[action], None) and (
                ours or instance_id in seen_operating or self.client.clock() - sent_at > STALE_GRACE):
            raise TaskError("Tencent Cloud could not %s key pairs %s on instance %s: %s. %s" % (
                action, changes[instance_id], instance_id,
                model.operation_error or "the operation FAILED without a message", _said(journal)),
                code="OperationFailed", changed=True)
        wanted = changes[instance_id]
        shown = all(k in model.key_ids for k in wanted) if action == BIND else \
            not any(k in model.key_ids for k in wanted)
        return model.state in STABLE and ((ours and model.operation_state == "SUCCESS")
                                          or (shown and not ours and model.operation_state != "FAILED"))


def _prep(action):
    return "to" if action == BIND else "from"


def _said(journal):
    return "Already sent: %s." % journal.text() if journal else "Nothing was changed."


def _sent(error, journal, maybe=False):
    """A failure after some calls were sent says which (and that something changed)."""
    error.changed = error.changed or bool(journal) or maybe
    if journal:
        error.msg = "%s. Already sent: %s." % (error.msg, journal.text())
        error.args = (error.msg,)
    return error


def _warnings(plan):
    warnings = []
    if plan.keyless:
        warnings.append("Instances %s are left with no key pair: SSH login by key ends there, and password login "
                        "comes back if the instance has a password." % plan.keyless)
    if plan.busy:
        warnings.append("Instances %s have an operation in progress; a real run waits for it first." % plan.busy)
    return warnings


def _result(changed, read, before, after, warnings):
    spec, observed = read
    result = {"changed": changed, "key_ids": [k for k in dict.fromkeys(observed.key_ids) if k],
              "instances": [observed.instances[i].result() for i in spec.instance_ids if i in observed.instances],
              "diff": {"before": {"instances": before}, "after": {"instances": after}}}
    if warnings:
        result["warnings"] = warnings
    return result
