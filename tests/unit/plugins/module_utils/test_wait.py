# SPDX-License-Identifier: GPL-3.0-or-later
"""The one way to wait (_core/wait.py): Backoff's delays, and Waiter.wait_until on a fake clock and sleep, bounded by
a deadline or a number of attempts."""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.wait import (
    Again, Backoff, Exhausted, Waiter, waiter_for,
)
import pytest


class FakeTime:
    """A clock that moves only when slept on (or by `drift` per reading: time that passes while a probe runs)."""

    def __init__(self, start=1000.0, drift=0.0):
        self.now, self.drift, self.slept = start, drift, []

    def clock(self):
        self.now += self.drift
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def probe_of(results):
    """A probe that raises Again(reason) for each reason in `results` until it meets a value, which it returns."""
    calls = []

    def probe():
        calls.append(len(calls))
        result = results[len(calls) - 1]
        if isinstance(result, Again):
            raise result
        return result

    return probe, calls


def test_backoff_grows_by_its_factor_up_to_its_ceiling():
    backoff = Backoff(first=0.5, factor=2.0, ceiling=3.0)
    assert [backoff.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_draws_between_half_and_all_of_the_delay():
    backoff = Backoff(first=4.0, factor=1.0, ceiling=10.0, jitter=True)
    assert backoff.delay(0, rand=lambda: 0.0) == 2.0
    assert backoff.delay(0, rand=lambda: 1.0) == 4.0
    assert backoff.delay(3, rand=lambda: 0.5) == 3.0


def test_backoff_is_frozen():
    with pytest.raises(AttributeError):
        Backoff().first = 1.0


def test_the_probe_value_is_returned_after_the_delays():
    time = FakeTime()
    probe, calls = probe_of([Again("a"), Again("b"), "done"])
    assert Waiter(time.clock, time.sleep).wait_until(probe, Backoff(first=1, factor=2, ceiling=10)) == "done"
    assert calls == [0, 1, 2] and time.slept == [1, 2]


def test_attempts_bound_the_number_of_calls_and_the_last_reason_is_kept():
    time = FakeTime()
    probe, calls = probe_of([Again("first"), Again("second"), Again("third"), "never reached"])
    with pytest.raises(Exhausted) as info:
        Waiter(time.clock, time.sleep).wait_until(probe, Backoff(first=1, factor=1, ceiling=1), attempts=3)
    assert info.value.reason == "third"
    assert calls == [0, 1, 2] and time.slept == [1, 1]


def test_the_deadline_stops_a_wait_before_a_sleep_that_would_pass_it():
    time = FakeTime(start=1000.0)
    probe, calls = probe_of([Again(n) for n in range(10)])
    with pytest.raises(Exhausted) as info:
        Waiter(time.clock, time.sleep).wait_until(probe, Backoff(first=1, factor=2, ceiling=10), deadline=1010.0)
    # calls at 1000, 1001, 1003, 1007; the next delay (8) would end at 1015, after the deadline
    assert time.slept == [1, 2, 4] and calls == [0, 1, 2, 3] and info.value.reason == 3


def test_a_clock_that_moves_while_probing_counts():
    time = FakeTime(start=0.0, drift=3.0)  # 3 s pass between two readings of the clock
    probe, calls = probe_of([Again("slow")] * 10)
    with pytest.raises(Exhausted):
        Waiter(time.clock, time.sleep).wait_until(probe, Backoff(first=1, factor=1, ceiling=1), deadline=10.0)
    # the clock reads 3 (start), 6 (then 1 s slept: 7), 10: a third call would come at 11, after the deadline
    assert calls == [0, 1] and time.slept == [1]


def test_a_sleep_that_returns_at_once_still_ends_the_wait():
    slept = []
    probe, calls = probe_of([Again("x")] * 100)
    with pytest.raises(Exhausted):
        Waiter(lambda: 50.0, slept.append).wait_until(probe, Backoff(first=2, factor=1, ceiling=2), deadline=60.0)
    assert slept == [2, 2, 2, 2, 2] and len(calls) == 6


def test_anything_else_the_probe_raises_goes_to_the_caller_at_once():
    time = FakeTime()

    def probe():
        raise KeyError("not a reason to wait")

    with pytest.raises(KeyError, match="not a reason to wait"):
        Waiter(time.clock, time.sleep).wait_until(probe, Backoff(), attempts=5)
    assert time.slept == []


def test_again_without_a_reason():
    time = FakeTime()
    probe, _calls = probe_of([Again(), Again()])
    with pytest.raises(Exhausted) as info:
        Waiter(time.clock, time.sleep).wait_until(probe, Backoff(), attempts=2)
    assert info.value.reason is None


def test_waiter_for_uses_the_clients_clock_and_sleep():
    time = FakeTime(start=5.0)

    class Client:
        clock = staticmethod(time.clock)
        sleep = staticmethod(time.sleep)

    waiter = waiter_for(Client())
    assert waiter.now() == 5.0
    probe, _calls = probe_of([Again("x"), 42])
    assert waiter.wait_until(probe, Backoff(first=0.25)) == 42
    assert time.slept == [0.25] and time.now == 5.25
