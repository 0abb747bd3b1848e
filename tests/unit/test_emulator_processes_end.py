# SPDX-License-Identifier: GPL-3.0-or-later
"""An emulator process started by the tests ends with the process that started it, even when that process exits
without tearing anything down (as each test does under ansible-test units, which forks one process a test): 252
emulators were once left running after three runs, a core's worth of CPU."""

import os
import time

from helpers import EmulatorProcess


def test_an_emulator_ends_when_its_starter_exits_without_teardown(tmp_path):
    pid_file = tmp_path / "pid"
    child = os.fork()
    if child == 0:  # the starter: starts an emulator, says its pid, and exits at once, as a forked test does
        try:
            emu = EmulatorProcess("--port", "0").start()
            pid_file.write_text(str(emu.proc.pid))
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and os.path.exists("/proc/%d" % pid) and not _zombie(pid):
        time.sleep(0.05)
    assert not os.path.exists("/proc/%d" % pid) or _zombie(pid), "emulator %d still running" % pid


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
