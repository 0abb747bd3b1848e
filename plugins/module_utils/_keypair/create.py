# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Create step: CreateKeyPair (or ImportKeyPair) and, for a generated key, its private key on disk.

The order is the safety argument. The reservation (reservation.py) is made first: a destination that cannot be
written fails before the key pair is created. From sending CreateKeyPair until its private key is on disk (or the key
pair is deleted again), SIGINT and SIGTERM wait (signals.py). A creation is never repeated blindly: a lost answer is
looked up, and a key pair whose private key never arrived is deleted and created once more."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator

from contextlib import contextmanager

from .._core.client import Client
from .._core.errors import LostAnswer, TaskError, TencentCloudAPIError
from .._core.files import KeyFileError
from .._core.signals import DeferredSignals
from .._core.steps import Done, StepFailed
from .._core.wait import Again, Backoff, Exhausted, waiter_for
from .keys import blob_of, check_generated_key, private_key_bytes, public_key_line
from .records import KeyPair
from .reservation import Reservation, new_record
from .steps import KeyPairContext, Progress, pub_comment

LOOKUP = Backoff(first=0.5, factor=2.0, ceiling=4.0)  # looking for a key pair after a lost CreateKeyPair answer


def lookup_deadline(client: Client) -> float:
    """Until when to look for what a creation whose answer was lost made: after a timeout the service may still be
    working on the request, so twice as long as the client waited (at least 5 s, at most 60 s)."""
    return client.clock() + min(max(2 * float(getattr(client, "timeout", 0) or 0), 5.0), 60.0)


@dataclass(frozen=True)
class Sent:
    """What a creation call returned: the key pair, and the private key when the service generated one."""

    key_pair: KeyPair
    private_key: str | None = None


@dataclass(frozen=True)
class Created:
    """What one creation made: the key pair (and a generated key), the warnings it met, a backup it kept."""

    sent: Sent
    warnings: tuple[str, ...] = ()
    backup_file: str | None = None


@dataclass(frozen=True)
class DeleteCreated:
    """The undo of a creation whose private key is in memory only: delete the new key pair again."""

    key_pair: KeyPair

    @property
    def undone(self) -> str:
        return "the new key pair %s (%s) was deleted again" % (self.key_pair.key_name, self.key_pair.key_id)

    @property
    def stuck(self) -> str:
        return "deleting the new key pair %s (%s) again failed:" % (self.key_pair.key_name, self.key_pair.key_id)

    def run(self, context: KeyPairContext) -> str:
        context.key_pairs.delete(self.key_pair)
        return "deleted key pair %s (%s)" % (self.key_pair.key_name, self.key_pair.key_id)


@dataclass(frozen=True)
class Create:
    """Create (or import) key pair `name`: the spec's name, or the pending name of a make-before-break
    replacement (`staged`: its private key goes to the staging file beside the key file)."""

    name: str
    project_id: int
    tags: dict[str, str] | None
    staged: bool = False
    replacing: KeyPair | None = None  # the key pair a replacement leaves in place until DeleteOld

    def says(self) -> str:
        return "create key pair %s" % self.name

    def predict(self, model: Progress) -> Progress:
        return model  # reconcile.predicted() builds the key pair a creation would make from the plan

    def run(self, context: KeyPairContext, model: Progress) -> Done[Progress]:
        said: list[str] = []
        try:
            with self._reserved(context) as reservation, DeferredSignals() as signals:
                created = Creation(self, context, reservation, signals, said).carry_out()
        except TaskError as exc:
            raise StepFailed(self._kept(exc, context), tuple(said)) from None
        sent = created.sent
        progress = replace(model, key_pair=sent.key_pair, warnings=model.warnings + created.warnings,
                           backup_file=created.backup_file or model.backup_file)
        if sent.private_key is None and context.spec.public_key is None:
            return Done(replace(progress, concurrent=True, generated=False), tuple(said), final=True)
        if sent.private_key is None:
            return Done(progress, tuple(said))
        progress = replace(progress, private_key=sent.private_key, generated=True)
        result = {"private_key": sent.private_key} if context.spec.return_private_key else {}
        if context.dest is None and self.replacing is not None:  # in memory only until the old one is gone
            return Done(progress, tuple(said), undo=DeleteCreated(sent.key_pair), result=result)
        return Done(progress, tuple(said), result=result if context.dest is None else {})

    @contextmanager
    def _reserved(self, context: KeyPairContext) -> Iterator[Reservation | None]:
        """The reservation of a creation whose key goes to a file (None when there is nothing to reserve)."""
        dest = context.dest
        if context.spec.public_key is not None or dest is None:
            yield None
            return
        record = new_record(context.spec.name, self.name, dest.staging_path if self.staged else dest.target,
                            context.client, self.project_id)
        try:
            reservation = Reservation(dest, record, before_rename=context.faults.before_rename).__enter__()
        except KeyFileError as exc:
            raise TaskError("Cannot use private_key_path %s: %s" % (dest.path, exc), code="InvalidDestination")
        try:
            yield reservation
        finally:  # released on every way out; the record stays while a creation is uncertain
            reservation.__exit__(None, None, None)

    def _kept(self, exc: TaskError, context: KeyPairContext) -> TaskError:
        """A replacement that failed here touched nothing of the old key pair: say so."""
        if self.replacing is None or not self.staged:
            return exc
        kept = "Key pair %s (%s)" % (context.spec.name, self.replacing.key_id)
        if context.dest is not None:
            return exc.amended("%s %s and %s are unchanged." % (exc.msg, kept, context.dest.path))
        return exc.amended("%s %s is unchanged." % (exc.msg, kept))


