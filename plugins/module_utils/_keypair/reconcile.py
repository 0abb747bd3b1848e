# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The key-pair reconciler: read (remote and local) -> decide (decide.py, absent.py: pure, a plan of steps) -> act
(the one executor, _core/steps.py, runs the steps of steps.py and create.py) -> the Outcome (result.py).
Knows nothing of Ansible.

A replacement is make-before-break: the new key pair is created under a temporary name derived from the real
one (pending_name), its private key is staged beside the key file, then the old key pair is deleted, the new one
renamed, and the staged key moved into place. At every instant one of the two key pairs exists together with a
file holding its private key; an interrupted replacement is finished (or cleaned up) by the next run, which finds
both names with the same single DescribeKeyPairs call a converged run makes anyway.
"""

from __future__ import annotations

from dataclasses import replace

from .._core.client import Client
from .._core.errors import TaskError
from .._core.files import KeyFileError
from .._core.rules import pending_name
from .._core.steps import execute
from .._instance_keypairs.api import Instances
from .absent import bound_to, decide_removal
from .api import KeyPairs
from .decide import Observed, Plan, decide
from .destination import Destination
from .keys import blob_of
from .records import KeyPair, LocalFiles
from .reservation import read_leftovers
from .result import Outcome, files_after, predicted
from .spec import KeyPairSpec
from .steps import Faults, KeyPairContext, Progress


class KeyPairReconciler:
    """tencent_keypair: run(spec) reads, decides and acts (present), or removes (absent)."""

    def __init__(self, client: Client, check_mode: bool = False, faults: Faults | None = None) -> None:
        self.client = client
        self.check_mode = check_mode
        self.key_pairs = KeyPairs(client)
        self.faults = faults or Faults()

    def run(self, spec: KeyPairSpec) -> Outcome:
        if spec.state == "absent":
            return self.remove(spec)
        if not spec.private_key_path:
            return self.converge(self.context(spec, None, None))
        try:
            dest = Destination.open(spec.private_key_path)
        except (KeyFileError, OSError) as exc:
            raise _destination_failure(exc) from None
        with dest, dest.locked():
            try:
                local = dest.inspect(spec.passphrase, read_leftovers=read_leftovers)
            except (KeyFileError, OSError) as exc:
                raise _destination_failure(exc) from None
            return self.converge(self.context(spec, dest, local))

    def context(self, spec: KeyPairSpec, dest: Destination | None, local: LocalFiles | None) -> KeyPairContext:
        return KeyPairContext(self.client, self.key_pairs, spec, dest, local, self.faults)

    def converge(self, context: KeyPairContext) -> Outcome:
        """read -> decide -> act, the steps of every reconciler."""
        observed = self.read(context.spec, context.local)
        return self.act(context, observed, decide(context.spec, observed))

    def read(self, spec: KeyPairSpec, local: LocalFiles | None) -> Observed:
        current, pending = self.key_pairs.find(spec.name, pending_name(spec.name))
        return Observed(current, pending, local, (self.client.region, self.client.url))

    def act(self, context: KeyPairContext, observed: Observed, plan: Plan) -> Outcome:
        """The plan's steps, carried out by the executor (or, in check mode, predicted); the Outcome."""
        spec, local = context.spec, plan.local
        base = Outcome(before=observed.current.result() if observed.current else None,
                       private_key_matches=plan.private_key_matches, files_before=local.summary() if local else None,
                       files_after=files_after(spec, plan), generated=plan.create and spec.public_key is None,
                       private_key_path=local.path if local else None, public_key_path=local.pub_path if local else None,
                       backup=bool(local is not None and spec.backup and local.exists
                                   and (plan.create or plan.install_staged or plan.encrypt)))
        if self.check_mode:
            return replace(base, changed=plan.changes, key_pair=predicted(spec, plan, observed.current).result(),
                           warnings=plan.warnings)
        done = execute(plan.steps, context, Progress(plan.adopt or observed.current))
        progress, model = done.model, done.model.model()
        outcome = replace(base, changed=bool(done.journal), key_pair=model.result(), backup_file=progress.backup_file,
                          private_key=progress.private_key if spec.return_private_key else None,
                          warnings=plan.warnings + progress.warnings)
        return _concurrent(context, model, outcome) if progress.concurrent else outcome

    def remove(self, spec: KeyPairSpec) -> Outcome:
        """state=absent: read, decide (absent.py), delete; the files stay (and the playbook may remove them)."""
        doomed = tuple(kp for kp in self.key_pairs.find(spec.name, pending_name(spec.name)) if kp is not None)
        bound = bound_to(doomed)
        states = {} if not bound else {i: m.state or "" for i, m in Instances(self.client).describe(
            list(bound), "Could not look up instances %s, to which key pair %s is bound" % (list(bound), spec.name)
        ).items()}
        removal = decide_removal(spec, doomed, states)
        named = Destination(spec.private_key_path) if spec.private_key_path else None  # named, never opened
        outcome = Outcome(before=doomed[0].result() if doomed and doomed[0].key_name == spec.name else None,
                          changed=bool(doomed), warnings=removal.warnings,
                          private_key_path=named.path if named else None, public_key_path=named.pub_path if named
                          else None)
        if not self.check_mode:
            execute(removal.steps, self.context(spec, None, None), None)
        return outcome


def _concurrent(context: KeyPairContext, model: KeyPair, outcome: Outcome) -> Outcome:
    """Someone else created the key pair between our read and our create: reported like an existing one,
    unchanged by this task (`before` stays what this task read: no key pair)."""
    held = context.local.public_key if context.local is not None else None
    matches = held is not None and blob_of(held) == model.blob
    outcome = replace(outcome, generated=False, private_key=None,
                      private_key_matches=matches if context.dest is not None else None)
    if context.dest is not None and matches:
        return outcome
    return replace(outcome, warnings=outcome.warnings + (
        "Key pair %s (%s) was created concurrently by someone else; its private key is not in %s."
        % (context.spec.name, model.key_id, context.dest.path if context.dest else "this task's result"),))


def _destination_failure(exc: KeyFileError | OSError) -> TaskError:
    if isinstance(exc, KeyFileError):
        return TaskError("Cannot use private_key_path: %s" % exc, code=exc.code or "InvalidDestination")
    return TaskError("Cannot use private_key_path: %s (%s)" % (exc.strerror or exc, exc.filename or ""),
                     code="InvalidDestination")
