# SPDX-License-Identifier: GPL-3.0-or-later
"""Every YAML example in README.md, the guides (docs/docsite/rst) and the roles' READMEs: playbooks run as written against the emulator;
molecule step snippets (plays named "Prepare - ...", "Converge - ...", "Destroy - ...") run as the sequence molecule
would run them; other YAML (an EE definition) at least parses."""

import os

import pytest
import yaml

from helpers import ROOT, Admin, doc_blocks, doc_pages, stop_left_emulator

FILES = doc_pages()
blocks = doc_blocks


def is_playbook(data):
    return isinstance(data, list) and data and all(isinstance(p, dict) and "hosts" in p for p in data)


def molecule_step(data):
    """'prepare', 'converge', 'verify' or 'destroy' for a molecule step snippet, else None."""
    if not is_playbook(data):
        return None
    step = str(data[0].get("name", "")).split(" - ", 1)[0].lower()
    return step if step in ("prepare", "converge", "verify", "destroy") else None


CASES = [(os.path.relpath(path, ROOT), i, text) for path in FILES for i, (_skip, text) in enumerate(blocks(path))]
NOT_RUN = {(os.path.relpath(path, ROOT), i) for path in FILES for i, (skip, _text) in enumerate(blocks(path)) if skip}
# Examples that act on the instances ins-web00001 and ins-web00002 get them (RUNNING, with a real sshd) and the
# key pair deploy_2026q4; the rotation examples get it bound to them, as a rotation starts.
FLEET = ("ins-web00001", "ins-web00002")


def fleet(admin, text):
    (key_id,) = admin.seed(["deploy_2026q4"])
    bound = [key_id] if "keypair_rotation" in text else []
    for instance_id in FLEET:
        admin.instance(instance_id=instance_id, state="RUNNING", ssh=True, key_ids=bound)


def test_examples_not_run_are_few_and_say_why():
    assert len(NOT_RUN) <= 2, NOT_RUN  # tccli and Terraform in provisioning.md


def test_every_docs_page_has_examples():
    pages = {case[0] for case in CASES}
    for name in ("quickstart", "credentials", "private-keys", "testing-with-the-emulator", "troubleshooting",
                 "execution-environments", "instance-key-pairs", "provisioning", "inventory", "awx"):
        assert "docs/docsite/rst/guide_%s.rst" % name.replace("-", "_") in pages


@pytest.mark.parametrize("page,index,text", CASES, ids=["%s#%d" % (c[0], c[1]) for c in CASES])
def test_example(ansible, admin, page, index, text):
    data = yaml.safe_load(text)
    assert data, "empty example"
    if not is_playbook(data) or molecule_step(data) or (page, index) in NOT_RUN:
        return  # molecule step snippets: test_molecule_snippets
    if FLEET[0] in text:
        fleet(admin, text)
    # emulator instances get new host keys on reused ports: a known-hosts file of the test's own (see the role)
    extra = {"keypair_rotation_known_hosts_file": str(ansible.tmp_path / "known_hosts")} \
        if "keypair_rotation" in text else None
    try:
        run = ansible.play(None, raw=text, extra_vars=extra)
    finally:
        if "tencentcloud.cvm.emulator" in text:
            stop_left_emulator(ansible.env()["HOME"])  # a play that failed before its stop task
    assert run.rc == 0, run.stdout + run.stderr
    assert not [r for r in run.results if r["status"] == "failed" and "rescue" not in text]


MOLECULE_PAGES = sorted({c[0] for c in CASES if molecule_step(yaml.safe_load(c[2]))})


@pytest.mark.parametrize("page", MOLECULE_PAGES)
def test_molecule_snippets(ansible, admin, tmp_path, page):
    """The page's prepare, converge, verify and destroy snippets, in molecule's order, with the variables molecule
    sets; 'my_role' is a consumer role that passes no endpoint or credentials, so only the snippets' module_defaults
    can point it at the emulator the prepare step started (not at the one in TENCENTCLOUD_ENDPOINT)."""
    steps = {}
    for case in CASES:
        if case[0] == page:
            step = molecule_step(yaml.safe_load(case[2]))
            if step:
                steps[step] = case[2]
    assert {"prepare", "destroy"} <= set(steps), steps.keys()
    tasks = tmp_path / "roles" / "my_role" / "tasks"
    tasks.mkdir(parents=True)
    tasks.joinpath("main.yml").write_text(yaml.safe_dump([{
        "name": "The role under test ensures a key pair",
        "tencentcloud.cvm.tencent_keypair": {"name": "my_role_key", "private_key_path": str(tmp_path / "my_role_key")},
    }]))
    ephemeral = tmp_path / "ephemeral"
    ephemeral.mkdir()
    env = {"MOLECULE_EPHEMERAL_DIRECTORY": str(ephemeral)}
    kit = ephemeral / "tencentcloud-cvm-emulator"
    try:
        prepared = ansible.play(None, raw=steps["prepare"], env=env)
        assert prepared.rc == 0, prepared.stdout + prepared.stderr
        url, token = (kit / "url").read_text().splitlines()
        for step in ("converge", "verify"):
            if step in steps:
                run = ansible.play(None, raw=steps[step], env=env)
                assert run.rc == 0, run.stdout + run.stderr
        expected = ["my_role_key"] if "converge" in steps else []
        kit_admin = Admin(url, token.split("admin-token: ", 1)[1])
        assert [k["key_name"] for k in kit_admin.key_pairs()] == expected
        assert admin.key_pairs() == []  # nothing went to the emulator named by TENCENTCLOUD_ENDPOINT
        assert (tmp_path / "my_role_key").exists() == bool(expected)
    finally:
        destroyed = ansible.play(None, raw=steps["destroy"], env=env)
    assert destroyed.rc == 0, destroyed.stdout + destroyed.stderr
    assert not (kit / "pid").exists()
