# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The instance key-pair reconciler: read (DescribeInstances, DescribeKeyPairs) -> decide (decide.py, pure: a frozen
plan of steps) -> act (_core/steps.py's executor runs the plan; check mode predicts it) -> an Outcome, which
result() turns into the module's result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from .._core.client import Client
from .._core.errors import Journal, TaskError
from .._core.rules import KEY_ID_RE
from .._core.steps import execute, predict
from .._core.wait import Backoff, waiter_for
from .._keypair.api import KeyPairs
from .api import Instances
from .decide import Observed, Plan, check, decide
from .records import Instance
from .spec import InstanceKeyPairsSpec
from .steps import InstanceKeyPairsContext, Progress, frozen

POLL = Backoff(first=0.25, factor=1.5, ceiling=3.0)
NOT_WAITED = ("wait=false: the operations were sent and may still be in progress; instances shows them as read right "
              "after.")


@dataclass(frozen=True)
class Outcome:
    """What a run found and did: the instances as first read (`before`), as the result shows them (`shown`: as read
    last; in check mode, as read), and as they are after the run (`after`: as read last, or as predicted)."""

    changed: bool
    key_ids: tuple[str, ...]
    before: Mapping[str, Instance]
    shown: Mapping[str, Instance]
    after: Mapping[str, Instance]
    warnings: tuple[str, ...] = ()


def result(outcome: Outcome, spec: InstanceKeyPairsSpec, diff: bool) -> dict[str, object]:
    """The module's result (the action adds request_ids): `diff` with the KeyIds bound before and after."""
    out: dict[str, object] = {
        "changed": outcome.changed, "key_ids": list(outcome.key_ids),
        "instances": [outcome.shown[i].result() for i in spec.instance_ids if i in outcome.shown]}
    if diff:
        out["diff"] = {"before": {"instances": Progress(outcome.before).bound()},
                       "after": {"instances": Progress(outcome.after).bound()}}
    if outcome.warnings:
        out["warnings"] = list(outcome.warnings)
    return out


def already_sent(journal: Journal, exc: TaskError) -> TaskError:
    """How a failure after calls were sent says which: "<message>. Already sent: <journal>." (changed=true)."""
    if not journal:
        return exc
    return exc.amended("%s%sAlready sent: %s." % (exc.msg, " " if exc.msg.endswith(".") else ". ", journal.text()),
                       changed=True)


class InstanceKeyPairsReconciler:
    """tencent_instance_keypairs: run(spec) reads, decides and carries out the plan, and returns the Outcome."""

    def __init__(self, client: Client, check_mode: bool = False, poll: Backoff = POLL) -> None:
        self.client = client
        self.check_mode = check_mode
        self.poll = poll
        self.instances = Instances(client)

    def run(self, spec: InstanceKeyPairsSpec) -> Outcome:
        context = InstanceKeyPairsContext(self.instances, waiter_for(self.client), self.client.clock, self.poll,
                                          self.client.clock() + spec.wait_timeout, spec.wait_timeout)
        observed = self.read(spec)
        plan = decide(spec, observed)
        while plan.settle and not self.check_mode:
            # an operation in progress (perhaps this task's own, interrupted on an earlier run): wait, decide again
            settled = execute(plan.settle, context, Progress(observed.instances), failure=already_sent)
            observed = replace(observed, instances=settled.model.instances)
            plan = decide(spec, observed)
        check(plan)
        return self.act(spec, observed, plan, context)

    def act(self, spec: InstanceKeyPairsSpec, observed: Observed, plan: Plan,
            context: InstanceKeyPairsContext) -> Outcome:
        """Carries out the plan (binds first, then unbinds: an instance never goes without the key pairs it
        keeps), or predicts it in check mode."""
        key_ids = tuple(k for k in dict.fromkeys(observed.key_ids) if k)
        start = Progress(observed.instances)
        if self.check_mode or not plan.steps:
            return Outcome(bool(plan.steps), key_ids, observed.instances, observed.instances,
                           predict(plan.steps, start).instances, plan.warnings)
        done = execute(plan.steps, context, start, failure=already_sent)
        warnings = plan.warnings if spec.wait else plan.warnings + (NOT_WAITED,)
        return Outcome(True, key_ids, observed.instances, done.model.instances, done.model.instances, warnings)

    def read(self, spec: InstanceKeyPairsSpec) -> Observed:
        instances = self.instances.describe(spec.instance_ids)
        return Observed(frozen(instances), self.resolve(spec, instances))

    def resolve(self, spec: InstanceKeyPairsSpec, instances: Mapping[str, Instance]) -> tuple[str | None, ...]:
        """The KeyId of each of spec.key_pairs, or None where it does not exist. A KeyId bound to one of the
        instances exists; anything else is looked up (one DescribeKeyPairs per kind of reference)."""
        bound = {k for model in instances.values() for k in model.key_ids}
        names = [r for r in spec.key_pairs if r not in bound and not KEY_ID_RE.match(r)]
        ids = [r for r in spec.key_pairs if r not in bound and KEY_ID_RE.match(r)]
        if spec.state == "absent":
            ids = []  # a KeyId bound to none of the instances has nothing to unbind, whether it exists or not
        pairs = KeyPairs(self.client)
        by_name: dict[str, str] = {kp.key_name: kp.key_id for kp in pairs.query(names=names)
                                   if kp.key_id} if names else {}
        existing: set[str] = {kp.key_id for kp in pairs.query(key_ids=ids) if kp.key_id} if ids else set()
        return tuple(ref if ref in bound or ref in existing else by_name.get(ref) for ref in spec.key_pairs)
