# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The key-pair reconciler: read (remote and local) -> decide (decide.py, pure) -> act (steps.py).
Knows nothing of Ansible.

A replacement is make-before-break: the new key pair is created under a temporary name derived from the real
one (pending_name), its private key is staged beside the key file, then the old key pair is deleted, the new one
renamed, and the staged key moved into place. At every instant one of the two key pairs exists together with a
file holding its private key; an interrupted replacement is finished (or cleaned up) by the next run, which finds
both names with the same single DescribeKeyPairs call a converged run makes anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._core.errors import Journal, TaskError
from .._core.rules import pending_name
from .._core.wait import Again, Backoff, Exhausted, waiter_for
from .._instance_keypairs.api import Instances
from .._core.steps import execute
from .keys import blob_of
from .steps import Faults, KeyPairContext, Progress
from .api import KeyPairs
from .decide import Observed, decide
from .destination import Destination
from .keys import KeyFileError
from .records import KeyPair
from .reservation import read_leftovers

# DescribeInstances states of an instance on its way out; its key bindings linger for a while (TF #194, #375).
GOING_AWAY = frozenset(["TERMINATING", "LAUNCH_FAILED"])
# "bound to an instance or a custom image": today's code, and the code of 2019 (Packer #7910).
IN_USE_CODES = frozenset(["InvalidParameterValue.KeyPairNotSupported", "InvalidKeyPair.NotSupported"])
LINGER = Backoff(first=1.0, factor=2.0, ceiling=10.0)


@dataclass(frozen=True)
class Outcome:
    changed: bool = False
    key_pair: dict | None = None
    before: dict | None = None
    private_key_matches: bool | None = None
    private_key_path: str | None = None
    public_key_path: str | None = None
    backup: bool = False            # a copy of a replaced file was (or, in check mode, would be) kept
    backup_file: str | None = None
    generated: bool = False         # a private key was (or would be) generated
    private_key: str | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()
    files_before: dict | None = None
    files_after: dict | None = None

    def as_result(self, spec, request_ids, diff=False):
        """The task result: the same keys in check mode as in a real run."""
        result = {"changed": self.changed, "request_ids": list(request_ids)}
        if spec.state == "present":
            result["key_pair"] = self.key_pair
            result["private_key_matches"] = self.private_key_matches
        if self.private_key_path:
            result["private_key_path"] = self.private_key_path
            result["public_key_path"] = self.public_key_path
        if self.backup:
            result["backup_file"] = self.backup_file
        if self.generated and spec.return_private_key:
            result["private_key"] = self.private_key
        if self.warnings:
            result["warnings"] = list(self.warnings)
        if diff:
            after = self.key_pair if spec.state == "present" else None
            result["diff"] = {"before": _diffable(self.before, self.files_before),
                              "after": _diffable(after, self.files_after)}
        return result


def _diffable(key_pair, files):
    shown = {"state": "absent"} if key_pair is None else dict(key_pair, state="present")
    if files is not None:
        shown["local_files"] = files
    return shown


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


def files_after(spec, plan):
    """What the diff shows of the local files once the plan is carried out."""
    if plan.local is None:
        return None
    files = plan.local.summary()
    if plan.create or plan.install_staged or plan.encrypt or plan.fix_mode:
        files["private_key_mode"] = "%04o" % spec.mode
    if plan.create or plan.install_staged or plan.encrypt:
        files["private_key_encrypted"] = bool(spec.passphrase)
    if plan.write_pub:
        files["public_key_file"] = "present"
    return files


