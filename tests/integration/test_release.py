# SPDX-License-Identifier: GPL-3.0-or-later
"""Versions stay honest (scripts/release_interface.py): galaxy.yml, changelog.yaml, CHANGELOG.md and every
version_added agree; whatever is new since the last release says the version being prepared; a released version
is never built again with other content."""

import os
import sys

import pytest

from helpers import ROOT

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import release_interface as release  # noqa: E402 (a file of scripts/)


def test_this_checkout_agrees():
    version, released, records, fragments = release.state()
    assert release.problems(version, released, records, release.interface(), fragments) == []
    with open(os.path.join(ROOT, "CHANGELOG.md"), encoding="utf-8") as handle:
        changelog = handle.read()
    for each in released:  # generated from changelog.yaml, not edited apart from it
        assert '<a id="v%s"></a>' % each.replace(".", "-") in changelog


def plugin(version, **options):
    return {"version_added": version, "options": dict(options)}


BASE = {"module c.m": plugin("0.1.0", name="", state="")}
NOW = {"module c.m": plugin("0.1.0", name="", state="", tags="0.2.0"), "module c.n": plugin("0.2.0", a="")}


@pytest.mark.parametrize("case,version,released,records,current,fragments,expected", [
    ("consistent, before the release", "0.2.0", ["0.1.0"], {"0.1.0": BASE}, NOW, ["x.yml"], []),
    ("consistent, released", "0.2.0", ["0.1.0", "0.2.0"], {"0.1.0": BASE, "0.2.0": NOW}, NOW, [], []),
    ("a new option without version_added", "0.2.0", ["0.1.0"], {"0.1.0": BASE},
     {"module c.m": plugin("0.1.0", name="", state="", tags="")}, [],
     ["module c.m option tags is new since 0.1.0: it needs version_added: 0.2.0 (has '')"]),
    ("a new plugin with an old version_added", "0.2.0", ["0.1.0"], {"0.1.0": BASE},
     dict(BASE, **{"module c.n": plugin("0.1.0")}), [],
     ["module c.n is new since 0.1.0: it needs version_added: 0.2.0 (has '0.1.0')"]),
    ("a released option claiming the next version", "0.2.0", ["0.1.0"], {"0.1.0": BASE},
     {"module c.m": plugin("0.1.0", name="0.2.0", state="")}, [],
     ["module c.m option name was released in 0.1.0 but says version_added: 0.2.0"]),
    ("options of ansible-core's fragments carry no version of ours", "0.2.0", ["0.1.0"], {"0.1.0": BASE},
     {"module c.m": plugin("0.1.0", name="", state="", cache=None)}, [], []),
    ("changes after the release, version not raised", "0.2.0", ["0.1.0", "0.2.0"], {"0.1.0": BASE, "0.2.0": NOW},
     NOW, ["fix.yml"], ["galaxy.yml's version 0.2.0 is already released, but changelogs/fragments has unreleased "
                        "changes (fix.yml): raise the version in galaxy.yml"]),
    ("other content under a released version", "0.2.0", ["0.1.0", "0.2.0"], {"0.1.0": BASE, "0.2.0": NOW},
     dict(NOW, **{"module c.o": plugin("0.2.0")}), [],
     ["galaxy.yml's version 0.2.0 is already released with other plugins, options or version_added: raise the "
      "version in galaxy.yml"]),
    ("a version older than the last release", "0.1.5", ["0.1.0", "0.2.0"], {"0.1.0": BASE, "0.2.0": NOW}, NOW, [],
     ["galaxy.yml's version 0.1.5 is not newer than the last release 0.2.0"]),
    ("a release whose interface was not recorded", "0.3.0", ["0.1.0", "0.2.0"], {"0.1.0": BASE}, NOW, ["x.yml"],
     ["no interface recorded for the released version(s) 0.2.0: run `python scripts/release_interface.py record` "
      "right after the release"]),
])
def test_the_rules(case, version, released, records, current, fragments, expected):
    assert release.problems(version, released, records, current, fragments) == expected, case


def test_every_version_named_in_the_docs_is_galaxy_yml_s():
    """The tarball the docs tell users to install, and the emulator's own version, follow galaxy.yml."""
    import glob
    import re

    import cvm_emulator

    version = release.state()[0]
    pages = [os.path.join(ROOT, "README.md")] + glob.glob(os.path.join(ROOT, "docs", "docsite", "rst", "*.rst"))
    named = {}
    for page in pages:
        with open(page, encoding="utf-8") as handle:
            for found in re.findall(r"tencentcloud-cvm(?:-ee:|-)(\d+\.\d+\.\d+)", handle.read()):
                named.setdefault(found, []).append(os.path.basename(page))
    assert set(named) == {version}, named
    assert cvm_emulator.__version__ == version
