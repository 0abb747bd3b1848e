# SPDX-License-Identifier: GPL-3.0-or-later
"""The attacks of docs/security.md, each reproduced through the public interface: the emulator over HTTP, or a real
ansible-playbook run. The victim is this process (root in CI); where a second user matters, the attacker is
`nobody` (uid 65534), running real commands (curl, ssh, ln) as that user. Each test failed on the main of
2026-12-03 (before issue 18) and passes now; docs/security.md tables them."""

import json
import os
import subprocess

import pytest

from sdk_helpers import make_client, raw_call

import helpers
from helpers import NOBODY, as_nobody

pytestmark = [
    pytest.mark.core,  # also on the oldest supported ansible-core (masking and validation differ across versions)
    pytest.mark.skipif(os.geteuid() != 0, reason="the attacker is another user (uid 65534): needs root, as CI runs"),
]


def curl_status(url, body, content_type="application/json", token=None):
    argv = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", url, "-H",
            "Content-Type: " + content_type, "--data-binary", body]
    if token:
        argv += ["-H", "Authorization: Bearer " + token]
    return as_nobody(argv).stdout


@pytest.fixture
def attacker_key(public_tmp):
    """An RSA key pair the attacker made, in a directory of the attacker's own."""
    home = public_tmp / "nobody"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    made = as_nobody(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(home / "id")])
    assert made.returncode == 0, made.stderr
    return home / "id", (home / "id.pub").read_text().strip()


