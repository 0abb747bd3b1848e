# SPDX-License-Identifier: GPL-3.0-or-later
"""The messages a new user meets in the first hour (issue 28), as ansible-playbook and ansible-inventory show them
against the emulator: half a credential pair, https:// to the plain-HTTP emulator, private_key_mode: 0400 without
quotes, an unknown key in an inventory source, async on an action that has none. Each is bad input: nothing is
called, no file is written."""

import os
import subprocess
import sys

import pytest
import yaml

from helpers import CREDS, INFO, KP, task

pytestmark = pytest.mark.core  # also run on the oldest supported ansible-core (scripts/test-oldest.sh)

PLUGIN = "tencentcloud.cvm.tencent_cvm"
BIN = os.path.dirname(sys.executable)


def shown(expected, output):
    """Whether `expected` is in `output`, line wrapping aside: ansible-core 2.16 wraps warnings at 80 columns, also
    inside a path (at its hyphens), so all white space is left out of both."""
    return "".join(expected.split()) in "".join(output.split())


def looked_in(home):
    return ("the secret_id/secret_key options; the TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY environment "
            "variables; {0}/.tencentcloud/credentials [default]; {0}/.tccli/default.credential".format(home))


def failure(result):
    assert result["failed"] is True and result["changed"] is False and result["request_ids"] == [], result
    assert result["msg"] == result["failure"]["message"], result
    return result["failure"]["code"], result["msg"]


