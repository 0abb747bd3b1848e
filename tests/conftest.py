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


# A skip is allowed only with one of these explained reasons; any other skip fails the run (and a missing test
# dependency is an import error, never a skip). CI runs as root, where none of them skips.
ALLOWED_SKIPS = (
    "the attacker is another user (uid 65534): needs root",  # tests/integration/test_security.py, not as root
    "another user's files need root",                         # tests/unit/.../test_keyfile.py, not as root
    "mounting a tmpfs is not permitted here",                 # test_reliability.py's full-disk test, no CAP_SYS_ADMIN
)
_SKIPPED = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPPED.append((report.nodeid, reason.replace("Skipped: ", "", 1)))


def _disallowed():
    return [(nodeid, reason) for nodeid, reason in _SKIPPED if not reason.startswith(ALLOWED_SKIPS)]


def pytest_terminal_summary(terminalreporter):
    if hasattr(terminalreporter.config, "workerinput"):
        return
    bad = _disallowed()
    terminalreporter.write_line("skipped tests: %d (allowed reasons: %d; not allowed: %d)"
                                % (len(_SKIPPED), len(_SKIPPED) - len(bad), len(bad)))
    for nodeid, reason in bad:
        terminalreporter.write_line("  NOT ALLOWED: %s: %s" % (nodeid, reason))


def pytest_sessionfinish(session, exitstatus):
    """A run with a skip that is not on the allow-list fails, whatever else passed."""
    if not hasattr(session.config, "workerinput") and _disallowed() and exitstatus == 0:
        session.exitstatus = 1


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