def ssh_login(key, port, user, attacker=False):
    """`ssh -i key` to the instance's port, running `id -u` (as the attacker with attacker=True)."""
    argv = ["ssh", "-F", "/dev/null", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-p", str(port), "--", "%s@127.0.0.1" % user, "id -u"]
    if attacker:
        return as_nobody(argv)
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


# --- 1. the emulator ------------------------------------------------------------------------------------

def test_emulator_admin_api_refuses_other_local_users(emulator_process, attacker_key):
    """The attack: another local user seeds a key pair with their public key, then an ssh instance bound to it,
    and logs in to its sshd as the user running the emulator (root). Now every step is refused (401)."""
    _key, public = attacker_key
    url = emulator_process.url
    seeded = curl_status(url + "/_emulator/key-pairs", json.dumps({"names": ["evil"], "public_key": public}))
    instance = curl_status(url + "/_emulator/instances", json.dumps({"ssh": True, "state": "RUNNING"}))
    wrong = curl_status(url + "/_emulator/config", json.dumps({"quota": 1}), token="not-the-token-at-all")
    assert (seeded, instance, wrong) == ("401", "401", "401")
    state = emulator_process.admin.state()
    assert state["key_pairs"] == [] and state["instances"] == [] and state["settings"]["quota"] == 100


def test_emulator_admin_api_refuses_a_cross_site_post(emulator_process):
    """A web page can POST text/plain or a form to 127.0.0.1 without a preflight, but cannot add the token."""
    url = emulator_process.url + "/_emulator/instances"
    body = json.dumps({"ssh": True, "state": "RUNNING"})
    assert curl_status(url, body, content_type="text/plain") == "401"
    assert curl_status(url, "ssh=true", content_type="application/x-www-form-urlencoded") == "401"
    # with the token (a script, not a page), a body that is not JSON is still refused
    assert curl_status(url, body, content_type="text/plain", token=emulator_process.token) == "415"
    assert emulator_process.admin.instances() == []


def test_emulator_ssh_instances_need_the_ssh_option(emulator):
    """The in-process emulator runs without --ssh: an ssh instance is refused, with the way to allow it."""
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as refused:
        emulator.instance(ssh=True, state="RUNNING")
    assert refused.value.code == 400 and "--ssh" in refused.value.read().decode()
    assert emulator.instances() == []


@pytest.mark.parametrize("field,value", [
    ("login_user", "root\nAllowUsers *\nAuthorizedKeysFile /tmp/%u"),
    ("login_user", "-oProxyCommand=x"),
    ("instance_id", "../../../etc/ssh"),
    ("instance_id", "ins-abcdefgh\nHostKey /etc/shadow"),
])
def test_emulator_instance_fields_never_reach_sshd_config_unchecked(emulator_process, field, value):
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as refused:
        emulator_process.admin.instance(ssh=True, state="RUNNING", **{field: value})
    assert refused.value.code == 400 and field in refused.value.read().decode()
    assert emulator_process.admin.instances() == []


def test_a_key_bound_through_the_api_gives_other_users_no_shell(emulator_process, attacker_key, tmp_path):
    """The API's default credential is public: anyone can import a key pair and bind it to an ssh instance (the
    Tencent protocol side stays as it is). The instance's port serves only the emulator's own user and root, so
    the attacker's login is refused, while the same key logs in from root (the binding did take effect)."""
    key, public = attacker_key
    admin = emulator_process.admin
    inst = admin.instance(ssh=True, state="RUNNING")
    emulator_process.url_host = emulator_process.url.split("://", 1)[1]
    client = make_client(emulator_process)
    key_id = raw_call(client, "ImportKeyPair", {"KeyName": "evil", "ProjectId": 0, "PublicKey": public})["KeyId"]
    raw_call(client, "AssociateInstancesKeyPairs", {"InstanceIds": [inst["instance_id"]], "KeyIds": [key_id],
                                                    "ForceStop": True})
    admin.wait_idle_instances()
    attempt = ssh_login(key, inst["ssh_port"], inst["login_user"], attacker=True)
    assert attempt.returncode == 255 and "uid" not in attempt.stdout, attempt
    copy = tmp_path / "root_copy"
    copy.write_bytes(key.read_bytes())
    os.chmod(copy, 0o600)
    own = ssh_login(copy, inst["ssh_port"], inst["login_user"])
    assert own.returncode == 0 and own.stdout.strip() == "0", own.stderr


# --- 2. the destination -----------------------------------------------------------------------------------


def task(title, **args):
    """A tencent_keypair task named `title` with these options."""
    return helpers.task(args, title)


@pytest.fixture
def shared(shared_dir):
    """A sticky directory everyone can write, like /tmp."""
    return shared_dir


@pytest.fixture
def victim(tmp_path):
    """A file of root's that the attacker wants overwritten (standing for /root/.ssh/authorized_keys)."""
    path = tmp_path / "root_ssh" / "authorized_keys"
    path.parent.mkdir(mode=0o700)
    path.write_text("ssh-rsa AAAA precious root@host\n")
    return path


def no_writes(admin):
    return [r["action"] for r in admin.requests() if r.get("write")] == []


@pytest.mark.parametrize("options", [{"regenerate": "mismatch"}, {"backup": True}],
                         ids=["regenerate=mismatch", "backup=true"])
def test_a_planted_symlink_never_redirects_the_key(ansible, admin, shared, victim, options):
    """nobody plants deploy_key -> root's authorized_keys in a sticky shared directory; a root play that may
    overwrite (regenerate=mismatch, or backup=true on the first create) used to write the private key through it."""
    planted = as_nobody(["ln", "-s", str(victim), str(shared / "deploy_key")])
    assert planted.returncode == 0, planted.stderr
    run = ansible.play(task("ensure", name="deploy_key", private_key_path=str(shared / "deploy_key"), **options))
    result = run.task("ensure")
    assert result["failed"] is True and result["failure"]["code"] == "InvalidDestination", result
    assert "symbolic link that another user could have made" in result["msg"] and "not followed" in result["msg"]
    assert victim.read_text() == "ssh-rsa AAAA precious root@host\n" and os.listdir(victim.parent) == [victim.name]
    assert no_writes(admin) and admin.key_pairs() == []


@pytest.mark.parametrize("name", ["deploy_key.pub", "deploy_key.new", ".deploy_key.reservation"])
def test_a_planted_fifo_fails_at_once(ansible, admin, shared, name):
    """A FIFO at <path>.pub (or another name the task uses) used to block the task for ever, in check mode too,
    holding the directory lock."""
    made = as_nobody(["mkfifo", str(shared / name)])
    assert made.returncode == 0, made.stderr
    proc = ansible.spawn(task("ensure", name="deploy_key", private_key_path=str(shared / "deploy_key")), check=True)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the task blocked on the FIFO %s" % name)
    assert proc.returncode == 2, out + err
    assert "is a FIFO (named pipe)" in out and no_writes(admin)


def test_a_directory_others_can_write_is_refused(ansible, admin, public_tmp):
    open_dir = public_tmp / "open"
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)  # no sticky bit: anyone could rename our files away and put theirs in place
    run = ansible.play(task("ensure", name="deploy_key", private_key_path=str(open_dir / "deploy_key")))
    result = run.task("ensure")
    assert result["failure"]["code"] == "InvalidDestination" and "can be written by others" in result["msg"]
    assert no_writes(admin) and os.listdir(open_dir) == []


