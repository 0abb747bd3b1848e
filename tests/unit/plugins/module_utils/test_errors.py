# SPDX-License-Identifier: GPL-3.0-or-later
"""The one failure funnel (_core/errors.py): TaskError always has a code; amended() makes a new error and never
changes the raised one; the journal words a failure once; hints by code and by family; LostAnswer keeps the
transport's error."""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import (
    ArgumentError, Journal, LostAnswer, TaskError, TencentCloudAPIError, hint, unexpected,
)
import pytest


def api(code="InternalError", request_id="r-1", **flags):
    return TencentCloudAPIError(code=code, message="the message", request_id=request_id, action="CreateKeyPair",
                                **flags)


def test_a_task_error_needs_a_code():
    with pytest.raises(ValueError, match="needs a code"):
        raise TaskError("no code")
    assert ArgumentError("bad").code == "InvalidArgument"


def test_amended_is_a_new_error_and_the_raised_one_stays():
    error = TaskError("first", code="C", result={"a": 1})
    other = error.amended("second", changed=True, result={"b": 2})
    assert (error.msg, error.changed, error.result) == ("first", False, {"a": 1})
    assert (other.msg, other.changed, other.result, other.code) == ("second", True, {"a": 1, "b": 2}, "C")
    assert type(ArgumentError("x").amended("y")) is ArgumentError  # pylint: disable=unidiomatic-typecheck


def test_the_journal_words_a_failure_once():
    journal = Journal()
    assert journal.failure(TaskError("m", code="C")).msg == "m"
    journal.add("created key pair x (skey-1)")
    failed = journal.failure(TaskError("m", code="C"))
    assert failed.msg == "m Changes made before the failure: created key pair x (skey-1). Run the task again to finish."
    assert failed.changed


def test_from_api_words_the_hint_and_keeps_the_request_id():
    error = TaskError.from_api("Could not create key pair x", api("InvalidKeyPair.LimitExceeded"),
                               {"InvalidKeyPair.LimitExceeded": "the quota is used up"})
    assert error.msg == "Could not create key pair x: the quota is used up (the message) (InvalidKeyPair.LimitExceeded, " \
                        "RequestId r-1)"
    assert error.as_failure() == {"code": "InvalidKeyPair.LimitExceeded", "message": "the message", "request_id": "r-1"}


def test_hints_by_family():
    assert hint("RequestLimitExceeded.UinLimitExceeded") == hint("RequestLimitExceeded")
    assert hint("UnauthorizedOperation.Something") == hint("UnauthorizedOperation")
    assert hint("NoSuchCode") is None


def test_a_lost_answer_keeps_the_transports_error():
    lost = LostAnswer("CreateKeyPair for x got no answer",
                      api_error=api("ClientNetworkError", request_id=None, ambiguous=True, timed_out=True))
    assert lost.lost.timed_out and lost.timed_out and lost.ambiguous and lost.code == "ClientNetworkError"
    with pytest.raises(AssertionError, match="carries the transport's error"):
        assert LostAnswer("x", code="C").lost is None  # raises before it compares


def test_unknown_flags_are_refused():
    with pytest.raises(TypeError, match="unknown flags"):
        api(lost=True)


def test_unexpected_names_type_and_place_only():
    error = None
    try:
        raise RuntimeError("token-abc")
    except RuntimeError as exc:
        error = unexpected(exc)
    assert error is not None and error.code == "UnexpectedError" and "token-abc" not in error.msg and "RuntimeError at test_errors.py:" in error.msg
