# SPDX-License-Identifier: GPL-3.0-or-later
"""What users get: the built tarball, its installed copy, ansible-doc, a playbook and the emulator from it;
and the EE files agree with what the code imports."""

import ast
import glob
import json
import os
import subprocess
import sys
import tarfile

import pytest
import yaml

from helpers import ROOT, doc_blocks, guide

BIN = os.path.dirname(sys.executable)
DEV_ONLY = (".venv/", ".build/", ".ci/", "tests/", "scripts/", "requirements/", "benchmarks/", "extensions/",
            ".git/", "Makefile", "pytest.ini", "mypy.ini", "__pycache__", ".pyc")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    out = tmp_path_factory.mktemp("galaxy")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(out / "empty"))
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(out),
                    "--force"], cwd=ROOT, check=True, capture_output=True, env=env)
    tarball = glob.glob(str(out / "tencentcloud-cvm-*.tar.gz"))[0]
    dest = out / "collections"
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", tarball, "-p", str(dest),
                    "--force"], check=True, capture_output=True, env=env)
    return tarball, str(dest)


def test_tarball_has_no_dev_only_files(installed):
    with tarfile.open(installed[0]) as tar:
        names = tar.getnames()
    leaked = [n for n in names if any(d in n for d in DEV_ONLY)]
    assert leaked == []
    for wanted in ("plugins/action/tencent_keypair.py", "plugins/modules/tencent_keypair_info.py",
                   "roles/keypair/meta/argument_specs.yml", "cvm_emulator/server.py",
                   "meta/runtime.yml", "meta/execution-environment.yml", "requirements.txt", "bindep.txt",
                   "changelogs/changelog.yaml", "README.md", "COPYING", "plugins/inventory/tencent_cvm.py",
                   "CHANGELOG.md", "docs/docsite/extra-docs.yml", "docs/docsite/links.yml",
                   "docs/docsite/rst/guide_quickstart.rst", "docs/docsite/rst/guide_inventory.rst"):
        assert wanted in names, wanted
    guides = {n.rsplit("/", 1)[1] for n in names if n.startswith("docs/docsite/rst/")}
    assert guides >= {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "docs", "docsite", "rst", "*"))}


def _doc_env(dest):
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=dest, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")


@pytest.mark.parametrize("plugin,kind", [("tencentcloud.cvm.tencent_keypair", "module"),
                                         ("tencentcloud.cvm.tencent_keypair_info", "module"),
                                         ("tencentcloud.cvm.keypair", "role"),
                                         ("tencentcloud.cvm.tencent_cvm", "inventory")])
def test_ansible_doc_renders_from_the_installed_copy(installed, plugin, kind):
    out = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", kind, "--json", plugin], capture_output=True,
                         text=True, env=_doc_env(installed[1]), check=True)
    data = json.loads(out.stdout)
    assert plugin in data
    text = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", kind, plugin], capture_output=True, text=True,
                          env=_doc_env(installed[1]), check=True)
    # ansible-core 2.21 warns about its own internal `_protomatter` collection when listing roles; nothing else
    noise = [line for line in text.stderr.splitlines() if line.strip() and "_protomatter" not in line]
    assert noise == []
    assert installed[1] in text.stdout or kind == "role"
    if kind == "inventory":
        options = data[plugin]["doc"]["options"]
        assert {"private_key_paths", "regions", "keyed_groups", "cache", "secret_key"} <= set(options)
    elif kind == "module":
        doc = data[plugin]["doc"]
        assert doc["filename"].startswith(installed[1])
        assert "region" in doc["options"] and "secret_key" in doc["options"]
        assert data[plugin]["examples"].strip()
    else:
        assert "keypair_name" in data[plugin]["entry_points"]["main"]["options"]