def test_a_planted_file_in_a_shared_directory_is_refused(ansible, admin, shared):
    """In a sticky directory, a key file that another user put there first is not taken for ours."""
    made = as_nobody(["sh", "-c", "echo theirs > %s" % (shared / "deploy_key")])
    assert made.returncode == 0, made.stderr
    run = ansible.play(task("ensure", name="deploy_key", private_key_path=str(shared / "deploy_key"),
                            regenerate="mismatch"))
    result = run.task("ensure")
    assert result["failure"]["code"] == "InvalidDestination" and "belongs to nobody" in result["msg"]
    assert (shared / "deploy_key").read_text() == "theirs\n" and no_writes(admin)


# --- 3. a forged reservation record ------------------------------------------------------------------

def test_a_forged_record_never_deletes_a_key_pair(ansible, admin, emulator_process, shared):
    """Key pair deploy_key exists (made elsewhere; its private key is not on this controller). nobody writes a
    record of an 'interrupted creation' of it, with a window wide enough to cover its creation time; a run with the
    default regenerate=never used to delete the key pair and create another."""
    import socket
    import time

    (key_id,) = admin.seed(["deploy_key"])
    record = {"version": 1, "name": "deploy_key", "key_pair": "deploy_key", "region": "ap-guangzhou",
              "endpoint": emulator_process.url + "/", "project_id": 0, "path": str(shared / "deploy_key"),
              "time": time.time() - 3600, "timeout": 10 ** 9, "pid": 1, "host": socket.gethostname()}
    made = as_nobody(["sh", "-c", "cat > %s" % (shared / ".deploy_key.reservation")], input=json.dumps(record))
    assert made.returncode == 0, made.stderr
    run = ansible.play(task("ensure", name="deploy_key", private_key_path=str(shared / "deploy_key")))
    result = run.task("ensure")
    assert result["failed"] is True and result["failure"]["code"] == "UntrustedRecord", result
    assert "belongs to nobody" in result["msg"] and "nothing was done" in result["msg"]
    assert [kp["key_id"] for kp in admin.key_pairs()] == [key_id] and no_writes(admin)


# --- 4. secrets in task output -------------------------------------------------------------------------------

def output(run):
    return run.stdout + run.stderr + json.dumps(run.results)


def test_no_log_values_are_masked_in_results_and_messages(ansible, admin, tmp_path):
    """The values of no_log options (passphrase, secret_key, security_token) are masked wherever a result repeats
    them, as AnsibleModule masks its results: here a description and an error message that echo the passphrase."""
    secret = "Masked-Pass-9"
    run = ansible.play(task("ok", name="masked", private_key_path=str(tmp_path / "k"), passphrase=secret,
                            description="note " + secret)
                       + task("bad", name=secret, private_key_path=str(tmp_path / "k2"), passphrase=secret))
    assert run.task("ok")["key_pair"]["description"] == "note ********"
    bad = run.task("bad")
    assert bad["failure"]["code"] == "InvalidArgument" and "name '********' is invalid" in bad["msg"]
    assert secret not in json.dumps(run.results)
    # ansible-core >= 2.19 shows the failed task's source lines, which hold the secret as the playbook does
    assert not [line for line in run.stdout.splitlines() if line.startswith(("ok:", "changed:", "fatal:"))
                and secret in line]
    assert [kp["description"] for kp in admin.key_pairs()] == ["note " + secret]  # only the output is masked


