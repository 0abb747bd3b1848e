# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The key-pair decision, pure: the spec and what was read (Observed: the remote key pairs, the local files, where
the task talks to) go in, a Plan (or a TaskError) comes out. No API call, no file access: the reconciler (reconcile.py)
reads, this decides, the steps (steps.py) act. tests/unit/plugins/module_utils/test_decide.py holds the table,
the recovery of an interrupted creation included."""

from __future__ import annotations

import calendar
import copy
from dataclasses import dataclass, field
import time

from .._core.errors import TaskError
from .._core.rules import checked_total, pending_name
from .keys import blob_of
from .records import KeyPair, LocalFiles

# How far a key pair's CreatedTime may lie before the time recorded in a reservation and still be the one that
# creation made: the signature window (the control node's clock is within 5 minutes of Tencent Cloud's).
CLOCK_SLACK = 300


@dataclass(frozen=True)
class Observed:
    """What the reconciler read: the key pair named spec.name and the one a replacement stages under
    pending_name(name) (KeyPair records or None), the local files (LocalFiles, or None without private_key_path),
    and where the task talks to ((region, endpoint): a reservation record names them)."""

    current: KeyPair | None
    pending: KeyPair | None
    local: LocalFiles | None
    target: tuple = (None, None)


@dataclass
class Recovery:
    """What to do about the record an interrupted creation left (found under the directory lock, so its process is
    gone). Its files are always cleaned up; `finish` renames a fully written reserved key into place; `orphan` is a
    key pair to delete because nobody holds its private key."""

    record: dict
    finish: str | None = None
    orphan: KeyPair | None = None
    warnings: list = field(default_factory=list)


@dataclass
class Plan:
    """What the run does, decided from (spec, observed) alone. `warnings` are part of the decision; `local` is the
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
    tags: dict | None = None        # of the key pair to create
    tag_replace: dict = field(default_factory=dict)  # tags to add or change (Tag API) on the key pair kept
    tag_delete: list = field(default_factory=list)   # tag keys to remove from it
    description: str | None = None  # to set (on the new key pair, or on the kept one when it differs)
    private_key_matches: bool | None = None
    warnings: list = field(default_factory=list)
    local: LocalFiles | None = None

    @property
    def changes(self):
        return bool(self.create or self.replace or self.adopt or self.drop or self.install_staged
                    or self.remove_staged or self.fix_mode or self.encrypt or self.write_pub or self.tag_replace
                    or self.tag_delete or self.description is not None or self.recovery is not None)

    @property
    def staged(self):
        """A make-before-break replacement: the new key pair is created under the pending name, its key staged."""
        return self.replace is not None and not self.delete_first


def desired_tags(spec, current):
    """The tags a key pair should end with: unchanged without `tags`; with purge_tags, exactly `tags`; without,
    its tags updated with `tags`."""
    if spec.tags is None:
        return dict(current)
    return dict(spec.tags) if spec.purge_tags else dict(current, **spec.tags)


# --- the decision -----------------------------------------------------------------------------------

def decide(spec, observed):
    """The pure decision. Returns a Plan or raises TaskError (before anything is changed)."""
    recovery, current, pending, local = recover(spec, observed)
    plan = Plan(recovery=recovery, warnings=list(recovery.warnings) if recovery else [], local=local)
    candidate = _leftovers(spec, current, pending, local, plan)
    if current is None:
        return _decide_new(spec, candidate, local, plan)
    matches, differences = _compare(spec, current, local)
    plan.private_key_matches = matches if local is not None else None
    replace = spec.regenerate == "always" or (bool(differences) and spec.regenerate == "mismatch")
    if differences and not replace:
        if spec.regenerate == "fail":
            raise TaskError("regenerate=fail: %s" % "; ".join(differences), code="KeyMismatch")
        plan.warnings.append("%s; keeping it (regenerate=never). Use regenerate=mismatch to replace the key pair."
                             % "; ".join(differences))
    if replace:
        return _decide_replace(spec, current, candidate, plan)
    return _decide_keep(spec, current, candidate, matches, plan)


def _staged(local):
    return blob_of(local.staged_public_key) if local is not None else None


def _staged_is(local, model):
    return model is not None and _staged(local) is not None and _staged(local) == model.blob


