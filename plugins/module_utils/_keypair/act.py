# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The act phase of the key-pair reconciler: a KeyPairRun carries out one Plan, step by step, and holds what a run
needs (spec, what was read, the plan, the journal, the outcome), so that no step takes more than a few parameters.

The order is the safety argument: local files and the reservation first (a destination that cannot be written fails
before any API write); a creation inside a section where SIGINT and SIGTERM wait until its key is on disk (or the
key pair is deleted again); the old key pair deleted only once the new one and its key exist (make before break)."""

from __future__ import annotations

from contextlib import contextmanager

from .._core.errors import Journal, TaskError, TencentCloudAPIError, unexpected
from .._core.rules import pending_name
from .._core.signals import DeferredSignals
from .._core.wait import Again, Backoff, Exhausted, waiter_for
from .api import Tags
from .keys import KeyFileError, blob_of, check_generated_key, private_key_bytes, public_key_line
from .records import KeyPair
from .reservation import Reservation, clean_up, new_record

LOOKUP = Backoff(first=0.5, factor=2.0, ceiling=4.0)  # looking for a key pair after a lost CreateKeyPair answer


def predicted(spec, plan, current):
    """The key pair a real run would leave (check mode): IDs and keys not yet generated are None."""
    if plan.create:
        model = KeyPair(None, spec.name, plan.project_id, spec.public_key, plan.description or "",
                        tags=dict(plan.tags or {}))
    else:
        model = (plan.adopt if plan.adopt is not None else current).but(key_name=spec.name)
    if plan.description is not None:
        model = model.but(description=plan.description)
    if plan.tag_replace or plan.tag_delete:
        tags = dict(model.tags, **plan.tag_replace)
        model = model.but(tags={k: v for k, v in tags.items() if k not in plan.tag_delete})
    return model


class KeyPairRun:
    """One real run of a Plan. execute() returns the Outcome, or raises a TaskError that says what had been changed
    (the journal) when it failed part-way."""

    def __init__(self, reconciler, spec, observed, plan, outcome):
        self.client = reconciler.client
        self.key_pairs = reconciler.key_pairs
        self.spec, self.plan, self.outcome = spec, plan, outcome
        self.current, self.dest = observed.current, observed.local
        self.journal = Journal()
        self.reservation = None
        self.section = None
        self.private = None  # a private key this run generated, once it has

    def execute(self):
        try:
            model = self._steps()
        except TaskError as exc:
            raise self.journal.failure(exc)
        except Exception as exc:  # a bug: still say what was changed before it (its text is not shown: unexpected())
            raise self.journal.failure(unexpected(exc))
        self.outcome.key_pair = model.result()
        self.outcome.changed = bool(self.journal)
        return self.outcome

    def _steps(self):
        self._recover_files()
        with self._reserved() as self.reservation:
            self._clear_the_way()
            model = self._create() if self.plan.create else (self.plan.adopt or self.current)
        if self.plan.create and self.private is None and self.spec.public_key is None:
            return self._concurrent(model)  # a concurrent creator won: its key pair stands
        self._retire_old(model)
        model = self._name_and_describe(model)
        model = self._apply_tags(model)
        self._update_files(model)
        return model

    # before any API write ------------------------------------------------------------------------
    def _recover_files(self):
        """Finish or clean up the files an interrupted creation left (its record, its reserved files)."""
        recovery = self.plan.recovery
        if recovery is None:
            return
        try:
            removed, reserved = clean_up(self.dest, recovery.finish)
        except OSError as exc:
            raise TaskError("Cannot clean up after an interrupted creation in %s (%s)"
                            % (self.dest.key_dir.path, exc.strerror or exc), code="InvalidDestination")
        if recovery.finish:
            self.journal.add("moved the private key an interrupted run had written from %s to %s"
                             % (reserved, recovery.finish))
        if removed:
            self.journal.add("removed %s, left by an interrupted run" % ", ".join(removed))

    @contextmanager
    def _reserved(self):
        """The reservation of a creation whose key goes to a file (None when there is nothing to reserve)."""
        if not (self.plan.create and self.spec.public_key is None and self.dest is not None):
            yield None
            return
        staged = self.plan.staged
        record = new_record(self.spec.name, pending_name(self.spec.name) if staged else self.spec.name,
                            self.dest.staging_path if staged else self.dest.target, self.client, self.plan.project_id)
        reservation = Reservation(self.dest, record)
        try:
            reservation.__enter__()
        except KeyFileError as exc:
            raise TaskError("Cannot use private_key_path %s: %s" % (self.dest.path, exc), code="InvalidDestination")
        try:
            yield reservation
        finally:  # released on every way out; the record stays while a creation is uncertain
            reservation.__exit__(None, None, None)

    def _clear_the_way(self):
        """Delete what the plan drops (an orphan, a leftover pending key pair, a staged key, the key pair an import
        of the same key replaces), before anything is created."""
        recovery, plan = self.plan.recovery, self.plan
        if recovery is not None and recovery.orphan is not None:
            self._delete(recovery.orphan, "key pair %s (its private key never reached the disk)"
                         % recovery.orphan.key_name)
        if plan.drop is not None:
            self._delete(plan.drop)
        if plan.remove_staged:
            self.dest.remove_staged()
            self.journal.add("removed %s" % self.dest.staging_path)
        if plan.delete_first:
            self._delete(self.current, "key pair %s" % self.spec.name)

    def _delete(self, key_pair, what=None):
        self.key_pairs.delete(key_pair, what)
        self.journal.add("deleted %s (%s)" % (what or "key pair %s" % key_pair.key_name, key_pair.key_id))

    # the creation --------------------------------------------------------------------------------
    def _create(self):
        """The critical section: from sending CreateKeyPair until its private key is on disk (or the key pair is
        deleted again), SIGINT and SIGTERM wait; they take effect as soon as it ends."""
        name = pending_name(self.spec.name) if self.plan.staged else self.spec.name
        try:
            with DeferredSignals() as self.section:
                model = self._created(name)
                if self.private is not None:
                    self._check_new_key(model)
                    self._write_new_key(model)
                return model
        except TaskError as exc:
            if self.plan.staged:  # make-before-break: nothing of the old key pair has been touched
                kept = "Key pair %s (%s)" % (self.spec.name, self.current.key_id)
                exc.msg += " %s and %s are unchanged." % (kept, self.dest.path) if self.dest is not None \
                    else " %s is unchanged." % kept
                exc.args = (exc.msg,)
            raise

    def _created(self, name):
        """CreateKeyPair/ImportKeyPair named `name`, never repeated blindly: a lost answer is followed up (see
        _after_lost_answer), which may delete a key pair whose key never arrived and create it once more. Returns
        the KeyPair (self.private is set for a key this run generated)."""
        for attempt in (1, 2):
            if self.reservation is not None:
                self.reservation.commit()  # from here a key pair may exist whose key is not on disk
            try:
                return self._send(name)
            except TencentCloudAPIError as exc:
                found = self._after_failed_create(name, exc, attempt)
            if found is not None:
                return found
        raise AssertionError("unreachable: the second attempt returns or raises")  # pragma: no cover

    def _send(self, name):
        plan = self.plan
        if self.spec.public_key is not None:
            model = self.key_pairs.import_key(name, plan.project_id, plan.tags, self.spec.public_key)
        else:
            model, self.private = self.key_pairs.create(name, plan.project_id, plan.tags)
        self.journal.add("created key pair %s (%s)" % (name, model.key_id))
        return model

    def _settle(self):
        if self.reservation is not None:
            self.reservation.settle()

    def _after_failed_create(self, name, exc, attempt):
        """What a failed creation left: the existing key pair to report (it is ours, or a concurrent creator's),
        None to create once more (an orphan was deleted), or a TaskError."""
        if exc.code == "InvalidKeyPairName.Duplicate" and name == self.spec.name:
            existing = self.key_pairs.find(name)[0]
            if existing is not None:
                self._settle()
                return existing
        if not exc.ambiguous:
            self._settle()
            raise self.key_pairs.failure("Could not create key pair %s" % name, exc)
        if self.section is not None and self.section.pending:
            raise TaskError("Interrupted while %s for %s got no answer (%s); the next run finds out whether it "
                            "created the key pair, and deletes it if so (its private key never arrived)"
                            % (exc.action, name, exc.message), code="Interrupted", changed=True)
        existing = self._after_lost_answer(name, exc)
        if existing is None:
            self._settle()
            raise self.key_pairs.failure("Could not create key pair %s (the answer was lost and the key pair does "
                                         "not exist: nothing was created and no file was written; run the task "
                                         "again)" % name, exc)
        return self._ours_or_orphan(existing, exc, attempt)

    def _after_lost_answer(self, name, lost):
        """The key pair `name` after a create got no answer. After a timeout the service may still be working on
        the request, so keep looking (with backoff) for twice as long as the client waited (at least 5 s, at most
        60 s) before concluding that nothing was created."""
        def probe():
            found = self.key_pairs.find(name)[0]
            if found is None and lost.timed_out:
                raise Again()
            return found

        budget = min(max(2 * float(self.client.timeout or 0), 5.0), 60.0)
        try:
            return waiter_for(self.client).wait_until(probe, LOOKUP, deadline=self.client.clock() + budget)
        except Exhausted:
            return None

    def _ours_or_orphan(self, existing, lost, attempt):
        """A key pair exists after a lost answer: ours (an import of our key), the local key's, bound (left alone),
        or created without a delivered private key (deleted; None: create once more)."""
        if self.spec.public_key is not None and existing.blob == blob_of(self.spec.public_key):
            self.journal.add("created key pair %s (%s)" % (existing.key_name, existing.key_id))
            return existing
        local = self.dest.public_key if self.dest is not None and not self.plan.staged else None
        if local and existing.blob == blob_of(local):
            self._settle()
            return existing
        if existing.associated_instance_ids:
            self._settle()
            raise TaskError("%s got no answer (%s) and key pair %s (%s) now exists bound to instances %s; it was not "
                            "deleted" % (lost.action, lost.message, existing.key_name, existing.key_id,
                                         list(existing.associated_instance_ids)), api_error=lost)
        self.key_pairs.delete(existing, "key pair %s (its private key was lost in transit)" % existing.key_name)
        self._settle()  # only now: had the delete failed, the record would tell the next run to delete it
        self.journal.add("created and deleted again key pair %s (%s), whose private key was lost in transit"
                         % (existing.key_name, existing.key_id))
        if attempt >= 2:
            raise self.key_pairs.failure("Could not create key pair %s: the answer was lost twice; the key pair "
                                         "created without a delivered private key (%s) was deleted again"
                                         % (existing.key_name, existing.key_id), lost, changed=True)
        self.outcome.warnings.append(
            "%s for %s got no answer (%s); key pair %s had been created but its private key never arrived, so it "
            "was deleted and created again." % (lost.action, existing.key_name, lost.code, existing.key_id))
        return None

    def _check_new_key(self, model):
        """A generated key is checked before anything is written: a PrivateKey that is not a consistent RSA key of
        the PublicKey would be a key pair nobody can use. Then the key pair is deleted again."""
        try:
            check_generated_key(self.private, model.public_key)
        except KeyFileError as exc:
            what = "CreateKeyPair answered key pair %s (%s) with a private key that cannot be used (%s)" % (
                model.key_name, model.key_id, exc)
            try:
                self._delete(model)
            except TaskError as rollback:
                raise TaskError("%s, and deleting it again failed; the next run deletes it. %s" % (what, rollback.msg),
                                code="InvalidGeneratedKey", changed=True)
            self._settle()
            raise TaskError("%s; it was deleted again, and nothing was written" % what, code="InvalidGeneratedKey")

    def _write_new_key(self, model):
        """Write a just-generated private key into its reservation and rename it into place (the key file, or the
        staging file of a replacement); the public key beside it. Whatever goes wrong, the key pair just created is
        deleted again: none may exist without its key. Without a key file, the key goes to the result."""
        if self.dest is None:
            if self.spec.return_private_key:
                self.outcome.private_key = self.private
            return
        staged, path = self.plan.staged, self.dest.staging_path if self.plan.staged else self.dest.target
        try:
            if not staged and self.dest.exists and self.spec.backup:
                self.outcome.backup_file = self.dest.backup()
            self.reservation.write_key(private_key_bytes(self.private, self.spec.passphrase), self.spec.mode, staged)
        except BaseException as exc:  # noqa: B036 - even an interrupt must not leave the key pair behind
            self._roll_back(model, path, exc)
        self.journal.add("wrote the private key of %s (%s) to %s" % (model.key_name, model.key_id, path))
        if self.spec.return_private_key:
            self.outcome.private_key = self.private
        if not staged:
            self.reservation.write_pub(public_key_line(model.public_key, self.spec.name))
            self.journal.add("wrote %s" % self.dest.pub_path)
            self.plan.write_pub = False

    def _roll_back(self, model, path, exc):
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        try:
            self.key_pairs.delete(model)
        except TaskError as rollback:
            failure = TaskError("Could not write the private key to %s (%s), and the rollback failed: key pair %s "
                                "(%s) exists but its private key is lost; the next run deletes it. %s"
                                % (path, reason, model.key_name, model.key_id, rollback.msg),
                                code="KeyFileWriteFailed", changed=True)
        else:
            self._settle()
            self.journal.add("deleted key pair %s (%s) again" % (model.key_name, model.key_id))
            failure = TaskError("Could not write the private key to %s (%s); key pair %s (%s) was deleted again so "
                                "that none exists without its private key"
                                % (path, reason, model.key_name, model.key_id), code="KeyFileWriteFailed")
        if not isinstance(exc, Exception):
            raise exc
        raise failure from None

    # after the creation ---------------------------------------------------------------------------
    def _concurrent(self, model):
        """Someone else created the key pair between our read and our create: report it like an existing one,
        unchanged by this task."""
        self.outcome.generated = False
        local = self.dest.public_key if self.dest is not None else None
        self.outcome.private_key_matches = (local is not None and blob_of(local) == model.blob) \
            if self.dest is not None else None
        if not self.outcome.private_key_matches:
            self.outcome.warnings.append("Key pair %s (%s) was created concurrently by someone else; its private key "
                                         "is not in %s." % (self.spec.name, model.key_id, self.dest.path if self.dest
                                                            else "this task's result"))
        return model  # `before` stays what this task read: no key pair

    def _retire_old(self, model):
        """Make before break: the replaced key pair goes once its successor exists."""
        if self.plan.replace is None or self.plan.delete_first:
            return
        try:
            self._delete(self.current, "key pair %s" % self.spec.name)
        except TaskError:
            if self.dest is None and self.private is not None:  # its key is in memory only: take the new one back
                self._delete(model)
            raise

    def _name_and_describe(self, model):
        description = self.plan.description if self.plan.description != model.description else None
        name = self.spec.name if model.key_name != self.spec.name else None
        if name is None and description is None:
            return model
        try:
            changed = self.key_pairs.modify(model, name=name, description=description)
        except TaskError as exc:
            if self.dest is None and self.private is not None and self.spec.return_private_key:
                exc.result["private_key"] = self.private  # the new key pair's only copy of its private key
            raise
        what = "key pair %s (%s)" % (model.key_name, model.key_id)
        self.journal.add("renamed %s to %s" % (what, name) if name is not None else "set the description of %s" % what)
        return changed

    def _apply_tags(self, model):
        plan = self.plan
        if not (plan.tag_replace or plan.tag_delete):
            return model
        tags = dict(model.tags)
        for replaced, deleted in Tags(self.client).change(model, plan.tag_replace, plan.tag_delete):
            tags.update(replaced)
            for key in deleted:
                tags.pop(key, None)
            self.journal.add("set tags %s and removed tags %s of key pair %s (%s)" % (
                replaced, deleted, model.key_name, model.key_id))
        return model.but(tags=tags)

    def _update_files(self, model):
        plan, dest, spec = self.plan, self.dest, self.spec
        try:
            if plan.install_staged:
                if dest.exists and spec.backup:
                    self.outcome.backup_file = dest.backup()
                dest.install_staged(spec.mode)
                self.journal.add("moved the new private key from %s to %s" % (dest.staging_path, dest.target))
            elif plan.encrypt:
                if spec.backup:
                    self.outcome.backup_file = dest.backup()
                dest.encrypt(spec.passphrase, spec.mode)
                self.journal.add("encrypted %s with the passphrase" % dest.target)
            elif plan.fix_mode:
                dest.set_mode(spec.mode)
                self.journal.add("set the mode of %s to %04o" % (dest.target, spec.mode))
            if plan.write_pub:
                dest.write_pub(public_key_line(model.public_key, spec.name))
                self.journal.add("wrote %s" % dest.pub_path)
        except (OSError, KeyFileError) as exc:
            raise TaskError("Could not update the key files of %s (%s)"
                            % (dest.path, getattr(exc, "strerror", None) or str(exc)), code="KeyFileWriteFailed")
