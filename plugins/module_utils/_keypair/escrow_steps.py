# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The steps of a key pair escrowed in a Secrets Manager secret (escrow.py orders them, _core/steps.py runs them):
the creation of both at once, and the disabling and deletion of the secret with its key pair.

CreateSSHKeyPairSecret answers no private key: the service keeps it. So nothing can be lost in transit, no signal
needs to wait and nothing is written here; a lost answer is still looked up (the secret by name, then its key pair),
never sent twice, since a second creation would fail on the existing name or make a second key pair."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .._core.errors import LostAnswer, TaskError
from .._core.steps import Done
from .._core.wait import Again, Exhausted, waiter_for
from .records import KeyPair
from .steps import KeyPairContext, Progress

if TYPE_CHECKING:
    from .._secret.api import Secrets, SshKeySecret


def _secrets(context: KeyPairContext) -> Secrets:
    from .._secret.api import Secrets  # only a task with private_key_secret imports it

    return Secrets(context.client)


@dataclass(frozen=True)
class CreateInSecret:
    """CreateSSHKeyPairSecret: key pair `name` made by Secrets Manager inside secret `secret` (with the spec's
    description and KMS key; `tags` are the secret's). The key pair's record after it has what the answer says (its
    ID); its public key is known from the next read."""

    secret: str
    name: str
    project_id: int
    tags: dict[str, str] | None

    def says(self) -> str:
        return "create key pair %s in secret %s" % (self.name, self.secret)

    def predict(self, model: Progress) -> Progress:
        return model  # reconcile.predicted() builds the key pair a creation would make from the plan

    def run(self, context: KeyPairContext, model: Progress) -> Done[Progress]:
        from .._secret.api import NewSecret

        secrets, spec = _secrets(context), context.spec
        try:
            made = secrets.create(NewSecret(self.secret, self.name, self.project_id, spec.description or None,
                                            spec.kms_key_id, dict(self.tags or {})))
        except LostAnswer as lost:
            found = self._after_lost_answer(context, secrets, lost)
            said = "created key pair %s (%s) in secret %s (its answer was lost; found by name)" % (
                self.name, found.key_id, self.secret)
            return Done(replace(model, key_pair=found), (said,))
        key_pair = KeyPair(made.key_id, self.name, self.project_id)
        return Done(replace(model, key_pair=key_pair),
                    ("created key pair %s (%s) in secret %s" % (self.name, made.key_id, self.secret),))

    def _after_lost_answer(self, context: KeyPairContext, secrets: Secrets, lost: LostAnswer) -> KeyPair:
        """What a creation whose answer was lost made: the secret (looked for as long as create.py looks for a key
        pair), then its key pair. Nothing found: nothing was created, and the task fails without sending it again."""
        from .create import LOOKUP, lookup_deadline

        client, error = context.client, lost.lost

        def probe() -> SshKeySecret | None:
            found = secrets.describe(self.secret)
            if found is None and lost.timed_out:
                raise Again()
            return found

        try:
            secret = waiter_for(client).wait_until(probe, LOOKUP, deadline=lookup_deadline(client))
        except Exhausted:
            secret = None
        if secret is None:
            raise secrets.failure("Could not create key pair %s in secret %s (the answer was lost and the secret does "
                                  "not exist: nothing was created; run the task again)" % (self.name, self.secret),
                                  error)
        if secret.key_name != self.name:
            raise TaskError("%s got no answer (%s), and secret %s now holds key pair %s, not %s: someone else created "
                            "it. Choose another private_key_secret."
                            % (error.action, error.message, self.secret, secret.key_name, self.name),
                            code="SecretHoldsAnotherKeyPair")
        key_pair = context.key_pairs.find(self.name)[0]
        if key_pair is None:
            raise TaskError("%s got no answer (%s); secret %s now exists, holding key pair %s, which DescribeKeyPairs "
                            "does not show (yet). Run the task again."
                            % (error.action, error.message, self.secret, self.name),
                            code="SecretKeyPairMissing", changed=True)
        return key_pair


@dataclass(frozen=True)
class EnableAgain:
    """The undo of DisableSecret: a deletion that failed leaves the secret as it was, its key readable."""

    secret: str

    @property
    def undone(self) -> str:
        return "secret %s was enabled again." % self.secret

    @property
    def stuck(self) -> str:
        return "enabling secret %s again failed (it stays Disabled; run the task again, or enable it):" % self.secret

    def run(self, context: KeyPairContext) -> str:
        _secrets(context).enable(self.secret)
        return "enabled secret %s again" % self.secret


@dataclass(frozen=True)
class DisableSecret:
    """DisableSecret: Secrets Manager deletes only a disabled secret. Undone if the deletion fails."""

    secret: str

    def says(self) -> str:
        return "disable secret %s" % self.secret

    def run(self, context: KeyPairContext, model: float | None) -> Done[float | None]:
        _secrets(context).disable(self.secret)
        return Done(model, ("disabled secret %s" % self.secret,), undo=EnableAgain(self.secret))

    def predict(self, model: float | None) -> float | None:
        return model


@dataclass(frozen=True)
class DeleteSecret:
    """DeleteSecret at once (RecoveryWindowInDays 0), with CleanSSHKey when the key pair exists: the service deletes
    both, and refuses while the key pair is bound (its words, with the hint, are the failure)."""

    secret: str
    key_pair: KeyPair | None

    def says(self) -> str:
        return "delete secret %s%s" % (self.secret, " and its key pair" if self.key_pair is not None else "")

    def run(self, context: KeyPairContext, model: float | None) -> Done[float | None]:
        _secrets(context).delete(self.secret, clean_ssh_key=self.key_pair is not None)
        said = "deleted secret %s" % self.secret
        if self.key_pair is not None:
            said += " and key pair %s (%s)" % (self.key_pair.key_name, self.key_pair.key_id)
        return Done(model, (said,), keeps=True)

    def predict(self, model: float | None) -> float | None:
        return model
