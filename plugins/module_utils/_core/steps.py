# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The write side as data: a plan is a tuple of steps, and one executor runs any plan.

A step is a frozen value that says what it does (`says`: the journal's words, and in check mode the "would ..."
line), does it (`run(context, model)`, returning a Done: the model after it, the journal lines, and an Undo when what
it did can be taken back), and predicts the model after it (`predict`, for check mode). The executor runs the steps
in order and journals each; when one fails, it takes back what can be taken back (newest first: a key pair just
created whose private key is not safe yet) and raises one TaskError that says what had been changed before the
failure. Values move as return values: nothing a step returns is changed afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, Sequence, TypeVar

from .errors import Journal, TaskError, unexpected

M = TypeVar("M")
C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)


class Undo(Protocol[C_contra]):
    """What takes a step back. `run` returns the journal line; `undone` completes the failure's sentence when it
    worked ("key pair x was deleted again so that ..."), `stuck` when it did not."""

    undone: str
    stuck: str

    def run(self, context: C_contra) -> str: ...


class Step(Protocol[C_contra, M]):
    def says(self) -> str: ...

    def run(self, context: C_contra, model: M) -> Done[M]: ...

    def predict(self, model: M) -> M: ...


@dataclass(frozen=True)
class Done(Generic[M]):
    """What a step did: the model after it, what the journal says (nothing, for a step that found nothing to do),
    an Undo while its effect is not safe yet, and `keeps`: from here, earlier steps are kept even if a later one
    fails (the private key of the key pair they created is on disk)."""

    model: M
    said: tuple[str, ...] = ()
    undo: Undo[object] | None = None
    keeps: bool = False


@dataclass(frozen=True)
class Executed(Generic[M]):
    model: M
    journal: tuple[str, ...]


def predict(steps: Sequence[Step[C, M]], model: M) -> M:
    """The model a real run would leave (check mode)."""
    for step in steps:
        model = step.predict(model)
    return model


def execute(steps: Sequence[Step[C, M]], context: C, model: M) -> Executed[M]:
    """Runs `steps` in order from `model`. Raises TaskError (changed=true and the journal in its message when
    something had been changed); an unexpected exception is reported by type and place only (unexpected())."""
    journal = Journal()
    undos: list[Undo[C]] = []
    for step in steps:
        try:
            done = step.run(context, model)
        except TaskError as exc:
            raise _taken_back(exc, undos, context, journal) from None
        except Exception as exc:  # a bug: still say what was changed before it (its text is not shown)
            raise _taken_back(unexpected(exc), undos, context, journal) from None
        except BaseException:  # KeyboardInterrupt and the like: take back what cannot stay, then let it go on
            _taken_back(TaskError("interrupted", code="Interrupted"), undos, context, journal)
            raise
        for line in done.said:
            journal.add(line)
        if done.keeps:
            undos = []
        if done.undo is not None:
            undos.append(done.undo)
        model = done.model
    return Executed(model, tuple(journal.entries))


def _taken_back(exc: TaskError, undos: list[Undo[C]], context: C, journal: Journal) -> TaskError:
    """`exc` after the undos ran (newest first), with what they did, and the journal, in its message."""
    for undo in reversed(undos):
        try:
            journal.add(undo.run(context))
        except TaskError as failed:
            exc = exc.but("%s, and %s %s" % (exc.msg, undo.stuck, failed.msg), changed=True)
        else:
            exc = exc.but("%s; %s" % (exc.msg, undo.undone))
    return journal.failure(exc)
