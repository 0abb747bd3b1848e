# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one failure funnel: every API or transport failure is a TencentCloudAPIError."""

from __future__ import annotations


class TencentCloudAPIError(Exception):
    """An error answer from the API, or a transport failure given a client-side code.

    ``ambiguous`` is true when the request may have been carried out although no answer was read
    (a timeout, a connection closed mid-answer, a 5xx or an unreadable body).
    """

    def __init__(self, *, code, message, request_id=None, action=None, ambiguous=False, http_status=None,
                 timed_out=False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id
        self.action = action
        self.ambiguous = ambiguous
        self.http_status = http_status
        self.timed_out = timed_out

    @property
    def transport(self):
        return self.request_id is None

    def suffix(self):
        if self.request_id:
            return "(%s, RequestId %s)" % (self.code, self.request_id)
        return "(%s)" % self.code

    def __str__(self):
        return "%s %s" % (self.message, self.suffix())

    def as_failure(self):
        return {"code": self.code, "message": self.message, "request_id": self.request_id}


class KeyPairError(Exception):
    """A failure of the key-pair task that a user can act on; wraps the API error behind it, if any."""

    def __init__(self, msg, api_error=None, code=None):
        super().__init__(msg)
        self.msg = msg
        self.api_error = api_error
        self.code = api_error.code if api_error is not None else code

    def as_failure(self):
        if self.api_error is not None:
            return self.api_error.as_failure()
        return {"code": self.code, "message": self.msg, "request_id": None}
