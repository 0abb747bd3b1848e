# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The key-pair decision, pure: the spec and what was read (Observed: the remote key pairs, the local files, where
the task talks to) go in, a Plan (or a TaskError) comes out. No API call, no file access: the reconciler (reconcile.py)
reads, this decides, the steps (steps.py) act. tests/unit/plugins/module_utils/test_decide.py holds the table,
the recovery of an interrupted creation included."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .._core.errors import TaskError
from .._core.rules import checked_total, pending_name
from .keys import blob_of
from .records import KeyPair, LocalFiles
from .recovery import Recovery, recover
from .spec import KeyPairSpec
from .steps import (
    DeleteKeyPair, DeleteOld, KeyPairContext, Modify, Progress, RecoverFiles, RemoveStaged, SetTags, UpdateKeyFile,
    WritePub,
)


if TYPE_CHECKING:
    from .._core.steps import Step
    from .._secret.api import SshKeySecret

    KeyPairStep = Step[KeyPairContext, Progress]


@dataclass(frozen=True)
class Observed:
    """What the reconciler read: the key pair named spec.name and the one a replacement stages under
    pending_name(name) (KeyPair records or None), the local files (LocalFiles, or None without private_key_path),
    where the task talks to ((region, endpoint): a reservation record names them), and with private_key_secret the
    secret (None when it does not exist)."""

    current: KeyPair | None
    pending: KeyPair | None
    local: LocalFiles | None
    region_endpoint: tuple[str | None, str | None] = (None, None)
    secret: SshKeySecret | None = None


@dataclass(frozen=True)
class Plan:
    """What the run does, decided from (spec, observed) alone: the facts of the decision (below), and `steps`, the
    order in which the executor carries them out (_steps_of). `warnings` are part of the decision; `local` is the
    local files as the plan sees them (after a recovery's rename)."""

    create: bool = False            # create (or import) a key pair
    replace: KeyPair | None = None  # the existing key pair that the new one replaces (deleted after it exists)
    # An import of the same public key: the service refuses a duplicate public key, so the old key pair goes
    # first (its private key is the user's: nothing is lost).
    delete_first: bool = False
    adopt: KeyPair | None = None    # a pending key pair (from an interrupted replacement) that takes over the name
    drop: KeyPair | None = None     # a pending key pair that nothing needs: deleted
    recovery: Recovery | None = None  # what an interrupted creation (its reservation) left, and what to do
    install_staged: bool = False    # move the staged private key into place
    remove_staged: bool = False     # remove a staged private key that belongs to no key pair
    fix_mode: bool = False
    encrypt: bool = False
    write_pub: bool = False
    project_id: int | None = None   # of the key pair to create
    tags: Mapping[str, str] | None = None  # of the key pair to create
    tag_replace: Mapping[str, str] = field(default_factory=dict)  # tags to add or change (Tag API) on the key pair kept
    tag_delete: tuple[str, ...] = ()  # tag keys to remove from it
    description: str | None = None  # to set (on the new key pair, or on the kept one when it differs)
    private_key_matches: bool | None = None
    warnings: tuple[str, ...] = ()
    local: LocalFiles | None = None
    steps: tuple[KeyPairStep, ...] = ()

    @property
    def changes(self) -> bool:
        return bool(self.create or self.replace or self.adopt or self.drop or self.install_staged
                    or self.remove_staged or self.fix_mode or self.encrypt or self.write_pub or self.tag_replace
                    or self.tag_delete or self.description is not None or self.recovery is not None)

    @property
    def staged(self) -> bool:
        """A make-before-break replacement: the new key pair is created under the pending name, its key staged."""
        return self.replace is not None and not self.delete_first


def desired_tags(spec: KeyPairSpec, current: Mapping[str, str]) -> dict[str, str]:
    """The tags a key pair should end with: unchanged without `tags`; with purge_tags, exactly `tags`; without,
    its tags updated with `tags`."""
    if spec.tags is None:
        return dict(current)
    return dict(spec.tags) if spec.purge_tags else dict(current, **spec.tags)