def test_a_token_with_a_newline_never_reaches_the_output(ansible, admin, tmp_path):
    """A security_token from a YAML `|` block ends with a newline; it used to fail in the HTTP header, with the
    token in msg."""
    admin.credential(secret_id="AKIDsts0000000000000000000000000000", secret_key="sts-key", token="sts-token-456")
    run = ansible.play(task("ensure", name="tok", private_key_path=str(tmp_path / "k"),
                            secret_id="AKIDsts0000000000000000000000000000", secret_key="sts-key",
                            security_token="sts-token-456\n"))
    result = run.task("ensure")
    assert result["failure"]["code"] == "InvalidArgument" and "security token" in result["msg"]
    assert "sts-token-456" not in output(run) and admin.requests() == []


def test_a_proxy_password_never_reaches_the_output(ansible, admin, tmp_path):
    """A proxy password with a / that is not percent-encoded used to fail with a part of it in msg."""
    run = ansible.play(task("ensure", name="prox", private_key_path=str(tmp_path / "k"),
                            endpoint="https://cvm.example.test"),
                       env={"HTTPS_PROXY": "http://me:Zq9/word@proxy.example.test:3128"})
    result = run.task("ensure")
    assert result["failure"]["code"] == "InvalidArgument" and "HTTPS_PROXY is not a usable proxy URL" in result["msg"]
    text = output(run)
    assert "Zq9" not in text and "Zq9/word" not in text, text[max(0, text.find("Zq9") - 300):text.find("Zq9") + 50]


def test_the_certificate_warning_shows_on_failures_too(ansible, admin, tmp_path):
    admin.fault(action="DescribeKeyPairs", mode="error", code="InvalidParameter", count=10)
    run = ansible.play(task("ensure", name="certs", private_key_path=str(tmp_path / "k"), validate_certs=False))
    result = run.task("ensure")
    assert result["failed"] is True and any("validate_certs=false" in w for w in result["warnings"])


# --- 5. hostile or broken answers ---------------------------------------------------------------------------

def test_plain_http_to_another_machine_sends_nothing(ansible, admin, emulator_process, tmp_path):
    """http:// to another machine would carry the private key in clear text: refused with zero requests sent
    (a forwarding proxy on 127.0.0.1 would have carried it to the emulator), unless allow_insecure_http."""
    from helpers import forwarding_proxy

    proxy, seen = forwarding_proxy(emulator_process.url)
    try:
        env = {"HTTP_PROXY": "http://127.0.0.1:%d" % proxy.server_address[1]}
        args = dict(name="clear", private_key_path=str(tmp_path / "k"), endpoint="http://cvm.example.test")
        run = ansible.play(task("refused", **args), env=env)
        refused = run.task("refused")
        assert refused["failure"]["code"] == "InvalidArgument" and "clear text" in refused["msg"]
        assert seen == [] and admin.requests() == [] and not (tmp_path / "k").exists()
        run = ansible.play(task("allowed", allow_insecure_http=True, **args), env=env)
        allowed = run.task("allowed")
        assert allowed["changed"] is True and any("clear text" in w for w in allowed["warnings"])
        assert len(seen) == 2 and [kp["key_name"] for kp in admin.key_pairs()] == ["clear"]
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_an_https_proxy_gets_tls_so_its_password_never_travels_in_clear(ansible, tmp_path):
    """HTTPS_PROXY=https://user:password@proxy: TLS to the proxy itself, then the CONNECT tunnel (with the proxy's
    credentials) inside it, then the endpoint's TLS inside the tunnel. The proxy here speaks TLS only: a client
    that sent its CONNECT, and the password, in clear text (as main did) gets no tunnel."""
    from helpers import EmulatorProcess, self_signed, tls_proxy

    cert, key = self_signed(tmp_path, names=("cvm.tunnel.test",))
    emu = EmulatorProcess("--port", "0", "--tls-cert", cert, "--tls-key", key, cafile=cert).start()
    port = int(emu.url.rsplit(":", 1)[1])
    proxy, seen = tls_proxy(("127.0.0.1", port), cert, key, credentials=("me", "pr0xy/pass"))
    try:
        env = {"HTTPS_PROXY": "https://me:pr0xy%%2Fpass@127.0.0.1:%d" % proxy.server_address[1]}
        run = ansible.play(task("ensure", name="tunneled", private_key_path=str(tmp_path / "k"),
                                endpoint="https://cvm.tunnel.test", ca_path=cert), env=env)
        assert run.task("ensure")["changed"] is True, run.task("ensure")
        assert seen and {entry[:2] for entry in seen} == {("CONNECT", "cvm.tunnel.test:443")}
        assert [kp["key_name"] for kp in emu.admin.key_pairs()] == ["tunneled"] and "pr0xy" not in output(run)
    finally:
        proxy.shutdown()
        proxy.server_close()
        emu.stop()


