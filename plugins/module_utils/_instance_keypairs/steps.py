# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The steps of tencent_instance_keypairs' plans: decide.py orders them, _core/steps.py runs them. Each is a frozen
value that says what it does, does it on the Progress it is given (through the context's Instances) and returns
the next Progress; in check mode it predicts that Progress instead.

Both write calls answer at once, and the instance then shows LatestOperation/LatestOperationState OPERATING until
the operation ends in SUCCESS or FAILED, its state lagging behind (Packer #9054, Terraform's 10 s sleep): WaitDone
waits for that end, by this run's RequestId or, where the service leaves it out, by the effect."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar, TypeVar

from .._core.errors import TaskError
from .._core.resource import PAGE
from .._core.steps import Done
from .._core.wait import Again, Backoff, Exhausted, Waiter
from .api import BUSY_CODES, OPERATIONS, Instances, preposition
from .records import STABLE, Instance

K = TypeVar("K")
V = TypeVar("V")

# Without LatestOperationRequestId, a FAILED seen this long after the call is taken to be ours (Terraform waits 10 s
# before it trusts LatestOperationState at all).
STALE_GRACE = 10.0
PER_CALL = PAGE  # instances in one write call


def frozen(mapping: Mapping[K, V]) -> Mapping[K, V]:
    """A read-only copy: what a plan, a Progress or a snapshot holds is never changed after it is made."""
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Sent:
    """The operation this run sent to an instance: its RequestId and when (the client's clock)."""

    request_id: str | None
    at: float


def _nothing_sent() -> Mapping[str, Sent]:
    return frozen({})


@dataclass(frozen=True)
class Progress:
    """The value that flows through a plan: the instances as last read (or as predicted, in check mode), and the
    operation this run sent to each, which the waits look for."""

    instances: Mapping[str, Instance]
    sent: Mapping[str, Sent] = field(default_factory=_nothing_sent)

    def seen(self, found: Mapping[str, Instance]) -> Progress:
        """The instances of `found` as read now, the others as before."""
        return replace(self, instances=frozen({**self.instances, **found}))

    def reread(self, found: Mapping[str, Instance]) -> Progress:
        """Every instance as read now: one that is no longer found is no longer shown."""
        return replace(self, instances=frozen(found))

    def sending(self, instance_ids: Iterable[str], sent: Sent) -> Progress:
        return replace(self, sent=frozen({**self.sent, **{i: sent for i in instance_ids}}))

    def bound(self) -> dict[str, list[str]]:
        """instance_id -> the KeyIds bound (what the diff shows)."""
        return {i: list(model.key_ids) for i, model in self.instances.items()}


@dataclass(frozen=True)
class InstanceKeyPairsContext:
    """What every step of one run may use: the API, the client's clock and waiter, and the deadline that
    wait_timeout set at the start of the task."""

    instances: Instances
    waiter: Waiter
    clock: Callable[[], float]
    poll: Backoff
    deadline: float
    wait_timeout: int


if TYPE_CHECKING:
    from .._core.steps import Step

    InstanceStep = Step[InstanceKeyPairsContext, Progress]


@dataclass(frozen=True)
class Group:
    """One write call: the same KeyIds on up to PAGE instances, with ForceStop for RUNNING ones (force_stop)."""

    key_ids: tuple[str, ...]
    instance_ids: tuple[str, ...]
    force_stop: bool = False

    def says(self, verb: str) -> str:
        return "%s %s %s %s%s" % (verb, list(self.key_ids), preposition(verb), list(self.instance_ids),
                                  " with ForceStop" if self.force_stop else "")


@dataclass(frozen=True)
class WaitIdle:
    """Wait until none of `instance_ids` has an operation in progress or is in a state that passes by itself (an
    operation of an earlier run, perhaps this task's own); the Progress is then `read` (every instance of the task)
    as the last poll saw them, for the decision made again on it."""

    instance_ids: tuple[str, ...]
    read: tuple[str, ...]

    def says(self) -> str:
        return "wait for the operation in progress on instances %s" % list(self.instance_ids)

    def run(self, context: InstanceKeyPairsContext, model: Progress) -> Done[Progress]:
        def probe() -> dict[str, Instance]:
            found = context.instances.describe(self.read)
            if self._waiting(found):
                raise Again(found)
            return found

        try:
            found: dict[str, Instance] = context.waiter.wait_until(probe, context.poll, deadline=context.deadline)
        except Exhausted as exhausted:
            raise self._timed_out(context, exhausted.reason, model) from None
        return Done(model.reread(found))

    def predict(self, model: Progress) -> Progress:
        return model

    def _waiting(self, found: Mapping[str, Instance]) -> list[str]:
        return [i for i in self.instance_ids if i in found and found[i].busy]

    def _timed_out(self, context: InstanceKeyPairsContext, last: object, model: Progress) -> TaskError:
        found: Mapping[str, Instance] = last if isinstance(last, dict) else {}
        waiting = self._waiting(found)
        return TaskError("Timed out after wait_timeout=%ss waiting for instances %s to finish the operation in "
                         "progress on them (%s).%s" % (
                             context.wait_timeout, waiting, ", ".join(
                                 "%s %s/%s" % (i, found[i].state, found[i].operation_state) for i in waiting),
                             "" if model.sent else " Nothing was changed."), code="OperationTimeout")


@dataclass(frozen=True)
class _Send:
    """A write call of one group (Bind, Unbind). An instance busy with another operation (nothing done) is tried
    again until the deadline; the call is never repeated otherwise."""

    group: Group
    VERB: ClassVar[str] = ""

    def says(self) -> str:
        return self.group.says(self.VERB)

    def run(self, context: InstanceKeyPairsContext, model: Progress) -> Done[Progress]:
        request_id = _call_when_free(context, self.VERB, self.group)
        after = model.sending(self.group.instance_ids, Sent(request_id, context.clock()))
        return Done(after, ("%s (RequestId %s)" % (self.says(), request_id),))


@dataclass(frozen=True)
class Bind(_Send):
    """AssociateInstancesKeyPairs: binding adds to an instance's key pairs (LoginSettings.KeyIds is a set)."""

    VERB: ClassVar[str] = "bind"

    def predict(self, model: Progress) -> Progress:
        return _predicted(model, self.group, lambda keys: keys + tuple(k for k in self.group.key_ids if k not in keys))


@dataclass(frozen=True)
class Unbind(_Send):
    """DisassociateInstancesKeyPairs."""

    VERB: ClassVar[str] = "unbind"

    def predict(self, model: Progress) -> Progress:
        return _predicted(model, self.group, lambda keys: tuple(k for k in keys if k not in self.group.key_ids))


def _predicted(model: Progress, group: Group, keys_after: Callable[[tuple[str, ...]], tuple[str, ...]]) -> Progress:
    changed = {i: replace(model.instances[i], key_ids=keys_after(model.instances[i].key_ids))
               for i in group.instance_ids if i in model.instances}
    return model.seen(changed)


def _call_when_free(context: InstanceKeyPairsContext, verb: str, group: Group) -> str | None:
    """The call's RequestId; an instance busy with another operation (nothing done) is tried again until the
    deadline, and then its last answer is the failure."""
    def attempt() -> str | None:
        try:
            return context.instances.change_key_pairs(verb, group.instance_ids, group.key_ids, group.force_stop)
        except TaskError as exc:
            if exc.code in BUSY_CODES:
                raise Again(exc) from None
            raise

    try:
        request_id: str | None = context.waiter.wait_until(attempt, context.poll, deadline=context.deadline)
    except Exhausted as exhausted:
        if isinstance(exhausted.reason, TaskError):
            raise exhausted.reason from None
        raise
    return request_id


@dataclass(frozen=True)
class Watch:
    """What one instance's operation is checked against: the verb, the KeyIds it binds or unbinds, and the call."""

    instance_id: str
    verb: str
    key_ids: tuple[str, ...]
    sent: Sent


@dataclass(frozen=True)
class WaitDone:
    """Wait for this run's operations of `verb` on the instances of `groups`: an instance is done when it is
    RUNNING or STOPPED again, no longer OPERATING, and either reports this run's RequestId with SUCCESS or shows
    the change (services that do not fill LatestOperationRequestId, or show the previous operation's state for a
    while). An operation that FAILED, or an instance that disappeared, fails the run."""

    verb: str
    groups: tuple[Group, ...]

    def says(self) -> str:
        return "wait until Tencent Cloud has carried out the %s on instances %s" % (
            self.verb, [i for group in self.groups for i in group.instance_ids])

    def run(self, context: InstanceKeyPairsContext, model: Progress) -> Done[Progress]:
        watches = [Watch(i, self.verb, group.key_ids, model.sent[i]) for group in self.groups
                   for i in group.instance_ids]
        return Done(model.seen(_wait_done(context, watches, self.verb)))

    def predict(self, model: Progress) -> Progress:
        return model


def _wait_done(context: InstanceKeyPairsContext, watches: Iterable[Watch], verb: str) -> dict[str, Instance]:
    """Polls until every watched operation is over; the instances as last read."""
    pending = {watch.instance_id: watch for watch in watches}
    operating: set[str] = set()
    found: dict[str, Instance] = {}

    def probe() -> None:
        found.update(context.instances.describe(list(pending)))
        for instance_id, watch in list(pending.items()):
            model = found.get(instance_id)
            if model is not None and model.operation_state == "OPERATING":
                operating.add(instance_id)
            if finished(watch, model, instance_id in operating, context.clock()):
                del pending[instance_id]
        if pending:
            raise Again()

    try:
        context.waiter.wait_until(probe, context.poll, deadline=context.deadline)
    except Exhausted:
        raise TaskError("Timed out after wait_timeout=%ss waiting for Tencent Cloud to %s key pairs on instances "
                        "%s; the operation goes on, and the next run waits for it." % (
                            context.wait_timeout, verb, sorted(pending)), code="OperationTimeout",
                        changed=True) from None
    return found


def finished(watch: Watch, model: Instance | None, operating: bool, now: float) -> bool:
    """Whether one instance's operation is over; raises when it FAILED, or the instance is gone. `operating`: it
    was seen OPERATING since the call."""
    if model is None:
        raise TaskError("Instance %s disappeared while its key pairs were being changed." % watch.instance_id,
                        code="InstanceNotFound", changed=True)
    ours = model.operation_request_id == watch.sent.request_id
    if model.operation_state == "OPERATING":
        return False
    if model.operation_state == "FAILED" and model.operation in (OPERATIONS[watch.verb], None) and (
            ours or operating or now - watch.sent.at > STALE_GRACE):
        raise TaskError("Tencent Cloud could not %s key pairs %s on instance %s: %s." % (
            watch.verb, list(watch.key_ids), watch.instance_id,
            model.operation_error or "the operation FAILED without a message"), code="OperationFailed", changed=True)
    if watch.verb == "bind":
        shown = all(k in model.key_ids for k in watch.key_ids)
    else:
        shown = not any(k in model.key_ids for k in watch.key_ids)
    return model.state in STABLE and ((ours and model.operation_state == "SUCCESS")
                                      or (shown and not ours and model.operation_state != "FAILED"))


@dataclass(frozen=True)
class Describe:
    """Read the task's instances again: what the result shows after a real run."""

    instance_ids: tuple[str, ...]

    def says(self) -> str:
        return "read instances %s" % list(self.instance_ids)

    def run(self, context: InstanceKeyPairsContext, model: Progress) -> Done[Progress]:
        return Done(model.reread(context.instances.describe(self.instance_ids)))

    def predict(self, model: Progress) -> Progress:
        return model
