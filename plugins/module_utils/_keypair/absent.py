# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""state=absent as a plan: the key pair (and a pending replacement of it) is deleted; local files stay.

Bindings to instances that are being terminated linger on the real cloud for a while (Terraform provider #194,
#375): those are waited for (WaitUnbound, up to wait_timeout); a binding to a live instance fails at once, before
anything is deleted (decide_removal). DeleteKeyPairs answers "bound" for a while after the describe shows none, and
for a custom image's binding, which DescribeKeyPairs does not show (DeleteWhenFree)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._core.errors import TaskError
from .._core.steps import Done
from .._core.wait import Again, Backoff, Exhausted, waiter_for
from .records import KeyPair
from .spec import KeyPairSpec
from .steps import KeyPairContext

if TYPE_CHECKING:
    from .._core.steps import Step

# DescribeInstances states of an instance on its way out; its key bindings linger for a while (TF #194, #375).
GOING_AWAY = frozenset(["TERMINATING", "LAUNCH_FAILED"])
# "bound to an instance or a custom image": today's code, and the code of 2019 (Packer #7910).
IN_USE_CODES = frozenset(["InvalidParameterValue.KeyPairNotSupported", "InvalidKeyPair.NotSupported"])
LINGER = Backoff(first=1.0, factor=2.0, ceiling=10.0)


@dataclass(frozen=True)
class Removal:
    """The plan of state=absent: the key pairs to delete, the instances still bound to them, the warning that says
    so, and the steps."""

    to_delete: tuple[KeyPair, ...]
    bound: tuple[str, ...]
    warnings: tuple[str, ...]
    steps: tuple[Step[KeyPairContext, float | None], ...]


def bound_to(to_delete: tuple[KeyPair, ...]) -> tuple[str, ...]:
    return tuple(sorted({i for kp in to_delete for i in kp.associated_instance_ids}))


def decide_removal(spec: KeyPairSpec, to_delete: tuple[KeyPair, ...], states: Mapping[str, str]) -> Removal:
    """Pure: `states` are the states of the bound instances that still exist. Fails at once unless every one is
    being terminated; else waits for their bindings to go, then deletes."""
    bound = bound_to(to_delete)
    live = {i: state for i, state in states.items() if state not in GOING_AWAY}
    if live:
        raise TaskError("Key pair %s (%s) is bound to instances %s; disassociate it before deleting it"
                        % (spec.name, ", ".join(str(kp.key_id) for kp in to_delete),
                           ", ".join("%s (%s)" % item for item in sorted(live.items()))), code="KeyPairInUse")
    warnings = ("Key pair %s is still bound to instances %s, which are being terminated; Tencent Cloud releases such "
                "bindings after a while, and the task waits for that (up to wait_timeout=%ss)."
                % (spec.name, list(bound), spec.wait_timeout),) if bound else ()
    waits: list[Step[KeyPairContext, float | None]] = [WaitUnbound(to_delete)] if bound else []
    return Removal(to_delete, bound, warnings, tuple(waits) + tuple(DeleteWhenFree(kp) for kp in to_delete))


@dataclass(frozen=True)
class WaitUnbound:
    """Reads the to_delete key pairs again until no instance is bound to them (or wait_timeout). The model that flows
    through a removal is its deadline (None: no wait)."""

    to_delete: tuple[KeyPair, ...]

    def says(self) -> str:
        return "wait until no instance is bound to %s" % ", ".join(kp.key_name for kp in self.to_delete)

    def run(self, context: KeyPairContext, model: float | None) -> Done[float | None]:
        deadline = context.client.clock() + context.spec.wait_timeout

        def probe() -> None:
            fresh = context.key_pairs.find(*[kp.key_name for kp in self.to_delete])
            still = bound_to(tuple(kp for kp in fresh if kp is not None))
            if still:
                raise Again(list(still))

        try:
            waiter_for(context.client).wait_until(probe, LINGER, deadline=deadline)
        except Exhausted as exhausted:
            raise TaskError("Key pair %s is still bound to instances %s after wait_timeout=%ss. They were being "
                            "terminated; wait longer (raise wait_timeout), or disassociate the key pair."
                            % (context.spec.name, exhausted.reason, context.spec.wait_timeout),
                            code="KeyPairInUse") from None
        return Done(deadline)

    def predict(self, model: float | None) -> float | None:
        return model


@dataclass(frozen=True)
class DeleteWhenFree:
    """DeleteKeyPairs; after a wait for lingering bindings, KeyPairNotSupported is retried until the deadline (the
    delete may trail the describe). Without a wait it means a binding DescribeKeyPairs does not show: a custom
    image, and it fails at once."""

    key_pair: KeyPair

    def says(self) -> str:
        return "delete key pair %s (%s)" % (self.key_pair.key_name, self.key_pair.key_id)

    def run(self, context: KeyPairContext, model: float | None) -> Done[float | None]:
        deadline = model

        def probe() -> None:
            try:
                context.key_pairs.delete(self.key_pair)
            except TaskError as exc:
                if exc.code in IN_USE_CODES and deadline is not None:
                    raise Again(exc) from None
                raise

        try:
            waiter_for(context.client).wait_until(probe, LINGER, deadline=deadline)
        except Exhausted as exhausted:
            if isinstance(exhausted.reason, TaskError):
                raise exhausted.reason from None
            raise
        return Done(model, ("deleted key pair %s (%s)" % (self.key_pair.key_name, self.key_pair.key_id),))

    def predict(self, model: float | None) -> float | None:
        return model
