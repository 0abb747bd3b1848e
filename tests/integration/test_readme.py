# SPDX-License-Identifier: GPL-3.0-or-later
"""README.md as a new user meets it: the sections of the certified collection README template, the user's path
first; the installation command as written and the first play run from that installation (changed, then ok, its
emulator stopped); and the inventory guide's statement about a failing inventory source, on this ansible-core."""

import os
import re
import socket
import subprocess
import sys

import pytest
import yaml

from helpers import ROOT, doc_blocks, guide, stop_left_emulator

README = os.path.join(ROOT, "README.md")
BIN = os.path.dirname(sys.executable)
# the headings of the certified collection README template, in its order
SECTIONS = ["Description", "Requirements", "Installation", "Use cases", "Testing", "Contributing", "Support",
            "Release notes and roadmap", "Related information", "License information"]


def readme():
    with open(README, encoding="utf-8") as handle:
        return handle.read()


def first_play():
    (play,) = [text for _not_run, text in doc_blocks(README)
               if "tencentcloud.cvm.emulator" in text and "tencentcloud.cvm.tencent_keypair" in text]
    return play


def test_the_sections_are_the_certified_templates_and_the_users_path_comes_first():
    text = readme()
    assert re.findall(r"^## (.+)$", text, re.M) == SECTIONS
    lines = text.splitlines()
    play_at = lines.index("- name: A first key pair, against the emulator that comes with the collection")
    assert play_at < 80 and play_at < lines.index("## Testing")
    assert len(first_play().splitlines()) <= 22
    # the two commands, as CI runs the second (.ci/run) and greps for it
    assert re.search(r"^```bash\nmake demo +#[^\n]*\nmake test +#", text, re.M)
    assert "](CHANGELOG.md)" in text and "](COPYING)" in text
    assert "no release on Ansible Galaxy" in text


def test_the_failure_sentence_is_true():
    """The README and the troubleshooting guide do not claim a RequestId for failures found on the control node."""
    for path in (README, guide("troubleshooting")):
        with open(path, encoding="utf-8") as handle:
            flat = " ".join(handle.read().split())
        assert "Every failure reads" not in flat, path
        assert "no RequestId" in flat, path


def test_installed_as_the_readme_says_the_first_play_runs(ansible, tmp_path):
    """`ansible-galaxy collection install .` in the checkout, then the first play from that installation alone: in
    check mode (the role still starts the emulator; the key pair would be created, no file written), then twice:
    changed, then ok (the emulator keeps its state between the runs), the key file 0600, no emulator left."""
    install = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", ".", "-p",
                              str(tmp_path / "collections"), "--force"], cwd=ROOT, capture_output=True, text=True,
                             timeout=300, env=ansible.env(), check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    env = {"ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections"), "TENCENTCLOUD_SECRET_ID": None,
           "TENCENTCLOUD_SECRET_KEY": None, "TENCENTCLOUD_ENDPOINT": None, "TENCENTCLOUD_REGION": None}
    home = ansible.env()["HOME"]
    try:
        checked = ansible.play(None, raw=first_play(), env=env, check=True, diff=True)
        assert not (tmp_path / "first_key").exists() and not (tmp_path / "first_key.pub").exists()
        runs = [ansible.play(None, raw=first_play(), env=env) for _run in range(2)]
    finally:
        stop_left_emulator(home)
    assert checked.rc == 0, checked.stdout + checked.stderr
    would = checked.task("Ensure key pair first_key, and its private key in first_key beside this playbook")
    assert would["changed"] is True and would["key_pair"]["key_id"] is None
    for run in runs:
        assert run.rc == 0, run.stdout + run.stderr
    name = "Ensure key pair first_key, and its private key in first_key beside this playbook"
    first, second = (run.task(name) for run in runs)
    assert first["changed"] is True and second["changed"] is False
    assert first["key_pair"]["key_id"] == second["key_pair"]["key_id"]
    key = tmp_path / "first_key"
    assert oct(key.stat().st_mode & 0o777) == oct(0o600) and (tmp_path / "first_key.pub").exists()
    assert not os.path.exists(os.path.join(home, ".cache", "tencentcloud-cvm-emulator", "pid"))


def _refused_endpoint():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d" % sock.getsockname()[1]  # closed again: connections are refused


@pytest.mark.core
def test_a_failing_inventory_source_gives_no_hosts_and_exit_status_0_unless_any_unparsed_is_failed(
        ansible, tmp_path):
    """What the inventory guide says, on this ansible-core (the oldest one's run checks 2.16)."""
    source = tmp_path / "fleet.tencent_cvm.yml"
    source.write_text(yaml.safe_dump({"plugin": "tencentcloud.cvm.tencent_cvm", "regions": ["ap-guangzhou"],
                                      "endpoint": _refused_endpoint(), "retries": 0, "timeout": 5}))
    play = "- name: Reach every instance\n  hosts: all\n  gather_facts: false\n  tasks:\n" \
           "    - name: Log in and run Python\n      ansible.builtin.ping:\n"
    quiet = ansible.play(None, raw=play, inventory=str(source))
    assert quiet.rc == 0, quiet.stdout + quiet.stderr
    assert "skipping: no hosts matched" in quiet.stdout and quiet.results == []
    assert "ClientNetworkError" in quiet.stderr  # only a warning says why
    strict = ansible.play(None, raw=play, inventory=str(source),
                          env={"ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true"})
    assert strict.rc != 0 and "Completely failed to parse inventory source" in strict.stdout + strict.stderr
    assert "PLAY [" not in strict.stdout
    config = tmp_path / "ansible.cfg"
    config.write_text(_guide_config())
    configured = ansible.play(None, raw=play, inventory=str(source), env={"ANSIBLE_CONFIG": str(config)})
    assert configured.rc != 0 and "Completely failed to parse inventory source" in configured.stdout + configured.stderr


def _guide_config():
    """The ansible.cfg lines the inventory guide shows for CI."""
    with open(guide("inventory"), encoding="utf-8") as handle:
        text = handle.read()
    (block,) = re.findall(r"\.\. code-block:: ini\n\n((?:   [^\n]*\n|\n)+)", text)
    assert "any_unparsed_is_failed = true" in block
    return "\n".join(line[3:] for line in block.splitlines()) + "\n"
