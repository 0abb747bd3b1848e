# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The steps of tencent_keypair's plans (decide.py orders them; _core/steps.py runs them). Each is a frozen value
that says what it does, does it on the Progress it is given and returns the next one. The creation, the step with
the most to say, is in create.py."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

from .._core.client import Client
from .._core.errors import TaskError
from .._core.files import KeyFileError
from .._core.steps import Done
from .api import KeyPairs, Tags
from . import destination
from .destination import Destination
from .keys import public_key_line
from .records import KeyPair, LocalFiles
from .reservation import clean_up
from .spec import KeyPairSpec


@dataclass(frozen=True)
class Progress:
    """The value that flows through a plan: the key pair as it stands (None before one exists), and what the
    result will say of the run (a private key it generated, a backup it kept, warnings it met)."""

    key_pair: KeyPair | None
    private_key: str | None = field(default=None, repr=False)
    generated: bool = False
    concurrent: bool = False        # someone else created the key pair first: theirs stands
    backup_file: str | None = None
    warnings: tuple[str, ...] = ()

    def model(self) -> KeyPair:
        if self.key_pair is None:
            raise AssertionError("no key pair yet: a plan orders Create before the steps that need one")
        return self.key_pair


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Faults:
    """Fault-injection seams a test passes in (production code passes none): `before_rename` runs between writing a
    private key into its reserved file and renaming it into place (tests/integration/test_interrupts.py kills the
    process there)."""

    before_rename: Callable[[], None] = _nothing


@dataclass(frozen=True)
class KeyPairContext:
    """What every step of one run may use: the API, the task's spec, the destination's descriptors (None without
    private_key_path) and what was read there (the snapshot the plan was decided from)."""

    client: Client
    key_pairs: KeyPairs
    spec: KeyPairSpec
    dest: Destination | None
    local: LocalFiles | None
    faults: Faults = Faults()


class SameModel:
    """A step whose effect the key pair's model does not show (files, names, deletions of other key pairs): its
    prediction is the model it is given."""

    def predict(self, model: Progress) -> Progress:
        return model


def _pair(model: KeyPair) -> str:
    return "key pair %s (%s)" % (model.key_name, model.key_id)


@dataclass(frozen=True)
class RecoverFiles(SameModel):
    """Finish or clean up the files an interrupted creation left (its record, its reserved files)."""

    finish: str | None

    def says(self) -> str:
        return "clean up after an interrupted creation"

    def run(self, context: KeyPairContext, model: Progress) -> Done[Progress]:
        dest = _destination(context)
        try:
            removed, reserved = clean_up(dest, self.finish)
        except OSError as exc:
            raise TaskError("Cannot clean up after an interrupted creation in %s (%s)"
                            % (dest.key_dir.path, exc.strerror or exc), code="InvalidDestination") from None
        said = ["moved the private key an interrupted run had written from %s to %s" % (reserved, self.finish)] \
            if self.finish else []
        if removed:
            said.append("removed %s, left by an interrupted run" % ", ".join(removed))
        return Done(model, tuple(said))


@dataclass(frozen=True)
class DeleteKeyPair:
    """DeleteKeyPairs of a key pair the plan drops (an orphan, a leftover pending one, the one an import of the
    same public key replaces); `what` names it in the journal."""

    key_pair: KeyPair
    what: str | None = None
    forget: bool = False  # the key pair deleted is the one the progress stands on (an import's delete-first)

    def says(self) -> str:
        return "delete %s" % (self.what or _pair(self.key_pair))

    def run(self, context: KeyPairContext, model: Progress) -> Done[Progress]:
        context.key_pairs.delete(self.key_pair, self.what)
        said = "deleted %s (%s)" % (self.what or "key pair %s" % self.key_pair.key_name, self.key_pair.key_id)
        return Done(self.predict(model), (said,))

    def predict(self, model: Progress) -> Progress:
        return replace(model, key_pair=None) if self.forget else model


@dataclass(frozen=True)
class RemoveStaged(SameModel):
    """Remove a staged private key that belongs to no key pair."""

    def says(self) -> str:
        return "remove the staged key of an interrupted replacement"

    def run(self, context: KeyPairContext, model: Progress) -> Done[Progress]:
        removed = _destination(context).staging_path
        destination.remove_staged(_destination(context))
        return Done(model, ("removed %s" % removed,))


@dataclass(frozen=True)
class DeleteOld(SameModel):
    """Make before break: the replaced key pair goes once its successor exists (and, with a key file, its key is
    staged on disk)."""

    old: KeyPair

    def says(self) -> str:
        return "delete the replaced %s" % _pair(self.old)

    def run(self, context: KeyPairContext, model: Progress) -> Done[Progress]:
        context.key_pairs.delete(self.old, "key pair %s" % context.spec.name)
        return Done(model, ("deleted key pair %s (%s)" % (context.spec.name, self.old.key_id),), keeps=True)


