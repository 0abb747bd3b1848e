# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision for a key pair escrowed in a Secrets Manager secret (private_key_secret), pure like decide.py: the
spec, the key pair read by name and the secret read by name go in, a Plan (or a Removal) comes out.

Tencent Cloud makes such a key pair inside Secrets Manager (CreateSSHKeyPairSecret) and cannot put an existing one
into a secret; a secret holds one key pair for its life, joined to CVM's by name (the secret's ResourceName). So the
only states a task converges from are "neither exists" (create both at once) and "the secret holds the key pair"
(converge its description and tags); every other one fails before anything is changed, saying what to do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from .._core.errors import TaskError
from .absent import DeleteWhenFree, Removal, WaitUnbound, decide_removal
from .decide import Leftovers, Observed, Plan, _converge_tags, _leftovers, _warned
from .escrow_steps import CreateInSecret, DeleteSecret, DisableSecret
from .records import KeyPair
from .spec import KeyPairSpec
from .steps import DeleteKeyPair, Modify, SetTags

if TYPE_CHECKING:
    from .._core.steps import Step
    from .._secret.api import SshKeySecret
    from .decide import KeyPairStep
    from .steps import KeyPairContext


def decide_escrow(spec: KeyPairSpec, observed: Observed) -> Plan:
    """state=present with private_key_secret. Raises TaskError (nothing changed) unless the secret and the key pair
    are both missing or the secret holds the key pair."""
    secret, current = observed.secret, observed.current
    _check_held(spec, secret, current)
    # a pending key pair (an interrupted replacement's, of a run without private_key_secret) has no key anyone holds
    _candidate, plan = _leftovers(spec, Leftovers(current, observed.pending, None), Plan())
    if secret is None or current is None:
        tags = dict(spec.tags or {})
        plan = replace(plan, create=True, project_id=spec.project_id if spec.project_id is not None else 0,
                       tags=tags or None, description=spec.description or None, tag_replace=tags)
    else:
        plan = _decide_kept(spec, secret, current, plan)
    return replace(plan, steps=_escrow_steps(spec, plan))


def _check_held(spec: KeyPairSpec, secret: SshKeySecret | None, current: KeyPair | None) -> None:
    """Fails unless nothing exists yet or the secret holds the key pair `name`."""
    name, secret_name = spec.name, spec.private_key_secret
    if secret is not None and secret.key_name != name:
        raise TaskError("Secret %s holds key pair %s, not %s (a secret holds one key pair for its life); nothing was "
                        "changed. Choose another private_key_secret, or name=%s."
                        % (secret_name, secret.key_name or "(none)", name, secret.key_name or "(none)"),
                        code="SecretHoldsAnotherKeyPair")
    if secret is None and current is not None:
        raise TaskError("Key pair %s (%s) exists but secret %s does not, and Tencent Cloud cannot put an existing key "
                        "pair into a secret; nothing was changed. Create the key pair of the secret under another "
                        "name (the role keypair_rotation moves instances to it), or delete %s first."
                        % (name, current.key_id, secret_name, name), code="KeyPairNotInSecret")
    if secret is not None and current is None:
        raise TaskError("Secret %s holds key pair %s, which does not exist (deleted or renamed outside Secrets "
                        "Manager); nothing was changed. Delete the secret (state=absent with private_key_secret) "
                        "and run the task again." % (secret_name, name), code="SecretKeyPairMissing")


def _decide_kept(spec: KeyPairSpec, secret: SshKeySecret, current: KeyPair, plan: Plan) -> Plan:
    """The secret holds the key pair: what cannot change is a difference for regenerate (never: warn, fail: fail);
    the description and the tags of the key pair converge as without a secret."""
    differences = []
    if spec.project_id is not None and current.project_id != spec.project_id:
        differences.append("key pair %s (%s) is in project %s, not %s (a key pair cannot change project)"
                           % (spec.name, current.key_id, current.project_id, spec.project_id))
    if spec.kms_key_id is not None and secret.kms_key_id != spec.kms_key_id:
        differences.append("secret %s is encrypted with KMS key %s, not %s (its KMS key is set when it is created)"
                           % (secret.name, secret.kms_key_id, spec.kms_key_id))
    if differences and spec.regenerate == "fail":
        raise TaskError("regenerate=fail: %s" % "; ".join(differences), code="KeyMismatch")
    if differences:
        plan = _warned(plan, "%s; keeping it (regenerate=never)." % "; ".join(differences))
    if not secret.enabled:
        plan = _warned(plan, "Secret %s is %s: its private key cannot be read (the lookup tencentcloud.cvm."
                       "tencent_ssh_key, the inventory) until it is enabled again." % (secret.name, secret.status))
    if spec.description is not None and spec.description != current.description:
        plan = replace(plan, description=spec.description)
    return _converge_tags(spec, current, plan)


def _escrow_steps(spec: KeyPairSpec, plan: Plan) -> tuple[KeyPairStep, ...]:
    """A leftover first, then the key pair and its secret at once, then the key pair's description and tags (which
    CreateSSHKeyPairSecret sets on the secret: the key pair gets them through CVM and the Tag API, as any other)."""
    steps: list[KeyPairStep] = [DeleteKeyPair(plan.drop)] if plan.drop is not None else []
    if plan.create:
        steps.append(CreateInSecret(str(spec.private_key_secret), spec.name, plan.project_id or 0,
                                    dict(plan.tags) if plan.tags else None))
    if plan.description is not None:
        steps.append(Modify(plan.description))
    if plan.tag_replace or plan.tag_delete:
        steps.append(SetTags(plan.tag_replace, plan.tag_delete))
    return tuple(steps)


def decide_escrow_removal(spec: KeyPairSpec, secret: SshKeySecret | None, current: KeyPair | None,
                          pending: KeyPair | None, states: Mapping[str, str]) -> Removal:
    """state=absent with private_key_secret: the secret is disabled, then deleted with its key pair (CleanSSHKey),
    after the same checks as without a secret (a binding to a live instance fails first; bindings to instances being
    terminated are waited for). Without the secret, the key pair `name` is deleted as without private_key_secret.
    A secret holding another key pair fails, deleting nothing."""
    if secret is not None and secret.key_name != spec.name:
        raise TaskError("Secret %s holds key pair %s, not %s; nothing was deleted. Give name=%s to delete both."
                        % (secret.name, secret.key_name or "(none)", spec.name, secret.key_name or "(none)"),
                        code="SecretHoldsAnotherKeyPair")
    to_delete = tuple(kp for kp in (current, pending) if kp is not None)
    removal = decide_removal(spec, to_delete, states)
    if secret is None:
        return removal
    steps: list[Step[KeyPairContext, float | None]] = [s for s in removal.steps if isinstance(s, WaitUnbound)]
    if secret.status != "Disabled":  # the service deletes only a disabled secret
        steps.append(DisableSecret(secret.name))
    steps.append(DeleteSecret(secret.name, current))
    steps += [DeleteWhenFree(kp) for kp in to_delete if kp is not current]
    return replace(removal, steps=tuple(steps))
