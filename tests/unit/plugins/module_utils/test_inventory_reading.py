# SPDX-License-Identifier: GPL-3.0-or-later
"""_inventory/reading.py: the secrets masked from the start, the home region (only where it is needed), which
regions are read, and what each holds, read concurrently against a real emulator: filters and exclude filters, the
names of the key pairs bound, a region the credentials may not read (skipped with a warning, or the failure)."""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Settings
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import Credentials, CredentialsError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.reading import (
    ReadError, Source, credential_secrets, given_secrets, home_region, read_region, read_regions, regions_to_read,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.hosts import RegionRead
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.spec import InventorySpec
from helpers import CREDS
import pytest

from cvm_emulator.actions import REGIONS

DEFAULTS = {"regions": [], "filters": {}, "exclude_filters": [], "hostnames": ["instance-id"],
            "connect_with": "public_ip", "private_key_paths": [], "use_login_user": True, "use_login_port": True,
            "hostvars_prefix": "tencent_", "strict_permissions": True, "concurrency": 8}
CREDENTIALS = Credentials(CREDS["secret_id"], CREDS["secret_key"])


def spec(**options):
    return InventorySpec.from_options(dict(DEFAULTS, **options).get)


def source(emulator, home=None, **options):
    return Source(spec(**options), CREDENTIALS, Settings(endpoint=emulator.url, retries=0), home)


@pytest.fixture
def no_region_set_up(monkeypatch, tmp_path):
    """No TENCENTCLOUD_REGION and no profile files (a HOME of nothing)."""
    monkeypatch.delenv("TENCENTCLOUD_REGION", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_the_secrets_of_the_options_and_of_the_credentials_in_use():
    assert given_secrets({"secret_id": "AKID", "secret_key": "sk", "security_token": None, "region": "r"}) == {"sk"}
    assert given_secrets({"secret_key": "", "security_token": "tok"}) == {"tok"}
    assert credential_secrets(Credentials("AKID", "sk", token="tok")) == {"sk", "tok"}
    assert credential_secrets(Credentials("AKID", "sk")) == {"sk"}


def test_the_home_region_is_looked_up_only_where_no_region_is_listed(no_region_set_up):
    assert home_region({}, spec(regions=["ap-guangzhou"])) is None  # not looked up: none is set up, no error
    assert home_region({"region": "ap-shanghai"}, spec()) == "ap-shanghai"
    assert home_region({}, spec(regions=["all"])) is None  # the Region API needs none
    assert home_region({"region": "ap-shanghai"}, spec(regions=["all"])) == "ap-shanghai"
    with pytest.raises(CredentialsError, match="^No region given. Looked in: the region option"):
        home_region({}, spec())


def test_the_regions_read(emulator):
    assert regions_to_read(source(emulator, regions=["ap-shanghai", "ap-guangzhou"])) == ["ap-shanghai",
                                                                                          "ap-guangzhou"]
    assert regions_to_read(source(emulator, home="ap-singapore")) == ["ap-singapore"]
    assert emulator.requests() == []
    assert regions_to_read(source(emulator, regions=["all", "ap-guangzhou"])) == sorted(REGIONS)
    assert [(r["action"], r["service"], r["region"]) for r in emulator.requests()] == [
        ("DescribeRegions", "region", "")]


def test_each_region_holds_its_instances_and_the_names_of_their_key_pairs(emulator):
    (deploy,) = emulator.seed(["deploy"])
    web = emulator.instance_batch(2, region="ap-guangzhou", key_ids=[deploy])
    sh = emulator.instance_batch(1, region="ap-shanghai")
    read = read_regions(source(emulator, regions=["ap-guangzhou", "ap-shanghai"]), pytest.fail)
    assert list(read) == ["ap-guangzhou", "ap-shanghai"]
    assert sorted(i.instance_id for i in read["ap-guangzhou"].instances) == sorted(web)
    assert read["ap-guangzhou"].key_names == {deploy: "deploy"}
    assert [i.instance_id for i in read["ap-shanghai"].instances] == sh and read["ap-shanghai"].key_names == {}


def test_filters_and_exclude_filters(emulator):
    running = emulator.instance_batch(2, region="ap-guangzhou", state="RUNNING")
    emulator.instance_batch(1, region="ap-guangzhou", state="STOPPED")
    client = source(emulator).client("ap-guangzhou")
    read = read_region(client, spec(filters={"instance-state": "RUNNING"},
                                    exclude_filters=[{"instance-id": running[0]}]))
    assert [i.instance_id for i in read.instances] == running[1:]
    assert [r["action"] for r in emulator.requests()] == ["DescribeInstances", "DescribeInstances"]


def test_no_instance_found_asks_no_exclude_query_and_no_key_pair(emulator):
    read = read_region(source(emulator).client("ap-guangzhou"), spec(exclude_filters=[{"zone": "z"}]))
    assert read == RegionRead([], {})
    assert [r["action"] for r in emulator.requests()] == ["DescribeInstances"]


def test_a_region_the_credentials_may_not_read_fails_naming_it(emulator):
    emulator.fault(action="DescribeInstances", mode="error", code="UnauthorizedOperation", count=1)
    with pytest.raises(ReadError, match=r"^tencent_cvm: region ap-guangzhou: Could not list instances: .*"
                                        r"\(UnauthorizedOperation, RequestId [0-9a-f-]+\)$"):
        read_regions(source(emulator, regions=["ap-guangzhou"]), pytest.fail)


def test_without_strict_permissions_it_is_skipped_with_a_warning(emulator):
    emulator.instance_batch(1, region="ap-shanghai")
    emulator.fault(action="DescribeInstances", mode="error", code="UnauthorizedOperation", count=1)
    warnings = []
    read = read_regions(source(emulator, regions=["ap-guangzhou", "ap-shanghai"], strict_permissions=False,
                               concurrency=1), warnings.append)
    assert list(read) == ["ap-shanghai"] and len(read["ap-shanghai"].instances) == 1
    assert len(warnings) == 1 and warnings[0].startswith("region ap-guangzhou skipped: Could not list instances: ")


def test_a_failure_to_list_all_regions_names_it(emulator):
    emulator.fault(action="DescribeRegions", mode="error", code="InternalError", count=2)
    with pytest.raises(ReadError, match=r"^tencent_cvm: regions all: .*\(InternalError, RequestId [0-9a-f-]+\)$"):
        read_regions(source(emulator, regions=["all"]), pytest.fail)
