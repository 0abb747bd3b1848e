# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A total deadline per call for transport.py: one watchdog thread per process shuts the socket of a call whose
time is up (socket timeouts bound each read, not a whole answer that drips in)."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import ClassVar


class Deadline:
    """The time a whole call may take (connecting, the TLS handshakes, the proxy's tunnel, sending, and reading the
    whole answer): socket timeouts apply to each read, so a server that drips its answer could hold a call for
    ever. When the time is up, the TCP socket under any TLS layer is shut down, which ends whatever read or write
    is waiting on it. One watchdog thread per process serves every deadline (_Watchdog)."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        _Watchdog.watch(self)

    def remaining(self) -> float:
        return max(0.001, self.at - time.monotonic())

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.expired:
                _cut(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._sock is not None:
                _cut(self._sock)

    def cancel(self) -> None:
        _Watchdog.forget(self)


class _Watchdog:
    """The thread that expires deadlines, started on first use in each process (Ansible forks a worker per task;
    a thread is not inherited across fork, hence the pid)."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _wake: ClassVar[threading.Condition] = threading.Condition(_lock)
    _deadlines: ClassVar[set[Deadline]] = set()
    _pid: ClassVar[int | None] = None

    @classmethod
    def watch(cls, deadline: Deadline) -> None:
        with cls._lock:
            if cls._pid != os.getpid():
                cls._pid = os.getpid()
                cls._deadlines = set()
                thread = threading.Thread(target=cls._run, name="tencentcloud-cvm-deadlines", daemon=True)
                thread.start()
            cls._deadlines.add(deadline)
            cls._wake.notify()

    @classmethod
    def forget(cls, deadline: Deadline) -> None:
        with cls._lock:
            cls._deadlines.discard(deadline)

    @classmethod
    def _after_fork(cls) -> None:
        """In a forked child the thread is gone, and its lock may have been held at the fork: start afresh."""
        cls._lock = threading.Lock()
        cls._wake = threading.Condition(cls._lock)
        cls._deadlines = set()
        cls._pid = None

    @classmethod
    def _run(cls) -> None:
        with cls._lock:
            while True:
                now = time.monotonic()
                due = [d for d in cls._deadlines if d.at <= now]
                for deadline in due:
                    cls._deadlines.discard(deadline)
                    deadline.expire()
                soonest = min((d.at for d in cls._deadlines), default=None)
                cls._wake.wait(None if soonest is None else max(0.0, soonest - now))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_Watchdog._after_fork)


def _cut(sock: socket.socket) -> None:
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the TCP socket itself, under any TLS object
    except (OSError, ValueError):
        pass
