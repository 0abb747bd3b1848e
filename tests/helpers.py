# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helpers: import paths, the emulator as a process, its admin API."""

import datetime
import glob
import ipaddress
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
import urllib.request
import uuid as _uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
_link = os.path.join(COLLECTIONS, "ansible_collections", "tencentcloud", "cvm")
if not os.path.exists(_link):
    os.makedirs(os.path.dirname(_link), exist_ok=True)
    os.symlink(ROOT, _link)
for path in (ROOT, COLLECTIONS):
    if path not in sys.path:
        sys.path.insert(0, path)

from cvm_emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY  # noqa: E402
from cvm_emulator.instances import descendants  # noqa: E402 - the one walk of a process tree (tests use it too)

FIXTURES = os.path.join(ROOT, "tests", "unit", "fixtures")


class Admin:
    """The emulator's admin API (/_emulator/...), with its admin token."""

    def __init__(self, url, token, context=None):
        self.url = url.rstrip("/")
        self.token = token
        self.context = context

    def _call(self, method, name, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": "Bearer %s" % self.token}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request("%s/_emulator/%s" % (self.url, name), data=data, method=method,
                                     headers=headers)
        with urllib.request.urlopen(req, timeout=10, context=self.context) as resp:
            return json.loads(resp.read().decode() or "null")

    def reset(self):
        return self._call("POST", "reset", {})

    def state(self):
        return self._call("GET", "state")

    def requests(self):
        return self._call("GET", "requests")["requests"]

    def clear_requests(self):
        return self._call("DELETE", "requests")

    def fault(self, **spec):
        return self._call("POST", "faults", spec)

    def clear_faults(self):
        return self._call("DELETE", "faults")

    def faults(self):
        """The fault rules and the rate limits in force."""
        return self._call("GET", "faults")

    def config(self, **spec):
        return self._call("POST", "config", spec)

    def credential(self, **spec):
        return self._call("POST", "credentials", spec)

    def instance(self, **spec):
        return self._call("POST", "instances", spec)

    def instance_batch(self, count, **spec):
        """`count` instances without sshd in one call; returns their IDs."""
        return self._call("POST", "instance-batch", dict(spec, count=count))["instance_ids"]

    def terminate(self, instance_id):
        return self._call("POST", "terminate", {"instance_id": instance_id})

    def image(self, **spec):
        return self._call("POST", "images", spec)

    def rate_limit(self, action, per_second):
        return self._call("POST", "rate-limit", {"action": action, "per_second": per_second})

    def seed(self, names, region="ap-guangzhou", project_id=0):
        return self._call("POST", "key-pairs", {"names": list(names), "region": region,
                                                "project_id": project_id})["key_ids"]

    def key_pairs(self):
        return self.state()["key_pairs"]

    def secrets(self):
        """The Secrets Manager secrets (never their keys)."""
        return self._call("GET", "secrets")["secrets"]

    def user_secret(self, name, region="ap-guangzhou", description=""):
        """A user-defined secret (SecretType 0, no value): one that is not an SSH key pair secret."""
        return self._call("POST", "secrets", {"name": name, "region": region, "description": description})

    def instances(self):
        return self.state()["instances"]

    def wait_idle_instances(self, timeout=15.0):
        """Waits until no instance has an Associate/Disassociate operation in progress."""
        assert wait_for(lambda: not any(i["operation"] for i in self.instances()), timeout), self.instances()

    def writes(self):
        return [r for r in self.requests() if r.get("write")]


def admin_context(url, cafile=None):
    """The TLS context an Admin needs for an https:// emulator (None for http://)."""
    if not url.startswith("https://"):
        return None
    import ssl

    return ssl.create_default_context(cafile=cafile)


