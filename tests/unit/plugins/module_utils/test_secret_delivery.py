# SPDX-License-Identifier: GPL-3.0-or-later
"""_secret/agent.py against a real `ssh-agent -D` (add, list, the lifetime honoured, a key the agent can sign with),
_secret/delivery.py (a key read at most once per run whatever the threads and processes, the run's directory judged
and never reached through a link), _secret/keys.py (never shows the key; OpenSSH and PEM round trips) and the names
a lookup takes (wanted). No Ansible process: the code is called as the lookup calls it."""

import base64
import multiprocessing
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.files import KeyFileError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.agent import Agent, AgentError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import SshKeyValue
from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.delivery import (
    RUN_DIRECTORY, Wanted, deliver, wanted,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.keys import KeyFormatError, LoadedKey
from helpers import NOBODY, wait_for

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="another user's files need root (CI runs as root)")


def short_dir(prefix):
    """A directory under /tmp: a Unix socket path has at most 107 bytes, and pytest's tmp_path can be longer."""
    path = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(path, 0o700)
    return path


@pytest.fixture(scope="module")
def rsa_keys():
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _number in range(2)]


def pem_of(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def runs_of(key):
    """64-character runs from the middle of the key's base64 body, PEM and OpenSSH: what must never be shown."""
    loaded = LoadedKey(key)
    runs = []
    for text in (loaded.pem(), loaded.openssh()):
        body = "".join(line for line in text.splitlines() if not line.startswith("-----"))
        runs.append(body[len(body) // 2:len(body) // 2 + 64])
    return runs


@pytest.fixture
def ssh_agent():
    """A real `ssh-agent -D -a <socket>` (as ansible-core starts one), stopped at the end; yields its socket."""
    where = short_dir("sa-")
    sock = os.path.join(where, "agent.sock")
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", sock], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=dict(os.environ, SSH_AUTH_SOCK=""))
    try:
        assert wait_for(lambda: os.path.exists(sock), 10), proc.stderr.read() if proc.poll() is not None else ""
        yield sock
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()
        shutil.rmtree(where, ignore_errors=True)


def ssh_add(sock, *args):
    return subprocess.run(["ssh-add", *args], env=dict(os.environ, SSH_AUTH_SOCK=sock), capture_output=True,
                          text=True, timeout=30, check=False)


# --- the agent client ------------------------------------------------------------------------------------------

def test_a_key_added_is_listed_and_the_agent_signs_with_it(ssh_agent, rsa_keys, tmp_path):
    agent = Agent(ssh_agent)
    assert agent.identities() == set()
    key = LoadedKey(rsa_keys[0])
    agent.add_rsa(key.key, "tencentcloud.cvm secret-web", 60)
    assert agent.identities() == {key.public_blob()}
    assert ssh_add(ssh_agent, "-L").stdout == key.public_line("tencentcloud.cvm secret-web")  # OpenSSH's own client
    # the private numbers are right: the agent signs with them, and the signature checks against the public key
    public = tmp_path / "key.pub"
    public.write_text(key.public_line())
    data = tmp_path / "data"
    data.write_bytes(b"signed by the agent")
    signed = subprocess.run(["ssh-keygen", "-Y", "sign", "-n", "test", "-f", str(public), str(data)],
                            env=dict(os.environ, SSH_AUTH_SOCK=ssh_agent), capture_output=True, text=True, timeout=30,
                            check=False)
    assert signed.returncode == 0, signed.stderr
    with open(data, "rb") as handle:
        checked = subprocess.run(["ssh-keygen", "-Y", "check-novalidate", "-n", "test", "-s", str(data) + ".sig"],
                                 stdin=handle, capture_output=True, text=True, timeout=30, check=False)
    assert checked.returncode == 0 and "Good" in checked.stdout, checked.stdout + checked.stderr
    agent.add_rsa(rsa_keys[1], "second", 60)
    assert agent.identities() == {key.public_blob(), LoadedKey(rsa_keys[1]).public_blob()}


def test_the_lifetime_is_honoured(ssh_agent, rsa_keys):
    agent = Agent(ssh_agent)
    key, kept = LoadedKey(rsa_keys[0]), LoadedKey(rsa_keys[1])
    agent.add_rsa(kept.key, "kept", 60)
    # ssh-agent counts lifetimes in whole seconds of its clock: a key given 2 s is there for more than 1 s, and
    # gone within 2 s (waited for up to 8); one given 1 s may be gone at once
    agent.add_rsa(key.key, "short", 2)
    assert agent.identities() == {key.public_blob(), kept.public_blob()}
    assert wait_for(lambda: key.public_blob() not in agent.identities(), 8.0)
    assert agent.identities() == {kept.public_blob()}
    assert ssh_add(ssh_agent, "-L").stdout == kept.public_line("kept")


def test_no_agent_there_is_a_clear_error(tmp_path):
    with pytest.raises(AgentError, match=r"^could not talk to the ssh-agent at %s/none \(No such file or directory\)$"
                       % tmp_path):
        Agent(str(tmp_path / "none")).identities()


@pytest.fixture
def odd_agent():
    """A Unix socket that answers every request with the bytes `answer["bytes"]` (a broken or foreign agent)."""
    where = short_dir("oa-")
    path = os.path.join(where, "agent.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    answer = {"bytes": b""}
    stop = threading.Event()

    def serve():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _addr = server.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(5)
                length = int.from_bytes(conn.recv(4), "big")
                got = 0
                while got < length:
                    got += len(conn.recv(length - got) or b"x" * length)
                conn.sendall(answer["bytes"])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path, answer
    stop.set()
    thread.join(5)
    server.close()
    shutil.rmtree(where, ignore_errors=True)


def test_a_foreign_or_broken_agent_is_a_clear_error(odd_agent, rsa_keys):
    path, answer = odd_agent
    agent = Agent(path)
    answer["bytes"] = b"\x00\x00\x00\x01\x05"  # SSH_AGENT_FAILURE
    with pytest.raises(AgentError, match=r"^the agent did not list its keys \(answer type 5\)$"):
        agent.identities()
    with pytest.raises(AgentError, match=r"^the ssh-agent refused the key \(answer type 5\)$"):
        agent.add_rsa(rsa_keys[0], "c", 60)
    answer["bytes"] = b"\x7f\xff\xff\xff"
    with pytest.raises(AgentError, match="^the agent's answer has an impossible length$"):
        agent.identities()
    answer["bytes"] = b"\x00\x00\x00\x09\x0c\x00\x00\x00\x01\x00\x00\x00\x40"  # one key, whose blob is cut short
    with pytest.raises(AgentError, match="^the agent's answer is cut short$"):
        agent.identities()
    answer["bytes"] = b"\x00\x00\x00\x05\x0c\x00\x01\x00\x00"  # 65536 keys
    with pytest.raises(AgentError, match="^the agent lists more keys than an agent holds$"):
        agent.identities()
    answer["bytes"] = b"\x00\x00\x00\x10\x0c"  # fewer bytes than announced, then the connection closes
    with pytest.raises(AgentError, match="^the ssh-agent closed the connection$"):
        agent.identities()


# --- delivery: at most one read per key per run ------------------------------------------------------------------

class CountingSecrets:
    """What deliver() is given as its Secrets factory: value() answers the key of each secret (or key pair id) and
    counts the reads; slow enough that workers racing for one key overlap."""

    def __init__(self, keys, delay=0.2, counter=None):
        self.keys = keys  # {secret name or key id: RSA key}
        self.delay = delay
        self.lock = threading.Lock()
        self.reads = []
        self.counter = counter  # a multiprocessing.Value shared by forked workers

    def __call__(self):
        return self

    def value(self, name=None, key_id=None):
        which = name or key_id
        with self.lock:
            self.reads.append(which)
        if self.counter is not None:
            with self.counter.get_lock():
                self.counter.value += 1
        time.sleep(self.delay)
        key = self.keys[which]
        return SshKeyValue(key_id="skey-0000000a", key_name="k", public_key=LoadedKey(key).public_line(),
                           private_key=pem_of(key))


@pytest.fixture
def local_tmp():
    """The run's private temporary directory, as ansible-core makes it (ansible-local-*, 0700)."""
    path = short_dir("lt-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def files_under(path):
    found = {}
    for folder, _dirs, names in os.walk(path):
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                found[os.path.relpath(os.path.join(folder, name), path)] = handle.read()
    return found


def assert_no_private_key_under(path, key):
    for name, data in files_under(path).items():
        flat = data.replace(b"\n", b"").decode("latin-1")
        assert not any(run in flat for run in runs_of(key)), name
        assert b"PRIVATE KEY" not in data, name


def test_eight_threads_asking_for_one_key_read_it_once(ssh_agent, rsa_keys, local_tmp):
    secrets = CountingSecrets({"web-key": rsa_keys[0]})
    barrier = threading.Barrier(8)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(10)
            results.append(deliver(wanted("web-key"), local_tmp, Agent(ssh_agent), 60, secrets))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and len(results) == 8
    assert secrets.reads == ["web-key"]
    assert sorted(r.fetched for r in results) == [False] * 7 + [True]
    public_file = os.path.join(local_tmp, RUN_DIRECTORY, "secret-web-key.pub")
    assert {r.public_key_file for r in results} == {public_file}
    key = LoadedKey(rsa_keys[0])
    assert Agent(ssh_agent).identities() == {key.public_blob()}
    with open(public_file) as handle:
        assert handle.read() == key.public_line("tencentcloud.cvm secret-web-key")
    assert stat.S_IMODE(os.stat(public_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.join(local_tmp, RUN_DIRECTORY)).st_mode) == 0o700
    assert sorted(files_under(local_tmp)) == [RUN_DIRECTORY + "/secret-web-key.lock",
                                              RUN_DIRECTORY + "/secret-web-key.pub"]
    assert_no_private_key_under(local_tmp, rsa_keys[0])


def _forked_worker(sock, local_tmp, key, counter, start, outcomes):
    secrets = CountingSecrets({"web-key": key}, counter=counter)
    start.wait(10)
    try:
        delivered = deliver(wanted("web-key"), local_tmp, Agent(sock), 60, secrets)
        outcomes.put((delivered.public_key_file, delivered.fetched))
    except Exception as exc:  # noqa: BLE001 - reported to the test
        outcomes.put(("error", repr(exc)))


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_workers_asking_for_one_key_read_it_once(ssh_agent, rsa_keys, local_tmp):
    """As ansible-core's workers are: processes forked from the controller, each with its own lookup."""
    context = multiprocessing.get_context("fork")
    counter, start, outcomes = context.Value("i", 0), context.Event(), context.Queue()
    arguments = (ssh_agent, local_tmp, rsa_keys[0], counter, start, outcomes)
    workers = [context.Process(target=_forked_worker, args=arguments) for _number in range(6)]
    for worker in workers:
        worker.start()
    start.set()
    got = [outcomes.get(timeout=30) for _worker in workers]
    for worker in workers:
        worker.join(30)
    assert [w.exitcode for w in workers] == [0] * 6
    public_file = os.path.join(local_tmp, RUN_DIRECTORY, "secret-web-key.pub")
    assert sorted(got) == [(public_file, False)] * 5 + [(public_file, True)]
    assert counter.value == 1
    assert Agent(ssh_agent).identities() == {LoadedKey(rsa_keys[0]).public_blob()}


def test_each_key_once_and_again_when_the_agent_forgot_it(ssh_agent, rsa_keys, local_tmp):
    secrets = CountingSecrets({"web-key": rsa_keys[0], "skey-abcd1234": rsa_keys[1]}, delay=0)
    agent = Agent(ssh_agent)
    first = deliver(wanted("web-key"), local_tmp, agent, 1, secrets)
    by_id = deliver(wanted("", "skey-abcd1234"), local_tmp, agent, 60, secrets)
    assert (first.fetched, by_id.fetched) == (True, True)
    assert by_id.public_key_file == os.path.join(local_tmp, RUN_DIRECTORY, "key-skey-abcd1234.pub")
    assert deliver(wanted("", "skey-abcd1234"), local_tmp, agent, 60, secrets).fetched is False
    assert secrets.reads == ["web-key", "skey-abcd1234"]
    # the public file is still there, but the agent dropped the key (its lifetime): it is read again
    blob = LoadedKey(rsa_keys[0]).public_blob()
    assert wait_for(lambda: blob not in agent.identities(), 6.0)
    again = deliver(wanted("web-key"), local_tmp, agent, 60, secrets)
    assert again.fetched is True and again.public_key_file == first.public_key_file
    assert secrets.reads == ["web-key", "skey-abcd1234", "web-key"]
    assert agent.identities() == {blob, LoadedKey(rsa_keys[1]).public_blob()}
    assert_no_private_key_under(local_tmp, rsa_keys[0])
    assert_no_private_key_under(local_tmp, rsa_keys[1])


def test_a_key_the_agent_refuses_leaves_no_public_file(odd_agent, rsa_keys, local_tmp):
    path, answer = odd_agent
    answer["bytes"] = b"\x00\x00\x00\x01\x05"
    secrets = CountingSecrets({"web-key": rsa_keys[0]}, delay=0)
    with pytest.raises(AgentError, match=r"^the ssh-agent refused the key \(answer type 5\)$"):
        deliver(wanted("web-key"), local_tmp, Agent(path), 60, secrets)
    assert sorted(files_under(local_tmp)) == [RUN_DIRECTORY + "/secret-web-key.lock"]


# --- the run's directory: never through a link, never another's ----------------------------------------------------

def test_a_link_at_the_run_directory_is_not_followed(ssh_agent, rsa_keys, local_tmp, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    os.symlink(str(elsewhere), os.path.join(local_tmp, RUN_DIRECTORY))
    secrets = CountingSecrets({"web-key": rsa_keys[0]}, delay=0)
    with pytest.raises(KeyFileError, match=r"^%s/%s is a symbolic link or not a directory; remove it$"
                       % (local_tmp, RUN_DIRECTORY)):
        deliver(wanted("web-key"), local_tmp, Agent(ssh_agent), 60, secrets)
    assert list(elsewhere.iterdir()) == [] and secrets.reads == [] and Agent(ssh_agent).identities() == set()


def test_a_file_at_the_run_directory_is_refused(ssh_agent, rsa_keys, local_tmp):
    with open(os.path.join(local_tmp, RUN_DIRECTORY), "w") as handle:
        handle.write("not a directory")
    secrets = CountingSecrets({"web-key": rsa_keys[0]}, delay=0)
    with pytest.raises(KeyFileError, match=r"is a symbolic link or not a directory; remove it$"):
        deliver(wanted("web-key"), local_tmp, Agent(ssh_agent), 60, secrets)
    assert secrets.reads == []


@pytest.mark.parametrize("name", ["secret-web-key.pub", "secret-web-key.lock"])
def test_a_link_at_a_key_file_is_not_followed(ssh_agent, rsa_keys, local_tmp, tmp_path, name):
    directory = os.path.join(local_tmp, RUN_DIRECTORY)
    os.mkdir(directory, 0o700)
    target = tmp_path / "target"
    target.write_text("untouched\n")
    os.symlink(str(target), os.path.join(directory, name))
    secrets = CountingSecrets({"web-key": rsa_keys[0]}, delay=0)
    with pytest.raises(KeyFileError, match=r"^%s/%s is a symbolic link" % (directory, name)):
        deliver(wanted("web-key"), local_tmp, Agent(ssh_agent), 60, secrets)
    assert target.read_text() == "untouched\n" and secrets.reads == [] and Agent(ssh_agent).identities() == set()


def test_a_run_directory_others_can_enter_is_refused(ssh_agent, rsa_keys, local_tmp):
    directory = os.path.join(local_tmp, RUN_DIRECTORY)
    os.mkdir(directory)
    os.chmod(directory, 0o755)
    secrets = CountingSecrets({"web-key": rsa_keys[0]}, delay=0)
    with pytest.raises(KeyFileError, match=r"^%s is not a private directory of yours \(mode 755\); remove it$"
                       % directory):
        deliver(wanted("web-key"), local_tmp, Agent(ssh_agent), 60, secrets)
    assert os.listdir(directory) == [] and secrets.reads == []


@needs_root
def test_a_run_directory_of_another_user_is_refused(ssh_agent, rsa_keys, local_tmp):
    directory = os.path.join(local_tmp, RUN_DIRECTORY)
    os.mkdir(directory, 0o700)
    os.chown(directory, NOBODY, NOBODY)
    secrets = CountingSecrets({"web-key": rsa_keys[0]}, delay=0)
    with pytest.raises(KeyFileError, match=r"^%s is not a private directory of yours \(mode 700\); remove it$"
                       % directory):
        deliver(wanted("web-key"), local_tmp, Agent(ssh_agent), 60, secrets)
    assert os.listdir(directory) == [] and secrets.reads == []


# --- the names a lookup takes ------------------------------------------------------------------------------------

def test_wanted_names_and_ids():
    assert wanted("web-key_1") == Wanted(secret="web-key_1")
    assert (str(wanted("web-key_1")), wanted("web-key_1").stem) == ("secret web-key_1", "secret-web-key_1")
    assert wanted("", "skey-abcd1234") == Wanted(key_id="skey-abcd1234")
    assert (str(wanted("", "skey-abcd1234")), wanted("", "skey-abcd1234").stem) == (
        "key pair skey-abcd1234", "key-skey-abcd1234")
    assert wanted("a" * 128).secret == "a" * 128


NAME_RULE = "is not a Secrets Manager secret name (1 to 128 letters, digits, '-' or '_', starting with a letter or " \
            "a digit)"


@pytest.mark.parametrize("term, shown", [
    ("../etc/passwd", "'../etc/passwd'"), ("-web", "'-web'"), ("_web", "'_web'"), ("web key", "'web key'"),
    ("", "''"), ("web.key", "'web.key'"), ("web/key", "'web/key'"),
    ("{{ lookup('pipe', 'id') }}", "\"{{ lookup('pipe', 'id') }}\""),
    ("a" * 129, repr("a" * 129)), ("a" * 141, "the name given"), ("web\nkey", "'web\\nkey'"),
])
def test_wanted_refuses_what_is_not_a_secret_name(term, shown):
    with pytest.raises(ValueError) as info:
        wanted(term)
    assert str(info.value) == "%s %s" % (shown, NAME_RULE)


@pytest.mark.parametrize("key_id", ["skey-ABCD1234", "skey-abc", "skey-abcd12345", "key-abcd1234", "", "skey-abcd/234"])
def test_wanted_refuses_what_is_not_a_key_id(key_id):
    with pytest.raises(ValueError) as info:
        wanted("", key_id)
    assert str(info.value) == "key_id must be a key pair ID (skey- and 8 lowercase letters or digits)"


# --- keys in memory ----------------------------------------------------------------------------------------------

def test_a_loaded_key_never_shows_its_bytes(rsa_keys):
    key = LoadedKey.from_pem(pem_of(rsa_keys[0]))
    value = SshKeyValue(key_id="skey-abcd1234", key_name="web", public_key="ssh-rsa AAAA",
                        private_key=pem_of(rsa_keys[0]))
    shown = " ".join([repr(key), str(key), "%s" % key, "{!r}".format(key), repr(value), str(value), repr([key, value])])
    assert str(key) == "LoadedKey(RSA-2048)" and repr(key) == "LoadedKey()"
    assert str(value) == "SshKeyValue(skey-abcd1234, web)"
    assert repr(value) == "SshKeyValue(key_id='skey-abcd1234', key_name='web', public_key='ssh-rsa AAAA')"
    for run in runs_of(rsa_keys[0]):
        assert run not in shown
    assert "PRIVATE" not in shown


def test_openssh_and_pem_round_trip(rsa_keys, tmp_path):
    original = rsa_keys[0]
    key = LoadedKey.from_pem(pem_of(original))
    text = key.openssh()
    assert text.startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    assert text.endswith("-----END OPENSSH PRIVATE KEY-----\n")
    again = serialization.load_ssh_private_key(text.encode("ascii"), password=None)
    assert again.private_numbers() == original.private_numbers()
    assert serialization.load_pem_private_key(key.pem().encode("ascii"), password=None).private_numbers() == \
        original.private_numbers()
    assert key.pem().encode("ascii") == pem_of(original)
    public = original.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    assert key.public_line() == public.decode("ascii") + "\n"
    assert key.public_line("a comment") == public.decode("ascii") + " a comment\n"
    assert key.public_blob() == base64.b64decode(public.split()[1])
    # OpenSSH itself reads the text (what ssh-add is given with ansible-core's key contents)
    path = tmp_path / "id"
    path.write_text(text)
    path.chmod(0o600)
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(path)], capture_output=True, text=True, timeout=30,
                             check=False)
    assert derived.stdout.split()[:2] == public.decode("ascii").split()[:2], derived.stderr


def test_what_is_not_an_unencrypted_rsa_key_is_refused_without_repeating_it(rsa_keys):
    encrypted = rsa_keys[0].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.BestAvailableEncryption(b"passphrase"))
    truncated = pem_of(rsa_keys[0])[:-200]
    for given in (b"", b"not a key", encrypted, truncated, pem_of(rsa_keys[0]).replace(b"RSA PRIVATE", b"RSA PUBLIC")):
        with pytest.raises(KeyFormatError) as info:
            LoadedKey.from_pem(given)
        assert str(info.value) == "the private key is not an unencrypted PEM private key"
    ec_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    with pytest.raises(KeyFormatError) as info:
        LoadedKey.from_pem(ec_key)
    assert str(info.value) == "the private key is not an RSA key (every CVM key pair is RSA)"
