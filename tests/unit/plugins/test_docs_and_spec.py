# SPDX-License-Identifier: GPL-3.0-or-later
"""The argument spec covers the code, secrets are no_log, the docs parse, client-side codes are documented.
(That the spec equals the docs as Ansible reads them is checked with ansible-doc in test_packaging.py.)"""

import dataclasses

from ansible_collections.tencentcloud.cvm.plugins.action import tencent_keypair as action
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import CLIENT_OPTIONS
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair import spec as _specs
from ansible_collections.tencentcloud.cvm.plugins.modules import tencent_keypair as module
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._argspec import NO_LOG
import pytest
import yaml


@pytest.mark.parametrize("name", ["tencent_keypair", "tencent_keypair_info", "tencent_instance_keypairs"])
def test_the_spec_covers_the_code(name):
    """Every option is read by exactly one of: the module's spec, the client's settings and credentials."""
    import importlib

    plugin = importlib.import_module("ansible_collections.tencentcloud.cvm.plugins.action." + name)
    spec_fields = {f.name for f in dataclasses.fields(plugin.ActionModule.SPEC)}
    options = set(plugin.ActionModule.ARGUMENT_SPEC)
    assert not spec_fields & CLIENT_OPTIONS and spec_fields <= options and options - spec_fields <= CLIENT_OPTIONS


def test_choices_are_the_specs():
    assert tuple(action.ARGUMENT_SPEC["regenerate"]["choices"]) == _specs.REGENERATE


def test_secrets_are_no_log():
    for name in ("secret_key", "security_token", "passphrase"):
        assert action.ARGUMENT_SPEC[name]["no_log"] is True
    assert NO_LOG <= set(action.ARGUMENT_SPEC)


def test_examples_and_return_are_yaml():
    examples = yaml.safe_load(module.EXAMPLES)
    assert sum("tencentcloud.cvm.tencent_keypair" in task for task in examples) >= 5
    returned = yaml.safe_load(module.RETURN)
    assert {"key_pair", "private_key_matches", "request_ids", "failure"} <= set(returned)


def test_client_side_codes_are_the_documented_ones():
    import glob
    import os
    import re

    from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import CLIENT_CODES

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    raised = set()
    for path in glob.glob(os.path.join(root, "plugins", "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as handle:
            raised |= set(re.findall(r'code="([A-Za-z.]+)"', handle.read()))
    with open(os.path.join(root, "plugins", "plugin_utils", "_runner.py"), encoding="utf-8") as handle:
        raised |= set(re.findall(r'self\._fail\([^)]*"([A-Z][A-Za-z]+)"\)', handle.read()))
    assert raised and raised <= set(CLIENT_CODES), raised - set(CLIENT_CODES)
    with open(os.path.join(root, "docs", "docsite", "rst", "guide_troubleshooting.rst"), encoding="utf-8") as handle:
        table = re.split(r"\n[^\n]+\n-+\n", handle.read().split("\nCodes from the control node\n---", 1)[1])[0]
    assert set(re.findall(r"^   \* - ``([A-Za-z]+)``$", table, re.M)) == set(CLIENT_CODES)


def test_every_code_the_module_can_meet_is_explained():
    """The current SDK's codes for every action the module calls (the emulator's list) are in the troubleshooting
    guide."""
    import os
    import re

    from cvm_emulator import errorcodes

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    called = ("CreateKeyPair", "ImportKeyPair", "DescribeKeyPairs", "DeleteKeyPairs", "ModifyKeyPairAttribute",
              "DescribeInstances", "AssociateInstancesKeyPairs", "DisassociateInstancesKeyPairs", "ModifyResourceTags",
              "CreateSSHKeyPairSecret", "GetSSHKeyPairValue", "DescribeSecret", "ListSecrets", "DisableSecret",
              "DeleteSecret")
    codes = set(errorcodes.SEED).union(*(errorcodes.codes(action) for action in called))
    with open(os.path.join(root, "docs", "docsite", "rst", "guide_troubleshooting.rst"), encoding="utf-8") as handle:
        documented = set(re.findall(r"`([A-Za-z][A-Za-z0-9.]+)`", handle.read()))
    assert len(codes) > 80 and sorted(codes - documented) == []


def test_every_source_file_names_its_license():
    import os
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
    generated = {"changelogs/changelog.yaml", "changelogs/.plugin-cache.yaml"}
    named = (".ci/run", "Makefile")
    sources = [f for f in tracked if f not in generated and (f.endswith((".py", ".sh", ".yml", ".yaml")) or f in named)]
    missing = []
    for name in sources:
        with open(os.path.join(root, name), encoding="utf-8") as handle:
            head = [handle.readline() for _line in range(5)]
        if "# SPDX-License-Identifier: GPL-3.0-or-later\n" not in head and head != [""] * 5:
            missing.append(name)  # empty files (module_utils packages' __init__.py, which ansible-test keeps empty)
    assert len(sources) > 80 and missing == []
