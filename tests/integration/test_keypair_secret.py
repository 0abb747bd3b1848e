# SPDX-License-Identifier: GPL-3.0-or-later
"""tencent_keypair with private_key_secret, through real ansible-playbook runs against a real emulator process: the key
pair is made inside a Secrets Manager secret and its private key never reaches the controller, its output or its
disk. API calls are counted in the emulator's request log."""

import base64

import pytest

from helpers import checked as kp, files_with_runs, make_client

pytestmark = pytest.mark.core  # also run on the oldest supported ansible-core (scripts/test-oldest.sh)
SECRET = "web-secret"
TASK = {"name": "web", "private_key_secret": SECRET}


def actions(admin):
    return [r["action"] for r in admin.requests()]


def secrets(admin):
    return {s["secret_name"]: s for s in admin._call("GET", "secrets")["secrets"]}


def private_key_runs(emulator, secret=SECRET):
    """64-character runs of the base64 body of the secret's private key (read through GetSSHKeyPairValue), to search
    for in output and files."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import Secrets

    pem = Secrets(make_client(emulator.url)).value(secret).private_key.decode()
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    assert len(body) > 1000 and base64.b64decode(body)
    return [body[i:i + 64] for i in range(0, len(body) - 64, 200)]


def test_create_check_converge_and_calls(ansible, admin):
    predicted = ansible.play(kp(TASK), check=True, diff=True).task("ensure")
    assert predicted["changed"] is True and predicted["key_pair"]["key_id"] is None
    assert predicted["diff"]["after"]["private_key_secret"] == SECRET
    assert admin.writes() == [] and admin.key_pairs() == [] and secrets(admin) == {}

    admin.clear_requests()
    created = ansible.play(kp(TASK)).task("ensure")
    assert created["changed"] is True and created["private_key_secret"] == SECRET, created
    assert actions(admin) == ["DescribeKeyPairs", "DescribeSecret", "CreateSSHKeyPairSecret"]
    assert len(created["request_ids"]) == 3 and "private_key" not in created
    (pair,) = admin.key_pairs()
    assert created["key_pair"]["key_id"] == pair["key_id"] and created["private_key_matches"] is None
    assert secrets(admin)[SECRET]["key_name"] == "web"

    admin.clear_requests()
    again = ansible.play(kp(TASK)).task("ensure")
    assert again["changed"] is False and again["key_pair"]["public_key"] == pair["public_key"]
    assert actions(admin) == ["DescribeKeyPairs", "DescribeSecret"] and len(again["request_ids"]) == 2
    assert ansible.play(kp(TASK), check=True).task("ensure")["changed"] is False


@pytest.mark.parametrize("other,message", [
    ({"private_key_path": "k"}, "mutually exclusive: private_key_secret|private_key_path"),
    ({"public_key": "ssh-rsa AAAA"}, "mutually exclusive: private_key_secret|public_key"),
    ({"return_private_key": True}, "cannot be combined with return_private_key"),
    ({"regenerate": "always"}, "regenerate=always would replace the key pair"),
    ({"private_key_secret": "not a name"}, "private_key_secret must be a Secrets Manager secret name"),
])
def test_contradictions_fail_before_any_call(ansible, admin, other, message):
    result = ansible.play(kp(dict(TASK, **other))).task("ensure")
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert result["failure"]["code"] == "InvalidArgument" and result["request_ids"] == []
    assert admin.requests() == []


def test_an_existing_plain_key_pair_fails_clearly(ansible, admin):
    ansible.play(kp({"name": "web", "return_private_key": True}, no_log=True))
    admin.clear_requests()
    result = ansible.play(kp(TASK)).task("ensure")
    assert result["failed"] is True and result["changed"] is False
    assert result["failure"]["code"] == "KeyPairNotInSecret"
    assert "cannot put an existing key pair into a secret" in result["msg"]
    assert admin.writes() == [] and secrets(admin) == {}


def test_absent_deletes_both_and_is_refused_while_bound(ansible, admin):
    ansible.play(kp(TASK))
    key_id = admin.key_pairs()[0]["key_id"]
    instance = admin.instance(state="STOPPED", key_ids=[key_id])["instance_id"]
    admin.clear_requests()
    refused = ansible.play(kp(dict(TASK, state="absent"))).task("ensure")
    assert refused["failed"] is True and refused["failure"]["code"] == "KeyPairInUse"
    assert instance in refused["msg"] and refused["changed"] is False
    assert [a for a in actions(admin) if a not in ("DescribeKeyPairs", "DescribeSecret", "DescribeInstances")] == []
    assert secrets(admin)[SECRET]["status"] == "Enabled" and len(admin.key_pairs()) == 1

    unbound = ansible.play(kp({"instance_ids": [instance], "key_pairs": ["web"], "state": "absent"},
                              module="tencentcloud.cvm.tencent_instance_keypairs")).task("ensure")
    assert unbound["changed"] is True, unbound
    admin.wait_idle_instances()
    admin.clear_requests()
    gone = ansible.play(kp(dict(TASK, state="absent")), diff=True).task("ensure")
    assert gone["changed"] is True and gone["diff"]["before"]["private_key_secret"] == SECRET
    assert actions(admin) == ["DescribeKeyPairs", "DescribeSecret", "DisableSecret", "DeleteSecret"]
    assert admin.key_pairs() == [] and secrets(admin) == {}
    assert ansible.play(kp(dict(TASK, state="absent"))).task("ensure")["changed"] is False


def test_a_lost_answer_is_recovered_without_a_second_creation(ansible, admin):
    admin.fault(action="CreateSSHKeyPairSecret", mode="close_after")
    result = ansible.play(kp(TASK)).task("ensure")
    (pair,) = admin.key_pairs()
    assert result["changed"] is True and result["key_pair"]["key_id"] == pair["key_id"], result
    assert actions(admin).count("CreateSSHKeyPairSecret") == 1 and SECRET in secrets(admin)
    assert ansible.play(kp(TASK)).task("ensure")["changed"] is False


def test_no_private_key_in_verbose_output_or_on_disk(ansible, admin, emulator_process, tmp_path):
    run = ansible.play(kp(dict(TASK, description="web")) + kp(TASK).replace("- name: ensure", "- name: again", 1),
                       verbosity=4, diff=True)
    assert run.rc == 0 and run.task("again")["changed"] is False, run.stdout
    runs = private_key_runs(emulator_process)
    text = (run.stdout + run.stderr).replace("\n", "")
    assert not [r for r in runs if r in text]
    assert files_with_runs([tmp_path], runs) == []
