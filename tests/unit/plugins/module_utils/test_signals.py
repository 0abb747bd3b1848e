# SPDX-License-Identifier: GPL-3.0-or-later
"""DeferredSignals: SIGINT/SIGTERM wait until the critical section ends, then take effect."""

import os
import signal
import threading

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.signals import DeferredSignals
import pytest


class Delivered(Exception):
    pass


@pytest.fixture
def catching():
    """Handlers standing in for Ansible's worker handler (which kills the worker): they raise Delivered."""
    seen = []

    def handler(signum, _frame):
        seen.append(signum)
        raise Delivered(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    yield seen
    for signum, old in previous.items():
        signal.signal(signum, old)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_in_the_section_takes_effect_when_it_ends(catching, signum):
    steps = []
    with pytest.raises(Delivered):
        with DeferredSignals() as section:
            os.kill(os.getpid(), signum)
            steps.append("after the signal")  # still running: the key would be written here
            assert section.pending == [signum] and catching == []
    assert steps == ["after the signal"] and catching == [signum]
    assert signal.getsignal(signum).__name__ == "handler"  # the previous handler is back


def test_no_signal_no_effect(catching):
    with DeferredSignals() as section:
        pass
    assert section.pending == [] and catching == []


def test_outside_the_main_thread_it_does_nothing(catching):
    outcome = {}

    def work():
        with DeferredSignals() as section:
            outcome["installed"] = bool(section._previous)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert outcome == {"installed": False}


def test_a_signal_the_process_ignores_stays_ignored(catching):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job without job control
    with DeferredSignals() as section:
        os.kill(os.getpid(), signal.SIGINT)
        assert section.pending == []
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN and catching == []


def test_every_deferred_signal_takes_effect_when_the_first_handler_returns():
    """Ctrl-C, then the controller's SIGTERM: if the SIGINT handler returns, the SIGTERM must still be delivered."""
    seen = []

    def returns(signum, _frame):
        seen.append(signum)

    def raises(signum, _frame):
        seen.append(signum)
        raise Delivered(signum)

    previous = {signal.SIGINT: signal.signal(signal.SIGINT, returns),
                signal.SIGTERM: signal.signal(signal.SIGTERM, raises)}
    try:
        with pytest.raises(Delivered):
            with DeferredSignals() as section:
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)  # twice: delivered once
                os.kill(os.getpid(), signal.SIGTERM)
                assert section.pending == [signal.SIGINT, signal.SIGTERM] and seen == []
        assert seen == [signal.SIGINT, signal.SIGTERM]
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
