# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one way to wait: every loop of the collection that tries again (throttled or failed calls, a lost answer,
asynchronous operations, lingering bindings) is `wait_until` with a `Backoff`, on the client's clock and sleep, so
that tests can drive time and every loop is bounded by a deadline or a number of attempts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import random
from typing import Protocol, TypeVar

T = TypeVar("T")


class Again(Exception):
    """Raised by a probe: not done yet; `reason` is what the caller gets if time or attempts run out (whatever the
    probe's caller wants to know then: the last error, what was still pending)."""

    def __init__(self, reason: object = None) -> None:
        super().__init__(reason)
        self.reason = reason


class Exhausted(Exception):
    """The deadline or the attempts ran out; `reason` is the last Again's."""

    def __init__(self, reason: object = None) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Backoff:
    """Delays first, first*factor, ... up to ceiling; with jitter, each is drawn between half and all of it."""

    first: float = 0.5
    factor: float = 2.0
    ceiling: float = 10.0
    jitter: bool = False

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        ceiling = min(float(self.ceiling), self.first * (self.factor ** attempt))
        return ceiling / 2 + rand() * ceiling / 2 if self.jitter else ceiling


@dataclass(frozen=True)
class Waiter:
    """The time and the sleep a wait uses (the client's; tests give a sleep that returns at once)."""

    now: Callable[[], float]
    sleep: Callable[[float], None]

    def wait_until(self, probe: Callable[[], T], backoff: Backoff, deadline: float | None = None,
                   attempts: int | None = None) -> T:
        """Calls probe() until it returns, and returns its value. The probe raises Again to be called again after
        the next delay; when the next call would come after `deadline` (a time on this clock) or would be call
        number `attempts` + 1, Exhausted(the last Again's reason) is raised instead. Anything else the probe
        raises goes to the caller. Time is the clock's, or the time slept if that is more (a sleep that returns at
        once still ends the wait)."""
        start, slept, attempt = self.now(), 0.0, 0
        while True:
            try:
                return probe()
            except Again as again:
                reason = again.reason
            delay = backoff.delay(attempt)
            attempt += 1
            now = max(self.now(), start + slept)
            if (attempts is not None and attempt >= attempts) or (deadline is not None and now + delay > deadline):
                raise Exhausted(reason)
            self.sleep(delay)
            slept += delay


class Clocked(Protocol):
    """What a Waiter is made from: a Client, or a test double with a clock and a sleep."""

    @property
    def clock(self) -> Callable[[], float]:
        ...

    @property
    def sleep(self) -> Callable[[float], None]:
        ...


def waiter_for(client: Clocked) -> Waiter:
    """The Waiter on a client's clock and sleep (a test double needs only those two)."""
    return Waiter(client.clock, client.sleep)