def stranger_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    return pem


@pytest.mark.parametrize("case", ["KeyPairSet [1]", "missing KeyId", "pages never end", "deep JSON",
                                  "dripping answer", "huge answer"])
def test_broken_answers_fail_with_a_code(ansible, tmp_path, case):
    """Answers of the wrong shape or size, through a real run: a failure code and a clear message, never a
    traceback, an 'Unexpected failure' or a task that never ends."""
    from helpers import HostileEndpoint, drip

    def endless(handler, params):
        body = json.dumps({"Response": {"KeyPairSet": [{"KeyId": "skey-%08d" % params.get("Offset", 0),
                                                        "KeyName": "other"}] * 100,
                                        "TotalCount": 10 ** 9, "RequestId": "r-%d" % params.get("Offset", 0)}})
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body.encode())

    def huge(handler, _params):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(64 * 1024 * 1024))
        handler.end_headers()
        try:
            handler.wfile.write(b" " * (8 * 1024 * 1024))
        except OSError:
            pass

    answer, message = {
        "KeyPairSet [1]": ({"KeyPairSet": [1], "TotalCount": 1}, "KeyPairSet[] that is not an object"),
        "missing KeyId": ({"KeyPairSet": [{"KeyName": "x"}], "TotalCount": 1}, "KeyPairSet[].KeyId that is not"),
        "pages never end": (endless, "more than 200 pages"),
        "deep JSON": (b"[" * 200000, "nested too deep"),
        "dripping answer": (drip, "within 3.0s"),
        "huge answer": (huge, "more than the 4194304 accepted"),
    }[case]
    import time

    with HostileEndpoint({"DescribeKeyPairs": answer}) as hostile:
        started = time.monotonic()
        run = ansible.play(task("ensure", name="broken", private_key_path=str(tmp_path / "k"), endpoint=hostile.url,
                                timeout=3, retries=0))
        took = time.monotonic() - started
    result = run.task("ensure")
    assert took < 30, took  # the drip lasts 60 s: only a deadline for the whole call (3 s) ends the task sooner
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert result["failure"]["code"] in ("InvalidResponse", "ClientNetworkError") and "Traceback" not in run.stdout
    assert not (tmp_path / "k").exists() and "CreateKeyPair" not in hostile.actions()


def test_a_generated_key_that_is_not_the_key_pairs_is_never_written(ansible, admin, emulator_process, tmp_path):
    """CreateKeyPair answers a PrivateKey that does not belong to its PublicKey (a hostile or broken endpoint):
    nothing is written, and the key pair is deleted again."""
    from helpers import HostileEndpoint, Tamper

    wrong = stranger_key()
    swap = Tamper(lambda response: dict(response, KeyPair=dict(response["KeyPair"], PrivateKey=wrong)))
    with HostileEndpoint({"CreateKeyPair": swap}, upstream=emulator_process.url) as hostile:
        run = ansible.play(task("ensure", name="swapped", private_key_path=str(tmp_path / "k"), endpoint=hostile.url))
    result = run.task("ensure")
    assert result["failure"]["code"] == "InvalidGeneratedKey" and "does not belong to its PublicKey" in result["msg"]
    assert result["changed"] is True and "was deleted again" in result["msg"]
    assert hostile.actions() == ["DescribeKeyPairs", "CreateKeyPair", "DeleteKeyPairs"]
    assert admin.key_pairs() == [] and os.listdir(tmp_path) == [p for p in os.listdir(tmp_path) if p != "k"]
    assert wrong.split("\n")[1] not in output(run)


