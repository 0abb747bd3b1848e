# SPDX-License-Identifier: GPL-3.0-or-later
"""Every YAML example in README.md, docs/ and the role README: playbooks run as written against the emulator;
other YAML (an EE definition) at least parses."""

import glob
import os
import re

import pytest
import yaml

from helpers import ROOT

FILES = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))) + [
    os.path.join(ROOT, "README.md"), os.path.join(ROOT, "roles", "keypair", "README.md")]
BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.M | re.S)


def blocks(path):
    with open(path, encoding="utf-8") as handle:
        return BLOCK.findall(handle.read())


def is_playbook(data):
    return isinstance(data, list) and data and all(isinstance(p, dict) and "hosts" in p for p in data)


CASES = [(os.path.relpath(path, ROOT), i, text) for path in FILES for i, text in enumerate(blocks(path))]


def test_every_docs_page_has_examples():
    pages = {case[0] for case in CASES}
    for name in ("quickstart", "credentials", "private-keys", "testing-with-the-emulator", "troubleshooting",
                 "execution-environments"):
        assert "docs/%s.md" % name in pages


@pytest.mark.parametrize("page,index,text", CASES, ids=["%s#%d" % (c[0], c[1]) for c in CASES])
def test_example(ansible, admin, page, index, text):
    data = yaml.safe_load(text)
    assert data, "empty example"
    if not is_playbook(data):
        return
    run = ansible.play(None, raw=text)
    assert run.rc == 0, run.stdout + run.stderr
    assert not [r for r in run.results if r["status"] == "failed" and "rescue" not in text]
