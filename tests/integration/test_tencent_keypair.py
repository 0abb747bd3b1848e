# SPDX-License-Identifier: GPL-3.0-or-later
"""tencent_keypair through real ansible-playbook runs against a real emulator process."""

import os
import re
import stat
import subprocess

import pytest
import yaml

from helpers import CREDS, ROOT, checked as kp


pytestmark = pytest.mark.core  # also run on the oldest supported ansible-core (scripts/test-oldest.sh)
REQUEST_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def ssh_keygen(*args):
    return subprocess.run(["ssh-keygen", *args], capture_output=True, text=True, check=True).stdout


def test_create_check_idempotent_and_files(ansible, admin, tmp_path):
    key = str(tmp_path / "keys" / "web")
    os.makedirs(os.path.dirname(key))
    predicted = ansible.play(kp({"name": "web", "private_key_path": key}), check=True)
    result = predicted.task("ensure")
    assert predicted.rc == 0 and result["changed"] is True and result["key_pair"]["key_id"] is None
    assert not os.path.exists(key) and admin.key_pairs() == [] and admin.writes() == []

    created = ansible.play(kp({"name": "web", "private_key_path": key}))
    result = created.task("ensure")
    assert created.rc == 0 and result["changed"] is True, created.stdout
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(key + ".pub").st_mode) == 0o644
    remote = admin.key_pairs()[0]
    assert result["key_pair"]["key_id"] == remote["key_id"]
    assert ssh_keygen("-lf", key).split()[1] == result["key_pair"]["fingerprint"]
    assert ssh_keygen("-y", "-f", key).split()[1] == remote["key_blob"]
    assert len(result["request_ids"]) == 2 and all(re.match(REQUEST_ID, r) for r in result["request_ids"])
    assert "private_key" not in result
    assert sorted(os.listdir(os.path.dirname(key))) == ["web", "web.pub"]

    again = ansible.play(kp({"name": "web", "private_key_path": key}))
    result = again.task("ensure")
    assert result["changed"] is False and result["key_pair"]["key_id"] == remote["key_id"]
    assert result["private_key_matches"] is True and len(result["request_ids"]) == 1
    checked = ansible.play(kp({"name": "web", "private_key_path": key}), check=True)
    assert checked.task("ensure")["changed"] is False
    assert len(admin.key_pairs()) == 1


def test_diff_mode(ansible, tmp_path):
    key = str(tmp_path / "k")
    run = ansible.play(kp({"name": "diffed", "private_key_path": key}), diff=True)
    diff = run.task("ensure")["diff"]
    assert diff["before"] == {"state": "absent", "local_files": {
        "private_key_mode": None, "private_key_encrypted": None, "public_key_file": "absent"}}
    assert diff["after"]["key_name"] == "diffed" and diff["after"]["state"] == "present"
    assert diff["after"]["local_files"] == {"private_key_mode": "0600", "private_key_encrypted": False,
                                            "public_key_file": "present"}
    os.chmod(key, 0o644)
    os.unlink(key + ".pub")
    fixed = ansible.play(kp({"name": "diffed", "private_key_path": key, "description": "now"}), diff=True)
    diff = fixed.task("ensure")["diff"]
    assert diff["before"]["local_files"] == {"private_key_mode": "0644", "private_key_encrypted": False,
                                             "public_key_file": "absent"}
    assert diff["after"]["local_files"] == {"private_key_mode": "0600", "private_key_encrypted": False,
                                            "public_key_file": "present"}
    assert (diff["before"]["description"], diff["after"]["description"]) == ("", "now")
    gone = ansible.play(kp({"name": "diffed", "state": "absent"}), diff=True).task("ensure")["diff"]
    assert gone["after"] == {"state": "absent"} and gone["before"]["key_name"] == "diffed"