class KeyPairReconciler:
    """tencent_keypair: run(spec) reads, decides and acts (present), or removes (absent)."""

    def __init__(self, client, check_mode=False, faults=None):
        self.client = client
        self.check_mode = check_mode
        self.key_pairs = KeyPairs(client)
        self.faults = faults or Faults()

    def run(self, spec):
        if spec.state == "absent":
            return self.remove(spec)
        if not spec.private_key_path:
            return self.converge(spec, None)
        try:
            dest = Destination.open(spec.private_key_path)
        except (KeyFileError, OSError) as exc:
            raise _destination_failure(exc)
        with dest, dest.locked():
            try:
                local = dest.inspect(spec.passphrase, read_record=read_leftovers)
            except (KeyFileError, OSError) as exc:
                raise _destination_failure(exc)
            return self.converge(spec, dest, local)

    def converge(self, spec, dest, local=None):
        """read -> decide -> act, the steps of every reconciler (dest: the opened Destination, or None; local: what
        its inspect() read)."""
        observed = self.read(spec, local)
        return self.act(KeyPairContext(self.client, self.key_pairs, spec, dest, local, self.faults), observed,
                        decide(spec, observed))

    def read(self, spec, local):
        current, pending = self.key_pairs.find(spec.name, pending_name(spec.name))
        return Observed(current, pending, local, (self.client.region, self.client.url))

    def act(self, context, observed, plan):
        """The plan's steps, carried out by the executor (or, in check mode, predicted); the Outcome."""
        spec, local = context.spec, plan.local
        facts = dict(before=observed.current.result() if observed.current else None,
                     private_key_matches=plan.private_key_matches, files_before=local.summary() if local else None,
                     files_after=files_after(spec, plan), generated=plan.create and spec.public_key is None,
                     private_key_path=local.path if local else None, public_key_path=local.pub_path if local else None,
                     backup=bool(local is not None and spec.backup and local.exists
                                 and (plan.create or plan.install_staged or plan.encrypt)))
        if self.check_mode:
            return Outcome(changed=plan.changes, key_pair=predicted(spec, plan, observed.current).result(),
                           warnings=plan.warnings, **facts)
        done = execute(plan.steps, context, Progress(plan.adopt or observed.current))
        progress = done.model
        facts.update(changed=bool(done.journal), key_pair=progress.model().result(), backup_file=progress.backup_file,
                     private_key=progress.private_key if spec.return_private_key else None,
                     warnings=plan.warnings + progress.warnings)
        if progress.concurrent:
            facts.update(_concurrent(context, progress.model()), warnings=facts["warnings"] + _concurrent_warning(
                context, progress.model()))
        return Outcome(**facts)

    # state=absent ------------------------------------------------------------------------------
    def remove(self, spec):
        """Delete the key pair (and a pending replacement of it); local files stay. Bindings to instances that are
        being terminated linger on the real cloud for a while: those are waited for (wait_timeout); a binding to a
        live instance fails at once."""
        doomed = [kp for kp in self.key_pairs.find(spec.name, pending_name(spec.name)) if kp is not None]
        facts = {"before": doomed[0].result() if doomed and doomed[0].key_name == spec.name else None,
                 "changed": bool(doomed)}
        if spec.private_key_path:  # named, never opened: the files stay (and the playbook may remove them)
            named = Destination(spec.private_key_path)
            facts.update(private_key_path=named.path, public_key_path=named.pub_path)
        bound = sorted({i for kp in doomed for i in kp.associated_instance_ids})
        if bound:
            facts["warnings"] = (self._going_away(spec, doomed, bound),)
        if self.check_mode or not doomed:
            return Outcome(**facts)
        deadline = self.client.clock() + spec.wait_timeout if bound else None
        journal = Journal()
        try:
            if bound:
                doomed = self._unbound(spec, doomed, deadline)
            for key_pair in doomed:
                self._delete_when_free(key_pair, journal, deadline)
        except TaskError as exc:
            raise journal.failure(exc) from None
        return Outcome(**facts)

    def _going_away(self, spec, doomed, bound):
        """Fails at once unless every bound instance is being terminated (or already gone); else the warning."""
        instances = Instances(self.client).describe(bound, "Could not look up instances %s, to which key pair %s is "
                                                           "bound" % (bound, spec.name))
        live = {i: m.state for i, m in instances.items() if m.state not in GOING_AWAY}
        if live:
            raise TaskError("Key pair %s (%s) is bound to instances %s; disassociate it before deleting it"
                            % (spec.name, ", ".join(kp.key_id for kp in doomed),
                               ", ".join("%s (%s)" % item for item in sorted(live.items()))), code="KeyPairInUse")
        return ("Key pair %s is still bound to instances %s, which are being terminated; Tencent Cloud releases such "
                "bindings after a while, and the task waits for that (up to wait_timeout=%ss)."
                % (spec.name, bound, spec.wait_timeout))

    def _unbound(self, spec, doomed, deadline):
        """The doomed key pairs, read again until no instance is bound to them (or the deadline)."""
        def probe():
            fresh = [kp for kp in self.key_pairs.find(*[kp.key_name for kp in doomed]) if kp is not None]
            still = sorted({i for kp in fresh for i in kp.associated_instance_ids})
            if still:
                raise Again(still)
            return fresh

        try:
            return waiter_for(self.client).wait_until(probe, LINGER, deadline=deadline)
        except Exhausted as exhausted:
            raise TaskError("Key pair %s is still bound to instances %s after wait_timeout=%ss. They were being "
                            "terminated; wait longer (raise wait_timeout), or disassociate the key pair."
                            % (spec.name, exhausted.reason, spec.wait_timeout), code="KeyPairInUse")

    def _delete_when_free(self, key_pair, journal, deadline):
        """DeleteKeyPairs; after a wait for lingering bindings, KeyPairNotSupported is retried until the deadline
        (the delete may trail the describe). Without a wait it means a binding DescribeKeyPairs does not show: a
        custom image."""
        def probe():
            try:
                self.key_pairs.delete(key_pair)
            except TaskError as exc:
                if exc.code in IN_USE_CODES and deadline is not None:
                    raise Again(exc)
                raise

        try:
            waiter_for(self.client).wait_until(probe, LINGER, deadline=deadline)
        except Exhausted as exhausted:
            raise exhausted.reason from None
        journal.add("deleted key pair %s (%s)" % (key_pair.key_name, key_pair.key_id))


def _concurrent(context, model):
    """Someone else created the key pair between our read and our create: reported like an existing one,
    unchanged by this task (`before` stays what this task read: no key pair)."""
    held = context.local.public_key if context.local is not None else None
    matches = (held is not None and blob_of(held) == model.blob) if context.dest is not None else None
    return {"generated": False, "private_key_matches": matches, "private_key": None}


def _concurrent_warning(context, model):
    held = context.local.public_key if context.local is not None else None
    if context.dest is not None and held is not None and blob_of(held) == model.blob:
        return ()
    return ("Key pair %s (%s) was created concurrently by someone else; its private key is not in %s."
            % (context.spec.name, model.key_id, context.dest.path if context.dest else "this task's result"),)


def _destination_failure(exc):
    reason = str(exc) if isinstance(exc, KeyFileError) else "%s (%s)" % (exc.strerror or exc, exc.filename or "")
    return TaskError("Cannot use private_key_path: %s" % reason, code=getattr(exc, "code", None) or
                     "InvalidDestination")