@pytest.mark.parametrize("module", ["tencent_keypair", "tencent_keypair_info"])
def test_argument_spec_is_what_ansible_doc_reads(installed, module):
    """The action plugins build their argument spec from the docs with their own small merger; ansible-doc reads
    the same docs with Ansible's fragment loader. Both must see the same options, with the same shape."""
    import importlib

    plugin = "tencentcloud.cvm." + module
    out = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", "module", "--json", plugin], capture_output=True,
                         text=True, env=_doc_env(installed[1]), check=True)
    doc = json.loads(out.stdout)[plugin]["doc"]
    spec = importlib.import_module("ansible_collections.tencentcloud.cvm.plugins.action." + module).ActionModule \
        .ARGUMENT_SPEC
    assert set(doc["options"]) == set(spec)
    for name, option in doc["options"].items():
        seen = {"type": option.get("type", "str"), "required": option.get("required", False),
                "default": option.get("default"), "choices": option.get("choices"),
                "aliases": option.get("aliases"), "elements": option.get("elements")}
        built = {"type": spec[name]["type"], "required": spec[name].get("required", False),
                 "default": spec[name].get("default"), "choices": spec[name].get("choices"),
                 "aliases": spec[name].get("aliases"), "elements": spec[name].get("elements")}
        assert seen == built, name
    wanted = {"action", "action_group", "check_mode", "diff_mode", "idempotent", "platform"}
    if module == "tencent_keypair":
        wanted.add("safe_file_operations")
        assert doc["attributes"]["idempotent"]["support"] == "partial"
        assert doc["attributes"]["diff_mode"]["support"] == "full"
    assert set(doc["attributes"]) == wanted
    assert all(attribute.get("description") for attribute in doc["attributes"].values())
    assert doc["requirements"] and "cryptography" in doc["requirements"][0]


def test_listing(installed):
    out = subprocess.run([os.path.join(BIN, "ansible-doc"), "-l", "tencentcloud.cvm", "--json"],
                         capture_output=True, text=True, env=_doc_env(installed[1]), check=True)
    assert set(json.loads(out.stdout)) == {"tencentcloud.cvm.tencent_keypair", "tencentcloud.cvm.tencent_keypair_info",
                                           "tencentcloud.cvm.tencent_instance_keypairs"}


def test_playbook_and_emulator_from_the_installed_copy(installed, ansible, tmp_path):
    dest = installed[1]
    emu = subprocess.Popen([sys.executable, "-m", "ansible_collections.tencentcloud.cvm.cvm_emulator", "--port", "0"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=dict(os.environ, PYTHONPATH=dest), cwd=str(tmp_path))
    try:
        url = emu.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        raw = yaml.safe_dump([{"name": "installed", "hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "ensure", "tencentcloud.cvm.tencent_keypair": {
                "name": "from_tarball", "private_key_path": str(tmp_path / "k")}, "register": "out"},
            {"name": "where", "ansible.builtin.debug": {"msg": "{{ out.key_pair.key_id }}"}},
        ]}])
        run = ansible.play(None, raw=raw, env={"ANSIBLE_COLLECTIONS_PATH": dest, "TENCENTCLOUD_ENDPOINT": url,
                                               "ANSIBLE_CALLBACK_PLUGINS": None})
        assert run.rc == 0, run.stdout + run.stderr
        assert "changed=1" in run.stdout and os.path.exists(str(tmp_path / "k"))
    finally:
        emu.terminate()
        emu.wait(10)
        emu.stdout.close()
        emu.stderr.close()