def _end_with_parent():
    """In the child, before exec: SIGTERM when the process that started it ends, however it ends. A process whose
    fixture teardown never runs (ansible-test units runs every test in a forked process that exits without tearing
    the session down) would otherwise leave its emulator running, and every emulator ticks 20 times a second."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG (Linux, as the emulator's ssh)


class EmulatorProcess:
    """`python -m cvm_emulator` as a separate process, the way users run it: it prints its URL, then
    `admin-token: <token>`."""

    def __init__(self, *args, python=None, env=None, cafile=None):
        self.args = list(args)
        self.python = python or sys.executable
        self.env = env or {}
        self.cafile = cafile
        self.proc = None
        self.url = None
        self.token = None

    def start(self):
        env = dict(os.environ, PYTHONPATH=ROOT, **self.env)
        env.pop("CVM_EMULATOR_ADMIN_TOKEN", None) if "CVM_EMULATOR_ADMIN_TOKEN" not in self.env else None
        self.proc = subprocess.Popen([self.python, "-m", "cvm_emulator", *self.args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
                                     preexec_fn=_end_with_parent)
        line = self.proc.stdout.readline().strip()
        token_line = self.proc.stdout.readline().strip() if line.startswith(("http://", "https://")) else ""
        if not token_line.startswith("admin-token: "):
            self.stop()
            raise RuntimeError("emulator did not start: %r %r %s" % (line, token_line, self.proc.stderr.read()))
        self.url = line
        self.token = token_line.split(": ", 1)[1]
        self.admin = Admin(line, self.token, admin_context(line, self.cafile))
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr) if self.proc else ():
            stream.close()


def send_json(handler, body):
    """Answer an HTTP request on `handler` (a BaseHTTPRequestHandler) with 200 and the JSON bytes `body`."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def forwarding_proxy(target_url, credentials=None):
    """A forwarding HTTP proxy on 127.0.0.1 (in a thread) that sends every POST on to `target_url`; with
    credentials=(user, password) it answers 407 unless the request carries them as Basic Proxy-Authorization.
    Returns (server, seen): seen lists (path, Proxy-Authorization) per request. Stop it with server.shutdown()
    and server.server_close()."""
    import base64
    import http.server
    import threading

    expected = "Basic " + base64.b64encode(("%s:%s" % credentials).encode()).decode() if credentials else None
    seen = []

    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append((self.path, self.headers.get("Proxy-Authorization")))
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if expected and self.headers.get("Proxy-Authorization") != expected:
                self.send_response(407)
                self.send_header("Proxy-Authenticate", 'Basic realm="test"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-authorization"}
            req = urllib.request.Request(target_url.rstrip("/") + "/", data=body, method="POST", headers=headers)
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10) as resp:
                data = resp.read()
            send_json(self, data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


def tls_proxy(target, cert, key, credentials=None):
    """An https:// proxy on 127.0.0.1 (it speaks TLS itself, with cert/key), in a thread: CONNECT opens a tunnel to
    `target` (host, port) whatever authority was asked; an absolute-URL request is forwarded to http://target.
    With credentials=(user, password) it answers 407 without them. Returns (server, seen): seen lists
    (method, request target, Proxy-Authorization). Stop it with server.shutdown() and server.server_close()."""
    import base64
    import select
    import socket
    import socketserver
    import ssl

    expected = "Basic " + base64.b64encode(("%s:%s" % credentials).encode()).decode() if credentials else None
    seen = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            conn = context.wrap_socket(self.request, server_side=True)
            head = b""
            while b"\r\n\r\n" not in head:  # byte by byte: what follows the head belongs to the tunnel
                byte = conn.recv(1)
                if not byte:
                    return
                head += byte
            lines = head.decode("latin-1").split("\r\n")
            method, where, version = lines[0].split()
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _colon, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            seen.append((method, where, headers.get("proxy-authorization")))
            if expected and headers.get("proxy-authorization") != expected:
                conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                return
            with socket.create_connection(target, timeout=10) as upstream:
                if method == "CONNECT":
                    conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                else:  # forward the request as it came, with the path only
                    path = "/" + where.split("://", 1)[1].split("/", 1)[1]
                    out = ["%s %s %s" % (method, path, version)] + [
                        "%s: %s" % item for item in headers.items() if item[0] != "proxy-authorization"]
                    upstream.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
                ends = [conn, upstream]
                while True:
                    ready = [conn] if conn.pending() else select.select(ends, [], [], 10)[0]
                    if not ready:
                        return
                    for end in ready:
                        data = end.recv(65536)
                        if not data:
                            return
                        (upstream if end is conn else conn).sendall(data)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


NOBODY = 65534  # the attacker of the security tests: another local user, with no supplementary groups


def as_nobody(argv, **kw):
    """Run argv as uid/gid 65534 with no supplementary groups (the attacker); the test process must be root."""
    return subprocess.run([str(a) for a in argv], user=NOBODY, group=NOBODY, extra_groups=[], cwd="/",
                          capture_output=True, text=True, timeout=60, check=False, **kw)


class HostileEndpoint:
    """An endpoint on 127.0.0.1 that answers what a test scripts, as a hostile or broken server would: `answers`
    maps an action (X-TC-Action) to a Response dict (RequestId added), to bytes sent as the body, to a callable
    fn(handler, params) that writes the whole HTTP answer itself, or to Tamper(fn). With `upstream` (the emulator's
    URL) every other request is relayed there as it is (its signature still holds: the signed Host header is sent
    unchanged), and Tamper(fn) relays too, then sends fn(Response) instead of the real answer: a hostile API
    endpoint in front of a real one. Without it, unscripted actions answer an empty page. `calls` lists
    (action, params). Use it as a context manager."""

    def __init__(self, answers, upstream=None):
        import http.server

        self.answers = answers
        self.upstream = upstream
        self.calls = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                params = json.loads(raw or b"{}")
                action = self.headers.get("X-TC-Action")
                endpoint.calls.append((action, params))
                answer = endpoint.answers.get(action)
                if callable(answer) and not isinstance(answer, Tamper):
                    return answer(self, params)
                if answer is None and endpoint.upstream is None:
                    answer = {"KeyPairSet": [], "InstanceSet": [], "TotalCount": 0}
                if answer is None or isinstance(answer, Tamper):
                    body = endpoint._relay(self, raw)
                    if isinstance(answer, Tamper):
                        data = json.loads(body)
                        data["Response"] = answer.fn(data["Response"])
                        body = json.dumps(data).encode()
                    return self._send(body)
                if isinstance(answer, dict):
                    answer = json.dumps({"Response": dict(answer, RequestId=str(_uuid.uuid4()))}).encode()
                return self._send(answer)

            def _send(self, body):
                send_json(self, body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _relay(self, handler, raw):
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("content-length", "connection")}
        req = urllib.request.Request(self.upstream.rstrip("/") + handler.path, data=raw, method="POST",
                                     headers=headers)
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=30) as resp:
            return resp.read()

    def actions(self):
        return [action for action, _params in self.calls]

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.server.shutdown()
        self.server.server_close()
        return False