def test_import_and_absent(ansible, admin, tmp_path):
    key = tmp_path / "local"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(key)], check=True)
    public = key.with_suffix(".pub").read_text()
    run = ansible.play(kp({"name": "imported", "public_key": public}))
    assert run.task("ensure")["changed"] is True
    assert admin.key_pairs()[0]["key_blob"] == public.split()[1]
    assert ansible.play(kp({"name": "imported", "public_key": public})).task("ensure")["changed"] is False
    absent = ansible.play(kp({"name": "imported", "state": "absent"}))
    assert absent.task("ensure")["changed"] is True and admin.key_pairs() == []
    assert ansible.play(kp({"name": "imported", "state": "absent"})).task("ensure")["changed"] is False
    assert key.exists()


def test_regenerate_modes(ansible, admin, tmp_path):
    key = str(tmp_path / "k")
    first = ansible.play(kp({"name": "regen", "private_key_path": key})).task("ensure")
    os.unlink(key)
    never = ansible.play(kp({"name": "regen", "private_key_path": key})).task("ensure")
    assert never["changed"] is False and never["private_key_matches"] is False
    assert "cannot return the private key" in " ".join(never["warnings"])
    failed = ansible.play(kp({"name": "regen", "private_key_path": key, "regenerate": "fail"}))
    assert failed.task("ensure")["failed"] is True and failed.task("ensure")["failure"]["code"] == "KeyMismatch"
    mismatch = ansible.play(kp({"name": "regen", "private_key_path": key, "regenerate": "mismatch"}))
    replaced = mismatch.task("ensure")
    assert replaced["changed"] is True and replaced["key_pair"]["key_id"] != first["key_pair"]["key_id"]
    assert ssh_keygen("-y", "-f", key).split()[1] == admin.key_pairs()[0]["key_blob"]
    kept = ansible.play(kp({"name": "regen", "private_key_path": key, "regenerate": "mismatch"}))
    assert kept.task("ensure")["changed"] is False
    always = ansible.play(kp({"name": "regen", "private_key_path": key, "regenerate": "always",
                              "backup": True})).task("ensure")
    assert always["changed"] is True and os.path.exists(always["backup_file"])
    assert len(admin.key_pairs()) == 1


def test_passphrase(ansible, admin, tmp_path):
    key = str(tmp_path / "enc")
    args = {"name": "enc", "private_key_path": key, "passphrase": "s3cret-phrase"}
    assert ansible.play(kp(args)).task("ensure")["changed"] is True
    assert ssh_keygen("-y", "-P", "s3cret-phrase", "-f", key).split()[1] == admin.key_pairs()[0]["key_blob"]
    assert "ENCRYPTED" in open(key).read()
    again = ansible.play(kp(args)).task("ensure")
    assert again["changed"] is False and again["private_key_matches"] is True
    wrong = ansible.play(kp(dict(args, passphrase="other-phrase"))).task("ensure")
    assert wrong["failed"] is True and "passphrase" in wrong["msg"]


def test_description_tags_and_return_private_key(ansible, admin, tmp_path):
    run = ansible.play(kp({"name": "described", "private_key_path": str(tmp_path / "d"),
                           "description": "for CI", "tags": {"team": "platform"},
                           "return_private_key": True})).task("ensure")
    assert run["key_pair"]["description"] == "for CI" and run["key_pair"]["tags"] == {"team": "platform"}
    assert run["private_key"] == open(str(tmp_path / "d")).read()
    changed = ansible.play(kp({"name": "described", "private_key_path": str(tmp_path / "d"),
                               "description": "for CD"})).task("ensure")
    assert changed["changed"] is True and admin.key_pairs()[0]["description"] == "for CD"


SEED_CODES = ["MissingParameter", "InvalidParameterValue", "InvalidKeyPairName.Duplicate",
              "InvalidKeyPair.LimitExceeded", "InvalidKeyPairNameEmpty", "InvalidKeyPairNameTooLong",
              "InvalidKeyPairNameIncludeIllegalChar", "InvalidProjectId.NotFound", "InternalServerError"]