def inventory(ansible, config, env=None, name="demo.tencent_cvm.yml"):
    path = ansible.tmp_path / name
    path.write_text(yaml.safe_dump(dict({"plugin": PLUGIN}, **config), sort_keys=False))
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(path), "--list"],
                          env=ansible.env(ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true", **(env or {})),
                          cwd=str(ansible.tmp_path), capture_output=True, text=True, timeout=180, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, str(path)


def test_half_a_credential_pair_names_the_missing_half(ansible, admin, keys):
    home = ansible.tmp_path / "home"
    run = ansible.play(task({"secret_id": CREDS["secret_id"]}, "options id", module=INFO,
                            ignore_errors=True)
                       + task({"name": "only_key", "secret_key": CREDS["secret_key"],
                               "private_key_path": str(keys / "a")}, "options key", ignore_errors=True))
    assert failure(run.task("options id")) == (
        "MissingCredentials", "Incomplete Tencent Cloud credentials: secret_id is given in the task options but "
        "secret_key is not. Give both secret_id and secret_key, or neither (then the environment and profile files "
        "are used).")
    assert failure(run.task("options key"))[1].startswith(
        "Incomplete Tencent Cloud credentials: secret_key is given in the task options but secret_id is not. ")
    from_env = ansible.play(task({}, "environment", module=INFO, ignore_errors=True),
                            env={"TENCENTCLOUD_SECRET_KEY": None})
    assert failure(from_env.task("environment")) == (
        "MissingCredentials", "Incomplete Tencent Cloud credentials: the environment sets TENCENTCLOUD_SECRET_ID but "
        "not TENCENTCLOUD_SECRET_KEY (missing or empty). Give both, or neither. No complete pair anywhere; looked "
        "in: %s." % looked_in(home))
    proc, path = inventory(ansible, {}, env={"TENCENTCLOUD_SECRET_ID": ""})
    assert proc.returncode != 0 and shown(
        "%s: Incomplete Tencent Cloud credentials: the environment sets TENCENTCLOUD_SECRET_KEY but not "
        "TENCENTCLOUD_SECRET_ID (missing or empty). Give both, or neither. No complete pair anywhere; looked in: %s. "
        "(MissingCredentials)" % (path, looked_in(home)), proc.stderr)
    proc, path = inventory(ansible, {"secret_id": CREDS["secret_id"]}, name="half.tencent_cvm.yml")
    assert proc.returncode != 0 and shown(
        "%s: Incomplete Tencent Cloud credentials: secret_id is given in the inventory source but secret_key is not. "
        "Give both secret_id and secret_key, or neither (then the environment and profile files are used). "
        "(MissingCredentials)" % path, proc.stderr)
    assert CREDS["secret_key"] not in proc.stderr + proc.stdout
    assert admin.requests() == [] and os.listdir(keys) == []


def test_https_to_the_plain_http_emulator_says_use_http(ansible, admin, keys):
    plain = ansible.emulator.url.replace("http://", "")
    https = "https://" + plain
    run = ansible.play(task({"endpoint": https}, "info", module=INFO, ignore_errors=True)
                       + task({"name": "k", "private_key_path": str(keys / "k"), "endpoint": https}, "create",
                              ignore_errors=True))
    sentence = "Could not connect to %s (the endpoint speaks plain HTTP, not TLS: use http://%s)" % (plain, plain)
    assert run.task("info")["failure"] == {"code": "ClientNetworkError", "message": sentence, "request_id": None}
    assert run.task("info")["msg"] == "Could not list key pairs: %s; the endpoint could not be reached " \
                                      "(ClientNetworkError)" % sentence
    assert run.task("create")["failure"]["message"] == sentence and "ca_path" not in run.stdout + run.stderr
    proc, _path = inventory(ansible, {}, env={"TENCENTCLOUD_ENDPOINT": https})
    assert proc.returncode != 0 and shown("tencent_cvm: region ap-guangzhou: Could not list instances: %s; the "
                                          "endpoint could not be reached (ClientNetworkError)" % sentence, proc.stderr)
    assert admin.requests() == [] and os.listdir(keys) == []


def test_an_unquoted_mode_is_read_as_a_number_and_says_to_quote_it(ansible, admin, keys):
    """YAML reads 0400 without quotes as the octal number 256; Ansible's conversion made '256' of it, and the task
    said "0256 gives group or others access". 600 without quotes (no leading zero) keeps working."""
    tasks = """
        - name: unquoted 0400
          {kp}:
            name: mode_a
            private_key_path: {keys}/a
            private_key_mode: 0400
          ignore_errors: true
        - name: unquoted 0600 from a variable
          {kp}:
            name: mode_b
            private_key_path: {keys}/b
            private_key_mode: "{{{{ wanted }}}}"
          vars:
            wanted: 0600
          ignore_errors: true
        - name: unquoted 600
          {kp}:
            name: mode_c
            private_key_path: {keys}/c
            private_key_mode: 600
          check_mode: true
        """.format(kp=KP, keys=keys)
    run = ansible.play(tasks)
    assert failure(run.task("unquoted 0400")) == (
        "InvalidArgument", "private_key_mode was read as the decimal number 256 (YAML reads 0400 without quotes as "
        "an octal number); quote it: private_key_mode: '0400'")
    assert failure(run.task("unquoted 0600 from a variable")) == (
        "InvalidArgument", "private_key_mode was read as the decimal number 384 (YAML reads 0600 without quotes as "
        "an octal number); quote it: private_key_mode: '0600'")
    assert run.task("unquoted 600")["changed"] is True and run.rc == 0
    assert [r for r in admin.requests() if r.get("write")] == [] and os.listdir(keys) == []


def test_an_unknown_key_in_an_inventory_source_warns_or_fails_with_strict(ansible, admin):
    admin.instance_batch(2, region="ap-guangzhou", state="RUNNING", name_prefix="web")
    config = {"filter": {"instance-state": "STOPPED"}, "hostname": ["instance-name"], "colour": "blue"}
    proc, path = inventory(ansible, config)
    assert proc.returncode == 0, proc.stderr
    assert shown("[WARNING]: tencent_cvm: %s: the keys 'filter' (did you mean 'filters'?), 'hostname' (did you mean "
                 "'hostnames'?), 'colour' are not options of this plugin and were ignored (with strict: true it is an "
                 "error)" % path, proc.stderr)
    assert len(yaml.safe_load(proc.stdout)["_meta"]["hostvars"]) == 2  # the filter did not apply: it was ignored
    admin.clear_requests()
    proc, path = inventory(ansible, {"strict": True, "filter": {"instance-state": "STOPPED"}},
                           name="strict.tencent_cvm.yml")
    assert proc.returncode != 0 and shown("tencent_cvm: %s: the key 'filter' (did you mean 'filters'?) is not an "
                                          "option of this plugin (strict: true)" % path, proc.stderr)
    assert admin.requests() == []  # refused before anything was read
    proc, _path = inventory(ansible, {"filters": {"instance-state": "STOPPED"}, "token": ""}, name="ok.tencent_cvm.yml")
    assert proc.returncode == 0 and "not an option" not in proc.stderr  # an alias (token) is an option


def test_async_is_refused_with_a_code(ansible, admin):
    run = ansible.play(task({}, "async", module=INFO, ignore_errors=True, **{"async": 10, "poll": 1}))
    code, msg = failure(run.task("async"))
    assert code == "InvalidArgument" and "async" in msg  # ansible-core's own sentence, which differs by version
    assert admin.requests() == []