class Tamper:
    """An answer of HostileEndpoint: the real answer from upstream, changed by fn(Response) -> Response."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, response):
        return self.fn(response)


def drip(handler, _params, interval=0.2, forever=60):
    """An answer that never ends: a status line, then a byte every `interval` seconds (each read gets data in time,
    so only a deadline for the whole call stops it)."""
    import time as _time

    handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
    handler.wfile.flush()
    stop = _time.monotonic() + forever
    try:
        while _time.monotonic() < stop:
            handler.wfile.write(b" ")
            handler.wfile.flush()
            _time.sleep(interval)
    except OSError:
        pass


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


# PEM armour of a PKCS#1 key, split so that no tracked file looks like it holds a private key
PEM_BEGIN = "-----BEGIN RSA " + "PRIVATE KEY-----"
PEM_END = "-----END RSA " + "PRIVATE KEY-----"

CREDS = {"secret_id": DEFAULT_SECRET_ID, "secret_key": DEFAULT_SECRET_KEY}


def self_signed(directory, names=()):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]
                                                       + [x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = str(directory / "cert.pem"), str(directory / "key.pem")
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path


# --- the reliability invariants -------------------------------------------------------------------------------

RESULTS = os.environ.get("RELIABILITY_RESULTS") or os.path.join(ROOT, "tests", "output", "reliability")


def private_blob(path, passphrase=None):
    from cryptography.hazmat.primitives import serialization

    with open(path, "rb") as handle:
        data = handle.read()
    key = serialization.load_pem_private_key(data, password=passphrase.encode() if passphrase else None)
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode().split()[1]


def invariants(case, admin, key_dir, run=None, secrets=(), passphrase=None, expect_pairs=None):
    """Count lost keys (generated key pairs with no local private key), partial files and leaked secrets."""
    state = admin.state()
    blobs = {}
    partial = []
    for path in glob.glob(os.path.join(key_dir, "*")) + glob.glob(os.path.join(key_dir, ".*")):
        name = os.path.basename(path)
        if name.endswith(".tmp"):
            partial.append(name)
            continue
        if name.endswith((".pub", "~")) or os.path.isdir(path) or os.path.islink(path):
            continue
        if "precious" in open(path, errors="replace").read():  # a user's non-key file the test keeps there
            continue
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            partial.append("%s mode %o" % (name, mode))
        try:
            blobs[private_blob(path, passphrase)] = name
        except Exception:  # noqa: BLE001 - any unreadable key file counts
            if "precious" not in open(path, errors="replace").read():
                partial.append("%s unreadable" % name)
    generated = [kp for kp in state["key_pairs"] if kp["public_key"].endswith(" " + kp["key_id"])]
    lost = [kp["key_name"] for kp in generated if kp["key_blob"] not in blobs and not kp["key_name"].startswith("seed")]
    leaked = 0
    if run is not None:
        text = run.stdout + run.stderr + json.dumps(run.results)
        for secret in list(secrets) + [CREDS["secret_key"]]:
            leaked += text.count(secret)
        for path in glob.glob(os.path.join(key_dir, "*")):
            if os.path.isfile(path) and not path.endswith(".pub"):
                body = "".join(open(path, errors="replace").read().splitlines()[1:-1])
                if len(body) > 64 and body[10:74] in text.replace("\n", "").replace("\\n", ""):
                    leaked += 1
    record = {"case": case, "lost_keys": len(lost), "partial_files": len(partial), "leaked_secrets": leaked,
              "key_pairs": len(state["key_pairs"]), "details": {"lost": lost, "partial": partial}}
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, re.sub(r"[^\w.-]", "_", case) + ".json"), "w") as handle:
        json.dump(record, handle)
    assert (lost, partial, leaked) == ([], [], 0), record
    if expect_pairs is not None:
        assert len(state["key_pairs"]) == expect_pairs, state["key_pairs"]
    return state


# --- shared builders: clients, specs and tasks as the collection's users make them ---------------------------

def make_client(url, sleep=None, **settings):
    """A Client of the emulator at `url` with its default credential; `settings` are Settings fields."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Client, Settings
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import Credentials

    credentials = Credentials(settings.pop("secret_id", CREDS["secret_id"]),
                              settings.pop("secret_key", None) or CREDS["secret_key"], settings.pop("token", None))
    settings.setdefault("region", "ap-guangzhou")
    settings.setdefault("endpoint", url)
    extra = {"sleep": sleep} if sleep is not None else {}
    return Client(credentials, Settings(**settings), **extra)


