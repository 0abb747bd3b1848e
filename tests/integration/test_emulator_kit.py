# SPDX-License-Identifier: GPL-3.0-or-later
"""The role tencentcloud.cvm.emulator: started and stopped are idempotent, the exported facts and files work, and
stopped stops exactly the emulator it started."""

import os
import stat
import subprocess
import sys

import pytest
import yaml

from helpers import Admin, as_nobody


def kit(state, directory):
    return yaml.safe_dump([{"name": state, "ansible.builtin.include_role": {"name": "tencentcloud.cvm.emulator"},
                            "vars": {"emulator_state": state, "emulator_dir": str(directory)}}], sort_keys=False)


def alive(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return b"cvm_emulator" in handle.read()
    except OSError:
        return False


def test_start_use_and_stop(ansible, tmp_path):
    directory = tmp_path / "kit"
    first = ansible.play(kit("started", directory) + yaml.safe_dump([
        {"name": "use", "tencentcloud.cvm.tencent_keypair": {
            "name": "kit_key", "private_key_path": str(tmp_path / "kit_key"),
            "endpoint": "{{ emulator_endpoint }}", "secret_id": "{{ emulator_secret_id }}",
            "secret_key": "{{ emulator_secret_key }}", "region": "{{ emulator_region }}"}, "register": "out"},
    ]), env={"TENCENTCLOUD_ENDPOINT": None})
    assert first.rc == 0, first.stdout + first.stderr
    assert first.task("use")["changed"] is True
    pid = int((directory / "pid").read_text())
    url, token_line = (directory / "url").read_text().splitlines()
    token = token_line.split("admin-token: ", 1)[1]
    assert alive(pid) and url.startswith("http://127.0.0.1:") and len(token) >= 32
    env = dict(line.replace("export ", "").split("=", 1) for line in (directory / "emulator.env").read_text().splitlines())
    assert env["TENCENTCLOUD_ENDPOINT"] == url and env["CVM_EMULATOR_ADMIN_TOKEN"] == token and set(env) == {
        "TENCENTCLOUD_ENDPOINT", "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_REGION",
        "CVM_EMULATOR_ADMIN_TOKEN"}
    exported = yaml.safe_load((directory / "emulator.yml").read_text())
    assert exported["emulator_endpoint"] == url and exported["emulator_admin_token"] == token
    assert token not in first.stdout  # the facts task is no_log
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700  # created by the role
    for name in ("url", "pid", "log", "emulator.env", "emulator.yml"):  # the token is in some of them
        assert stat.S_IMODE(os.stat(directory / name).st_mode) == 0o600, name
    again = ansible.play(kit("started", directory))  # a second start reuses the running emulator
    assert "changed=0" in again.stdout.split("PLAY RECAP")[1] and int((directory / "pid").read_text()) == pid
    assert "kit_key" in [k["key_name"] for k in Admin(url, token).key_pairs()]  # the same state
    stopped = ansible.play(kit("stopped", directory))
    assert stopped.rc == 0 and "changed=1" in stopped.stdout.split("PLAY RECAP")[1]
    assert not alive(pid) and not (directory / "pid").exists() and not (directory / "emulator.env").exists()
    twice = ansible.play(kit("stopped", directory))
    assert twice.rc == 0 and "changed=0" in twice.stdout.split("PLAY RECAP")[1]


@pytest.mark.parametrize("mode", [0o700, 0o755])
def test_an_existing_directory_is_never_chmoded(ansible, tmp_path, mode):
    """A directory of the play's user that only it can write is used; it keeps its mode; what the role writes there
    is 0600."""
    directory = tmp_path / "shared"
    directory.mkdir()
    os.chmod(directory, mode)
    try:
        run = ansible.play(kit("started", directory))
        assert run.rc == 0, run.stdout + run.stderr
        assert stat.S_IMODE(os.stat(directory).st_mode) == mode
        modes = {name: stat.S_IMODE(os.stat(directory / name).st_mode) for name in os.listdir(directory)}
        assert set(modes) >= {"url", "pid", "log", "state.db", "emulator.env", "emulator.yml"}  # + SQLite's own
        assert set(modes.values()) == {0o600}, modes
    finally:
        ansible.play(kit("stopped", directory))


def test_stopped_never_kills_another_process(ansible, tmp_path):
    directory = tmp_path / "kit"
    directory.mkdir()
    other = subprocess.Popen(["sleep", "60"])
    try:
        (directory / "pid").write_text(str(other.pid))  # a stale pid file now naming someone else's process
        run = ansible.play(kit("stopped", directory))
        assert run.rc == 0 and other.poll() is None  # still running
        assert not (directory / "pid").exists()
    finally:
        other.kill()
        other.wait()
    assert os.listdir(directory) == []


def test_refuses_a_control_node_without_setsid(ansible, tmp_path):
    """Without setsid (as on macOS) the role says what it needs and starts nothing."""
    bare = tmp_path / "bin"  # every command on PATH but setsid
    bare.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        for name in os.listdir(folder) if os.path.isdir(folder) else ():
            if name != "setsid" and not (bare / name).exists():
                (bare / name).symlink_to(os.path.join(folder, name))
    directory = tmp_path / "kit"
    run = ansible.play(kit("started", directory), env={"PATH": str(bare)})
    assert run.rc == 2, run.stdout + run.stderr
    assert "needs a Linux control node (it uses setsid and /proc" in run.stdout
    assert not (directory / "pid").exists() and not (directory / "url").exists()


def test_ssh_instances_need_emulator_ssh(ansible, tmp_path):
    """emulator_ssh: true starts the emulator with --ssh; without it an ssh instance is refused. The admin call
    uses the token the role exports."""
    for allowed in (True, False):
        directory = tmp_path / ("kit_%s" % allowed)
        play = yaml.safe_dump([
            {"name": "start", "ansible.builtin.include_role": {"name": "tencentcloud.cvm.emulator"},
             "vars": {"emulator_dir": str(directory), "emulator_ssh": allowed}},
            {"name": "instance", "ansible.builtin.uri": {
                "url": "{{ emulator_endpoint }}/_emulator/instances", "method": "POST", "body_format": "json",
                "body": {"ssh": True, "state": "RUNNING"}, "status_code": [200, 400],
                "headers": {"Authorization": "Bearer {{ emulator_admin_token }}"}}, "register": "made"},
            {"name": "stop", "ansible.builtin.include_role": {"name": "tencentcloud.cvm.emulator"},
             "vars": {"emulator_dir": str(directory), "emulator_state": "stopped"}},
        ], sort_keys=False)
        run = ansible.play(play)
        assert run.rc == 0, run.stdout + run.stderr
        made = run.task("instance")
        if allowed:
            assert made["status"] == 200 and made["json"]["ssh_port"] > 0
        else:
            assert made["status"] == 400 and "--ssh" in made["json"]["error"]


# Another local user (nobody, uid 65534) prepares emulator_dir before a root play runs the role. Before issue 25 the
# role used any existing directory: `2> log` truncated the root-owned file that `log` pointed to, `stopped` killed the
# process that a planted pid file named, and the attacker could replace emulator.env, which users source.
@pytest.fixture
def victim(public_tmp):
    """A root-owned file the attacker may name but not write."""
    path = public_tmp / "victim"
    path.write_text("root's own data\n")
    os.chmod(path, 0o644)
    return path


@pytest.fixture
def decoy():
    """A root process whose command line says cvm_emulator (what `stopped` checks before it kills)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "cvm_emulator"])
    yield proc
    proc.kill()
    proc.wait()


def tree(path):
    """Everything under path (links not followed), with owner, mode, size, mtime and link target or content."""
    found = {}
    for top, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(top, name)
            info = os.lstat(full)
            what = os.readlink(full) if stat.S_ISLNK(info.st_mode) else None
            if stat.S_ISREG(info.st_mode):
                with open(full, "rb") as handle:
                    what = handle.read()
            found[os.path.relpath(full, path)] = (info.st_mode, info.st_uid, info.st_size, info.st_mtime_ns, what)
    return found


def planted_by_nobody(public_tmp, victim, decoy):
    """nobody's own private directory: log -> the root-owned file, pid -> a root process."""
    directory = public_tmp / "shared" / "kit"
    for argv in (["mkdir", "-m", "0700", directory], ["ln", "-s", victim, directory / "log"],
                 ["sh", "-c", "echo %d > %s/pid" % (decoy.pid, directory)]):
        made = as_nobody(argv)
        assert made.returncode == 0, made.stderr
    return directory, "it is a directory owned by nobody (uid 65534), mode 0700."


def root_made_world_writable(public_tmp, victim, decoy):
    """Made by root with mode 0777; nobody plants url (an endpoint and admin token of theirs), log -> the root-owned
    file, and pid."""
    directory = public_tmp / "kit"
    directory.mkdir()
    os.chmod(directory, 0o777)
    for argv in (["sh", "-c", "printf 'http://127.0.0.1:9/\\nadmin-token: theirs\\n' > %s/url" % directory],
                 ["ln", "-s", victim, directory / "log"], ["sh", "-c", "echo %d > %s/pid" % (decoy.pid, directory)]):
        made = as_nobody(argv)
        assert made.returncode == 0, made.stderr
    return directory, "it is a directory owned by root (uid 0), mode 0777."


def link_to_a_directory(public_tmp, victim, decoy):
    """nobody links shared/kit to a private directory of root's, which would pass every check if it were followed."""
    target = public_tmp / "roots"
    target.mkdir(mode=0o700)
    (target / "pid").write_text("%d\n" % decoy.pid)
    os.chmod(target / "pid", 0o600)
    directory = public_tmp / "shared" / "kit"
    made = as_nobody(["ln", "-s", target, directory])
    assert made.returncode == 0, made.stderr
    return directory, "it is a symbolic link to %s owned by nobody (uid 65534), mode 0777." % target


@pytest.mark.skipif(os.geteuid() != 0, reason="the attacker is another user (uid 65534): needs root, as CI runs")
@pytest.mark.parametrize("plant", [planted_by_nobody, root_made_world_writable, link_to_a_directory],
                         ids=["owned-by-nobody", "mode-0777", "symlink"])
@pytest.mark.parametrize("state", ["started", "stopped"])
def test_an_untrusted_directory_is_refused_before_anything(ansible, public_tmp, victim, decoy, plant, state):
    directory, described = plant(public_tmp, victim, decoy)
    victim_before = (victim.read_bytes(), os.stat(victim).st_mtime_ns)
    before = tree(public_tmp)
    run = ansible.play(kit(state, directory))
    assert run.rc == 2, run.stdout + run.stderr
    failed = [r for r in run.results if r["status"] == "failed"]
    assert [r["task"] for r in failed] == [
        "tencentcloud.cvm.emulator : Refuse a directory that someone else made, can write, or points to"]
    message = failed[0]["result"]["msg"]
    assert message.startswith("The emulator's directory %s cannot be trusted: %s" % (directory, described)), message
    assert "owned by the user its tasks run as (uid 0) and not writable by group or others" in message
    assert "Nothing was written, read or removed there" in message and "set emulator_dir to a path" in message
    assert (victim.read_bytes(), os.stat(victim).st_mtime_ns) == victim_before
    assert tree(public_tmp) == before  # nothing created, truncated or removed, here or behind the link
    assert decoy.poll() is None  # the process the pid file names still runs


@pytest.mark.skipif(os.geteuid() != 0, reason="the attacker is another user (uid 65534): needs root, as CI runs")
def test_names_left_in_a_trusted_directory_are_replaced_never_followed(ansible, tmp_path, public_tmp, victim):
    """A directory that was open to others once (its owner chmod'ed it since) may still hold links: the role removes
    the names it writes before writing, and refuses a state.db that is not a regular file (SQLite would follow it)."""
    directory = tmp_path / "kit"
    directory.mkdir(mode=0o700)
    for name in ("log", "url", "pid", "emulator.env", "emulator.yml"):
        (directory / name).symlink_to(victim)
    victim_before = (victim.read_bytes(), os.stat(victim).st_mtime_ns)
    try:
        run = ansible.play(kit("started", directory))
        assert run.rc == 0, run.stdout + run.stderr
        for name in ("log", "url", "pid", "emulator.env", "emulator.yml"):
            info = os.lstat(directory / name)
            assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600, name
    finally:
        ansible.play(kit("stopped", directory))
    assert (victim.read_bytes(), os.stat(victim).st_mtime_ns) == victim_before
    os.remove(directory / "state.db")
    (directory / "state.db").symlink_to(victim)
    refused = ansible.play(kit("started", directory))
    assert refused.rc == 2
    message = [r for r in refused.results if r["status"] == "failed"][0]["result"]["stderr"]
    assert "%s/state.db is a symbolic link or not a regular file" % directory in message
    assert (victim.read_bytes(), os.stat(victim).st_mtime_ns) == victim_before
    assert not (directory / "pid").exists() and not (directory / "url").exists()
