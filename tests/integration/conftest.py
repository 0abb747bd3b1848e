# SPDX-License-Identifier: GPL-3.0-or-later
"""Real ansible-playbook runs against a real emulator process."""

import json
import os
import pwd
import subprocess
import sys
import textwrap

import pytest

from helpers import COLLECTIONS, CREDS

HERE = os.path.dirname(os.path.abspath(__file__))


class PlaybookRun:
    def __init__(self, proc, results):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.results = results

    def task(self, name, host=None):
        found = [r for r in self.results if r["task"] == name and (host is None or r["host"] == host)]
        assert found, "no result for task %r in:\n%s\n%s" % (name, self.stdout, self.stderr)
        return found[-1]["result"]

    def by_action(self, action="tencentcloud.cvm.tencent_keypair"):
        return [r for r in self.results if r["action"] == action]


class Runner:
    def __init__(self, emulator, tmp_path):
        self.emulator = emulator
        self.tmp_path = tmp_path
        self.count = 0

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "ANSIBLE_"))}
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "results_to_file",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "TENCENTCLOUD_SECRET_ID": CREDS["secret_id"],
            "TENCENTCLOUD_SECRET_KEY": CREDS["secret_key"],
            "TENCENTCLOUD_ENDPOINT": self.emulator.url,
            "TENCENTCLOUD_REGION": "ap-guangzhou",
            "HOME": str(self.tmp_path / "home"),
        })
        os.makedirs(env["HOME"], exist_ok=True)
        for key, value in extra.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def play(self, tasks, check=False, diff=False, verbosity=0, env=None, hosts="localhost", inventory=None,
             forks=None, extra_vars=None, play_vars=None, raw=None):
        cmd, env, results_file = self._command(tasks, check, diff, verbosity, env, hosts, inventory, forks,
                                               extra_vars, play_vars, raw)
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(self.tmp_path), timeout=300, check=False,
                              env=env)
        return self._finished(proc, results_file)

    def spawn(self, tasks, env=None, **kw):
        """Start ansible-playbook in its own session (as a shell starts a job), to be signalled; finish(spawned)
        collects it like play() would."""
        cmd, env, results_file = self._command(tasks, env=env, **kw)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=str(self.tmp_path), env=env, start_new_session=True)
        proc.results_file = results_file
        return proc

    def finish(self, proc, timeout=120):
        stdout, stderr = proc.communicate(timeout=timeout)
        return self._finished(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr),
                              proc.results_file)

    @staticmethod
    def _finished(proc, results_file):
        results = []
        if results_file.exists():
            results = [json.loads(line) for line in results_file.read_text().splitlines()]
        check_results(results)
        return PlaybookRun(proc, results)

    def _command(self, tasks, check=False, diff=False, verbosity=0, env=None, hosts="localhost", inventory=None,
                 forks=None, extra_vars=None, play_vars=None, raw=None):
        self.count += 1
        name = "play%d" % self.count
        if raw is None:
            body = textwrap.dedent(tasks).strip("\n")
            raw = "- name: %s\n  hosts: %s\n  connection: local\n  gather_facts: false\n" % (name, hosts)
            if play_vars:
                raw += "  vars: %s\n" % json.dumps(play_vars)
            raw += "  tasks:\n" + textwrap.indent(body, "    ") + "\n"
        playbook = self.tmp_path / ("%s.yml" % name)
        playbook.write_text(raw)
        results_file = self.tmp_path / ("%s.results" % name)
        if inventory is None:
            inventory = str(self.tmp_path / "inventory.ini")
            with open(inventory, "w") as handle:
                handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(playbook), "-i", inventory]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        if forks:
            cmd += ["--forks", str(forks)]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        return cmd, self.env(RESULTS_FILE=str(results_file), **(env or {})), results_file


def check_results(results):
    """What every result of the collection's modules must hold, in every playbook of every test: request_ids,
    and on failure a non-empty failure.code."""
    for record in results:
        result = record["result"]
        if not record["action"].startswith("tencentcloud.cvm.") or record["status"] == "skipped" \
                or "results" in result or "censored" in result:
            continue
        assert isinstance(result.get("request_ids"), list), ("no request_ids", record)
        if result["failed"]:
            assert isinstance(result.get("failure"), dict) and result["failure"].get("code"), ("no code", record)
            assert result["failure"]["message"] and isinstance(result.get("changed"), bool), record


@pytest.fixture
def ansible(emulator_process, tmp_path):
    return Runner(emulator_process, tmp_path)


@pytest.fixture
def admin(emulator_process):
    return emulator_process.admin


@pytest.fixture
def public_tmp():
    """A directory under /tmp that other users can reach (pytest's own tmp_path is 0700 all the way down), root's,
    mode 0755, holding `shared`: a sticky directory everyone can write, as /tmp is."""
    import pathlib
    import shutil
    import tempfile

    path = pathlib.Path(tempfile.mkdtemp(prefix="cvm-public-", dir="/tmp"))
    os.chmod(path, 0o755)
    (path / "shared").mkdir()
    os.chmod(path / "shared", 0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def shared_dir(public_tmp):
    """The sticky, world-writable directory of public_tmp."""
    return public_tmp / "shared"


@pytest.fixture
def keys(tmp_path):
    """The key directory: only key files live here (playbooks and results are written to tmp_path)."""
    path = tmp_path / "keys"
    path.mkdir()
    return path


def _users_known_hosts():
    # OpenSSH finds ~/.ssh in the passwd entry, not in $HOME (which the runner points into tmp_path)
    path = os.path.join(pwd.getpwuid(os.getuid()).pw_dir, ".ssh", "known_hosts")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return path, None
    return path, (info.st_size, info.st_mtime_ns)


@pytest.fixture(autouse=True)
def users_ssh_untouched():
    """No test writes the user's own ~/.ssh/known_hosts: emulator instances reuse ports with new host keys, so an
    entry there would make a later run's login fail as a changed host key."""
    path, before = _users_known_hosts()
    yield
    assert _users_known_hosts()[1] == before, "a test wrote %s" % path


def pytest_sessionstart(session):
    """Start each run with no reliability records of an earlier run (controller only)."""
    if hasattr(session.config, "workerinput"):
        return
    import shutil

    from helpers import RESULTS

    shutil.rmtree(RESULTS, ignore_errors=True)


def pytest_sessionfinish(session, exitstatus):
    """Aggregate the reliability suite's records into tests/output/reliability/table.md (controller only)."""
    if hasattr(session.config, "workerinput"):
        return
    import glob as _glob

    from helpers import RESULTS as folder

    records = []
    for path in sorted(_glob.glob(os.path.join(folder, "*.json"))):
        with open(path) as handle:
            records.append(json.load(handle))
    if not records:
        return
    lines = ["| case | lost keys | leaked secrets | partial files | key pairs left |", "|---|---|---|---|---|"]
    for rec in sorted(records, key=lambda r: r["case"]):
        lines.append("| %s | %d | %d | %d | %d |" % (rec["case"], rec["lost_keys"], rec["leaked_secrets"],
                                                     rec["partial_files"], rec["key_pairs"]))
    lines.append("| **%d cases** | **%d** | **%d** | **%d** | |" % (
        len(records), sum(r["lost_keys"] for r in records), sum(r["leaked_secrets"] for r in records),
        sum(r["partial_files"] for r in records)))
    with open(os.path.join(folder, "table.md"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