def module_options(module, **given):
    """The arguments Ansible gives `module` for a task with these options: every default from the module's
    documented argument spec, as the runner's validation fills them in."""
    import importlib

    from ansible_collections.tencentcloud.cvm.plugins.doc_fragments.tencentcloud import ModuleDocFragment
    from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._argspec import argument_spec_from_docs

    doc = importlib.import_module("ansible_collections.tencentcloud.cvm.plugins.modules." + module).DOCUMENTATION
    options = {name: option.get("default") for name, option in
               argument_spec_from_docs(doc, ModuleDocFragment.DOCUMENTATION).items()}
    unknown = set(given) - set(options)
    if unknown:
        raise TypeError("%s has no options %s" % (module, sorted(unknown)))
    options.update(given)
    return options


def keypair_spec(**given):
    """tencent_keypair's spec for these options, validated (KeyPairSpec.from_args)."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.spec import KeyPairSpec

    return KeyPairSpec.from_args(module_options("tencent_keypair", **given))


def instance_keypairs_spec(**given):
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._instance_keypairs.spec import InstanceKeyPairsSpec

    return InstanceKeyPairsSpec.from_args(module_options("tencent_instance_keypairs", **given))


def unchecked_spec(spec_class, module, **given):
    """A spec with these options, not validated: for the pure decisions' tables, whose keys are not real keys."""
    import dataclasses

    options = module_options(module, **given)
    return spec_class(**{f.name: options[f.name] for f in dataclasses.fields(spec_class)})


