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

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from .._core.client import Client
from .._core.errors import TaskError
from .._core.files import KeyFileError
from .._core.rules import pending_name
from .._core.steps import Executed, execute
from .api import KeyPairs
from .decide import Observed, Plan, decide
from .destination import Destination
from .keys import blob_of
from .records import KeyPair, LocalFiles
from .reservation import read_leftovers
from .result import Outcome, files_after, predicted
from .spec import KeyPairSpec
from .steps import Faults, KeyPairContext, Progress

if TYPE_CHECKING:
    from .._secret.api import SshKeySecret


class KeyPairReconciler:
    """tencent_keypair: run(spec) reads, decides and acts (present), or removes (absent)."""

    def __init__(self, client: Client, check_mode: bool = False, faults: Faults | None = None) -> None:
        self.client = client
        self.check_mode = check_mode
        self.key_pairs = KeyPairs(client)
        self.faults = faults or Faults()

    def run(self, spec: KeyPairSpec) -> Outcome:
        """read -> decide -> act, in this one frame: a reader follows a task from here to the API call through the
        executor, the step and the resource alone (the contributing guide counts the frames)."""
        if spec.state == "absent":
            return self.remove(spec)
        with self.opened(spec) as context:
            current, pending = self.key_pairs.find(spec.name, pending_name(spec.name))
            observed = Observed(current, pending, context.local, (self.client.region, self.client.url),
                                self.secret_of(spec))
            plan = decide(spec, observed)
            if self.check_mode:
                return planned(context, observed, plan)
            done = execute(plan.steps, context, Progress(plan.adopt or observed.current))
            return carried_out(context, plan, done, planned(context, observed, plan))

    @contextmanager
    def opened(self, spec: KeyPairSpec) -> Iterator[KeyPairContext]:
        """The run's context: without private_key_path, none to open; with it, the destination opened, locked
        (one task at a time writes into a directory) and inspected, and closed on every way out."""
        if not spec.private_key_path:
            yield self.context(spec, None, None)
            return
        try:
            dest = Destination.open(spec.private_key_path)
        except (KeyFileError, OSError) as exc:
            raise _destination_failure(exc) from None
        with dest, dest.locked():
            try:
                local = dest.inspect(spec.passphrase, read_leftovers=read_leftovers)
            except (KeyFileError, OSError) as exc:
                raise _destination_failure(exc) from None
            yield self.context(spec, dest, local)

    def secret_of(self, spec: KeyPairSpec) -> SshKeySecret | None:
        """With private_key_secret, the secret (one DescribeSecret; None when it does not exist)."""
        if spec.private_key_secret is None:
            return None
        from .._secret.api import Secrets  # only a task with private_key_secret imports it

        return Secrets(self.client).describe(spec.private_key_secret)

    def context(self, spec: KeyPairSpec, dest: Destination | None, local: LocalFiles | None) -> KeyPairContext:
        return KeyPairContext(self.client, self.key_pairs, spec, dest, local, self.faults)

    def remove(self, spec: KeyPairSpec) -> Outcome:
        """state=absent: read, decide (absent.py; escrow.py with private_key_secret), delete; the files stay (and
        the playbook may remove them)."""
        from .absent import bound_to, decide_removal

        current, pending = self.key_pairs.find(spec.name, pending_name(spec.name))
        secret = self.secret_of(spec)
        to_delete = tuple(kp for kp in (current, pending) if kp is not None)
        states = self.bound_states(spec, bound_to(to_delete))
        if spec.private_key_secret is not None:
            from .escrow import decide_escrow_removal

            removal = decide_escrow_removal(spec, secret, current, pending, states)
        else:
            removal = decide_removal(spec, to_delete, states)
        named = Destination(spec.private_key_path) if spec.private_key_path else None  # named, never opened
        outcome = Outcome(before=current.result() if current is not None else None,
                          changed=bool(to_delete) or secret is not None, warnings=removal.warnings,
                          private_key_path=named.path if named else None, public_key_path=named.pub_path if named
                          else None, secret_before=secret.name if secret is not None else None)
        if not self.check_mode:
            execute(removal.steps, self.context(spec, None, None), None)
        return outcome

    def bound_states(self, spec: KeyPairSpec, bound: tuple[str, ...]) -> dict[str, str]:
        """The states of the instances the key pairs to delete are bound to (no call when there are none)."""
        if not bound:
            return {}
        from .._instance_keypairs.api import Instances  # state=absent only: not imported by every run

        return {i: m.state or "" for i, m in Instances(self.client).describe(
            list(bound), "Could not look up instances %s, to which key pair %s is bound" % (list(bound), spec.name)
        ).items()}


def planned(context: KeyPairContext, observed: Observed, plan: Plan) -> Outcome:
    """The Outcome the plan predicts: check mode's result, and a real run's before its steps ran."""
    spec, local = context.spec, plan.local
    return Outcome(changed=plan.changes, key_pair=predicted(spec, plan, observed.current).result(),
                   secret_before=observed.secret.name if observed.secret is not None else None,
                   warnings=plan.warnings, before=observed.current.result() if observed.current else None,
                   private_key_matches=plan.private_key_matches, files_before=local.summary() if local else None,
                   files_after=files_after(spec, plan), generated=plan.create and spec.public_key is None,
                   private_key_path=local.path if local else None, public_key_path=local.pub_path if local else None,
                   backup=bool(local is not None and spec.backup and local.exists
                               and (plan.create or plan.install_staged or plan.encrypt)))


def carried_out(context: KeyPairContext, plan: Plan, done: Executed[Progress], expected: Outcome) -> Outcome:
    """The Outcome of a real run: what the steps did, over what the plan predicted."""
    progress, model = done.model, done.model.model()
    outcome = replace(expected, changed=bool(done.journal), key_pair=model.result(),
                      backup_file=progress.backup_file, warnings=plan.warnings + progress.warnings,
                      private_key=progress.private_key if context.spec.return_private_key else None)
    return _concurrent(context, model, outcome) if progress.concurrent else outcome


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