def _leftovers(spec, current, pending, local, plan):
    """What an interrupted replacement left. A pending key pair whose key is held (staged, or the imported public
    key) is the candidate to take over; one whose key nobody holds is deleted (never when bound to instances). A
    staged key that belongs to neither key pair is removed."""
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
            plan.drop = pending
            plan.warnings.append("Key pair %s (%s) was left by an interrupted replacement of %s and nobody holds "
                                 "its private key; it is deleted." % (pending.key_name, pending.key_id, spec.name))
    if _staged(local) is not None and candidate is None and not _staged_is(local, current):
        plan.remove_staged = True
    return candidate


def _decide_new(spec, candidate, local, plan):
    """No key pair of that name: finish an interrupted replacement (its old key pair is already gone), or create."""
    plan.project_id = spec.project_id if spec.project_id is not None else 0
    plan.tags = spec.tags
    plan.private_key_matches = True if local is not None else None
    plan.write_pub = local is not None
    if candidate is not None:
        plan.adopt = candidate
        plan.install_staged = local is not None
        if spec.description is not None and spec.description != candidate.description:
            plan.description = spec.description
        _converge_tags(spec, candidate, plan)
        return plan
    may_overwrite = spec.backup or spec.regenerate in ("mismatch", "always")
    if local is not None and local.exists and not may_overwrite:
        what = "a private key" if local.public_key else \
            "a file that is not a readable private key (%s)" % local.read_error
        raise TaskError("%s already holds %s, and key pair %s does not exist, so creating it would overwrite that "
                        "file. Move it away, or set backup=true (keep a copy) or regenerate=mismatch/always."
                        % (local.target, what, spec.name), code="DestinationExists")
    plan.create = True
    plan.description = spec.description or None
    return plan


def _compare(spec, current, local):
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


def _decide_replace(spec, current, candidate, plan):
    """Make before break: a new key pair (or the candidate an interrupted replacement left) takes over. It keeps
    the old key pair's project, description and tags unless the task gives them."""
    if current.associated_instance_ids:
        raise TaskError("Key pair %s (%s) must be replaced but is bound to instances %s; it is never deleted "
                        "implicitly. Disassociate it first." % (spec.name, current.key_id,
                                                                list(current.associated_instance_ids)),
                        code="KeyPairInUse")
    plan.replace = current
    plan.project_id = spec.project_id if spec.project_id is not None else current.project_id
    plan.tags = checked_total(desired_tags(spec, current.tags))
    description = spec.description if spec.description is not None else current.description
    plan.private_key_matches = True if plan.local is not None else None
    plan.write_pub = plan.install_staged = plan.local is not None
    if candidate is not None:
        plan.adopt = candidate
        if (description or "") != candidate.description:
            plan.description = description
        _converge_tags(spec, candidate, plan, target=plan.tags)
    else:
        plan.create = True
        plan.delete_first = spec.public_key is not None and blob_of(spec.public_key) == current.blob
        plan.description = description or None
    return plan


def _decide_keep(spec, current, candidate, matches, plan):
    """Keep the key pair, and converge what can be converged on it and on its files."""
    local = plan.local
    if candidate is not None:
        plan.drop = candidate
        plan.remove_staged = _staged(local) is not None
        plan.warnings.append("Key pair %s (%s), staged by an interrupted replacement of %s, is no longer needed "
                             "(regenerate=%s); it is deleted." % (candidate.key_name, candidate.key_id, spec.name,
                                                                  spec.regenerate))
    if local is not None and spec.public_key is None:
        if _staged_is(local, current):
            plan.install_staged = plan.write_pub = True
        elif local.exists and local.public_key is not None:
            plan.fix_mode = local.mode != spec.mode
            # a plaintext key, or one encrypted more weakly than this collection writes keys (PBKDF2 at 2,048
            # iterations, as 0.1.0 did, or OpenSSL's traditional PEM encryption), is encrypted again
            plan.encrypt = bool(spec.passphrase) and (local.encrypted is False or local.weakly_encrypted)
            plan.write_pub = matches and (not local.pub_exists or local.pub_blob != current.blob)
    if spec.description is not None and spec.description != current.description:
        plan.description = spec.description
    _converge_tags(spec, current, plan)
    return plan


def _converge_tags(spec, model, plan, target=None):
    """The Tag API changes that bring `model`'s tags to the target (by default what `tags`/`purge_tags` ask)."""
    want = checked_total(desired_tags(spec, model.tags) if target is None else target)
    plan.tag_replace = {k: v for k, v in want.items() if model.tags.get(k) != v}
    plan.tag_delete = sorted(k for k in model.tags if k not in want)


# --- recovery of an interrupted creation --------------------------------------------------------------

