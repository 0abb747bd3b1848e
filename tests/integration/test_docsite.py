# SPDX-License-Identifier: GPL-3.0-or-later
"""The rendered documentation site, built as `make docs` builds it (scripts/docs.sh: antsibull-docs sphinx-init
--use-current + Sphinx, every warning an error, offline): it builds with no warning, and every guide, module,
role and plugin has its page, linked the way the docs say."""

import glob
import os
import re
import subprocess
import sys

import pytest
import yaml

from helpers import GUIDES, ROOT

# the docs site's own scripts (offline_refs needs docutils, which only the newest controller's venv has: imported
# by the tests that use it, so that the oldest controller's run can still collect this module)
sys.path.insert(0, os.path.join(ROOT, "scripts", "docsite"))


def extra_docs():
    with open(os.path.join(ROOT, "docs", "docsite", "extra-docs.yml"), encoding="utf-8") as handle:
        return [page for section in yaml.safe_load(handle)["sections"] for page in section["toctree"]]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    dest = tmp_path_factory.mktemp("docsite") / "site"
    run = subprocess.run([os.path.join(ROOT, "scripts", "docs.sh"), str(dest)], capture_output=True, text=True,
                         timeout=600, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "WARNING" not in run.stdout + run.stderr
    assert "offline build: intersphinx left out" in run.stdout  # said, not silent
    return dest / "build" / "html"


def test_every_guide_is_listed_once_and_every_listed_guide_exists():
    listed = extra_docs()
    present = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(GUIDES, "*.rst")))
    assert sorted(listed) == present and len(set(listed)) == len(listed)


def test_every_guide_module_role_and_plugin_has_its_page(site):
    pages = site / "collections" / "tencentcloud" / "cvm"
    wanted = ["docsite/%s.html" % guide for guide in extra_docs()]
    for kind, folder in (("module", "modules"), ("inventory", "inventory")):
        for path in glob.glob(os.path.join(ROOT, "plugins", folder, "[!_]*.py")):
            wanted.append("%s_%s.html" % (os.path.basename(path)[:-3], kind))
    wanted += ["%s_role.html" % os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "roles", "*"))]
    assert len(wanted) >= 15 + 3 + 1 + 3
    assert [page for page in wanted if not (pages / page).is_file()] == []
    index = (pages / "index.html").read_text()
    assert all('href="docsite/%s.html"' % guide in index for guide in extra_docs())


def test_module_role_and_plugin_pages_link_to_the_guides(site):
    pages = site / "collections" / "tencentcloud" / "cvm"
    for page, guide in (("tencent_keypair_module", "guide_troubleshooting"),
                        ("tencent_keypair_module", "guide_private_keys"),
                        ("tencent_keypair_info_module", "guide_credentials"),
                        ("tencent_instance_keypairs_module", "guide_instance_key_pairs"),
                        ("tencent_cvm_inventory", "guide_inventory"), ("keypair_role", "guide_private_keys"),
                        ("keypair_rotation_role", "guide_provisioning"),
                        ("emulator_role", "guide_testing_with_the_emulator")):
        assert 'href="docsite/%s.html' % guide in (pages / ("%s.html" % page)).read_text(), (page, guide)
    # the failure.code description links the troubleshooting guide too (R()), besides the seealso entry
    assert (pages / "tencent_instance_keypairs_module.html").read_text().count(
        'href="docsite/guide_troubleshooting.html#') == 2


def test_the_diagrams_are_drawn_in_the_guides_and_rendered(site):
    """Each guide's SVG is what scripts/docsite/diagrams.py draws now (no stale copy), and the site shows it."""
    import diagrams

    for name, (guide, _draw) in diagrams.DIAGRAMS.items():
        _path, text, wanted = diagrams.drawn(name)
        assert text == wanted, "run python scripts/docsite/diagrams.py: %s is stale in %s" % (name, guide)
        html = (site / "collections" / "tencentcloud" / "cvm" / "docsite" / guide.replace(".rst", ".html")).read_text()
        title = re.search(r"<title>([^<]+)</title>", wanted).group(1)
        assert "<svg" in html and ("<title>%s</title>" % title) in html, (name, guide)


class _Node(dict):
    pass


@pytest.mark.parametrize("reftype,target,linked", [
    ("ref", "common_return_values", True), ("envvar", "ANSIBLE_CACHE_PLUGIN", True),
    ("ref", "ansible_collections.tencentcloud.cvm.nothing_here", False), ("envvar", "TENCENTCLOUD_REGION", False),
    ("ref", "playbooks_intro", False)])
def test_offline_links_cover_only_the_listed_targets(reftype, target, linked):
    """Offline, only antsibull-docs' few links into Ansible's docs become direct links; any other unresolved
    reference stays a warning (and fails the build)."""
    from docutils import nodes

    import offline_refs

    class App:
        class env:  # noqa: N801 (stands in for Sphinx's BuildEnvironment)
            pass

    node = _Node(refdomain="std", reftype=reftype, reftarget=target)
    made = offline_refs.external(App, None, node, nodes.Text(target))
    assert (made is not None) is linked
    if linked:
        assert made["refuri"].startswith(offline_refs.ANSIBLE_DOCS)


def test_links_follow_the_repository_once_there_is_one():
    """links.yml waits for the public repository: when galaxy.yml names one, the docs site must offer "edit on
    GitHub" for it and an issue tracker; until then, neither may point anywhere invented."""
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    with open(os.path.join(ROOT, "docs", "docsite", "links.yml"), encoding="utf-8") as handle:
        links = yaml.safe_load(handle)
    assert links["communication"]["forums"]  # somewhere to ask, in any case
    repository = galaxy.get("repository")
    if repository:
        slug = repository.split("github.com/", 1)[-1].strip("/")
        assert links.get("edit_on_github", {}).get("repository") == slug
        assert galaxy.get("issues") or links.get("issue_tracker")
    else:
        assert "edit_on_github" not in links and "issue_tracker" not in links and not galaxy.get("issues")


def test_the_build_never_empties_a_directory_it_did_not_make(tmp_path):
    """DEST is removed before a build: a directory with other content is refused and left as it was."""
    (tmp_path / "notes.txt").write_text("mine")
    run = subprocess.run([os.path.join(ROOT, "scripts", "docs.sh"), str(tmp_path)], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 2 and "is not an earlier docs build" in run.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine" and len(list(tmp_path.iterdir())) == 1
