# SPDX-License-Identifier: GPL-3.0-or-later
"""What the emulator is said to be matches what it serves: every description of it (the package, its command
line, the README's section, the testing guide) names each API it answers, not only key pairs."""

import os
import re
import subprocess
import sys

import cvm_emulator
from cvm_emulator import actions
from helpers import ROOT

# what each served group of actions must be called wherever the emulator is described
NAMES = {
    "key pairs": ("CreateKeyPair", "DescribeKeyPairs"),
    "instances": ("DescribeInstances", "AssociateInstancesKeyPairs"),
    "regions": ("DescribeRegions",),
    "Tag API": tuple(sorted(actions.TAG_ACTIONS)),
    "Secrets Manager": tuple(sorted(actions.SSM_SCHEMAS)),
}


def descriptions():
    help_text = subprocess.run([sys.executable, "-m", "cvm_emulator", "--help"], capture_output=True, text=True,
                               check=True, cwd=ROOT).stdout
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        section = handle.read().split("## The emulator", 1)[1].split("\n## ", 1)[0]
    with open(os.path.join(ROOT, "docs", "docsite", "rst", "guide_testing_with_the_emulator.rst"), encoding="utf-8") as handle:
        guide = handle.read()
    return {"package docstring": cvm_emulator.__doc__, "--help": help_text, "README": section.split("\n", 1)[1].strip().split("\n\n")[0],
            "testing guide": guide}


def test_every_served_action_group_is_named_where_the_emulator_is_described():
    for actions_of_group in NAMES.values():
        assert set(actions_of_group) <= set(actions.SCHEMAS) | set(actions.SSM_SCHEMAS)  # the groups are real
    for where, text in descriptions().items():
        flat = re.sub(r"\s+", " ", text)
        missing = [name for name in NAMES if name not in flat]
        assert not missing, "%s does not name %s: %s" % (where, missing, flat[:300])
        assert "key-pair API" not in flat, where