class Creation:
    """One creation: the call (twice at most, after a lost answer whose key pair was deleted again), the checks of
    a generated key, and its write into the reservation. What it changed goes to `said` as it happens (a failure
    part-way still says it); carry_out() returns what was created."""

    def __init__(self, step: Create, context: KeyPairContext, reservation: Reservation | None,
                 signals: DeferredSignals, said: list[str]) -> None:
        self.step, self.context, self.reservation, self.signals = step, context, reservation, signals
        self.said = said
        self.warnings: list[str] = []

    def carry_out(self) -> Created:
        """CreateKeyPair/ImportKeyPair, never repeated blindly: a lost answer is followed up, which may delete a key
        pair whose key never arrived and create it once more; then a generated key is checked and written."""
        step, spec, key_pairs = self.step, self.context.spec, self.context.key_pairs
        sent = None
        for attempt in (1, 2):
            if self.reservation is not None:
                self.reservation.commit()  # from here a key pair may exist whose key is not on disk
            try:
                if spec.public_key is not None:
                    sent = Sent(key_pairs.import_key(step.name, step.project_id, step.tags, spec.public_key))
                else:
                    sent = Sent(*key_pairs.create(step.name, step.project_id, step.tags))
            except TaskError as exc:
                found = self._after_failed_create(exc, attempt)
                sent = Sent(found) if found is not None else None
            else:
                self.said.append("created key pair %s (%s)" % (step.name, sent.key_pair.key_id))
            if sent is not None:
                break
        if sent is None:
            raise AssertionError("unreachable: the second attempt returns or raises")  # pragma: no cover
        backup = None
        if sent.private_key is not None:
            self._check_new_key(sent, sent.private_key)
            backup = self._write_new_key(sent, sent.private_key)
        return Created(sent, tuple(self.warnings), backup)

    def _settle(self) -> None:
        if self.reservation is not None:
            self.reservation.settle()

    def _after_failed_create(self, exc: TaskError, attempt: int) -> KeyPair | None:
        """What a failed creation left: the existing key pair to report (ours, or a concurrent creator's), None to
        create once more (an orphan was deleted), or a TaskError."""
        name, key_pairs = self.step.name, self.context.key_pairs
        if exc.code == "InvalidKeyPairName.Duplicate" and name == self.context.spec.name:
            existing = key_pairs.find(name)[0]
            if existing is not None:
                self._settle()
                return existing
        if not isinstance(exc, LostAnswer):
            self._settle()
            raise exc
        lost = exc.lost
        if self.signals.pending:
            raise TaskError("Interrupted while %s for %s got no answer (%s); the next run finds out whether it "
                            "created the key pair, and deletes it if so (its private key never arrived)"
                            % (lost.action, name, lost.message), code="Interrupted", changed=True)
        existing = self._after_lost_answer(lost)
        if existing is None:
            self._settle()
            raise key_pairs.failure("Could not create key pair %s (the answer was lost and the key pair does not "
                                    "exist: nothing was created and no file was written; run the task again)" % name,
                                    lost)
        return self._ours_or_orphan(existing, lost, attempt)

    def _after_lost_answer(self, lost: TencentCloudAPIError) -> KeyPair | None:
        """The key pair after a create got no answer. After a timeout the service may still be working on the
        request, so keep looking (with backoff) for twice as long as the client waited (at least 5 s, at most 60 s)
        before concluding that nothing was created."""
        client = self.context.client

        def probe() -> KeyPair | None:
            found = self.context.key_pairs.find(self.step.name)[0]
            if found is None and lost.timed_out:
                raise Again()
            return found

        try:
            return waiter_for(client).wait_until(probe, LOOKUP, deadline=lookup_deadline(client))
        except Exhausted:
            return None

    def _ours_or_orphan(self, existing: KeyPair, lost: TencentCloudAPIError, attempt: int) -> KeyPair | None:
        """A key pair exists after a lost answer: ours (an import of our key), the local key's, bound (left alone),
        or created without a delivered private key (deleted; None: create once more)."""
        spec, local = self.context.spec, self.context.local
        if spec.public_key is not None and existing.blob == blob_of(spec.public_key):
            self.said.append("created key pair %s (%s)" % (existing.key_name, existing.key_id))
            return existing
        held = local.public_key if local is not None and not self.step.staged else None
        if held and existing.blob == blob_of(held):
            self._settle()
            return existing
        if existing.associated_instance_ids:
            self._settle()
            raise TaskError("%s got no answer (%s) and key pair %s (%s) now exists bound to instances %s; it was not "
                            "deleted" % (lost.action, lost.message, existing.key_name, existing.key_id,
                                         list(existing.associated_instance_ids)), api_error=lost)
        return self._orphan_deleted(existing, lost, attempt)

    def _orphan_deleted(self, existing: KeyPair, lost: TencentCloudAPIError, attempt: int) -> KeyPair | None:
        key_pairs = self.context.key_pairs
        key_pairs.delete(existing, "key pair %s (its private key was lost in transit)" % existing.key_name)
        self._settle()  # only now: had the delete failed, the record would tell the next run to delete it
        self.said.append("created and deleted again key pair %s (%s), whose private key was lost in transit"
                         % (existing.key_name, existing.key_id))
        if attempt >= 2:
            raise key_pairs.failure("Could not create key pair %s: the answer was lost twice; the key pair created "
                                    "without a delivered private key (%s) was deleted again"
                                    % (existing.key_name, existing.key_id), lost, changed=True)
        self.warnings.append("%s for %s got no answer (%s); key pair %s had been created but its private key never "
                             "arrived, so it was deleted and created again."
                             % (lost.action, existing.key_name, lost.code, existing.key_id))
        return None

    def _check_new_key(self, sent: Sent, private_key: str) -> None:
        """A generated key is checked before anything is written: a PrivateKey that is not a consistent RSA key of
        the PublicKey would be a key pair nobody can use. Then the key pair is deleted again."""
        model = sent.key_pair
        try:
            check_generated_key(private_key, model.public_key)
        except KeyFileError as exc:
            what = "CreateKeyPair answered key pair %s (%s) with a private key that cannot be used (%s)" % (
                model.key_name, model.key_id, exc)
            try:
                self.context.key_pairs.delete(model)
            except TaskError as rollback:
                raise TaskError("%s, and deleting it again failed; the next run deletes it. %s" % (what, rollback.msg),
                                code="InvalidGeneratedKey", changed=True) from None
            self.said.append("deleted key pair %s (%s)" % (model.key_name, model.key_id))
            self._settle()
            raise TaskError("%s; it was deleted again, and nothing was written" % what,
                            code="InvalidGeneratedKey") from None

    def _write_new_key(self, sent: Sent, private_key: str) -> str | None:
        """Write a just-generated private key into its reservation and rename it into place (the key file, or the
        staging file of a replacement); the public key beside it. Whatever goes wrong, the key pair just created is
        deleted again: none may exist without its key."""
        dest, spec, model = self.context.dest, self.context.spec, sent.key_pair
        if dest is None or self.reservation is None:
            return None
        staged, path = self.step.staged, dest.staging_path if self.step.staged else dest.target
        local, backup = self.context.local, None
        try:
            if not staged and local is not None and local.exists and spec.backup:
                backup = dest.backup()
            self.reservation.write_key(private_key_bytes(private_key, spec.passphrase), spec.mode, staged)
        except BaseException as exc:  # noqa: B036 - even an interrupt must not leave the key pair behind
            self._roll_back(model, path, exc)
        self.said.append("wrote the private key of %s (%s) to %s" % (model.key_name, model.key_id, path))
        if not staged:
            self.reservation.write_pub(public_key_line(model.public_key, pub_comment(spec)))
            self.said.append("wrote %s" % dest.pub_path)
        return backup

    def _roll_back(self, model: KeyPair, path: str, exc: BaseException) -> None:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        try:
            self.context.key_pairs.delete(model)
        except TaskError as rollback:
            failure = TaskError("Could not write the private key to %s (%s), and the rollback failed: key pair %s "
                                "(%s) exists but its private key is lost; the next run deletes it. %s"
                                % (path, reason, model.key_name, model.key_id, rollback.msg),
                                code="KeyFileWriteFailed", changed=True)
        else:
            self._settle()
            self.said.append("deleted key pair %s (%s) again" % (model.key_name, model.key_id))
            failure = TaskError("Could not write the private key to %s (%s); key pair %s (%s) was deleted again so "
                                "that none exists without its private key"
                                % (path, reason, model.key_name, model.key_id), code="KeyFileWriteFailed")
        if not isinstance(exc, Exception):
            raise exc
        raise failure from None
