# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision of tencent_instance_keypairs, pure: the spec and what was read (Observed: the instances, the KeyIds
the key_pairs resolve to) go in, a frozen Plan (or a TaskError) comes out. tests/unit/plugins/module_utils/
test_instance_decide.py holds the table, with the steps each row yields.

What the service does, from the API docs, the SDK models and the clients that met it (the collection's
docs/docsite/rst/guide_instance_key_pairs.rst says it for users): only STOPPED Linux instances are accepted, unless
ForceStop (a RUNNING instance is then powered off, changed, and started again); binding adds to the instance's key
pairs (LoginSettings.KeyIds is a set); an instance with an operation in progress is waited for.

The plan's steps (steps.py), in this order, each only when there is something for it:

- Bind(group) ...          AssociateInstancesKeyPairs, one call per group of instances that need the same KeyIds and
                           the same ForceStop (only RUNNING instances get it, and only with force_stop), 100 a call;
- WaitDone("bind", ...)    until those operations are over: when something is unbound next (bind before unbind: an
                           instance never goes without the key pairs it keeps) or with wait=true;
- Unbind(group) ...        DisassociateInstancesKeyPairs, grouped the same way;
- WaitDone("unbind", ...)  with wait=true;
- Describe(instance_ids)   the instances as they are now, for the result.

