# SPDX-License-Identifier: GPL-3.0-or-later
"""As AWX runs them: ansible-runner on a private data directory holding the inventory source and a playbook, with
the environment the credential type's injectors (read from the AWX guide) make of a credential's inputs."""

import json
import os
import sys

import jinja2
import yaml

from helpers import CREDS, ROOT, doc_blocks, guide

PLAYBOOK = [{"name": "report", "hosts": "all", "gather_facts": False, "tasks": [
    {"name": "where", "ansible.builtin.debug": {"msg": "{{ tencent_instance_id }} in {{ tencent_region }}"}}]}]


def credential_type():
    """(inputs, injectors) as the AWX guide gives them."""
    docs = [yaml.safe_load(text) for _not_run, text in doc_blocks(guide("awx"))]
    inputs = next(d for d in docs if "fields" in d)
    injectors = next(d for d in docs if "env" in d)
    source = next(d for d in docs if d.get("plugin") == "tencentcloud.cvm.tencent_cvm")
    return inputs, injectors, source


def injected(injectors, values):
    """The environment AWX gives the run: each injector rendered with the credential's inputs."""
    env = jinja2.Environment(undefined=jinja2.Undefined)
    return {name: env.from_string(text).render(**values) for name, text in injectors["env"].items()}


def test_inventory_and_play_through_ansible_runner(emulator_process, tmp_path):
    import ansible_runner

    admin = emulator_process.admin
    ids = admin.instance_batch(2, region="ap-shanghai", state="RUNNING", name_prefix="app")
    admin.instance_batch(1, region="ap-shanghai", state="STOPPED")
    inputs, injectors, source = credential_type()
    assert {f["id"] for f in inputs["fields"]} >= {"secret_id", "secret_key", "security_token", "region"}
    env = injected(injectors, {"secret_id": CREDS["secret_id"], "secret_key": CREDS["secret_key"],
                               "region": "ap-shanghai"})
    assert env["TENCENTCLOUD_SECRET_KEY"] == CREDS["secret_key"] and env["TENCENTCLOUD_SECURITY_TOKEN"] == ""
    env.update(TENCENTCLOUD_ENDPOINT=emulator_process.url, PATH=os.path.dirname(sys.executable) + os.pathsep +
               os.environ.get("PATH", ""), ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, HOME=str(tmp_path))
    data = tmp_path / "private"
    (data / "project").mkdir(parents=True)
    (data / "inventory").mkdir()
    (data / "project" / "site.yml").write_text(yaml.safe_dump(PLAYBOOK))
    inventory = data / "inventory" / "fleet.tencent_cvm.yml"
    # as in the AWX guide, in one region, and reached locally (the emulator's instances run no sshd here)
    inventory.write_text(yaml.safe_dump(dict(source, regions=["ap-shanghai"],
                                             compose={"ansible_connection": "'local'"})))

    listed, err, rc = ansible_runner.run_command(
        executable_cmd="ansible-inventory", cmdline_args=["-i", str(inventory), "--list"], envvars=env,
        private_data_dir=str(data), quiet=True)
    assert rc == 0, err
    hosts = json.loads(listed)["_meta"]["hostvars"]
    assert sorted(hosts) == sorted(ids)

    run = ansible_runner.run(private_data_dir=str(data), playbook="site.yml", inventory=str(inventory),
                             envvars=env, quiet=True)
    assert run.rc == 0 and run.status == "successful", run.stdout.read()
    said = sorted(e["event_data"]["res"]["msg"] for e in run.events
                  if e["event"] == "runner_on_ok" and e["event_data"].get("task") == "where")
    assert said == sorted("%s in ap-shanghai" % i for i in ids)
    output = run.stdout.read()
    assert CREDS["secret_key"] not in output