def recover(spec, observed):
    """(Recovery or None, current, pending, local) as the decision sees them: an orphan to be deleted counts as
    gone, and a reserved key to be renamed into place as there."""
    current, pending, local = observed.current, observed.pending, observed.local
    if local is None or local.record is None:
        return None, current, pending, local
    recovery = assess(spec, observed)
    if recovery.finish:
        local = _finished(local, recovery)
    if recovery.orphan is not None and current is not None and recovery.orphan.key_id == current.key_id:
        current = None
    elif recovery.orphan is not None:
        pending = None
    return recovery, current, pending, local


def _finished(local, recovery):
    """The local files as they are once the reserved key is renamed into place (a copy: `local` is what is there)."""
    view = copy.copy(local)
    if recovery.finish == local.staging_path:
        view.staged_public_key = local.reserved_public_key
    else:
        view.exists, view.public_key, view.read_error = True, local.reserved_public_key, None
        view.mode, view.encrypted = local.reserved_mode, local.reserved_encrypted
    return view


def _created_at(model):
    try:
        return calendar.timegm(time.strptime(model.created_time or "", "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None


def _utc(when):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when))


def assess(spec, observed):
    """The judgement of a record an interrupted creation left. Returns a Recovery, or raises
    TaskError(InterruptedCreation) when it cannot tell safely what the interrupted creation left."""
    local, record = observed.local, observed.local.record or {}
    recovery = Recovery(record=record)
    name, when = record.get("key_pair"), record.get("time")
    if not name or not isinstance(when, (int, float)):
        return recovery  # never completed: the process died before it sent anything
    what, remove_it = _about(record, local)
    if (record.get("region"), record.get("endpoint")) != tuple(observed.target) or \
            name not in (spec.name, pending_name(spec.name)):
        raise TaskError("%s left %s. This task manages key pair %s in region %s at %s, so it cannot tell what that "
                        "creation left. Run the task for key pair %s with region %s and endpoint %s once, so that it "
                        "can recover; or %s."
                        % (what, local.record_path, spec.name, observed.target[0], observed.target[1],
                           record.get("name", name), record.get("region"), record.get("endpoint"), remove_it),
                        code="InterruptedCreation")
    model = observed.current if name == spec.name else observed.pending
    if model is None:
        return recovery  # nothing was committed, or it was deleted again
    if blob_of(local.reserved_public_key) == model.blob and record.get("path") in (local.target, local.staging_path):
        recovery.finish = record["path"]  # the key had been written; only the rename was missing
        return recovery
    if model.blob in (blob_of(local.public_key), blob_of(local.staged_public_key)):
        return recovery  # the key made it to disk
    return _orphan(spec, local, recovery, model)


def _about(record, local):
    """(what the record says in words, what the user may do with it)."""
    what = "An interrupted creation of key pair %s (region %s, endpoint %s, at %s UTC, process %s on %s)" % (
        record.get("key_pair"), record.get("region"), record.get("endpoint"), _utc(record["time"]),
        record.get("pid"), record.get("host"))
    return what, "remove %s once you know what became of it" % local.record_path


def _orphan(spec, local, recovery, model):
    """The interrupted creation committed and its key is lost: delete the key pair, unless it may not be its."""
    what, remove_it = _about(recovery.record, local)
    if model.associated_instance_ids:
        raise TaskError("%s committed: key pair %s (%s) exists, nobody holds its private key, and it is bound to "
                        "instances %s, so it is not deleted implicitly. Disassociate and delete it, then %s."
                        % (what, model.key_name, model.key_id, list(model.associated_instance_ids), remove_it),
                        code="InterruptedCreation")
    created, when = _created_at(model), recovery.record["time"]
    latest = when + 2 * float(recovery.record.get("timeout") or 30) + 60 + CLOCK_SLACK
    if created is None or not when - CLOCK_SLACK <= created <= latest:
        raise TaskError("%s was followed by key pair %s (%s), created at %s, which is not when that creation ran; it "
                        "may be someone else's, so it is not deleted. Nobody here holds its private key. Delete it "
                        "yourself if it is not needed (or use regenerate=mismatch), then %s."
                        % (what, model.key_name, model.key_id, model.created_time or "an unknown time", remove_it),
                        code="InterruptedCreation")
    recovery.orphan = model
    recovery.warnings.append("%s committed, but the process was killed before the private key reached %s: key pair "
                             "%s (%s) is one nobody can use, so it is deleted%s." % (
                                 what, local.path, model.key_name, model.key_id,
                                 " and created again" if model.key_name == spec.name else ""))
    return recovery
