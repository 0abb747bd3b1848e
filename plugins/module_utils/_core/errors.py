# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one failure funnel: every API or transport failure is a TencentCloudAPIError; every failure a user sees is
a TaskError with a non-empty code. Hints for the codes any Tencent Cloud API can answer live here; the key-pair
codes live with the key-pair reconciler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Dict, Optional, Protocol

Failure = Dict[str, Optional[str]]  # failure: {code, message, request_id} of a failed task's result

# The client-side codes: failures found on the control node, before or instead of an API answer. Each is
# explained in docs/docsite/rst/guide_troubleshooting.rst (a test keeps the two in step).
CLIENT_CODES = {
    "InvalidArgument": "an option is missing, malformed or contradicts another; nothing was called",
    "MissingCredentials": "no credentials or no region were found; nothing was called",
    "InvalidDestination": "private_key_path cannot be used (directory, link, unreadable or undecryptable file)",
    "DestinationExists": "a file is at private_key_path and creating the key pair would overwrite it",
    "KeyMismatch": "regenerate=fail and the key pair differs from what the task asks for",
    "KeyPairInUse": "the key pair is bound to instances, so it is not replaced or deleted implicitly",
    "KeyFileWriteFailed": "a key file could not be written or updated on the control node",
    "ClientNetworkError": "no connection, a TLS failure, or no answer within timeout",
    "ServerNetworkError": "the endpoint answered with an HTTP error status instead of an API response",
    "InvalidResponse": "the endpoint's answer is not a Tencent Cloud API response",
    "UnexpectedError": "a bug in the collection; the message says what had been changed before it",
    "Interrupted": "SIGINT or SIGTERM arrived while a creation's answer was lost; the next run sorts it out",
    "InterruptedCreation": "an earlier creation was interrupted, and this run cannot tell safely what it left",
    "UntrustedRecord": "the record of a creation at private_key_path is not one this user wrote on this host (another "
                       "user's, a link, implausible fields); nothing was changed",
    "InvalidGeneratedKey": "CreateKeyPair answered with a private key that is not the RSA key of its public key; the "
                           "key pair was deleted again and nothing was written",
    "InstanceNotFound": "an instance of instance_ids does not exist in the region; nothing was changed",
    "KeyPairNotFound": "a key pair of key_pairs does not exist in the region; nothing was changed",
    "UnsupportedInstance": "an instance runs Windows, and key pairs bind to Linux instances only; nothing was changed",
    "InstanceRunning": "a running instance would have to be stopped and force_stop is false; nothing was changed",
    "InstanceStateUnsupported": "an instance is in a state in which key pairs cannot change; nothing was changed",
    "OperationTimeout": "wait_timeout ran out waiting for instances; the message says what had been sent",
    "OperationFailed": "Tencent Cloud accepted a bind or unbind, and the operation on the instance FAILED",
    "SecretTypeMismatch": "the secret named is not an SSH key pair secret; nothing was changed",
    "KeyPairNotInSecret": "the key pair exists but the secret of private_key_secret does not, and Tencent Cloud "
                          "cannot put an existing key pair into a secret; nothing was changed",
    "SecretHoldsAnotherKeyPair": "the secret of private_key_secret holds a key pair of another name; nothing was "
                                 "changed",
    "SecretKeyPairMissing": "the secret of private_key_secret holds a key pair that no longer exists; nothing was "
                            "changed",
}

# What the codes any Tencent Cloud API can answer mean to a user, and what to do.
GENERIC_HINTS = {
    "MissingParameter": "a required parameter was missing from the request",
    "InvalidParameterValue": "a parameter value was rejected (wrong format or unsupported)",
    "InternalServerError": "Tencent Cloud had an internal error; try again later",
    "InternalError": "Tencent Cloud had an internal error; try again later",
    "AuthFailure.SignatureExpire": "the request timestamp is more than 5 minutes from Tencent Cloud's clock; "
                                   "check the control node's clock (NTP)",
    "AuthFailure.SignatureFailure": "the signature does not match: check secret_key for the given secret_id",
    "AuthFailure.SecretIdNotFound": "the secret_id is unknown or disabled",
    "AuthFailure.TokenFailure": "the security token is invalid or expired; refresh the temporary credentials",
    "AuthFailure.InvalidAuthorization": "the Authorization header was malformed",
    "AuthFailure.UnauthorizedOperation": "the credentials are not allowed (CAM) to do this",
    "UnauthorizedOperation": "the credentials are not allowed (CAM) to do this",
    "RequestLimitExceeded": "Tencent Cloud kept throttling the requests for throttle_timeout seconds; lower forks "
                            "or raise throttle_timeout",
    "UnsupportedRegion": "the region is not supported for CVM",
    "ClientNetworkError": "the endpoint could not be reached",
    "ServerNetworkError": "the endpoint answered with an HTTP error",
    "InvalidResponse": "the endpoint's answer could not be read",
}


class Flagged(Protocol):
    """An error with boolean flags named in FLAGS (TencentCloudAPIError, the transport's errors)."""

    @property
    def FLAGS(self) -> tuple[str, ...]:  # noqa: N802 - the class attribute it stands for
        ...


# Sub-codes that share their family's meaning (RequestLimitExceeded.UinLimitExceeded, UnauthorizedOperation.X).
_FAMILIES = ("RequestLimitExceeded", "UnauthorizedOperation")


def set_flags(error: Flagged, flags: Mapping[str, object]) -> None:
    """Each of error.FLAGS set from keyword flags (False when not given); an unknown flag is a TypeError."""
    unknown = set(flags) - set(error.FLAGS)
    if unknown:
        raise TypeError("unknown flags %s" % sorted(unknown))
    for name in error.FLAGS:
        setattr(error, name, bool(flags.get(name)))


