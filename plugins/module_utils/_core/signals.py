# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Deferring SIGINT and SIGTERM across a critical section.

Why: from the moment CreateKeyPair is sent until its private key is on disk (or the key pair is deleted again),
the key exists only in this process. ansible-core (2.16 to 2.21) runs each task in a forked worker that is its own
process group leader; on Ctrl-C or SIGTERM the controller forwards the signal to every worker, whose handler
(WorkerProcess._term) kills the worker's process group at once. The controller then terminates what is left
(SIGTERM) without waiting. Inside the section, both signals are only recorded; when it ends, the first one is
raised again and the previous handler (Ansible's, or Python's default) does what it would have done.

SIGKILL cannot be deferred: the key-file reservation (see _keyfile.Reservation) lets the next run recover."""

from __future__ import annotations

from collections.abc import Callable
import signal
import threading
from types import FrameType, TracebackType
from typing import Literal, Union

DEFERRED = (signal.SIGINT, signal.SIGTERM)

# What signal.signal() installs and returns: a function, SIG_DFL or SIG_IGN, or None (a handler not installed
# from Python).
Handler = Union[Callable[[int, Union[FrameType, None]], object], int, signal.Handlers, None]


class DeferredSignals:
    """`with DeferredSignals() as section:` ... `section.pending` tells whether a signal is waiting. Does nothing
    outside the main thread (where Python cannot install handlers).

    A signal the process ignores (SIG_IGN, e.g. inherited from a shell that started it in the background) stays
    ignored. When the section ends, every signal that arrived is raised again, in order: if the first one's handler
    returns, the next still takes effect (a SIGTERM after a SIGINT is not lost)."""

    def __init__(self) -> None:
        self.pending: list[int] = []
        self._previous: dict[int, Handler] = {}

    def _record(self, signum: int, _frame: FrameType | None) -> None:
        if signum not in self.pending:
            self.pending.append(signum)

    def __enter__(self) -> DeferredSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in DEFERRED:
                if signal.getsignal(signum) is signal.SIG_IGN:
                    continue
                self._previous[signum] = signal.signal(signum, self._record)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        for signum, handler in self._previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        self._previous = {}
        pending, self.pending = self.pending, []
        for signum in pending:
            signal.raise_signal(signum)  # now it takes effect (the handler may not return)
        return False
