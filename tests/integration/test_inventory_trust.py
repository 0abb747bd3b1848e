# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory plugin's trust boundary (issue 25), attacked through real `ansible-inventory` / `ansible-playbook`
runs: a cloud user who names instances and tags them, a hostile endpoint that answers what it likes, and another
local user (`nobody`, uid 65534) who can write in shared directories, against this process (root in CI). Each attack
worked on the main of 2026-12-06 (ansible-core 2.16 and 2.19): host names that ran code or took the controller's
place, KeyIds that chose a local key file, a planted cache, planted key files. `core`: also on ansible-core 2.16."""

import json
import os
import stat
import sys

import pytest
import yaml

from helpers import NOBODY, HostileEndpoint, Tamper, as_nobody
from test_inventory import PLUGIN, failed, hostvars, inventory, listed

pytestmark = pytest.mark.core
NEEDS_ROOT = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the attacker is another user (uid 65534): needs root, as CI runs")


def says(text, expected):
    """Whether `expected` is in `text`, white space aside: ansible-core before 2.19 wraps warnings at hyphens too."""
    return "".join(expected.split()) in "".join(text.split())


def poisoned(change):
    """A Tamper for DescribeInstances that applies change(model) to every instance of the real answer."""
    def tamper(response):
        for model in response.get("InstanceSet") or []:
            change(model)
        return response
    return Tamper(tamper)


def pipe_marker(tmp_path):
    """A path that a Jinja lookup would create, and the Jinja text that would create it."""
    marker = tmp_path / "ran"
    return marker, "{{ lookup('pipe', 'id > %s') }}" % marker


# --- 1. host names --------------------------------------------------------------------------------------------

def test_jinja_in_an_instance_id_never_runs_and_the_answer_is_refused(ansible, admin, emulator_process, tmp_path):
    marker, jinja = pipe_marker(tmp_path)
    admin.instance_batch(2, region="ap-guangzhou", state="RUNNING")
    with HostileEndpoint({"DescribeInstances": poisoned(lambda m: m.update(InstanceId=jinja))},
                         upstream=emulator_process.url) as hostile:
        proc = inventory(ansible, {"regions": ["ap-guangzhou"], "endpoint": hostile.url}, "--list")
    assert proc.returncode != 0 and not marker.exists()
    assert says(proc.stderr, "InstanceSet[].InstanceId that is not an instance ID") and says(proc.stderr, "InvalidResponse")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("source", ["instance-name", "tag:Name", "expression"])
def test_jinja_in_a_name_or_a_tag_never_runs_and_never_names_a_host(ansible, admin, tmp_path, source):
    """The guide's own hostnames list. The play prints inventory_hostname and uses it in a compose: on ansible-core
    2.16 a host named `{{ lookup('pipe', ...) }}` ran the command there."""
    marker, jinja = pipe_marker(tmp_path)
    (instance_id,) = admin.instance_batch(1, region="ap-guangzhou", state="RUNNING", instance_name=jinja,
                                          tags={"Name": jinja, "role": jinja})
    hostnames = {"instance-name": ["instance-name"], "tag:Name": ["tag:Name", "instance-name"],
                 "expression": ["tencent_tags.role ~ ''"]}[source]
    source_file = ansible.tmp_path / "jinja.tencent_cvm.yml"
    source_file.write_text(yaml.safe_dump({"plugin": PLUGIN, "hostnames": hostnames,
                                           "compose": {"label": "inventory_hostname ~ '-x'"}}))
    run = ansible.play("""
        - name: name
          ansible.builtin.debug:
            msg: "{{ inventory_hostname }} {{ label }}"
    """, hosts="all", inventory=str(source_file))
    assert run.rc == 0, run.stdout + run.stderr
    assert run.task("name", host=instance_id)["msg"] == "%s %s-x" % (instance_id, instance_id)
    assert not marker.exists()
    assert says(run.stderr, "host name(s) from the cloud refused")


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "::1", "LOCALHOST", "db.localhost"])
def test_a_name_ansible_takes_for_the_controller_never_names_a_host(ansible, admin, name):
    """An honest API: a cloud user named an instance `localhost`. As a host of that name it would have received the
    tasks a play delegates to the controller (the role keypair delegates to localhost), over ssh."""
    (instance_id,) = admin.instance_batch(1, region="ap-guangzhou", state="RUNNING", instance_name=name)
    data, stderr = listed(ansible, {"hostnames": ["instance-name"]})
    assert list(hostvars(data)) == [instance_id]
    assert says(stderr, "refused") and says(stderr, json.dumps(name))
    message = failed(ansible, {"hostnames": ["instance-name"], "strict": True})
    assert says(message, instance_id) and says(message, json.dumps(name)) and says(message, "control node")


def test_delegate_to_localhost_stays_on_the_controller(ansible, admin):
    """With a host named localhost (ansible_host: the instance's 10.x address), `delegate_to: localhost` went over ssh
    to that address and failed (or reached the instance); now it runs here."""
    admin.instance_batch(1, region="ap-guangzhou", state="RUNNING", instance_name="localhost")
    source_file = ansible.tmp_path / "local.tencent_cvm.yml"
    source_file.write_text(yaml.safe_dump({"plugin": PLUGIN, "hostnames": ["instance-name"]}))
    run = ansible.play(None, inventory=str(source_file), raw=yaml.safe_dump([{
        "name": "p", "hosts": "all", "gather_facts": False, "tasks": [
            {"name": "here", "ansible.builtin.command": "true", "delegate_to": "localhost", "changed_when": False}]}]))
    assert run.rc == 0, run.stdout + run.stderr


def ssh_recorder(tmp_path):
    """An ssh stand-in that records its argv (one JSON line a call) and fails as an unreachable host does."""
    log = tmp_path / "ssh_argv.jsonl"
    wrapper = tmp_path / "fake_ssh"
    wrapper.write_text("#!%s\nimport json, sys\nwith open(%r, 'a') as log:\n    log.write(json.dumps(sys.argv[1:]) + '\\n')\n"
                       "sys.exit(255)\n" % (sys.executable, str(log)))
    wrapper.chmod(0o755)
    return wrapper, log


def test_a_name_or_id_starting_with_a_dash_never_reaches_ssh(ansible, admin, emulator_process, tmp_path):
    """Instances named `-oProxyCommand=...`, one of them with no address at all: the names are refused, the one
    without an address is left out, and ssh (a recorder as ansible_ssh_executable) sees IP addresses only."""
    marker = tmp_path / "proxied"
    evil = "-oProxyCommand=touch %s" % marker
    with_address, without = admin.instance_batch(2, region="ap-guangzhou", state="RUNNING", instance_name=evil)

    def strip(model):
        if model["InstanceId"] == without:
            model.update(PrivateIpAddresses=[], PublicIpAddresses=[], IPv6Addresses=[])

    wrapper, log = ssh_recorder(tmp_path)
    with HostileEndpoint({"DescribeInstances": poisoned(strip)}, upstream=emulator_process.url) as hostile:
        source_file = ansible.tmp_path / "dash.tencent_cvm.yml"
        source_file.write_text(yaml.safe_dump({"plugin": PLUGIN, "hostnames": ["instance-name"],
                                               "endpoint": hostile.url}))
        run = ansible.play(None, inventory=str(source_file), env={"ANSIBLE_SSH_EXECUTABLE": str(wrapper)},
                           raw=yaml.safe_dump([{"name": "p", "hosts": "all", "gather_facts": False,
                                                "tasks": [{"name": "ping", "ansible.builtin.ping": None}]}]))
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    address = admin.instances()[[i["instance_id"] for i in admin.instances()].index(with_address)]["private_ip"]
    assert calls and all(not arg.startswith("-oProxyCommand") for call in calls for arg in call), calls
    assert all(address in call for call in calls) and not marker.exists()
    assert "fatal: [%s]: UNREACHABLE" % with_address in run.stdout and without not in run.stdout  # the recorder
    assert says(run.stderr, "1 instance(s) left out: no address to connect to (never their names): %s" % without)


# --- 2. key paths ---------------------------------------------------------------------------------------------

def test_a_key_id_with_a_slash_or_dot_dot_never_reaches_a_path(ansible, admin, emulator_process, tmp_path):
    """The endpoint binds a `KeyId` of `../<a private key of the controller>`; without a key name it was put into the
    template as it was. Now the KeyId is dropped (and a key name from the endpoint must be a key name too)."""
    keys = tmp_path / "keys"
    keys.mkdir()
    secret = tmp_path / "controller_key"
    secret.write_text("the controller's own key\n")
    (key_id,) = admin.seed(["deploy"])
    admin.instance_batch(1, region="ap-guangzhou", state="RUNNING", key_ids=[key_id])
    (keys / "deploy").write_text("deploy's key\n")
    poison_ids = poisoned(lambda m: m["LoginSettings"].update(KeyIds=["../controller_key", key_id]))
    poison_names = Tamper(lambda r: dict(r, KeyPairSet=[
        dict(kp, KeyName="../controller_key") for kp in r.get("KeyPairSet") or []]))
    config = {"private_key_paths": [str(keys) + "/{{ key_name }}", str(keys) + "/{{ key_id }}"]}
    with HostileEndpoint({"DescribeInstances": poison_ids}, upstream=emulator_process.url) as hostile:
        data, _stderr = listed(ansible, dict(config, endpoint=hostile.url))
    (host,) = hostvars(data).values()
    assert host["ansible_ssh_private_key_file"] == str(keys / "deploy") and host["tencent_key_ids"] == [key_id]
    with HostileEndpoint({"DescribeKeyPairs": poison_names}, upstream=emulator_process.url) as hostile:
        data, stderr = listed(ansible, dict(config, endpoint=hostile.url))
    (host,) = hostvars(data).values()
    assert "ansible_ssh_private_key_file" not in host and host["tencent_key_names"] == [key_id]


def test_a_value_from_the_cloud_with_a_slash_never_picks_the_directory(ansible, admin, tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    (tmp_path / "deploy").write_text("a key outside the key directory\n")
    (key_id,) = admin.seed(["deploy"])
    admin.instance_batch(1, region="ap-guangzhou", state="RUNNING", key_ids=[key_id], tags={"dir": ".."})
    data, stderr = listed(ansible, {"private_key_paths": [str(keys) + "/{{ tencent_tags.dir }}/{{ key_name }}"]})
    (host,) = hostvars(data).values()
    assert "ansible_ssh_private_key_file" not in host
    assert says(stderr, "it uses a value from the cloud that holds / or ..")


def key_dir_with(tmp_path, make):
    """A private key directory where make(path) put something at `deploy`; a key pair deploy bound to one instance."""
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    make(keys / "deploy")
    return keys


@pytest.mark.parametrize("kind,expected", [
    ("fifo", "is a FIFO (named pipe)"),
    ("device", "is a character device"),
    ("link", "is a symbolic link"),
    ("directory", "is a directory"),
])
def test_a_key_path_that_is_no_key_file_is_refused_with_a_message(ansible, admin, tmp_path, kind, expected):
    make = {"fifo": os.mkfifo, "device": lambda p: os.mknod(p, stat.S_IFCHR | 0o600, os.makedev(1, 3)),
            "link": lambda p: os.symlink("/etc/hostname", p), "directory": os.mkdir}[kind]
    keys = key_dir_with(tmp_path, make)
    (key_id,) = admin.seed(["deploy"])
    admin.instance_batch(1, region="ap-guangzhou", state="RUNNING", key_ids=[key_id])
    config = {"private_key_paths": [str(keys) + "/{{ key_name }}"]}
    data, stderr = listed(ansible, config)
    (host,) = hostvars(data).values()
    assert "ansible_ssh_private_key_file" not in host
    assert says(stderr, "private key files refused: %s (%s" % (keys / "deploy", keys / "deploy"))
    assert says(stderr, expected)
    message = failed(ansible, dict(config, strict=True))
    assert says(message, "private key files refused") and says(message, expected)


@NEEDS_ROOT
def test_another_users_key_file_is_refused(ansible, admin, tmp_path):
    def theirs(path):
        path.write_text("nobody's key\n")
        os.chown(path, NOBODY, NOBODY)

    keys = key_dir_with(tmp_path, theirs)
    (key_id,) = admin.seed(["deploy"])
    admin.instance_batch(1, region="ap-guangzhou", state="RUNNING", key_ids=[key_id])
    data, stderr = listed(ansible, {"private_key_paths": [str(keys) + "/{{ key_name }}"]})
    assert "ansible_ssh_private_key_file" not in list(hostvars(data).values())[0]
    assert says(stderr, "belongs to nobody (uid 65534), not to you")


@NEEDS_ROOT
@pytest.mark.parametrize("mode", [0o1777, 0o777])
def test_a_key_file_planted_in_a_shared_directory_is_refused(ansible, admin, public_tmp, mode):
    """A shared key directory (sticky like /tmp, or worse): nobody plants `deploy` there before the play."""
    shared = public_tmp / "keys"
    shared.mkdir()
    shared.chmod(mode)
    planted = as_nobody(["sh", "-c", "echo planted > %s" % (shared / "deploy")])
    assert planted.returncode == 0, planted.stderr
    (key_id,) = admin.seed(["deploy"])
    admin.instance_batch(1, region="ap-guangzhou", state="RUNNING", key_ids=[key_id])
    data, stderr = listed(ansible, {"private_key_paths": [str(shared) + "/{{ key_name }}"]})
    assert "ansible_ssh_private_key_file" not in list(hostvars(data).values())[0]
    expected = "belongs to nobody" if mode & stat.S_ISVTX else "can be written by others"
    assert says(stderr, expected)


# --- 3. the cache ---------------------------------------------------------------------------------------------

def cached_config(directory):
    return {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(directory),
            "regions": ["ap-guangzhou"], "hostnames": ["instance-name"]}


def forged_entry(ansible, tmp_path):
    """(file name, content) of a cache entry for this inventory source with every address changed to 192.0.2.66: the
    entry is made by a real run in a private directory, then changed as an attacker would."""
    private = tmp_path / "private-cache"
    listed(ansible, cached_config(private))
    (entry,) = [p for p in private.iterdir() if p.is_file()]
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600  # what this plugin writes: 0600, not ansible-core's 0644
    stored = json.loads(entry.read_text())
    data = json.loads(stored["__payload__"]) if "__payload__" in stored else stored  # ansible-core 2.19+ wraps it
    for found in data["regions"].values():
        for model in found["instances"]:
            model.update(PrivateIpAddresses=["192.0.2.66"], PublicIpAddresses=["192.0.2.66"], DefaultLoginUser="x")
    forged = dict(stored, __payload__=json.dumps(data)) if "__payload__" in stored else data
    return entry.name, json.dumps(forged)


@NEEDS_ROOT
@pytest.mark.parametrize("layout", ["world-writable directory", "sticky directory", "directory of nobody"])
def test_a_planted_cache_is_refused_and_read_afresh(ansible, admin, fleet_of_two, public_tmp, tmp_path, layout):
    name, forged = forged_entry(ansible, tmp_path)
    shared = public_tmp / "cache"
    shared.mkdir()
    if layout == "directory of nobody":
        os.chown(shared, NOBODY, NOBODY)
    else:
        shared.chmod(0o777 if layout == "world-writable directory" else 0o1777)
    planted = as_nobody(["sh", "-c", "cat > %s" % (shared / name)], input=forged)
    assert planted.returncode == 0, planted.stderr
    admin.clear_requests()
    data, stderr = listed(ansible, cached_config(shared))
    assert {v["ansible_host"] for v in hostvars(data).values()} != {"192.0.2.66"}
    assert {v["ansible_user"] for v in hostvars(data).values()} == {"root"}
    assert [r["action"] for r in admin.requests()].count("DescribeInstances") == 1  # read afresh
    assert says(stderr, "the cache entry was neither used nor written")
    assert (shared / name).read_text() == forged  # not written over either (nor read)


def test_a_tampered_cache_entry_of_your_own_is_read_afresh(ansible, admin, fleet_of_two, tmp_path):
    """The entry passes the file judgement but not the checks an answer passes (a login user that is an option)."""
    cache = tmp_path / "cache"
    config = cached_config(cache)
    listed(ansible, config)
    (entry,) = [p for p in cache.iterdir() if p.is_file()]
    stored = json.loads(entry.read_text())
    data = json.loads(stored["__payload__"]) if "__payload__" in stored else stored
    data["regions"]["ap-guangzhou"]["instances"][0]["InstanceId"] = "{{ lookup('pipe', 'id') }}"
    entry.write_text(json.dumps(dict(stored, __payload__=json.dumps(data)) if "__payload__" in stored else data))
    admin.clear_requests()
    again, stderr = listed(ansible, config)
    assert sorted(hostvars(again)) == ["web-0", "web-1"] and admin.requests() != []
    assert says(stderr, "InstanceId that is not an instance ID")


@pytest.fixture
def fleet_of_two(admin):
    return admin.instance_batch(2, region="ap-guangzhou", state="RUNNING", name_prefix="web")


# --- 4. masking -----------------------------------------------------------------------------------------------

def test_credentials_echoed_by_the_endpoint_are_masked(ansible, admin):
    """A hostile endpoint answers an error that repeats the token and the secret key it was sent; the modules mask
    them, the inventory now does too (warning and error)."""
    from helpers import CREDS

    token = "TokenOfTheSession0123456789abcdef"
    echo = {"Error": {"Code": "UnauthorizedOperation", "Message": "no access for token %s with key %s"
                      % (token, CREDS["secret_key"])}}
    with HostileEndpoint({"DescribeInstances": echo}) as hostile:
        env = {"TENCENTCLOUD_SECURITY_TOKEN": token}
        proc = inventory(ansible, {"endpoint": hostile.url, "allow_insecure_http": False}, "--list", env=env)
        soft = inventory(ansible, {"endpoint": hostile.url, "regions": ["ap-guangzhou", "ap-shanghai"],
                                   "strict_permissions": False}, "--list", env=env)
    for run in (proc, soft):
        text = run.stdout + run.stderr
        assert token not in text and CREDS["secret_key"] not in text and "********" in text, text
    assert proc.returncode != 0 and soft.returncode == 0 and says(soft.stderr, "region ap-shanghai skipped")
