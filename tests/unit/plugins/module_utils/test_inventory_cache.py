# SPDX-License-Identifier: GPL-3.0-or-later
"""_inventory/cache.py: the key of a source's entry (one per regions, filters, endpoint, style and account), what
this run may do with its entry (judged as a key file is when a file cache plugin keeps it), and 0600 on an entry
written. Cache plugins are small stand-ins with the one method the judgement asks them for; files are real."""

import os
import stat

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Settings
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import Credentials
from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.records import Instance
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.cache import (
    NOT_CACHED, EntryAccess, cache_entry, cache_file, entry_key, from_cache, judge_entry, make_private,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.files import LocalFileJudge
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.hosts import RegionRead
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.reading import Source
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.spec import InventorySpec
import pytest

DEFAULTS = {"regions": ["ap-guangzhou"], "filters": {"instance-state": "RUNNING"}, "exclude_filters": [],
            "hostnames": ["instance-id"], "connect_with": "public_ip", "private_key_paths": [], "use_login_user": True,
            "use_login_port": True, "hostvars_prefix": "tencent_", "strict_permissions": True, "concurrency": 8}


def source(secret_id="AKIDEXAMPLE", home=None, endpoint="https://cvm.example.com", api_style="tc3", **options):
    spec = InventorySpec.from_options(dict(DEFAULTS, **options).get)
    return Source(spec, Credentials(secret_id, "secret"), Settings(endpoint=endpoint, api_style=api_style), home)


class FileCache:
    """A cache plugin that keeps each key in a file (as jsonfile and yaml do)."""

    def __init__(self, directory):
        self.directory = str(directory)

    def _get_cache_file_name(self, key):
        return os.path.join(self.directory, key)


class Interposed(FileCache):
    """ansible-core 2.19+: the plugin is wrapped, and every key gets a schema prefix."""

    @staticmethod
    def _get_key(key):
        return "__schema__" + key


class ServerCache:
    """A cache plugin that keeps no file (redis, memcached)."""


@pytest.fixture
def files():
    with LocalFileJudge() as judge:
        yield judge


def test_the_key_is_the_prefix_and_a_digest_that_has_not_changed():
    assert entry_key("tencent_cvm_k1a2b3c", source()) == "tencent_cvm_k1a2b3c_7b3f96dd9b76726d"


@pytest.mark.parametrize("other", [
    {"secret_id": "AKIDOTHER"}, {"regions": ["ap-shanghai"]}, {"filters": {"instance-state": "STOPPED"}},
    {"exclude_filters": [{"zone": "z"}]}, {"endpoint": "https://cvm.other.example.com"}, {"api_style": "v1"},
])
def test_another_account_region_filter_or_endpoint_has_another_key(other):
    assert entry_key("p", source(**other)) != entry_key("p", source())


def test_the_home_region_counts_only_where_no_regions_are_listed():
    assert entry_key("p", source(home="ap-shanghai")) == entry_key("p", source())
    listed_none = [entry_key("p", source(regions=[], home=home)) for home in ("ap-guangzhou", "ap-shanghai")]
    assert listed_none[0] != listed_none[1]
    assert listed_none[0] == entry_key("p", source())  # [] with home ap-guangzhou reads what [ap-guangzhou] reads


def test_a_cache_that_keeps_no_file_is_read_and_written(files):
    assert judge_entry(ServerCache(), "k", files) == EntryAccess(readable=True, writable=True, file=None, warning=None)
    assert cache_file(ServerCache(), "k") is None
    assert NOT_CACHED == EntryAccess(readable=False, writable=False)


def test_a_file_entry_not_there_yet_is_written_only(files, tmp_path):
    assert judge_entry(FileCache(tmp_path), "k", files) == EntryAccess(readable=False, writable=True,
                                                                       file=str(tmp_path / "k"))


def test_a_file_entry_of_yours_is_read_and_written(files, tmp_path):
    (tmp_path / "k").write_text("{}")
    assert judge_entry(FileCache(tmp_path), "k", files) == EntryAccess(readable=True, writable=True,
                                                                       file=str(tmp_path / "k"))


def test_the_interposer_prefix_is_part_of_the_file_name(files, tmp_path):
    assert cache_file(Interposed(tmp_path), "k") == str(tmp_path / "__schema__k")
    assert judge_entry(Interposed(tmp_path), "k", files).file == str(tmp_path / "__schema__k")


def test_a_link_in_place_of_the_entry_is_neither_read_nor_written(files, tmp_path):
    (tmp_path / "elsewhere").write_text("{}")
    os.symlink(tmp_path / "elsewhere", tmp_path / "k")
    access = judge_entry(FileCache(tmp_path), "k", files)
    assert (access.readable, access.writable, access.file) == (False, False, None)
    assert access.warning == (
        "the cache entry was neither used nor written (%s is a symbolic link; move it away); cache_connection must be "
        "a directory of yours that others cannot write. The instances were read afresh." % (tmp_path / "k"))


def test_an_entry_in_a_directory_others_can_write_is_refused(files, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    access = judge_entry(FileCache(shared), "k", files)
    assert (access.readable, access.writable, access.file) == (False, False, None)
    assert "the directory %s can be written by others (mode 0777, no sticky bit)" % shared in access.warning


def test_an_entry_written_is_made_private(tmp_path):
    entry = tmp_path / "k"
    entry.write_text("{}")
    entry.chmod(0o644)
    assert make_private(str(entry)) is True
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600


def test_an_entry_that_is_a_link_or_missing_is_not_touched(tmp_path):
    target = tmp_path / "target"
    target.write_text("{}")
    target.chmod(0o644)
    os.symlink(target, tmp_path / "k")
    assert make_private(str(tmp_path / "k")) is False
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert make_private(str(tmp_path / "missing")) is False
    assert make_private(str(tmp_path / "no" / "dir")) is False


def test_an_entry_read_back_is_region_reads_with_names():
    web = Instance(instance_id="ins-aaaaaaaa", key_ids=("skey-aaaaaaaa",), private_ips=("10.0.0.1",))
    regions = from_cache(cache_entry({"ap-guangzhou": RegionRead([web], {"skey-aaaaaaaa": "deploy"})}))
    assert list(regions) == ["ap-guangzhou"]
    assert regions["ap-guangzhou"].instances == [web]
    assert regions["ap-guangzhou"].key_names == {"skey-aaaaaaaa": "deploy"}


@pytest.mark.parametrize("data", [None, [], "x", {"version": 2}, {"version": 2, "regions": []}])
def test_anything_but_an_entry_of_this_version_is_refused(data):
    with pytest.raises(ValueError, match="^it is not an inventory cache of this version$"):
        from_cache(data)
