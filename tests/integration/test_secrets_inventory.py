# SPDX-License-Identifier: GPL-3.0-or-later
"""Keys without files (issue 27): instances bound to key pairs that Secrets Manager holds, reached through the
inventory alone (private_key_source: secrets_manager) with the keys delivered into the run's ssh-agent, against the
emulator's real sshd instances; the budget of GetSSHKeyPairValue calls; no key bytes in any output or file."""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest
import yaml

from helpers import make_client

PLUGIN = "tencentcloud.cvm.tencent_cvm"
BIN = os.path.dirname(sys.executable)
AGENT = {"ANSIBLE_SSH_AGENT": "auto", "ANSIBLE_HOST_KEY_CHECKING": "false",
         "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true"}
SSH_ARGS = "-o ControlMaster=no -o IdentitiesOnly=yes -o UserKnownHostsFile=%s"


def make_secret(admin_client, name, key_name):
    """An SSH-key secret made through the API, as tencent_keypair with private_key_secret makes it."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import NewSecret, Secrets
    Secrets(admin_client).create(NewSecret(name=name, key_name=key_name))


@pytest.fixture
def client(emulator_process):
    return make_client(emulator_process.url)


@pytest.fixture
def secret_fleet(ansible, admin, client, tmp_path):
    """Three RUNNING instances with sshd, each bound to its own key pair held by its own secret."""
    fleet = []
    for number in range(3):
        make_secret(client, "web-key-%d" % number, "web_key_%d" % number)
    held = {k["key_name"]: k["key_id"] for k in admin.key_pairs()}
    for number in range(3):
        fleet.append(admin.instance(ssh=True, state="RUNNING", key_ids=[held["web_key_%d" % number]]))
    source = tmp_path / "fleet.tencent_cvm.yml"
    source.write_text(yaml.safe_dump({"plugin": PLUGIN, "filters": {"instance-state": "RUNNING"},
                                      "private_key_source": "secrets_manager"}))
    return fleet, source


def private_bodies(client, names):
    """A 64-character run from the middle of each key's base64 body, in PEM (PKCS#1) and OpenSSH form."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import Secrets
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.keys import LoadedKey
    runs = []
    for name in names:
        key = LoadedKey.from_pem(Secrets(client).value(name=name).private_key)
        for text in (key.pem(), key.openssh()):
            body = "".join(line for line in text.splitlines() if not line.startswith("-----"))
            runs.append(body[len(body) // 2:len(body) // 2 + 64])
    return runs


def value_calls(admin):
    return [r for r in admin.requests() if r["action"] == "GetSSHKeyPairValue"]


@pytest.fixture
def local_temp():
    """A short ANSIBLE_LOCAL_TEMP: the agent's socket lives in it, and a Unix socket path has at most 107 bytes."""
    path = tempfile.mkdtemp(prefix="t27-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run_ping(ansible, source, tmp_path, local_temp, tasks=1, verbosity=0, env=None):
    play = [{"name": "reach", "hosts": "all", "gather_facts": False,
             "tasks": [{"name": "ping %d" % i, "ansible.builtin.ping": None} for i in range(tasks)]}]
    extra = dict(AGENT, ANSIBLE_SSH_ARGS=SSH_ARGS % (tmp_path / "known_hosts"), ANSIBLE_LOCAL_TEMP=local_temp,
                 **(env or {}))
    return ansible.play(None, raw=yaml.safe_dump(play), inventory=str(source), env=extra, verbosity=verbosity)


def pongs(run, task="ping 0"):
    return sorted(r["host"] for r in run.results if r["task"] == task and r["result"].get("ping") == "pong")


def test_three_hosts_three_secrets_reached_through_the_inventory_alone(ansible, admin, client, secret_fleet,
                                                                       tmp_path, local_temp):
    fleet, source = secret_fleet
    admin.clear_requests()
    run = run_ping(ansible, source, tmp_path, local_temp, tasks=5, verbosity=4)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
    ids = sorted(i["instance_id"] for i in fleet)
    assert [pongs(run, "ping %d" % i) for i in range(5)] == [ids] * 5, [
        (r["host"], r["task"], r["result"].get("msg")) for r in run.results] or run.stdout[-2500:] + run.stderr[-2500:]
    assert len(value_calls(admin)) == 3  # 3 hosts x 5 tasks, 3 key pairs: one read each
    for run_of_key in private_bodies(client, ["web-key-0", "web-key-1", "web-key-2"]):
        assert run_of_key not in run.stdout and run_of_key not in run.stderr