# --- the decision -----------------------------------------------------------------------------------

def decide(spec: KeyPairSpec, observed: Observed) -> Plan:
    """The pure decision. Returns a Plan or raises TaskError (before anything is changed)."""
    if spec.private_key_secret is not None:
        from .escrow import decide_escrow  # the key pair of a secret: escrow.py

        return decide_escrow(spec, observed)
    recovery, current, pending, local = recover(spec, observed)
    plan = Plan(recovery=recovery, warnings=recovery.warnings if recovery else (), local=local)
    candidate, plan = _leftovers(spec, Leftovers(current, pending, local), plan)
    if current is None:
        plan = _decide_new(spec, candidate, plan)
    else:
        plan = _decide_existing(spec, current, candidate, plan)
    return replace(plan, steps=_steps_of(spec, current, plan))


def _decide_existing(spec: KeyPairSpec, current: KeyPair, candidate: KeyPair | None, plan: Plan) -> Plan:
    matches, differences = _compare(spec, current, plan.local)
    plan = replace(plan, private_key_matches=matches if plan.local is not None else None)
    renew = spec.regenerate == "always" or (bool(differences) and spec.regenerate == "mismatch")
    if differences and not renew:
        if spec.regenerate == "fail":
            raise TaskError("regenerate=fail: %s" % "; ".join(differences), code="KeyMismatch")
        plan = _warned(plan, "%s; keeping it (regenerate=never). Use regenerate=mismatch to replace the key pair."
                       % "; ".join(differences))
    if renew:
        return _decide_replace(spec, current, candidate, plan)
    return _decide_keep(spec, current, candidate, matches, plan)


def _warned(plan: Plan, warning: str) -> Plan:
    return replace(plan, warnings=plan.warnings + (warning,))


@dataclass(frozen=True)
class Leftovers:
    """What the decision found before it decides: the key pair, a pending one, the local files."""

    current: KeyPair | None
    pending: KeyPair | None
    local: LocalFiles | None


def _staged(local: LocalFiles | None) -> str | None:
    return blob_of(local.staged_public_key) if local is not None else None


def _staged_is(local: LocalFiles | None, model: KeyPair | None) -> bool:
    return model is not None and _staged(local) is not None and _staged(local) == model.blob


def _leftovers(spec: KeyPairSpec, found: Leftovers, plan: Plan) -> tuple[KeyPair | None, Plan]:
    """What an interrupted replacement left. A pending key pair whose key is held (staged, or the imported public
    key) is the candidate to take over; one whose key nobody holds is deleted (never when bound to instances). A
    staged key that belongs to neither key pair is removed. Returns (the candidate or None, the plan)."""
    current, pending, local = found.current, found.pending, found.local
    candidate = None
    if pending is not None:
        held = blob_of(spec.public_key) if spec.public_key is not None else _staged(local)
        if held is not None and held == pending.blob:
            candidate = pending
        elif pending.associated_instance_ids:
            raise TaskError("Key pair %s (%s), left by an interrupted replacement of %s, is bound to instances %s; "
                            "it is never deleted implicitly. Disassociate it first."
                            % (pending.key_name, pending.key_id, spec.name, list(pending.associated_instance_ids)),
                            code="KeyPairInUse")
        else:
            plan = _warned(replace(plan, drop=pending), "Key pair %s (%s) was left by an interrupted replacement of "
                           "%s and nobody holds its private key; it is deleted."
                           % (pending.key_name, pending.key_id, spec.name))
    if _staged(local) is not None and candidate is None and not _staged_is(local, current):
        plan = replace(plan, remove_staged=True)
    return candidate, plan


