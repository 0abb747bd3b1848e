# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision of tencent_instance_keypairs, pure: the spec and what was read (Observed: the instances, the KeyIds
the key_pairs resolve to) go in, a Plan (or a TaskError) comes out. tests/unit/plugins/module_utils/
test_instance_decide.py holds the table.

What the service does, from the API docs, the SDK models and the clients that met it (the collection's
docs/docsite/rst/guide_instance_key_pairs.rst says it for users): only STOPPED Linux instances are accepted, unless ForceStop (a
RUNNING instance is then powered off, changed, and started again); binding adds to the instance's key pairs
(LoginSettings.KeyIds is a set); an instance with an operation in progress is waited for."""

from __future__ import annotations

from dataclasses import dataclass, field

from .._core.errors import TaskError

STABLE = frozenset(["RUNNING", "STOPPED"])
# States that pass by themselves: an instance in one of them is waited for, like one with an operation in progress.
PASSING = frozenset(["PENDING", "STARTING", "STOPPING", "REBOOTING"])


@dataclass(frozen=True)
class Observed:
    """What the reconciler read: instance_id -> Instance (those that exist), and the KeyId each of spec.key_pairs
    resolves to (None where it does not exist)."""

    instances: dict
    key_ids: tuple


@dataclass
class Plan:
    changes: dict = field(default_factory=dict)   # instance_id -> (add, remove), KeyIds in order
    busy: list = field(default_factory=list)      # instances to wait for before anything is sent
    running: list = field(default_factory=list)   # RUNNING instances to change, which need force_stop
    unusable: dict = field(default_factory=dict)  # instance_id -> state in which keys cannot change
    keyless: list = field(default_factory=list)   # instances left with no key pair

    def after(self, instances):
        """instance_id -> the KeyIds bound once the plan is carried out."""
        out = {}
        for instance_id, model in instances.items():
            add, remove = self.changes.get(instance_id, ((), ()))
            keys = [k for k in model.key_ids if k not in remove]
            out[instance_id] = keys + [k for k in add if k not in keys]
        return out


def decide(spec, observed):
    """The plan for `spec` given what was read. Raises TaskError for what no write can fix."""
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
    wanted = list(dict.fromkeys(k for k in observed.key_ids if k))
    plan = Plan()
    for instance_id in spec.instance_ids:
        _plan_instance(spec, instances[instance_id], wanted, plan)
    plan.keyless = [i for i, keys in plan.after(instances).items() if i in plan.changes and not keys]
    return plan


def _plan_instance(spec, model, wanted, plan):
    bound = list(model.key_ids)
    if spec.state == "present":
        add = [k for k in wanted if k not in bound]
        remove = [k for k in bound if k not in wanted] if spec.exclusive else []
    else:
        add, remove = [], [k for k in bound if k in wanted]
    if not add and not remove:
        return
    plan.changes[model.instance_id] = (add, remove)
    if busy(model):
        plan.busy.append(model.instance_id)
    elif model.state == "RUNNING" and not spec.force_stop:
        plan.running.append(model.instance_id)
    elif model.state not in STABLE:
        plan.unusable[model.instance_id] = model.state


def busy(model):
    """An operation in progress, or a state that passes by itself: wait."""
    return model.operation_state == "OPERATING" or model.state in PASSING


def check(plan):
    """Refuses, before any write, a plan that would need what the task does not allow."""
    if plan.unusable:
        raise TaskError("Key pairs cannot be changed on instances in these states: %s (only STOPPED, or RUNNING "
                        "with force_stop=true). Nothing was changed." % ", ".join(
                            "%s %s" % item for item in sorted(plan.unusable.items())), code="InstanceStateUnsupported")
    if plan.running:
        raise TaskError("Instances %s are RUNNING, and changing their key pairs needs them stopped. Stop them first, "
                        "or set force_stop=true: Tencent Cloud then powers them off (like pulling the plug: unsaved "
                        "data may be lost), changes the key pairs and starts them again. Nothing was changed."
                        % plan.running, code="InstanceRunning")