@dataclass(frozen=True)
class Modify(SameModel):
    """ModifyKeyPairAttribute: the spec's name (a replacement or an adopted pending key pair takes it over) and
    the description, where the key pair differs."""

    description: str | None

    def says(self) -> str:
        return "rename the new key pair and set its description" if self.description is not None \
            else "rename the new key pair"

    def run(self, context: KeyPairContext, model: Progress) -> Done[Progress]:
        current = model.model()
        description = self.description if self.description != current.description else None
        name = context.spec.name if current.key_name != context.spec.name else None
        if name is None and description is None:
            return Done(model)
        changed = context.key_pairs.modify(current, name=name, description=description)
        said = "renamed %s to %s" % (_pair(current), name) if name is not None \
            else "set the description of %s" % _pair(current)
        return Done(replace(model, key_pair=changed), (said,))


@dataclass(frozen=True)
class SetTags:
    """The Tag API changes that bring the key pair's tags to what the task asks."""

    tag_replace: Mapping[str, str]
    tag_delete: tuple[str, ...]

    def says(self) -> str:
        return "set tags %s and remove tags %s" % (dict(self.tag_replace), list(self.tag_delete))

    def run(self, context: KeyPairContext, model: Progress) -> Done[Progress]:
        current = model.model()
        tags = dict(current.tags)
        said = []
        for replaced, deleted in Tags(context.client).change(current, dict(self.tag_replace), self.tag_delete):
            tags.update(replaced)
            for key in deleted:
                tags.pop(key, None)
            said.append("set tags %s and removed tags %s of %s" % (replaced, deleted, _pair(current)))
        return Done(replace(model, key_pair=current.updated(tags=tags)), tuple(said))

    def predict(self, model: Progress) -> Progress:
        if model.key_pair is None:
            return model
        tags = dict(model.key_pair.tags, **self.tag_replace)
        kept = {k: v for k, v in tags.items() if k not in self.tag_delete}
        return replace(model, key_pair=model.key_pair.updated(tags=kept))


@dataclass(frozen=True)
class UpdateKeyFile(SameModel):
    """One change of the key file: `how` is "install" (move the staged key into place), "encrypt" (with the
    passphrase) or "mode"; a backup first where the spec asks and a file is replaced."""

    how: str

    def says(self) -> str:
        return {"install": "move the new private key into place", "encrypt": "encrypt the private key file",
                "mode": "set the mode of the private key file"}[self.how]

    def run(self, context: KeyPairContext, model: Progress) -> Done[Progress]:
        dest, spec, local = _destination(context), context.spec, context.local
        backup = None
        try:
            if self.how in ("install", "encrypt") and spec.backup and (self.how == "encrypt" or (
                    local is not None and local.exists)):
                backup = dest.backup()
            said = self._apply(dest, spec)
        except (OSError, KeyFileError) as exc:
            raise _files_failed(dest, exc) from None
        return Done(replace(model, backup_file=backup or model.backup_file), (said,))

    def _apply(self, dest: Destination, spec: KeyPairSpec) -> str:
        if self.how == "install":
            destination.install_staged(dest, spec.mode)
            return "moved the new private key from %s to %s" % (dest.staging_path, dest.target)
        if self.how == "encrypt" and spec.passphrase:
            destination.encrypt(dest, spec.passphrase, spec.mode)
            return "encrypted %s with the passphrase" % dest.target
        destination.set_mode(dest, spec.mode)
        return "set the mode of %s to %04o" % (dest.target, spec.mode)


@dataclass(frozen=True)
class WritePub(SameModel):
    """<path>.pub: the key pair's public key, with the comment the task asks for."""

    def says(self) -> str:
        return "write the public key file"

    def run(self, context: KeyPairContext, model: Progress) -> Done[Progress]:
        dest = _destination(context)
        try:
            dest.write_pub(public_key_line(model.model().public_key, pub_comment(context.spec)))
        except (OSError, KeyFileError) as exc:
            raise _files_failed(dest, exc) from None
        return Done(model, ("wrote %s" % dest.pub_path,))


def pub_comment(spec: KeyPairSpec) -> str:
    """The comment of the .pub line: public_key_comment, by default the key pair's name."""
    return spec.name if spec.public_key_comment is None else spec.public_key_comment


def _destination(context: KeyPairContext) -> Destination:
    if context.dest is None:
        raise AssertionError("a plan without private_key_path has no file steps")
    return context.dest


def _files_failed(dest: Destination, exc: OSError | KeyFileError) -> TaskError:
    reason = getattr(exc, "strerror", None) or str(exc)
    return TaskError("Could not update the key files of %s (%s)" % (dest.path, reason), code="KeyFileWriteFailed")