def _decide_new(spec: KeyPairSpec, candidate: KeyPair | None, plan: Plan) -> Plan:
    """No key pair of that name: finish an interrupted replacement (its old key pair is already gone), or create."""
    local = plan.local
    plan = replace(plan, project_id=spec.project_id if spec.project_id is not None else 0, tags=spec.tags,
                   private_key_matches=True if local is not None else None, write_pub=local is not None)
    if candidate is not None:
        plan = replace(plan, adopt=candidate, install_staged=local is not None)
        if spec.description is not None and spec.description != candidate.description:
            plan = replace(plan, description=spec.description)
        return _converge_tags(spec, candidate, plan)
    may_overwrite = spec.backup or spec.regenerate in ("mismatch", "always")
    if local is not None and local.exists and not may_overwrite:
        what = "a private key" if local.public_key else \
            "a file that is not a readable private key (%s)" % local.read_error
        raise TaskError("%s already holds %s, and key pair %s does not exist, so creating it would overwrite that "
                        "file. Move it away, or set backup=true (keep a copy) or regenerate=mismatch/always."
                        % (local.target, what, spec.name), code="DestinationExists")
    return replace(plan, create=True, description=spec.description or None)


def _compare(spec: KeyPairSpec, current: KeyPair, local: LocalFiles | None) -> tuple[bool, list[str]]:
    """(whether the key held locally is the key pair's, the differences in words)."""
    differences = []
    if spec.public_key is not None:
        matches = current.blob == blob_of(spec.public_key)
        if not matches:
            differences.append("the remote public key differs from public_key")
    elif local is None or _staged_is(local, current):
        matches = True  # nothing local to compare with, or the staged key is its private key (moved into place)
    elif local.exists:
        matches = local.public_key is not None and blob_of(local.public_key) == current.blob
        if not matches:
            differences.append("the private key in %s does not belong to key pair %s (%s)"
                               % (local.target, spec.name, current.key_id))
    else:
        matches = False
        differences.append("%s does not exist and Tencent Cloud cannot return the private key of key pair %s (%s) "
                           "again" % (local.path, spec.name, current.key_id))
    if spec.project_id is not None and current.project_id != spec.project_id:
        differences.append("key pair %s (%s) is in project %s, not %s (a key pair cannot change project)"
                           % (spec.name, current.key_id, current.project_id, spec.project_id))
    return matches, differences


def _decide_replace(spec: KeyPairSpec, current: KeyPair, candidate: KeyPair | None, plan: Plan) -> Plan:
    """Make before break: a new key pair (or the candidate an interrupted replacement left) takes over. It keeps
    the old key pair's project, description and tags unless the task gives them."""
    if current.associated_instance_ids:
        raise TaskError("Key pair %s (%s) must be replaced but is bound to instances %s; it is never deleted "
                        "implicitly. Disassociate it first." % (spec.name, current.key_id,
                                                                list(current.associated_instance_ids)),
                        code="KeyPairInUse")
    description = spec.description if spec.description is not None else current.description
    plan = replace(plan, replace=current, tags=checked_total(desired_tags(spec, current.tags)),
                   project_id=spec.project_id if spec.project_id is not None else current.project_id,
                   private_key_matches=True if plan.local is not None else None,
                   write_pub=plan.local is not None, install_staged=plan.local is not None)
    if candidate is not None:
        plan = replace(plan, adopt=candidate)
        if (description or "") != candidate.description:
            plan = replace(plan, description=description)
        return _converge_tags(spec, candidate, plan, target=plan.tags)
    return replace(plan, create=True, description=description or None,
                   delete_first=spec.public_key is not None and blob_of(spec.public_key) == current.blob)


