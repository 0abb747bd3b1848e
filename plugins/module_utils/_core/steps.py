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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from .errors import Journal, TaskError, unexpected

M = TypeVar("M")
C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)


if TYPE_CHECKING:  # protocols for the type checker only: creating them costs import time in every playbook run
    class Undo(Protocol[C_contra]):
        """What takes a step back. `run` returns the journal line; `undone` completes the failure's sentence when it
        worked ("key pair x was deleted again so that ..."), `stuck` when it did not."""

        @property
        def undone(self) -> str:
            ...

        @property
        def stuck(self) -> str:
            ...

        def run(self, context: C_contra) -> str:
            ...

    class Step(Protocol[C_contra, M]):
        def says(self) -> str:
            ...

        def run(self, context: C_contra, model: M) -> Done[M]:
            ...

        def predict(self, model: M) -> M:
            ...


@dataclass(frozen=True)
class Done(Generic[M]):
    """What a step did: the model after it, what the journal says (nothing, for a step that found nothing to do),
    an Undo while its effect is not safe yet, and `keeps`: from here, earlier steps are kept even if a later one
    fails (the old key pair they replace is gone). `result`: what a later failure must still return (a private key
    that exists nowhere else), dropped if this step is undone. `final`: the plan ends here (someone else's key pair
    stands: nothing after it applies)."""

    model: M
    said: tuple[str, ...] = ()
    undo: Undo[Any] | None = None
    keeps: bool = False
    result: Mapping[str, object] = field(default_factory=dict)
    final: bool = False


class StepFailed(Exception):
    """A step that had changed something before it failed: the executor journals `said`, then fails with
    `error`."""

    def __init__(self, error: TaskError, said: tuple[str, ...]) -> None:
        super().__init__(error.msg)
        self.error, self.said = error, said


@dataclass(frozen=True)
class Executed(Generic[M]):
    model: M
    journal: tuple[str, ...]


def predict(steps: Sequence[Step[C, M]], model: M) -> M:
    """The model a real run would leave (check mode)."""
    for step in steps:
        model = step.predict(model)
    return model


def execute(steps: Sequence[Step[C, M]], context: C, model: M,
            failure: Callable[[Journal, TaskError], TaskError] = Journal.failure) -> Executed[M]:
    """Runs `steps` in order from `model`. Raises TaskError (changed=true and the journal in its message when
    something had been changed); an unexpected exception is reported by type and place only (unexpected()).
    `failure` words the journal into the error (a module whose users read other words passes its own)."""
    run = _Run(Journal(), failure)
    for step in steps:
        try:
            done = step.run(context, model)
        except StepFailed as failed:
            run.record(Done(model, failed.said))
            raise run.taken_back(failed.error, context) from None
        except TaskError as exc:
            raise run.taken_back(exc, context) from None
        except Exception as exc:  # a bug: still say what was changed before it (its text is not shown)
            raise run.taken_back(unexpected(exc), context) from None
        except BaseException:  # KeyboardInterrupt and the like: take back what cannot stay, then let it go on
            run.taken_back(TaskError("interrupted", code="Interrupted"), context)
            raise
        run.record(done)
        model = done.model
        if done.final:
            break
    return Executed(model, tuple(run.journal.entries))


class _Run:
    """The executor's bookkeeping: the journal, the undos still possible (each with the result it would drop), and
    the result keys kept for any failure."""

    def __init__(self, journal: Journal, failure: Callable[[Journal, TaskError], TaskError]) -> None:
        self.journal = journal
        self.failure = failure
        self.undos: list[tuple[Undo[Any], Mapping[str, object]]] = []
        self.kept: dict[str, object] = {}

    def record(self, done: Done[Any]) -> None:
        for line in done.said:
            self.journal.add(line)
        if done.keeps:
            for _undo, result in self.undos:
                self.kept.update(result)
            self.undos = []
        if done.undo is not None:
            self.undos.append((done.undo, done.result))
        else:
            self.kept.update(done.result)

    def taken_back(self, exc: TaskError, context: object) -> TaskError:
        """`exc` after the undos ran (newest first), with what they did, the kept result and the journal."""
        for undo, _result in reversed(self.undos):
            try:
                self.journal.add(undo.run(context))
            except TaskError as failed:
                exc = exc.amended("%s, and %s %s" % (exc.msg, undo.stuck, failed.msg), changed=True)
            else:
                exc = exc.amended("%s; %s" % (exc.msg, undo.undone))
        self.undos = []
        return self.failure(self.journal, exc.amended(result=self.kept) if self.kept else exc)
