# SPDX-License-Identifier: GPL-3.0-or-later
"""_inventory/keyfiles.py: KeyFileFinder finds a host's private key file: key pairs in order, each with every
template in order; a host-independent template rendered once per key pair; cloud values with / or .. never in a
path; files that are there but unusable refused and named. Real files in a private temporary directory; the
plugin's Jinja is a small stand-in that fills {{ name }}."""

import os
import re

from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.records import Instance
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.files import LocalFileJudge
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.hosts import Host
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.keyfiles import NOT_IN_A_PATH, KeyFileFinder
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.spec import InventorySpec
import pytest

DEFAULTS = {"regions": [], "filters": {}, "exclude_filters": [], "hostnames": ["instance-id"],
            "connect_with": "public_ip", "private_key_paths": [], "use_login_user": True, "use_login_port": True,
            "hostvars_prefix": "tencent_", "strict_permissions": True, "concurrency": 8}
KEY_A, KEY_B = "skey-aaaaaaaa", "skey-bbbbbbbb"


class Render:
    """Fills {{ name }} from the variables, as the plugin's templar would; records each call."""

    def __init__(self):
        self.calls = []

    def __call__(self, template, variables):
        self.calls.append((template, dict(variables)))
        return re.sub(r"\{\{ (\w+) \}\}", lambda m: str(variables[m.group(1)]), template)


@pytest.fixture
def files():
    with LocalFileJudge() as judge:
        yield judge


def finder(files, templates, independent=(), render=None):
    spec = InventorySpec.from_options(dict(DEFAULTS, private_key_paths=list(templates)).get)
    return KeyFileFinder(spec, files, render or Render(), independent)


def host(instance_id="ins-aaaaaaaa", key_ids=(KEY_A,), names=None, **fields):
    instance = Instance(instance_id=instance_id, key_ids=tuple(key_ids), private_ips=("10.0.0.1",), **fields)
    return Host.of("ap-guangzhou", instance, {KEY_A: "alpha", KEY_B: "beta"} if names is None else names, "public_ip")


def key(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("key\n")
    return str(path)


def test_key_pairs_first_then_templates(files, tmp_path):
    key(tmp_path / "second" / "alpha")
    key(tmp_path / "first" / "beta")
    templates = [str(tmp_path / "first" / "{{ key_name }}"), str(tmp_path / "second" / "{{ key_name }}")]
    found = finder(files, templates).find(host(key_ids=(KEY_A, KEY_B)), {})
    assert found == str(tmp_path / "second" / "alpha")  # the first key pair's, though the first template names beta


def test_an_unknown_key_name_is_the_key_id(files, tmp_path):
    path = key(tmp_path / KEY_B)
    assert finder(files, [str(tmp_path / "{{ key_name }}")]).find(host(key_ids=(KEY_B,), names={}), {}) == path


def test_nothing_there_is_none_and_refuses_nothing(files, tmp_path):
    found = finder(files, [str(tmp_path / "{{ key_name }}"), str(tmp_path / "none" / "{{ key_id }}")])
    assert found.find(host(), {}) is None and found.refused == {}


def test_no_key_pair_bound_renders_nothing(files, tmp_path):
    render = Render()
    assert finder(files, [str(tmp_path / "{{ key_name }}")], render=render).find(host(key_ids=()), {}) is None
    assert render.calls == []


def test_a_host_independent_template_is_rendered_once_per_key_pair(files, tmp_path):
    path = key(tmp_path / "alpha")
    shared = "{{ inventory_dir }}/{{ key_name }}"
    render = Render()
    keys = finder(files, [shared], independent=[shared], render=render)
    hostvars = {"inventory_dir": str(tmp_path)}
    assert [keys.find(host("ins-%08d" % i), hostvars) for i in range(3)] == [path] * 3
    assert len(render.calls) == 1 and render.calls[0][1]["key_id"] == KEY_A


def test_a_template_of_host_variables_is_rendered_for_each_host_with_path_safe_values(files, tmp_path):
    key(tmp_path / "web" / "alpha")
    per_host = str(tmp_path) + "/{{ tencent_instance_name }}/{{ key_name }}"
    render = Render()
    keys = finder(files, [per_host], render=render)
    assert keys.find(host("ins-aaaaaaaa", name="web"), {"inventory_dir": "/inv"}) == str(tmp_path / "web" / "alpha")
    assert keys.find(host("ins-bbbbbbbb", name="../web"), {"tencent_instance_name": "../web"}) is None
    assert [variables["tencent_instance_name"] for _t, variables in render.calls] == ["web", NOT_IN_A_PATH]
    assert render.calls[0][1]["inventory_dir"] == "/inv" and render.calls[0][1]["key_name"] == "alpha"
    assert keys.refused == {per_host: "it uses a value from the cloud that holds / or .."}


def test_a_file_there_that_is_no_key_file_is_refused_and_the_next_template_taken(files, tmp_path):
    fifo = tmp_path / "fifo" / "alpha"
    fifo.parent.mkdir()
    os.mkfifo(fifo)  # never opened: it would block
    good = key(tmp_path / "good" / "alpha")
    keys = finder(files, [str(tmp_path / "fifo" / "{{ key_name }}"), str(tmp_path / "good" / "{{ key_name }}")])
    assert keys.find(host(), {}) == good
    assert keys.refused == {str(fifo): "%s is a FIFO (named pipe); move it away" % fifo}


def test_a_home_relative_template_is_expanded(files, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    path = key(tmp_path / ".ssh" / "alpha")
    assert finder(files, ["~/.ssh/{{ key_name }}"]).find(host(), {}) == path


def test_refused_is_a_copy(files, tmp_path):
    keys = finder(files, [str(tmp_path) + "/{{ tencent_instance_name }}"])
    keys.find(host(name="a/b"), {})
    seen = keys.refused
    seen.clear()
    assert len(keys.refused) == 1