def _decide_keep(spec: KeyPairSpec, current: KeyPair, candidate: KeyPair | None, matches: bool,
                 plan: Plan) -> Plan:
    """Keep the key pair, and converge what can be converged on it and on its files."""
    local = plan.local
    if candidate is not None:
        plan = _warned(replace(plan, drop=candidate, remove_staged=_staged(local) is not None),
                       "Key pair %s (%s), staged by an interrupted replacement of %s, is no longer needed "
                       "(regenerate=%s); it is deleted." % (candidate.key_name, candidate.key_id, spec.name,
                                                            spec.regenerate))
    if local is not None and spec.public_key is None:
        if _staged_is(local, current):
            plan = replace(plan, install_staged=True, write_pub=True)
        elif local.exists and local.public_key is not None:
            # a plaintext key, or one encrypted more weakly than this collection writes keys (PBKDF2 at 2,048
            # iterations, as 0.1.0 did, or OpenSSL's traditional PEM encryption), is encrypted again
            plan = replace(plan, fix_mode=local.mode != spec.mode,
                           encrypt=bool(spec.passphrase) and (local.encrypted is False or local.weakly_encrypted),
                           write_pub=matches and _pub_differs(spec, local, current))
    if spec.description is not None and spec.description != current.description:
        plan = replace(plan, description=spec.description)
    return _converge_tags(spec, current, plan)


def _pub_differs(spec: KeyPairSpec, local: LocalFiles, current: KeyPair) -> bool:
    """<path>.pub is missing, holds another key, or (public_key_comment given) another comment."""
    if not local.pub_exists or local.pub_blob != current.blob:
        return True
    return spec.public_key_comment is not None and local.pub_comment != spec.public_key_comment


def _converge_tags(spec: KeyPairSpec, model: KeyPair, plan: Plan, target: Mapping[str, str] | None = None) -> Plan:
    """The Tag API changes that bring `model`'s tags to the target (by default what `tags`/`purge_tags` ask)."""
    want = checked_total(desired_tags(spec, model.tags) if target is None else target)
    return replace(plan, tag_replace={k: v for k, v in want.items() if model.tags.get(k) != v},
                   tag_delete=tuple(sorted(k for k in model.tags if k not in want)))


# --- the order of the steps ------------------------------------------------------------------------------

def _steps_of(spec: KeyPairSpec, current: KeyPair | None, plan: Plan) -> tuple[KeyPairStep, ...]:
    """The plan's steps, in the order that is the safety argument: local leftovers first, then what the plan drops,
    the creation (its reservation fails before anything is created when the destination cannot be written), the old
    key pair only once the new one and its key exist (make before break), then names, tags and files."""
    steps: list[KeyPairStep] = []
    recovery = plan.recovery
    if recovery is not None:
        steps.append(RecoverFiles(recovery.finish))
        if recovery.orphan is not None:
            steps.append(DeleteKeyPair(recovery.orphan, "key pair %s (its private key never reached the disk)"
                                       % recovery.orphan.key_name))
    if plan.drop is not None:
        steps.append(DeleteKeyPair(plan.drop))
    if plan.remove_staged:
        steps.append(RemoveStaged())
    if plan.delete_first and current is not None:
        steps.append(DeleteKeyPair(current, "key pair %s" % spec.name, forget=True))
    if plan.create:
        from .create import Create  # only a plan that creates needs it: a converged run does not import it

        steps.append(Create(pending_name(spec.name) if plan.staged else spec.name, plan.project_id or 0,
                            dict(plan.tags) if plan.tags else None, staged=plan.staged, replacing=plan.replace))
    if plan.replace is not None and not plan.delete_first:
        steps.append(DeleteOld(plan.replace))
    if plan.staged or plan.adopt is not None or plan.description is not None:
        steps.append(Modify(plan.description))
    if plan.tag_replace or plan.tag_delete:
        steps.append(SetTags(plan.tag_replace, plan.tag_delete))
    steps += _file_steps(plan)
    return tuple(steps)


def _file_steps(plan: Plan) -> list[KeyPairStep]:
    """The key file's step (one at most), then the .pub file's: a creation straight into the key file writes its
    .pub itself (inside the reservation)."""
    how = "install" if plan.install_staged else "encrypt" if plan.encrypt else "mode" if plan.fix_mode else None
    steps: list[KeyPairStep] = [UpdateKeyFile(how)] if how else []
    if plan.write_pub and not (plan.create and not plan.staged):
        steps.append(WritePub())
    return steps