@pytest.mark.parametrize("code", SEED_CODES)
def test_each_seed_error_code(ansible, admin, tmp_path, code):
    admin.fault(action="CreateKeyPair", mode="error", code=code)
    run = ansible.play(kp({"name": "coded", "private_key_path": str(tmp_path / "k")}))
    result = run.task("ensure")
    assert run.rc == 0 and result["failed"] is True  # ignore_errors
    assert result["failure"]["code"] == code
    request_id = result["failure"]["request_id"]
    assert re.match(REQUEST_ID, request_id)
    assert result["msg"].endswith("(%s, RequestId %s)" % (code, request_id))
    assert result["msg"].startswith("Could not create key pair coded: ")
    assert admin.key_pairs() == [] and not os.path.exists(str(tmp_path / "k"))
    assert [r["action"] for r in admin.requests()] == (
        ["DescribeKeyPairs", "CreateKeyPair", "DescribeKeyPairs"] if code == "InvalidKeyPairName.Duplicate"
        else ["DescribeKeyPairs", "CreateKeyPair"])


def test_real_quota_and_project_errors(ansible, admin, tmp_path):
    admin.config(quota=1)
    admin.seed(["already"])
    quota = ansible.play(kp({"name": "over", "private_key_path": str(tmp_path / "q")})).task("ensure")
    assert quota["failure"]["code"] == "InvalidKeyPair.LimitExceeded" and "quota" in quota["msg"]
    admin.config(quota=100)
    project = ansible.play(kp({"name": "proj", "project_id": 4242,
                               "private_key_path": str(tmp_path / "p")})).task("ensure")
    assert project["failure"]["code"] == "InvalidProjectId.NotFound"
    assert "project_id does not exist" in project["msg"]


@pytest.mark.parametrize("name", ["", "x" * 26, "bad-name", "has space", "naïve", "semi;colon"])
def test_bad_names_fail_before_any_call(ansible, admin, tmp_path, name):
    run = ansible.play(kp({"name": name, "private_key_path": str(tmp_path / "k")}))
    result = run.task("ensure")
    assert result["failed"] is True and "letters, digits or underscores" in result["msg"]
    assert admin.requests() == [] and os.listdir(tmp_path) == [x for x in os.listdir(tmp_path)
                                                               if not x.startswith("k")]


def test_missing_credentials_and_region(ansible, admin, tmp_path):
    run = ansible.play(kp({"name": "nocreds", "private_key_path": str(tmp_path / "k")}),
                       env={"TENCENTCLOUD_SECRET_ID": None, "TENCENTCLOUD_SECRET_KEY": None})
    result = run.task("ensure")
    assert result["failure"]["code"] == "MissingCredentials"
    assert "TENCENTCLOUD_SECRET_ID" in result["msg"] and ".tccli/default.credential" in result["msg"]
    run = ansible.play(kp({"name": "noregion", "private_key_path": str(tmp_path / "k")}),
                       env={"TENCENTCLOUD_REGION": None})
    assert "No region given" in run.task("ensure")["msg"]
    assert admin.requests() == []


def test_credentials_from_tccli_profile(ansible, admin, tmp_path):
    home = tmp_path / "home" / ".tccli"
    home.mkdir(parents=True)
    (home / "default.credential").write_text('{"secretId": "%s", "secretKey": "%s"}' % (
        CREDS["secret_id"], CREDS["secret_key"]))
    (home / "default.configure").write_text('{"_sys_param": {"region": "ap-shanghai"}}')
    run = ansible.play(kp({"name": "profiled", "private_key_path": str(tmp_path / "k")}),
                       env={"TENCENTCLOUD_SECRET_ID": None, "TENCENTCLOUD_SECRET_KEY": None,
                            "TENCENTCLOUD_REGION": None})
    assert run.task("ensure")["changed"] is True
    assert admin.key_pairs()[0]["region"] == "ap-shanghai"