def test_an_address_from_the_api_never_becomes_an_ssh_option(ansible, admin, emulator_process, tmp_path):
    """The rotation logs in to the addresses DescribeInstances answers. A hostile endpoint answers an address
    `-oProxyCommand=...`, which Ansible's ssh connection (no -- before the host) would have run as a command. The
    answer is refused; the command never runs; nothing is bound or unbound."""
    from helpers import HostileEndpoint, Tamper

    marker = tmp_path / "pwned"
    old = admin.seed(["key_a"])[0]
    inst = admin.instance(ssh=True, state="RUNNING", key_ids=[old])
    evil = "-oProxyCommand=touch %s" % marker

    def poison(response):
        for model in response.get("InstanceSet") or []:
            model["PublicIpAddresses"] = [evil]
            model["PrivateIpAddresses"] = [evil]
        return response

    import yaml

    role_vars = {"keypair_rotation_instance_ids": [inst["instance_id"]], "keypair_rotation_name": "key_b",
                 "keypair_rotation_private_key_path": str(tmp_path / "keys" / "key_b"),
                 "keypair_rotation_old_key_pairs": ["key_a"], "keypair_rotation_force_stop": True,
                 "keypair_rotation_known_hosts_file": str(tmp_path / "known_hosts")}
    with HostileEndpoint({"DescribeInstances": Tamper(poison)}, upstream=emulator_process.url) as hostile:
        role_vars["keypair_rotation_endpoint"] = hostile.url
        run = ansible.play(None, raw=yaml.safe_dump([{"name": "rotate", "hosts": "localhost", "gather_facts": False,
                                                      "roles": [{"role": "tencentcloud.cvm.keypair_rotation",
                                                                 "vars": role_vars}]}], sort_keys=False))
    assert run.rc != 0 and not marker.exists()
    failed = [r for r in run.results if r["status"] == "failed"]
    assert failed and failed[0]["result"]["failure"]["code"] == "InvalidResponse", failed
    assert "IpAddresses[0] that is not an IP address" in failed[0]["result"]["msg"]
    assert [i["key_ids"] for i in admin.instances()] == [[old]]  # nothing bound or unbound


def test_the_rotation_checks_user_and_port_before_ssh(ansible, admin, tmp_path):
    """The role's own variables reach ssh's command line too: checked before any login, nothing unbound."""
    import yaml

    marker = tmp_path / "pwned"
    keys = tmp_path / "keys"
    keys.mkdir()
    made = ansible.play(task("a", name="key_a", private_key_path=str(keys / "key_a")))
    old = made.task("a")["key_pair"]["key_id"]
    inst = admin.instance(ssh=True, state="RUNNING", key_ids=[old])
    role_vars = {"keypair_rotation_instance_ids": [inst["instance_id"]], "keypair_rotation_name": "key_b",
                 "keypair_rotation_private_key_path": str(keys / "key_b"),
                 "keypair_rotation_old_key_pairs": ["key_a"], "keypair_rotation_force_stop": True,
                 "keypair_rotation_old_private_key_path": str(keys / "key_a"),
                 "keypair_rotation_known_hosts_file": str(tmp_path / "known_hosts"),
                 "keypair_rotation_ssh_user": "-oProxyCommand=touch %s" % marker}
    run = ansible.play(None, raw=yaml.safe_dump([{"name": "rotate", "hosts": "localhost", "gather_facts": False,
                                                  "roles": [{"role": "tencentcloud.cvm.keypair_rotation",
                                                             "vars": role_vars}]}], sort_keys=False))
    assert run.rc != 0 and not marker.exists()
    assert "is not an IP address, a POSIX user name and a port number" in run.stdout
    admin.wait_idle_instances()
    assert old in admin.instances()[0]["key_ids"]  # the old key pair stays bound