class TencentCloudAPIError(Exception):
    """An error answer from the API, or a transport failure given a client-side code.

    ``ambiguous`` is true when the request may have been carried out although no answer was read
    (a timeout, a connection closed mid-answer, a 5xx or an unreadable body). ``retryable`` is true for the
    failures worth another attempt of a safe call: throttling, internal errors, HTTP 5xx, connection resets
    and refusals, and timeouts (never TLS, DNS, proxy or HTTP 4xx failures).
    """

    FLAGS = ("ambiguous", "timed_out", "retryable")
    ambiguous: bool
    timed_out: bool
    retryable: bool

    def __init__(self, *, code: str, message: str, request_id: str | None = None, action: str | None = None,
                 **flags: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id
        self.action = action
        set_flags(self, flags)

    @property
    def transport(self) -> bool:
        return self.request_id is None

    def suffix(self) -> str:
        if self.request_id:
            return "(%s, RequestId %s)" % (self.code, self.request_id)
        return "(%s)" % self.code

    def __str__(self) -> str:
        return "%s %s" % (self.message, self.suffix())

    def as_failure(self) -> Failure:
        return {"code": self.code, "message": self.message, "request_id": self.request_id}


def hint(code: str, hints: Mapping[str, str] | None = None) -> str | None:
    """The sentence that explains `code`: from `hints` (an API's own codes) first, then the generic ones."""
    for table in (hints or {}, GENERIC_HINTS):
        if code in table:
            return table[code]
    for family in _FAMILIES:
        if code.startswith(family + "."):
            return GENERIC_HINTS[family]
    return None


class TaskError(Exception):
    """A failure of a task that a user can act on: a final message, a non-empty code, the API error behind it
    (if any), and whether something was already changed (created, deleted, renamed, written) when it failed."""

    def __init__(self, msg: str, code: str | None = None, api_error: TencentCloudAPIError | None = None,
                 changed: bool = False, result: Mapping[str, object] | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.api_error = api_error
        self.code: str = api_error.code if api_error is not None else (code or "")
        if not self.code:
            raise ValueError("a TaskError needs a code")
        self.changed = changed
        self.result: dict[str, object] = dict(result or {})  # what a failed task still returns (a private key
        # that exists nowhere else)

    def amended(self, msg: str | None = None, changed: bool | None = None,
                result: Mapping[str, object] | None = None) -> TaskError:
        """A copy with another message, `changed`, or more result keys: the one way a failure's text grows (the
        journal, an undo, what was kept), never by changing the exception that was raised."""
        copy = type(self).__new__(type(self))
        TaskError.__init__(copy, self.msg if msg is None else msg, code=self.code, api_error=self.api_error,
                           changed=self.changed if changed is None else changed, result=dict(self.result, **(result or {})))
        return copy

    @classmethod
    def from_api(cls, what: str, exc: TencentCloudAPIError, hints: Mapping[str, str] | None = None,
                 changed: bool = False) -> TaskError:
        """<what>: <hint> (<API message>) (<Code>, RequestId <id>); transport failures keep their own message."""
        text = hint(exc.code, hints)
        if exc.transport:
            message = "%s; %s" % (exc.message, text) if text else exc.message
        else:
            message = "%s (%s)" % (text, exc.message) if text else exc.message
        return cls("%s: %s %s" % (what, message, exc.suffix()), api_error=exc, changed=changed)

    def as_failure(self) -> Failure:
        if self.api_error is not None:
            return self.api_error.as_failure()
        return {"code": self.code, "message": self.msg, "request_id": None}


class LostAnswer(TaskError):
    """A write whose answer was lost (a timeout, a connection closed mid-answer, an unreadable body): it may have
    been carried out. `api_error` is the transport's error (its `timed_out` tells a timeout from the other ways to
    lose an answer); the caller looks up what became of the write, and never repeats it blindly."""

    ambiguous = True

    @property
    def timed_out(self) -> bool:
        return bool(self.api_error is not None and self.api_error.timed_out)

    @property
    def lost(self) -> TencentCloudAPIError:
        if self.api_error is None:
            raise AssertionError("a LostAnswer carries the transport's error")
        return self.api_error


class ArgumentError(TaskError):
    """An option (or a setting from the environment) that cannot be used; nothing was called. The message names
    the option and never repeats a credential."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg, code="InvalidArgument")


def unexpected(exc: BaseException) -> TaskError:
    """A TaskError for a bug: the exception's type and where it was raised, never its text (which may hold
    anything: a header value, a credential, a key)."""
    import os

    place = "?"
    tb = exc.__traceback__
    while tb is not None:
        place = "%s:%d" % (os.path.basename(tb.tb_frame.f_code.co_filename), tb.tb_lineno)
        tb = tb.tb_next
    return TaskError("Unexpected error: %s at %s (a bug in tencentcloud.cvm; please report it)"
                     % (type(exc).__name__, place), code="UnexpectedError")


class Journal:
    """What a task has changed so far (remote and local), so that a failure can say exactly what it leaves
    behind. The one journal of every reconciler."""

    def __init__(self) -> None:
        self.entries: list[str] = []

    def add(self, text: str) -> None:
        self.entries.append(text)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def text(self) -> str:
        return "; ".join(self.entries) if self.entries else "nothing"

    def failure(self, exc: TaskError, advice: str = "Run the task again to finish.") -> TaskError:
        """`exc` with changed=true and the changes made before it, when there were any."""
        if not self.entries:
            return exc
        return exc.amended("%s Changes made before the failure: %s. %s" % (exc.msg, self.text(), advice), changed=True)