def _runtime_nodes(tree):
    """Every node of `tree` except those under `if TYPE_CHECKING:`, which run only for the type checker (their
    imports, such as typeshed's _typeshed, are never made at run time)."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and getattr(child.test, "id", None) == "TYPE_CHECKING":
                pending.extend(child.orelse)
                continue
            pending.append(child)


def _third_party_imports():
    stdlib = set(sys.stdlib_module_names)
    found = {}
    for path in glob.glob(os.path.join(ROOT, "plugins", "**", "*.py"), recursive=True) + \
            glob.glob(os.path.join(ROOT, "cvm_emulator", "*.py")):
        tree = ast.parse(open(path, encoding="utf-8").read())
        for node in _runtime_nodes(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in stdlib and top not in ("ansible", "ansible_collections", "__future__"):
                    found.setdefault(top, set()).add(os.path.relpath(path, ROOT))
    return found


def test_ee_requirements_match_the_imports():
    # PyYAML and Jinja2 come with ansible-core (its own requirements; the plugins need ansible-core anyway);
    # everything else must be declared.
    provided_by_ansible_core = {"yaml", "jinja2"}
    imports = set(_third_party_imports()) - provided_by_ansible_core
    with open(os.path.join(ROOT, "requirements.txt")) as handle:
        declared = {line.split(">")[0].split("=")[0].split("<")[0].strip().lower()
                    for line in handle if line.strip() and not line.startswith("#")}
    assert imports == declared == {"cryptography"}
    ee = yaml.safe_load(open(os.path.join(ROOT, "meta", "execution-environment.yml")))
    assert ee["version"] == 3
    assert ee["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    for line in open(os.path.join(ROOT, "bindep.txt")):
        line = line.strip()
        if line and not line.startswith("#"):
            name, _space, profile = line.partition(" ")
            assert name and profile.startswith("[") and profile.endswith("]"), line


def test_execution_environment_build_context(installed, tmp_path):
    """`ansible-builder create` on the documented EE definition, and ansible-builder's introspection of the
    installed collection: the image would get exactly our Python and system requirements."""
    import shutil

    (definition,) = [b for _not_run, b in doc_blocks(guide("execution_environments")) if "version: 3" in b]
    tarball = os.path.basename(installed[0])
    assert tarball in definition
    shutil.copy(installed[0], str(tmp_path / tarball))
    (tmp_path / "execution-environment.yml").write_text(definition)
    subprocess.run([os.path.join(BIN, "ansible-builder"), "create", "-f", "execution-environment.yml", "-c", "context"],
                   cwd=str(tmp_path), check=True, capture_output=True, text=True)
    build = tmp_path / "context" / "_build"
    assert (build / tarball).is_file()
    assert yaml.safe_load((build / "requirements.yml").read_text()) == {
        "collections": [{"name": tarball, "type": "file"}]}
    assert "introspect.py introspect" in (tmp_path / "context" / "Dockerfile").read_text()
    out = subprocess.run([sys.executable, str(build / "scripts" / "introspect.py"), "introspect", installed[1]],
                         check=True, capture_output=True, text=True).stdout
    found = yaml.safe_load(out)

    def ours(name):
        with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
            return [line.strip() for line in handle if line.strip() and not line.startswith("#")]

    suffix = "  # from collection tencentcloud.cvm"
    assert found["python"] == [line + suffix for line in ours("requirements.txt")]
    assert found["system"] == [line + suffix for line in ours("bindep.txt")]


# What the partner certification checker runs (scripts/certification.sh) and what makes it pass here.
CERTIFICATION_PINS = {"certification-lint.txt": {"ansible-core": "2.16.0", "ansible-lint": "24.12.2"},
                      "certification-importer.txt": {"ansible-core": "2.16.0", "galaxy-importer": "0.4.31"}}
# galaxy-importer 0.4.31's CHECK_REQUIRED_TAGS: one of these must be among galaxy.yml's tags
REQUIRED_TAGS = {"ai", "application", "cloud", "database", "eda", "infrastructure", "linux", "monitoring",
                 "networking", "security", "storage", "tools", "windows"}


def _pins(name):
    with open(os.path.join(ROOT, "requirements", name), encoding="utf-8") as handle:
        return dict(line.strip().lower().replace("_", "-").split("==") for line in handle
                    if line.strip() and not line.startswith("#"))


def _yaml(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_sanity_knows_the_modules_run_on_the_controller_and_ignores_nothing():
    assert _yaml("tests", "config.yml") == {"modules": {"python_requires": "controller"}}
    assert glob.glob(os.path.join(ROOT, "tests", "sanity", "ignore-*.txt")) == []


def test_certification_runs_the_checkers_pins():
    for name, pins in CERTIFICATION_PINS.items():
        assert {package: _pins(name).get(package) for package in pins} == pins, name
    for core in ("2.16", "2.18", "2.20"):  # the checker's stable-2.X sanity branches: that series' newest release
        assert _pins("sanity-%s.txt" % core)["ansible-core"].startswith(core + "."), core
    with open(os.path.join(ROOT, "scripts", "sanity-matrix.sh"), encoding="utf-8") as handle:
        assert "cores=(2.16 2.18 2.20 newest)" in handle.read()
    assert set(_yaml("galaxy.yml")["tags"]) & REQUIRED_TAGS


def test_the_inventory_examples_are_one_document_of_documented_options(installed):
    """ansible-test 2.16's yamllint wants one YAML document per EXAMPLES: the other inventory files are shown
    commented out (each from its `# plugin:` line to the next blank line). All must use only the plugin's options."""
    from ansible_collections.tencentcloud.cvm.plugins.inventory import tencent_cvm

    docs = list(yaml.safe_load_all(tencent_cvm.EXAMPLES))
    lines = tencent_cvm.EXAMPLES.splitlines() + [""]
    starts = [i for i, line in enumerate(lines) if line.startswith("# plugin: tencentcloud.cvm.tencent_cvm")]
    for start in starts:
        end = lines.index("", start)
        docs.append(yaml.safe_load("\n".join(line[2:] for line in lines[start:end])))
    out = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", "inventory", "--json", "tencentcloud.cvm.tencent_cvm"],
                         check=True, capture_output=True, text=True, env=_doc_env(installed[1])).stdout
    options = set(json.loads(out)["tencentcloud.cvm.tencent_cvm"]["doc"]["options"])
    assert len(docs) == 3 and all(doc["plugin"] == "tencentcloud.cvm.tencent_cvm" for doc in docs)
    assert [sorted(set(doc) - options) for doc in docs] == [[], [], []]
    assert docs[1]["cache"] is True and docs[1]["exclude_filters"] == [{"project-id": 1001}]
    assert docs[2]["private_key_source"] == "secrets_manager"