KP = "tencentcloud.cvm.tencent_keypair"
INFO = "tencentcloud.cvm.tencent_keypair_info"
INSTANCE_KEYPAIRS = "tencentcloud.cvm.tencent_instance_keypairs"


def task(args, title="ensure", module=KP, **keywords):
    """One task of a playbook, as YAML: `args` are the module's options, `keywords` task keywords (loop, ...)."""
    import yaml

    body = {"name": title, module: args}
    body.update(keywords)
    return yaml.safe_dump([body], sort_keys=False)


def checked(args, title="ensure", module=KP, **keywords):
    """A task whose result the test asserts: registered, and a failure does not end the play."""
    return task(args, title, module, register="out", ignore_errors=True, **keywords)


# --- processes (the interrupt and rotation tests signal real ansible-playbook runs) -------------------------

def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def until(predicate, timeout=30, what="the condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for %s" % what
        time.sleep(0.05)


def pgid(pid):
    with open("/proc/%d/stat" % pid) as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[2])


def ignores(pid, signum):
    """Whether the process ignores `signum` (SigIgn in /proc/<pid>/status)."""
    with open("/proc/%d/status" % pid) as handle:
        mask = next(int(line.split()[1], 16) for line in handle if line.startswith("SigIgn:"))
    return bool(mask & (1 << (signum - 1)))


def interrupt(proc, signum, hard):
    """`signum` to the playbook's process group, as a terminal or a CI runner sends it; with `hard`, to every
    process under it too (the workers are process groups of their own). Waits until all of them are gone.
    Returns whether the worker was hit directly: SIGKILL to the group then is a hard kill of the worker too."""
    import signal

    workers = descendants(proc.pid)
    in_group = any(pgid(pid) == proc.pid for pid in workers)  # ansible-core < 2.19: workers share the group
    assert not ignores(proc.pid, signum), "ansible-playbook ignores %s (inherited SIG_IGN)" % signum
    os.killpg(proc.pid, signum)
    if hard:
        for pid in workers:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass
    proc.wait(60)
    until(lambda: not any(alive(pid) for pid in workers), 60, "the workers to end")
    return hard or (in_group and signum == signal.SIGKILL)


# --- the documentation's examples --------------------------------------------------------------------------

GUIDES = os.path.join(ROOT, "docs", "docsite", "rst")
# A block right after "<!-- example not run: <why> -->" (Markdown) or ".. example not run: <why>" (reStructuredText)
# needs what is not here (tccli, Terraform, a real account): it must parse (and ansible-lint syntax-checks it), but it
# is not run.
MD_BLOCK = re.compile(r"^(<!-- example not run: [^\n]+-->\n)?```(\w+)\n(.*?)^```", re.M | re.S)
RST_BLOCK = re.compile(r"^([ \t]*)(\.\. example not run: [^\n]+\n\n\1)?\.\. code-block:: (\S+)\n"
                       r"((?:\1[ \t]+:[^\n]*\n)*)\n((?:(?:\1[ \t]+[^\n]*)?\n)+)", re.M)  # a block may sit in a list


