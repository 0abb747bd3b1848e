"""Shared fixtures: a real emulator on 127.0.0.1 (in-process thread or separate process)."""

import pytest

from helpers import Admin, EmulatorProcess

from cvm_emulator.server import start


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