# --- 6. smaller hardening ------------------------------------------------------------------------------------

def test_a_backup_is_private_whatever_the_old_files_mode(ansible, admin, tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "k").write_text(stranger_key())
    os.chmod(keys / "k", 0o644)  # a key left readable by others: its backup must not be
    run = ansible.play(task("ensure", name="backed", private_key_path=str(keys / "k"), backup=True))
    result = run.task("ensure")
    assert result["changed"] is True and result["backup_file"]
    assert oct(os.stat(result["backup_file"]).st_mode & 0o777) == oct(0o600)


def test_the_keypair_role_never_chmods_an_existing_directory(ansible, admin, public_tmp):
    import yaml

    keys = public_tmp / "keys"
    keys.mkdir()
    os.chmod(keys, 0o755)
    run = ansible.play(None, raw=yaml.safe_dump([{"name": "role", "hosts": "localhost", "gather_facts": False,
                                                  "roles": [{"role": "tencentcloud.cvm.keypair", "vars": {
                                                      "keypair_name": "roled",
                                                      "keypair_private_key_path": str(keys / "roled")}}]}]))
    assert run.rc == 0, run.stdout
    assert oct(os.stat(keys).st_mode & 0o777) == oct(0o755) and (keys / "roled").exists()


def test_return_private_key_without_no_log_warns(ansible, admin):
    run = ansible.play(task("shown", name="shown", return_private_key=True))
    assert any("without no_log" in w for w in run.task("shown")["warnings"])


def test_a_private_key_shows_in_output_only_when_returned_without_no_log(ansible, admin, tmp_path):
    """README's claim, exactly: at -vvvv, a private key is in the output only from a task with
    return_private_key=true and without no_log; with no_log it reaches the registered variable and nothing else."""
    hidden_copy = tmp_path / "hidden_copy"
    tasks = (helpers.task({"name": "hidden", "return_private_key": True}, "hidden", register="hidden", no_log=True)
             + helpers.task({"content": "{{ hidden.private_key }}", "dest": str(hidden_copy), "mode": "0600"},
                            "kept", "ansible.builtin.copy", no_log=True)
             + helpers.task({"name": "filed", "private_key_path": str(tmp_path / "filed")}, "filed")
             + task("shown", name="shown", return_private_key=True))
    run = ansible.play(tasks, verbosity=4)
    assert run.rc == 0, run.stdout + run.stderr
    output = run.stdout + run.stderr + json.dumps(run.results)

    def body(pem):
        return "".join(pem.strip().splitlines()[1:-1])[:64]  # the first line of the key's base64

    hidden = hidden_copy.read_text()
    assert "PRIVATE KEY-----" in hidden and body(hidden) not in output
    assert body((tmp_path / "filed").read_text()) not in output
    shown = run.task("shown")["private_key"]
    assert body(shown) in run.stdout and any("without no_log" in w for w in run.task("shown")["warnings"])


def test_passphrases_get_todays_work_factor(ansible, admin, tmp_path):
    """PKCS#8 with PBKDF2-HMAC-SHA256 at 600,000 iterations (not 2,048); passphrases of at least 8 characters; a
    file encrypted the old way is encrypted again."""
    short = ansible.play(task("short", name="enc", private_key_path=str(tmp_path / "k"), passphrase="seven77"))
    assert "at least 8 characters" in short.task("short")["msg"] and admin.requests() == []
    run = ansible.play(task("made", name="enc", private_key_path=str(tmp_path / "k"), passphrase="eight888"))
    assert run.task("made")["changed"] is True
    parsed = subprocess.run(["openssl", "asn1parse", "-in", str(tmp_path / "k")], capture_output=True, text=True,
                            check=True).stdout
    assert ":PBKDF2" in parsed and "hmacWithSHA256" in parsed and ":0927C0" in parsed  # 600000 iterations
    check = subprocess.run(["ssh-keygen", "-y", "-P", "eight888", "-f", str(tmp_path / "k")], capture_output=True,
                           text=True, check=False)
    assert check.returncode == 0, check.stderr