Nothing to change: no step (and no call). When an instance to change is busy (an operation in progress, a state
that passes by itself), the plan also has `settle`: WaitIdle(busy, every instance of the task). A real run carries it
out first and decides again on what it read (the operation may have been this task's own, from an interrupted run);
check mode predicts the steps as decided now and says that a real run waits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from dataclasses import dataclass, field

from .._core.errors import TaskError
from .records import STABLE, Instance
from .spec import InstanceKeyPairsSpec
from .steps import PER_CALL, Bind, Describe, Group, Unbind, WaitDone, WaitIdle, frozen

if TYPE_CHECKING:
    from .steps import InstanceStep


@dataclass(frozen=True)
class Observed:
    """What the reconciler read: instance_id -> Instance (those that exist), and the KeyId each of spec.key_pairs
    resolves to (None where it does not exist)."""

    instances: Mapping[str, Instance]
    key_ids: tuple[str | None, ...]


@dataclass(frozen=True)
class Change:
    """The KeyIds to bind to one instance and those to unbind from it, in order."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


def _no_states() -> Mapping[str, str | None]:
    return frozen({})


@dataclass(frozen=True)
class Plan:
    changes: Mapping[str, Change]                 # instance_id -> Change, for the instances that change
    busy: tuple[str, ...] = ()                    # instances to wait for before anything is sent
    running: tuple[str, ...] = ()                 # RUNNING instances to change, which need force_stop
    unusable: Mapping[str, str | None] = field(default_factory=_no_states)  # instance_id -> a state keys cannot
    keyless: tuple[str, ...] = ()                 # instances left with no key pair
    settle: tuple[InstanceStep, ...] = ()         # before the decision holds (a real run decides again after them)
    steps: tuple[InstanceStep, ...] = ()          # the writes and waits, in order
    warnings: tuple[str, ...] = ()


def decide(spec: InstanceKeyPairsSpec, observed: Observed) -> Plan:
    """The plan for `spec` given what was read. Raises TaskError for what no write can fix."""
    _refuse(spec, observed)
    instances = observed.instances
    wanted = tuple(dict.fromkeys(k for k in observed.key_ids if k))
    changes = {i: change for i, change in ((i, _change(spec, instances[i], wanted)) for i in spec.instance_ids)
               if change.add or change.remove}
    busy = tuple(i for i in changes if instances[i].busy)
    settled = [i for i in changes if i not in busy]
    keyless = tuple(i for i, change in changes.items() if not _keys_after(instances[i], change))
    forced = frozenset(i for i in settled if instances[i].state == "RUNNING" and spec.force_stop)
    binds = _groups({i: change.add for i, change in changes.items() if change.add}, forced)
    unbinds = _groups({i: change.remove for i, change in changes.items() if change.remove}, forced)
    return Plan(changes=frozen(changes), busy=busy, keyless=keyless,
                running=tuple(i for i in settled if instances[i].state == "RUNNING" and not spec.force_stop),
                unusable=frozen({i: instances[i].state for i in settled if instances[i].state not in STABLE}),
                settle=(WaitIdle(busy, spec.instance_ids),) if busy else (),
                steps=_steps(spec, binds, unbinds), warnings=_warnings(keyless, busy))


def _refuse(spec: InstanceKeyPairsSpec, observed: Observed) -> None:
    instances = observed.instances
    missing = [i for i in spec.instance_ids if i not in instances]
    if missing:
        raise TaskError("Instances %s do not exist in this region. Nothing was changed." % missing,
                        code="InstanceNotFound")
    windows = [i for i in spec.instance_ids if instances[i].windows]
    if windows:
        raise TaskError("Instances %s run Windows: Tencent Cloud binds key pairs to Linux instances only. Nothing "
                        "was changed." % windows, code="UnsupportedInstance")
    unknown = [ref for ref, key_id in zip(spec.key_pairs, observed.key_ids) if key_id is None]
    if unknown and spec.state == "present":
        raise TaskError("Key pairs %s do not exist in this region. Nothing was changed." % unknown,
                        code="KeyPairNotFound")


def _change(spec: InstanceKeyPairsSpec, model: Instance, wanted: tuple[str, ...]) -> Change:
    bound = model.key_ids
    if spec.state == "present":
        return Change(add=tuple(k for k in wanted if k not in bound),
                      remove=tuple(k for k in bound if k not in wanted) if spec.exclusive else ())
    return Change(remove=tuple(k for k in bound if k in wanted))


def _keys_after(model: Instance, change: Change) -> tuple[str, ...]:
    kept = tuple(k for k in model.key_ids if k not in change.remove)
    return kept + tuple(k for k in change.add if k not in kept)


def _groups(keys_of: Mapping[str, tuple[str, ...]], forced: frozenset[str]) -> tuple[Group, ...]:
    """One group per KeyIds and ForceStop, in the order the instances come, cut at PER_CALL instances."""
    members: dict[tuple[tuple[str, ...], bool], list[str]] = {}
    for instance_id, keys in keys_of.items():
        members.setdefault((keys, instance_id in forced), []).append(instance_id)
    return tuple(Group(keys, tuple(ids[start:start + PER_CALL]), force_stop)
                 for (keys, force_stop), ids in members.items() for start in range(0, len(ids), PER_CALL))


def _steps(spec: InstanceKeyPairsSpec, binds: tuple[Group, ...],
           unbinds: tuple[Group, ...]) -> tuple[InstanceStep, ...]:
    """The order: bind, wait, unbind (wait), read. See the module's docstring."""
    steps: list[InstanceStep] = [Bind(group) for group in binds]
    if binds and (unbinds or spec.wait):
        steps.append(WaitDone("bind", binds))
    steps.extend(Unbind(group) for group in unbinds)
    if unbinds and spec.wait:
        steps.append(WaitDone("unbind", unbinds))
    if steps:
        steps.append(Describe(spec.instance_ids))
    return tuple(steps)


def _warnings(keyless: tuple[str, ...], busy: tuple[str, ...]) -> tuple[str, ...]:
    warnings = []
    if keyless:
        warnings.append("Instances %s are left with no key pair: SSH login by key ends there, and password login "
                        "comes back if the instance has a password." % list(keyless))
    if busy:
        warnings.append("Instances %s have an operation in progress; a real run waits for it first." % list(busy))
    return tuple(warnings)


def check(plan: Plan) -> None:
    """Refuses, before any write, a plan that would need what the task does not allow."""
    if plan.unusable:
        raise TaskError("Key pairs cannot be changed on instances in these states: %s (only STOPPED, or RUNNING "
                        "with force_stop=true). Nothing was changed." % ", ".join(
                            "%s %s" % item for item in sorted(plan.unusable.items())), code="InstanceStateUnsupported")
    if plan.running:
        raise TaskError("Instances %s are RUNNING, and changing their key pairs needs them stopped. Stop them first, "
                        "or set force_stop=true: Tencent Cloud then powers them off (like pulling the plug: unsaved "
                        "data may be lost), changes the key pairs and starts them again. Nothing was changed."
                        % list(plan.running), code="InstanceRunning")