def doc_pages():
    """Every page whose examples are tested: the guides, README.md and the roles' READMEs."""
    return sorted(glob.glob(os.path.join(GUIDES, "*.rst"))) + [os.path.join(ROOT, "README.md")] + sorted(
        glob.glob(os.path.join(ROOT, "roles", "*", "README.md")))


def doc_blocks(path, language="yaml"):
    """[(not_run, text)] of the page's code blocks in `language`, in order, dedented."""
    import textwrap

    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if path.endswith(".md"):
        return [(bool(marker), body) for marker, lang, body in MD_BLOCK.findall(text) if lang == language]
    return [(bool(marker), textwrap.dedent(body).strip("\n") + "\n")
            for _indent, marker, lang, _options, body in RST_BLOCK.findall(text) if lang == language]


def guide(name):
    """The path of a guide: guide("troubleshooting") is docs/docsite/rst/guide_troubleshooting.rst."""
    return os.path.join(GUIDES, "guide_%s.rst" % name)


def stop_left_emulator(home):
    """Stops an emulator that a failed play using the role tencentcloud.cvm.emulator left (the role's pid file under
    `home`), so that no test leaks one."""
    pid_file = os.path.join(home, ".cache", "tencentcloud-cvm-emulator", "pid")
    try:
        with open(pid_file, encoding="utf-8") as handle:
            pid = int(handle.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            if b"cvm_emulator" in handle.read():
                os.kill(pid, 15)
    except (OSError, ValueError):
        pass


# --- a scripted client for the instance key-pair tests (test_instance_steps, test_instance_decide) -------------

def api_error(code, **flags):
    """An API error as the client raises it (a transport failure when flags are given)."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import TencentCloudAPIError

    return TencentCloudAPIError(code=code, message="the message", request_id=None if flags else "r-err", **flags)


class ScriptedClient:
    """DescribeInstances answers the next scripted model of each instance (the last one stays; an instance whose
    script is empty is not found); a write answers the next of `writes` (an exception is raised; None or none
    left: RequestId r-write). Time passes only in sleep()."""

    def __init__(self, script, writes=(), key_ids=("skey-0000000a", "skey-0000000b", "skey-0000000c")):
        self.script = {i: list(models) for i, models in script.items()}
        self.writes = list(writes)
        self.request_ids, self.calls, self.sent = [], [], []
        self.now = 0.0
        self.key_ids = key_ids

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds

    def call(self, action, params, retry=True):
        self.calls.append(action)
        if action == "DescribeInstances":
            models = [self.script[i].pop(0) if len(self.script[i]) > 1 else self.script[i][0]
                      for i in params["InstanceIds"] if self.script.get(i)]
            return {"InstanceSet": models, "TotalCount": len(models), "RequestId": "r-describe"}
        if action == "DescribeKeyPairs":
            found = [{"KeyId": k, "KeyName": "k"} for k in params.get("KeyIds", []) if k in self.key_ids]
            return {"KeyPairSet": found, "TotalCount": len(found), "RequestId": "r-keys"}
        self.sent.append((action, params))
        if self.writes:
            failure = self.writes.pop(0)
            if isinstance(failure, Exception):
                raise failure
        return {"RequestId": "r-write"}


def regular_files(roots):
    """(path, content) of every regular file under `roots`; links are not followed, and sockets and FIFOs (an
    agent's socket) hold nothing."""
    for root in roots:
        for folder, _dirs, names in os.walk(str(root)):
            for name in names:
                path = os.path.join(folder, name)
                if stat.S_ISREG(os.lstat(path).st_mode):
                    with open(path, "rb") as handle:
                        yield path, handle.read()


def files_with_runs(roots, runs):
    """The files under `roots` that hold one of `runs` (64-character runs of a private key's base64 body), line
    breaks removed: where a key would be if it had been written."""
    found = []
    for path, data in regular_files(roots):
        text = data.replace(b"\n", b"").decode("latin-1")
        found += [path for run in runs if run in text]
    return found
