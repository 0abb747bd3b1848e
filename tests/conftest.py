# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures: a real emulator on 127.0.0.1 (in-process thread or separate process)."""

import os
import sys

import pytest

# ansible-test's pytest plugin does not put this directory on sys.path; the shared helpers live here.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from helpers import Admin, EmulatorProcess  # noqa: E402

from cvm_emulator.server import start  # noqa: E402


@pytest.fixture(scope="session")
def emulator_server():
    """An in-process emulator (a real HTTP server on 127.0.0.1 in a thread), stopped at the end."""
    server = start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def emulator(emulator_server):
    admin = Admin(emulator_server.url)
    admin.reset()
    admin.url_host = "127.0.0.1:%d" % emulator_server.server_address[1]
    return admin


@pytest.fixture(scope="session")
def emulator_process_session():
    emu = EmulatorProcess("--port", "0").start()
    yield emu
    emu.stop()


@pytest.fixture
def emulator_process(emulator_process_session):
    emulator_process_session.admin.reset()
    return emulator_process_session