@pytest.mark.parametrize("style", ["legacy", "v1"])
def test_api_styles(ansible, admin, tmp_path, style):
    args = {"name": "styled", "private_key_path": str(tmp_path / "k"), "api_style": style}
    assert ansible.play(kp(args)).task("ensure")["changed"] is True
    assert ansible.play(kp(args)).task("ensure")["changed"] is False
    paths = {r["path"] for r in admin.requests()}
    assert paths == ({"/v2/index.php"} if style == "legacy" else {"/"})
    assert {r["signature_method"] for r in admin.requests()} == {"HmacSHA256"}


def test_module_defaults_group(ansible, admin, tmp_path):
    raw = """
- name: group defaults
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/tencentcloud.cvm.tencentcloud:
      region: ap-shanghai
      endpoint: "%s"
  tasks:
    - name: ensure
      tencentcloud.cvm.tencent_keypair:
        name: grouped
        private_key_path: "%s"
""" % (ansible.emulator.url, tmp_path / "g")
    run = ansible.play(None, raw=raw, env={"TENCENTCLOUD_REGION": None, "TENCENTCLOUD_ENDPOINT": None})
    assert run.rc == 0, run.stdout
    assert admin.key_pairs()[0]["region"] == "ap-shanghai"


def test_unknown_option_is_rejected(ansible, admin, tmp_path):
    run = ansible.play(kp({"name": "x", "private_key_path": str(tmp_path / "k"), "colour": "red"}))
    result = run.task("ensure")
    assert result["failed"] is True and "colour" in result["msg"] and admin.requests() == []


def test_module_examples_run_against_the_emulator(ansible, admin, tmp_path):
    import importlib

    module = importlib.import_module("ansible_collections.tencentcloud.cvm.plugins.modules.tencent_keypair")
    tasks = yaml.safe_load(module.EXAMPLES)
    raw = yaml.safe_dump([{"name": "examples", "hosts": "localhost", "connection": "local", "gather_facts": False,
                           "vars": {"ci_key_passphrase": "example-passphrase"}, "tasks": tasks}], sort_keys=False)
    admin.instance(instance_id="ins-web00001", state="STOPPED")  # the instance the secret's key pair is bound to
    run = ansible.play(None, raw=raw)
    assert run.rc == 0, run.stdout + run.stderr
    assert [r["status"] for r in run.results] == ["ok"] * len(tasks)
    assert [r["result"]["changed"] for r in run.by_action()] == [True, True, False, True, True, True, True]
    assert {kp["key_name"] for kp in admin.key_pairs()} == {"deploy_key", "laptop_key", "vaulted_key", "web_2027"}
    held = [kp for kp in admin.key_pairs() if kp["key_name"] == "web_2027"][0]
    assert admin.instances()[0]["key_ids"] == [held["key_id"]]
    assert [s["key_name"] for s in admin._call("GET", "secrets")["secrets"]] == ["web_2027"]
    assert "BEGIN" not in run.stdout  # the example that returns a private key hides it with no_log


def test_no_secret_in_verbose_output(ansible, admin, tmp_path):
    key = str(tmp_path / "k")
    run = ansible.play(kp({"name": "quiet", "private_key_path": key, "passphrase": "pass-phrase-9"})
                       + kp({"name": "quiet", "private_key_path": key, "passphrase": "pass-phrase-9",
                             "secret_id": CREDS["secret_id"], "secret_key": CREDS["secret_key"]})
                       .replace("- name: ensure", "- name: again", 1), verbosity=4)
    assert run.rc == 0
    text = run.stdout + run.stderr
    body = "".join(open(key).read().splitlines()[1:-1])
    assert body[:64] not in text.replace("\n", "")
    assert CREDS["secret_key"] not in text and "pass-phrase-9" not in text
    assert run.task("again")["changed"] is False


def test_demo_playbook(ansible, admin, tmp_path):
    with open(os.path.join(ROOT, "examples", "demo.yml")) as handle:
        raw = handle.read()
    env = {"DEMO_KEY_DIR": str(tmp_path)}
    first, second = ansible.play(None, raw=raw, env=env), ansible.play(None, raw=raw, env=env)
    assert first.rc == 0 and second.rc == 0
    assert "changed=1" in first.stdout and "changed=0" in second.stdout
