# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures: a real emulator on 127.0.0.1 (in-process thread or separate process)."""

import os
import signal
import sys

import pytest

# ansible-test's pytest plugin does not put this directory on sys.path; the shared helpers live here.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from helpers import Admin, EmulatorProcess  # noqa: E402

from cvm_emulator.server import start  # noqa: E402


def pytest_configure(config):
    """A test run started in the background by a shell without job control (`make test &`, many CI runners)
    inherits SIGINT as ignored, and every process it starts would ignore Ctrl-C too: ansible-core < 2.19 installs
    no SIGINT handler of its own, so the interrupt tests would see a play that cannot be interrupted. Restore the
    default disposition here, so that the playbooks under test get SIGINT as a terminal's Ctrl-C would."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def emulator_server():
    """An in-process emulator (a real HTTP server on 127.0.0.1 in a thread), stopped at the end."""
    server = start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def emulator(emulator_server):
    admin = Admin(emulator_server.url, emulator_server.emulator.admin_token)
    admin.reset()
    admin.url_host = "127.0.0.1:%d" % emulator_server.server_address[1]
    return admin


@pytest.fixture(scope="session")
def emulator_process_session():
    emu = EmulatorProcess("--port", "0", "--ssh").start()
    yield emu
    emu.stop()


@pytest.fixture
def emulator_process(emulator_process_session):
    emulator_process_session.admin.reset()
    return emulator_process_session
