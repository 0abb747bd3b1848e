# SPDX-License-Identifier: GPL-3.0-or-later
"""The role tencentcloud.cvm.emulator: started and stopped are idempotent, the exported facts and files work, and
stopped stops exactly the emulator it started."""

import os
import stat
import subprocess

import yaml

from helpers import Admin


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


def test_an_existing_directory_is_never_chmoded(ansible, tmp_path):
    """A directory the user gave (shared, say) keeps its mode; what the role writes there is 0600."""
    directory = tmp_path / "shared"
    directory.mkdir()
    os.chmod(directory, 0o755)
    try:
        run = ansible.play(kit("started", directory))
        assert run.rc == 0, run.stdout + run.stderr
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o755
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
