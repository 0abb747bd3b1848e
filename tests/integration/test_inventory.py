# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory plugin tencentcloud.cvm.tencent_cvm through real `ansible-inventory` and `ansible-playbook` runs
against the emulator: names, groups, compose, filters, regions, cache, strict, bad input, and the loop closed: a
key made by tencent_keypair, instances bound to it, a play that knows nothing but the inventory file logs in over
real SSH, before and after a rotation."""

import json
import os
import subprocess
import sys

import pytest
import yaml

PLUGIN = "tencentcloud.cvm.tencent_cvm"
BIN = os.path.dirname(sys.executable)


def inventory(ansible, config, *args, env=None, name="demo.tencent_cvm.yml"):
    """Runs ansible-inventory on a configuration file written from `config`; returns the finished process."""
    path = ansible.tmp_path / name
    path.write_text(yaml.safe_dump(dict({"plugin": PLUGIN}, **config), sort_keys=False))
    extra = {"ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true"}
    extra.update(env or {})
    return subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(path)] + list(args),
                          env=ansible.env(**extra), cwd=str(ansible.tmp_path), capture_output=True, text=True,
                          timeout=180, check=False)


def listed(ansible, config, env=None, name="demo.tencent_cvm.yml", more=()):
    """(ansible-inventory --list as JSON, its stderr); the run must succeed."""
    proc = inventory(ansible, config, "--list", *more, env=env, name=name)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


def failed(ansible, config, env=None):
    """The message of an inventory run that must fail, without a traceback."""
    proc = inventory(ansible, config, "--list", env=env)
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    return " ".join(proc.stderr.split())


def group(data, name):
    return sorted(data.get(name, {}).get("hosts", []))


def plain(value):
    """A value as set: ansible-inventory --list shows a value marked unsafe (everything from the cloud, and what
    compose made of it) as {"__ansible_unsafe": value}."""
    if isinstance(value, dict):
        return value["__ansible_unsafe"] if set(value) == {"__ansible_unsafe"} else {
            k: plain(v) for k, v in value.items()}
    return [plain(v) for v in value] if isinstance(value, list) else value


def hostvars(data):
    return plain(data["_meta"]["hostvars"])


@pytest.fixture
def fleet(admin):
    """Two regions: 3 web instances (tag role=web, zone -2) and 2 db ones in ap-guangzhou, 2 web in ap-shanghai;
    key pair deploy bound to the web ones of ap-guangzhou."""
    (key_id,) = admin.seed(["deploy"])
    web = admin.instance_batch(3, region="ap-guangzhou", zone="ap-guangzhou-2", state="RUNNING", name_prefix="web",
                               tags={"role": "web"}, key_ids=[key_id], project_id=1000)
    db = admin.instance_batch(2, region="ap-guangzhou", zone="ap-guangzhou-3", state="STOPPED", name_prefix="db",
                              tags={"role": "db"})
    sh = admin.instance_batch(2, region="ap-shanghai", zone="ap-shanghai-2", state="RUNNING", name_prefix="sh",
                              tags={"role": "web"})
    return {"key_id": key_id, "web": web, "db": db, "sh": sh}


@pytest.mark.core
def test_names_groups_compose_and_regions(ansible, admin, fleet):
    data, stderr = listed(ansible, {
        "regions": ["ap-guangzhou", "ap-shanghai"], "hostnames": ["tag:Name", "instance-name"],
        "keyed_groups": [{"key": "tencent_zone", "prefix": "zone"}, {"key": "tencent_tags", "prefix": "tag"},
                         {"key": "tencent_key_names", "prefix": "key"}],
        "groups": {"stopped": "tencent_instance_state == 'STOPPED'"},
        "compose": {"team": "tencent_tags.role ~ '-team'"}})
    assert group(data, "zone_ap_guangzhou_2") == ["web-0", "web-1", "web-2"]
    assert group(data, "zone_ap_shanghai_2") == ["sh-0", "sh-1"]
    assert group(data, "tag_role_web") == ["sh-0", "sh-1", "web-0", "web-1", "web-2"]
    assert group(data, "key_deploy") == ["web-0", "web-1", "web-2"]
    assert group(data, "stopped") == ["db-0", "db-1"]
    assert data["_meta"]["hostvars"]["web-0"]["tencent_instance_name"] == {"__ansible_unsafe": "web-0"}
    web0 = hostvars(data)["web-0"]
    assert web0["team"] == "web-team" and web0["tencent_region"] == "ap-guangzhou"
    assert web0["tencent_key_ids"] == [fleet["key_id"]] and web0["tencent_key_names"] == ["deploy"]
    assert web0["tencent_project_id"] == 1000 and web0["tencent_tags"] == {"role": "web"}
    assert web0["ansible_host"] == web0["tencent_private_ip_addresses"][0]  # no public address: the private one
    assert web0["ansible_user"] == "root" and web0["ansible_port"] == 22
    assert web0["tencent_instance_id"] in fleet["web"]
    assert "WARNING" not in stderr
    graph = inventory(ansible, {"regions": ["ap-guangzhou", "ap-shanghai"], "hostnames": ["instance-name"],
                                "keyed_groups": [{"key": "tencent_zone", "prefix": "zone"}]}, "--graph")
    assert graph.returncode == 0 and "@zone_ap_shanghai_2:\n  |  |--sh-0\n  |  |--sh-1" in graph.stdout.replace(
        "|  |--sh-1\n  |  |--sh-0", "|  |--sh-0\n  |  |--sh-1"), graph.stdout


def test_calls_pages_and_key_lookups(ansible, admin, fleet):
    admin.instance_batch(230, region="ap-guangzhou", state="RUNNING", key_ids=[fleet["key_id"]])
    admin.clear_requests()
    data, _stderr = listed(ansible, {"regions": ["ap-guangzhou"]})
    assert len(hostvars(data)) == 235
    calls = [(r["action"], r["region"]) for r in admin.requests()]
    assert calls.count(("DescribeInstances", "ap-guangzhou")) == 3  # pages of 100
    assert calls.count(("DescribeKeyPairs", "ap-guangzhou")) == 1   # one lookup for every bound KeyId
    assert len(calls) == 4


def test_filters_exclude_filters_and_split_values(ansible, admin, fleet):
    data, _stderr = listed(ansible, {"filters": {"instance-state": "RUNNING", "tag:role": ["web"]},
                                     "exclude_filters": [{"instance-name": "web-1"}], "hostnames": ["instance-name"]})
    assert sorted(hostvars(data)) == ["web-0", "web-2"]
    ids = fleet["web"] + fleet["db"]  # 5 values: one query; 7 values: two
    admin.clear_requests()
    data, _stderr = listed(ansible, {"filters": {"instance-id": ids + ["ins-00000000", "ins-00000001"]}})
    assert sorted(hostvars(data)) == sorted(ids)
    queries = [r for r in admin.requests() if r["action"] == "DescribeInstances"]
    assert len(queries) == 2


def test_all_regions(ansible, admin, fleet):
    admin.clear_requests()
    data, _stderr = listed(ansible, {"regions": ["all"], "hostnames": ["instance-name"]})
    assert sorted(hostvars(data)) == ["db-0", "db-1", "sh-0", "sh-1", "web-0", "web-1", "web-2"]
    actions = [r["action"] for r in admin.requests()]
    assert actions.count("DescribeRegions") == 1 and actions.count("DescribeInstances") > 10


@pytest.mark.core
def test_all_regions_without_a_home_region(ansible, admin, fleet):
    """No region option, no TENCENTCLOUD_REGION, no profile: regions: [all] needs none. The Region API's
    DescribeRegions (service region, no Region sent) lists them; each region is then read with its own name."""
    admin.clear_requests()
    data, _stderr = listed(ansible, {"regions": ["all"], "hostnames": ["instance-name"]},
                           env={"TENCENTCLOUD_REGION": None})
    assert sorted(hostvars(data)) == ["db-0", "db-1", "sh-0", "sh-1", "web-0", "web-1", "web-2"]
    assert {v["tencent_region"] for v in hostvars(data).values()} == {"ap-guangzhou", "ap-shanghai"}
    listing = [(r["action"], r["service"], r["region"]) for r in admin.requests() if r["action"] == "DescribeRegions"]
    assert listing == [("DescribeRegions", "region", "")]
    message = failed(ansible, {"regions": []}, env={"TENCENTCLOUD_REGION": None})  # one region: it must be named
    assert "No region given" in message


def test_hostnames_expression_falls_through_where_it_cannot_be_evaluated(ansible, admin, fleet):
    config = {"hostnames": ["tencent_tags.owner ~ '-box'", "tag:role", "instance-id"], "regions": ["ap-shanghai"]}
    admin.instance_batch(1, region="ap-shanghai", tags={"owner": "ann", "role": "x"})
    data, _stderr = listed(ansible, config)
    assert sorted(hostvars(data)) == sorted(fleet["sh"] + ["ann-box"])  # sh-*: role web twice: their IDs
    assert "tencent_tags.owner" in failed(ansible, dict(config, strict=True))


def test_duplicate_names_fall_back_to_instance_ids(ansible, admin, fleet):
    twins = admin.instance_batch(2, region="ap-guangzhou", instance_name="twin")
    data, stderr = listed(ansible, {"hostnames": ["instance-name"]})
    assert set(twins) <= set(hostvars(data)) and "twin" not in hostvars(data)
    assert "twin wanted by" in " ".join(stderr.split())


@pytest.mark.core
def test_cache_hit_rebuilds_the_same_groups_without_a_call(ansible, admin, fleet, tmp_path):
    config = {"keyed_groups": [{"key": "tencent_zone", "prefix": "zone"}], "cache": True,
              "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    first, _stderr = listed(ansible, config)
    admin.clear_requests()
    again, _stderr = listed(ansible, config)
    assert plain(again) == plain(first) and admin.requests() == []
    admin.instance_batch(1, region="ap-guangzhou", zone="ap-guangzhou-2")
    assert plain(listed(ansible, config)[0]) == plain(first)  # still the cache
    play = ansible.tmp_path / "flush.yml"  # ansible-playbook --flush-cache (ansible-inventory has it since 2.17)
    play.write_text(yaml.safe_dump([{"hosts": "all", "gather_facts": False, "tasks": []}]))
    flush = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(ansible.tmp_path / "demo.tencent_cvm.yml"),
                            "--flush-cache", str(play)], env=ansible.env(), cwd=str(ansible.tmp_path),
                           capture_output=True, text=True, timeout=180, check=False)
    assert flush.returncode == 0, flush.stdout + flush.stderr
    flushed, _stderr = listed(ansible, config)
    assert len(hostvars(flushed)) == len(hostvars(first)) + 1
    changed = dict(config, filters={"instance-state": "RUNNING"})  # another filter: another cache key
    assert len(hostvars(listed(ansible, changed)[0])) == 3  # the running ones of ap-guangzhou


@pytest.mark.core
def test_private_key_paths_strict_and_summary_warning(ansible, admin, fleet, tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "deploy").write_text("not read by the inventory\n")
    config = {"private_key_paths": [str(tmp_path / "nowhere" / "{{ key_name }}"), str(keys) + "/{{ key_name }}"],
              "hostnames": ["instance-name"], "regions": ["ap-guangzhou"]}
    data, stderr = listed(ansible, config)
    assert {hostvars(data)["web-%d" % i]["ansible_ssh_private_key_file"] for i in range(3)} == {str(keys / "deploy")}
    assert "ansible_ssh_private_key_file" not in hostvars(data)["db-0"]
    warning = " ".join(stderr.split())
    assert warning.count("no private key file found for 2 host(s)") == 1 and "db-0 (no key pair bound)" in warning
    template = str(keys) + "/{{ tencent_zone | replace('ap-guangzhou-2', '') }}{{ key_name }}"  # a host variable
    per_host = dict(config, private_key_paths=[template])
    data, _stderr = listed(ansible, per_host)
    assert hostvars(data)["web-1"]["ansible_ssh_private_key_file"] == str(keys / "deploy")
    message = failed(ansible, dict(config, strict=True))
    assert "no private key file found for 2 host(s)" in message
    override, _stderr = listed(ansible, dict(config, compose={"ansible_ssh_private_key_file": "'/elsewhere'"}))
    assert hostvars(override)["web-0"]["ansible_ssh_private_key_file"] == "/elsewhere"


def test_a_key_file_that_cannot_be_used_is_named_and_passed_over(ansible, admin, fleet, tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    os.mkfifo(keys / "deploy")  # there, not opened (a FIFO would block), not a key file: refused, the next one taken
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "deploy").write_text("not read by the inventory\n")
    config = {"private_key_paths": [str(keys) + "/{{ key_name }}", str(tmp_path) + "/more/{{ key_name }}"]}
    data, stderr = listed(ansible, config)
    assert {v.get("ansible_ssh_private_key_file") for v in hostvars(data).values()} == {
        None, str(tmp_path / "more" / "deploy")}
    assert "private key files refused: %s (%s is a FIFO (named pipe)" % (keys / "deploy", keys / "deploy") in " ".join(
        stderr.split())
    os.unlink(keys / "deploy")
    os.symlink("deploy", keys / "deploy")  # a link to itself: there, and no one can read it (root neither)
    message = failed(ansible, dict(config, strict=True))
    assert "%s is a symbolic link" % (keys / "deploy") in message


@pytest.mark.core
@pytest.mark.parametrize("config,expected", [
    ({"filters": {"colour": "red"}}, "unknown DescribeInstances filter colour"),
    ({"filters": {"tag:k%d" % i: "v" for i in range(11)}}, "11 filters, but DescribeInstances takes at most 10"),
    ({"filters": {"instance-id": ["ins-%08d" % i for i in range(200)]}}, "more than 25 DescribeInstances queries"),
    ({"regions": ["ap-guangzhou", "xx-nowhere"]}, "region xx-nowhere: Could not list instances"),
    ({"regions": ["ap-guangzhou; rm -rf /"]}, "regions must be region names"),
    ({"connect_with": "carrier_pigeon"}, "connect_with"),
    ({"exclude_filters": [{"colour": "red"}]}, "exclude_filters[0]: unknown DescribeInstances filter colour"),
    ({"endpoint": "ftp://cvm.example.com"}, "scheme must be http or https"),
])
def test_bad_input_is_a_clear_message(ansible, admin, fleet, config, expected):
    admin.clear_requests()
    message = failed(ansible, config)
    assert expected in message
    if "xx-nowhere" not in expected:
        assert admin.requests() == []  # refused before any call


def test_a_region_without_permission(ansible, admin, fleet):
    admin.fault(action="DescribeInstances", mode="error", code="UnauthorizedOperation", count=1)
    message = failed(ansible, {"regions": ["ap-guangzhou"]})
    assert "region ap-guangzhou" in message and "UnauthorizedOperation" in message
    admin.fault(action="DescribeInstances", mode="error", code="UnauthorizedOperation", count=1)
    data, stderr = listed(ansible, {"regions": ["ap-guangzhou", "ap-shanghai"], "strict_permissions": False,
                                    "concurrency": 1})
    assert "region ap-guangzhou skipped" in " ".join(stderr.split())
    assert sorted(v["tencent_region"] for v in hostvars(data).values()) == ["ap-shanghai"] * 2


@pytest.mark.core
def test_values_from_the_cloud_are_never_templated(ansible, admin):
    admin.instance_batch(1, region="ap-guangzhou", instance_name="{{ 7 * 7 }}", tags={"t": "{{ lookup('env','HOME') }}"})
    (ansible.tmp_path / "inv.tencent_cvm.yml").write_text(yaml.safe_dump({"plugin": PLUGIN}))
    run = ansible.play("""
        - name: t
          ansible.builtin.debug:
            msg: "{{ tencent_instance_name }} {{ tencent_tags.t }}"
          register: out
    """, hosts="all", inventory=str(ansible.tmp_path / "inv.tencent_cvm.yml"))
    assert run.task("t")["msg"] == "{{ 7 * 7 }} {{ lookup('env','HOME') }}"


# --- the loop closed: key pair, instances, a play that knows only the inventory, a rotation ---------------------

PING = [{"name": "reach", "hosts": "all", "gather_facts": False,
         "tasks": [{"name": "ping", "ansible.builtin.ping": None}]}]
# No connection sharing between the plays (the play after the rotation must log in afresh), and host keys in the
# test's own file (ssh finds ~ through the password database, not $HOME).
SSH_ARGS = "-o ControlMaster=no -o IdentitiesOnly=yes -o IdentityAgent=none -o UserKnownHostsFile=%s"


@pytest.mark.core
def test_a_play_reaches_instances_through_the_inventory_alone_before_and_after_a_rotation(ansible, admin, tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    made = ansible.play(yaml.safe_dump([{"name": "a", "tencentcloud.cvm.tencent_keypair": {
        "name": "key_a", "private_key_path": str(keys / "key_a")}, "register": "a"}]))
    a_id = made.task("a")["key_pair"]["key_id"]
    instances = [admin.instance(ssh=True, state="RUNNING", key_ids=[a_id]) for _i in range(2)]
    source = tmp_path / "fleet.tencent_cvm.yml"
    source.write_text(yaml.safe_dump({"plugin": PLUGIN, "filters": {"instance-state": "RUNNING"},
                                      "private_key_paths": ["{{ inventory_dir }}/keys/{{ key_name }}"]}))
    ids = sorted(i["instance_id"] for i in instances)

    def ping():
        env = {"ANSIBLE_HOST_KEY_CHECKING": "false", "ANSIBLE_SSH_ARGS": SSH_ARGS % (tmp_path / "play_known_hosts")}
        run = ansible.play(None, raw=yaml.safe_dump(PING), inventory=str(source), env=env)
        assert run.rc == 0, run.stdout + run.stderr
        return sorted(r["host"] for r in run.results if r["task"] == "ping" and r["result"].get("ping") == "pong")

    assert ping() == ids
    listing, _stderr = listed(ansible, yaml.safe_load(source.read_text()), name="fleet.tencent_cvm.yml")
    assert {v["ansible_ssh_private_key_file"] for v in hostvars(listing).values()} == {str(keys / "key_a")}
    assert {v["ansible_port"] for v in hostvars(listing).values()} == {i["ssh_port"] for i in instances}

    role_vars = {
        "keypair_rotation_instance_ids": ids, "keypair_rotation_name": "key_b",
        "keypair_rotation_private_key_path": str(keys / "key_b"), "keypair_rotation_old_key_pairs": ["key_a"],
        "keypair_rotation_force_stop": True, "keypair_rotation_delete_old": True,
        "keypair_rotation_old_private_key_path": str(keys / "key_a"),
        "keypair_rotation_known_hosts_file": str(tmp_path / "known_hosts")}
    rotated = ansible.play(None, raw=yaml.safe_dump([{"name": "rotate", "hosts": "localhost", "gather_facts": False,
                                                      "roles": [{"role": "tencentcloud.cvm.keypair_rotation",
                                                                 "vars": role_vars}]}]))
    assert rotated.rc == 0, rotated.stdout + rotated.stderr
    assert [k["key_name"] for k in admin.key_pairs()] == ["key_b"]  # key_a unbound and deleted; its file stays
    assert ping() == ids  # the same play and inventory file, now with key_b
    listing, _stderr = listed(ansible, yaml.safe_load(source.read_text()), name="fleet.tencent_cvm.yml")
    assert {v["ansible_ssh_private_key_file"] for v in hostvars(listing).values()} == {str(keys / "key_b")}


@pytest.mark.core
def test_credentials_as_the_modules_take_them_and_templated(ansible, admin, fleet):
    from helpers import CREDS

    config = {"secret_id": CREDS["secret_id"], "secret_key": "{{ lookup('env', 'MY_TENCENT_KEY') }}",
              "region": "ap-shanghai", "hostnames": ["instance-name"]}
    env = {"TENCENTCLOUD_SECRET_ID": None, "TENCENTCLOUD_SECRET_KEY": None, "TENCENTCLOUD_REGION": None,
           "MY_TENCENT_KEY": CREDS["secret_key"]}
    data, _stderr = listed(ansible, config, env=env)
    assert sorted(hostvars(data)) == ["sh-0", "sh-1"]  # the region option, as a module takes it
    no_credentials = {"TENCENTCLOUD_SECRET_ID": None, "TENCENTCLOUD_SECRET_KEY": None}
    proc = inventory(ansible, {"regions": ["ap-guangzhou"]}, "--list", env=no_credentials)
    said = " ".join(proc.stderr.split())
    assert proc.returncode != 0 and "No Tencent Cloud credentials found. Looked in:" in said
    assert CREDS["secret_key"] not in proc.stderr + proc.stdout


def test_a_tampered_cache_is_read_afresh_and_a_hostile_key_name_is_not_a_path(ansible, admin, fleet, tmp_path):
    cache = tmp_path / "cache"
    config = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(cache),
              "regions": ["ap-guangzhou"], "hostnames": ["instance-name"]}
    listed(ansible, config)
    (entry,) = [p for p in cache.iterdir() if p.is_file()]
    stored = json.loads(entry.read_text())
    data = json.loads(stored["__payload__"]) if "__payload__" in stored else stored  # ansible-core 2.19+ wraps it
    for found in data["regions"].values():
        for inst in found["instances"]:
            inst["DefaultLoginUser"] = "-oProxyCommand=touch /tmp/owned"
    entry.write_text(json.dumps(dict(stored, __payload__=json.dumps(data)) if "__payload__" in stored else data))
    admin.clear_requests()
    again, _stderr = listed(ansible, config)
    assert hostvars(again)["web-0"]["ansible_user"] == "root" and admin.requests() != []  # read afresh
