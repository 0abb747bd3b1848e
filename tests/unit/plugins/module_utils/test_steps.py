# SPDX-License-Identifier: GPL-3.0-or-later
"""The one executor (_core/steps.py): steps run in order and are journaled; on a failure the undos run newest first
and one TaskError says what had been changed; `keeps` drops the undos before it, `result` travels with a failure
unless its step was undone, `final` ends the plan; a bug is reported by type and place, never by its text."""

from dataclasses import dataclass

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import TaskError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.steps import Done, StepFailed, execute
import pytest


@dataclass(frozen=True)
class Add:
    """Appends its word to the model (a tuple); a failure instead when `fails`; options set the Done's flags."""

    word: str
    fails: bool = False
    undo: bool = False
    keeps: bool = False
    final: bool = False
    result: tuple = ()

    def says(self):
        return "add %s" % self.word

    def run(self, context, model):
        if self.fails:
            raise TaskError("could not add %s" % self.word, code="Failed")
        return Done(model + (self.word,), ("added %s" % self.word,), undo=Remove(self.word) if self.undo else None,
                    keeps=self.keeps, result=dict(self.result), final=self.final)

    def predict(self, model):
        return model + (self.word,)


@dataclass(frozen=True)
class Remove:
    word: str

    @property
    def undone(self):
        return "%s was removed again" % self.word

    @property
    def stuck(self):
        return "removing %s again failed:" % self.word

    def run(self, context):
        if self.word in context.get("stuck", ()):
            raise TaskError("it stuck", code="Stuck")
        context.setdefault("removed", []).append(self.word)
        return "removed %s" % self.word


def test_steps_run_in_order_and_are_journaled():
    done = execute([Add("a"), Add("b")], {}, ())
    assert done.model == ("a", "b") and done.journal == ("added a", "added b")


def test_nothing_done_before_a_failure_says_nothing_and_changes_nothing():
    with pytest.raises(TaskError, match=r"^could not add a$") as info:
        execute([Add("a", fails=True), Add("b")], {}, ())
    assert info.value.code == "Failed" and not info.value.changed


def test_a_failure_undoes_newest_first_and_says_what_was_changed():
    context = {}
    with pytest.raises(TaskError) as info:
        execute([Add("a", undo=True), Add("b", undo=True), Add("c", fails=True)], context, ())
    assert context["removed"] == ["b", "a"]
    assert info.value.msg == ("could not add c; b was removed again; a was removed again Changes made before the "
                              "failure: added a; added b; removed b; removed a. Run the task again to finish.")
    assert info.value.changed and info.value.code == "Failed"


def test_an_undo_that_fails_is_said_and_the_others_still_run():
    context = {"stuck": ("b",)}
    with pytest.raises(TaskError, match=r"could not add c, and removing b again failed: it stuck; a was removed") \
            as info:
        execute([Add("a", undo=True), Add("b", undo=True), Add("c", fails=True)], context, ())
    assert context["removed"] == ["a"] and info.value.changed


def test_keeps_drops_the_undos_before_it_and_keeps_their_result():
    context = {}
    with pytest.raises(TaskError) as info:
        execute([Add("a", undo=True, result=(("key", "k"),)), Add("b", keeps=True), Add("c", fails=True)], context, ())
    assert "removed" not in context and info.value.result == {"key": "k"}


def test_the_result_of_an_undone_step_is_dropped():
    with pytest.raises(TaskError) as info:
        execute([Add("a", undo=True, result=(("key", "k"),)), Add("c", fails=True)], {}, ())
    assert info.value.result == {}


def test_final_ends_the_plan():
    done = execute([Add("a", final=True), Add("b", fails=True)], {}, ())
    assert done.model == ("a",) and done.journal == ("added a",)


def test_a_step_that_changed_something_before_it_failed_is_journaled():
    @dataclass(frozen=True)
    class Partly(Add):
        def run(self, context, model):
            raise StepFailed(TaskError("the write failed", code="KeyFileWriteFailed"), ("created key pair x",))

    with pytest.raises(TaskError, match=r"^the write failed Changes made before the failure: added a; created key "
                                        r"pair x\. Run the task again to finish\.$") as info:
        execute([Add("a"), Partly("b")], {}, ())
    assert info.value.code == "KeyFileWriteFailed" and info.value.changed


def test_a_bug_is_reported_by_type_and_place_never_by_its_text():
    @dataclass(frozen=True)
    class Buggy(Add):
        def run(self, context, model):
            raise KeyError("secret-text-123")

    with pytest.raises(TaskError, match=r"^Unexpected error: KeyError at test_steps\.py:\d+ .* Changes made before "
                                        r"the failure: added a\.") as info:
        execute([Add("a"), Buggy("b")], {}, ())
    assert info.value.code == "UnexpectedError" and "secret-text-123" not in info.value.msg


def test_an_interrupt_takes_back_what_cannot_stay_and_goes_on():
    @dataclass(frozen=True)
    class Interrupted(Add):
        def run(self, context, model):
            raise KeyboardInterrupt

    context = {}
    with pytest.raises(KeyboardInterrupt):
        execute([Add("a", undo=True), Interrupted("b")], context, ())
    assert context["removed"] == ["a"]


def test_the_wording_of_the_journal_is_the_callers():
    def sent(journal, exc):
        return exc.amended("%s. Already sent: %s." % (exc.msg, journal.text()), changed=True)

    with pytest.raises(TaskError, match=r"^could not add b\. Already sent: added a\.$"):
        execute([Add("a"), Add("b", fails=True)], {}, (), failure=sent)