def test_repository_and_tracker_have_one_place():
    """galaxy.yml holds `repository` and `issues` (neither until the public repository exists); the docs site takes
    the tracker from there and links.yml's "edit on GitHub" names the same repository."""
    from antsibull_docs import collection_links

    galaxy, links = _yaml("galaxy.yml"), _yaml("docs", "docsite", "links.yml")
    assert "issue_tracker" not in links
    repository = galaxy.get("repository")
    if repository:
        assert galaxy.get("issues")
        assert links["edit_on_github"]["repository"] == repository.split("github.com/", 1)[-1].strip("/")
    else:
        assert "issues" not in galaxy and "edit_on_github" not in links and "homepage" not in galaxy
    # how the docs site reads them, for a repository that does not exist
    example = dict(galaxy, repository="https://example.invalid/o/r", issues="https://example.invalid/o/r/issues")
    read = collection_links.load(links_data=links, galaxy_data=example, manifest_data=None)
    assert read.issue_tracker == "https://example.invalid/o/r/issues"
    assert {"Repository (Sources)": "https://example.invalid/o/r"}.items() <= {
        link.description: link.url for link in read.links}.items()


@pytest.mark.parametrize("given,release,says,status", [
    ({}, "0", "checked with https://repository-unknown.invalid/tencentcloud/cvm", 0),
    ({"GALAXY_REPOSITORY": "https://example.invalid/o/r"}, "1", "checked with https://example.invalid/o/r", 0),
    ({}, "1", "RELEASE=1: set GALAXY_REPOSITORY to the collection's public repository URL", 1)])
def test_checks_that_need_a_repository_run_on_a_copy_that_has_one(tmp_path, given, release, says, status):
    env = {k: v for k, v in os.environ.items() if k != "GALAXY_REPOSITORY"}
    env.update(given, RELEASE=release)
    run = subprocess.run([os.path.join(ROOT, "scripts", "collection-copy.sh"), str(tmp_path / "copy"), "--repository"],
                         capture_output=True, text=True, env=env, check=False)
    assert (run.returncode, says in run.stdout + run.stderr) == (status, True), run.stdout + run.stderr
    if status == 0:
        copied = yaml.safe_load((tmp_path / "copy" / "galaxy.yml").read_text())
        assert copied["repository"] == says.rsplit(" ", 1)[1]
        assert "repository" not in _yaml("galaxy.yml")
        assert (tmp_path / "copy" / "plugins" / "inventory" / "tencent_cvm.py").is_file()
