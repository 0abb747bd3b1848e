# SPDX-License-Identifier: GPL-3.0-or-later
"""The test command's skip policy (tests/conftest.py): a skip whose reason is not on the explained allow-list fails
the run, and the count of skipped tests is printed."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_pytest(tmp_path, body):
    (tmp_path / "test_example.py").write_text("import pytest\n\n\n" + body)
    # ansible-test units loads its own plugins through PYTEST_PLUGINS; the inner run is a plain pytest
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_PLUGINS", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = HERE + os.pathsep + os.environ.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), str(tmp_path / "test_example.py")],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120, check=False)


def test_a_skip_not_on_the_list_fails_the_run(tmp_path):
    out = run_pytest(tmp_path, "def test_x():\n    pytest.skip('the SDK is not installed')\n")
    assert out.returncode == 1, out.stdout
    assert "skipped tests: 1 (allowed reasons: 0; not allowed: 1)" in out.stdout
    assert "NOT ALLOWED: " in out.stdout and "the SDK is not installed" in out.stdout


def test_an_explained_skip_is_counted_and_allowed(tmp_path):
    out = run_pytest(tmp_path, "def test_x():\n    pytest.skip('mounting a tmpfs is not permitted here: EPERM')\n")
    assert out.returncode == 0, out.stdout
    assert "skipped tests: 1 (allowed reasons: 1; not allowed: 0)" in out.stdout
