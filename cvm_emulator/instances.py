# SPDX-License-Identifier: GPL-3.0-or-later
"""Instances for key binding: states, the asynchronous Associate/Disassociate operation, DescribeInstances' model,
and guests that run a real OpenSSH sshd.

What the real service does, and the sources, are in shared/reference/research-instance-key-binding.md:

* an Associate/Disassociate call answers at once (only a RequestId); the instance shows
  `LatestOperation=<Action>`, `LatestOperationState=OPERATING` until it is done, then SUCCESS or FAILED (§4);
* with ForceStop a RUNNING instance is powered off, the keys change, and it is started again: RUNNING (the state
  lags), STOPPING, STOPPED, STARTING, RUNNING, all under one OPERATING operation (§3.4);
* a STOPPED instance stays STOPPED; the keys change at the end (§3.4);
* the guest (cloud-init) writes the bound keys to `authorized_keys` at boot (§5). Here an instance with a guest
  agent holds exactly the public keys of its bound key pairs; one without (an image without cloud-init) keeps
  the file it had.

One lifecycle thread advances the operations in progress every TICK seconds; one acceptor thread (see Guests)
hands each SSH connection to a running instance to its own `sshd -i`.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from typing import cast

from .store import JSON, Instance, Store

# key ID -> its public key (OpenSSH line), or None for a key pair that is gone
PublicKeyOf = Callable[[str], str | None]

TICK = 0.05
# States an instance can be given through the admin API (the InstanceStatus values of DescribeInstances).
STATES = ("PENDING", "LAUNCH_FAILED", "RUNNING", "STOPPED", "STARTING", "STOPPING", "REBOOTING", "SHUTDOWN",
          "TERMINATING", "ENTER_RESCUE_MODE", "RESCUE_MODE", "EXIT_RESCUE_MODE", "ENTER_SERVICE_LIVE_MIGRATE",
          "SERVICE_LIVE_MIGRATE", "EXIT_SERVICE_LIVE_MIGRATE", "ISOLATING", "FREEZING", "BANNING")
# A ForceStop operation on a RUNNING instance, as fractions of its duration: the state still shows RUNNING for a
# moment (packer #9054), then STOPPING, STOPPED (the keys change at the middle), STARTING, RUNNING.
FORCED_PHASES = ((0.1, "RUNNING"), (0.3, "STOPPING"), (0.5, "STOPPED"), (0.8, "STARTING"), (1.0, "RUNNING"))
APPLY_AT = 0.5
LAG = 0.3  # operation_report=lagging: the previous operation is shown for this part of the duration


def os_name_of(inst: Instance) -> str:
    os_name = inst.get("os_name")
    if os_name:
        return os_name
    return "TencentOS Server 3.1 (TK4)" if inst.get("os", "linux") == "linux" else \
        "Windows Server 2022 DataCenter 64bit Chinese Edition"


def state_code(state: str) -> str:
    """UnsupportedOperation.InstanceState<CamelCase> of a state: EXIT_RESCUE_MODE -> InstanceStateExitRescueMode."""
    return "UnsupportedOperation.InstanceState" + "".join(w.capitalize() for w in state.split("_"))


def start_operation(inst: Instance, action: str, request_id: str, add: Iterable[str] = (), remove: Iterable[str] = (),
                    force_stop: bool = False, now: float | None = None, duration: float = 0.5,
                    fail: str | None = None) -> None:
    """Marks `inst` (a store row, changed in place) as carrying out `action`; the lifecycle finishes it."""
    now = time.time() if now is None else now
    inst["operation"] = {
        "action": action, "request_id": request_id, "add": list(add), "remove": list(remove),
        "from_state": inst["state"], "forced": bool(force_stop and inst["state"] == "RUNNING"),
        "started": now, "duration": float(duration), "applied": False, "fail": fail,
        "previous": [inst.get("latest_operation"), inst.get("latest_operation_state"),
                     inst.get("latest_operation_request_id"), inst.get("latest_operation_error_msg")],
    }
    inst["latest_operation"] = action
    inst["latest_operation_state"] = "OPERATING"
    inst["latest_operation_request_id"] = request_id
    inst["latest_operation_error_msg"] = None


def advance(inst: Instance, now: float, public_key_of: PublicKeyOf, associate_mode: str = "add") -> bool:
    """Moves an operation in progress on to `now`. Returns True when `inst` changed."""
    op = inst.get("operation")
    if not op:
        return False
    before = json.dumps(inst, sort_keys=True, default=str)
    progress = 1.0 if op["duration"] <= 0 else (now - op["started"]) / op["duration"]
    if op["forced"]:
        inst["state"] = next((state for end, state in FORCED_PHASES if progress < end), op["from_state"])
    if progress >= APPLY_AT and not op["applied"]:
        op["applied"] = True
        if not op["fail"]:
            keys = [] if associate_mode == "replace" and op["add"] else list(inst["key_ids"])
            keys = [k for k in keys if k not in op["remove"]]
            keys += [k for k in op["add"] if k not in keys]
            inst["key_ids"] = keys
            if inst.get("guest_agent", 1):
                inst["authorized_keys"] = authorized_keys_text(keys, public_key_of)
    if progress >= 1.0:
        inst["state"] = op["from_state"]
        inst["latest_operation_state"] = "FAILED" if op["fail"] else "SUCCESS"
        inst["latest_operation_error_msg"] = op["fail"] or ""
        inst["operation"] = None
    return json.dumps(inst, sort_keys=True, default=str) != before


def authorized_keys_text(key_ids: Iterable[str], public_key_of: PublicKeyOf) -> str:
    lines = []
    for key_id in key_ids:
        public = public_key_of(key_id)
        if public:
            lines.append(public.strip())
    return "".join(line + "\n" for line in lines)


def instance_model(inst: Instance, now: float | None = None, report: str = "request_id") -> dict[str, JSON]:
    """The DescribeInstances Instance object (the fields a key-pair tool reads; research §6.2)."""
    now = time.time() if now is None else now
    latest = [inst.get("latest_operation"), inst.get("latest_operation_state"),
              inst.get("latest_operation_request_id"), inst.get("latest_operation_error_msg")]
    op = inst.get("operation")
    if report == "lagging":
        if op and now - op["started"] < LAG * op["duration"]:
            latest = list(op["previous"])  # what Terraform sleeps 10 s for
        latest[2] = None
    private = [inst["private_ip"]] if inst.get("private_ip") else []
    public = [inst["public_ip"]] if inst.get("public_ip") else None
    return {
        "InstanceId": inst["instance_id"],
        "InstanceName": inst.get("instance_name") or "未命名",  # the console's default: "unnamed"
        "InstanceState": inst["state"],
        "OsName": os_name_of(inst),
        "LoginSettings": {"KeyIds": list(inst["key_ids"]) or None},
        "PrivateIpAddresses": private,
        "PublicIpAddresses": public,
        "DefaultLoginUser": inst.get("login_user") or "root",
        "DefaultLoginPort": inst.get("ssh_port") or 22,
        "LatestOperation": latest[0],
        "LatestOperationState": latest[1],
        "LatestOperationRequestId": latest[2],
        "LatestOperationErrorMsg": latest[3],
        "RestrictState": "NORMAL",
        "CreatedTime": inst.get("created_time"),
        "Placement": {"Zone": inst.get("zone") or inst["region"] + "-3", "ProjectId": inst.get("project_id", 0)},
        "InstanceType": inst.get("instance_type") or "S5.MEDIUM2",
        "ImageId": inst.get("image_id") or "img-l8og963d",
        "InstanceChargeType": inst.get("charge_type") or "POSTPAID_BY_HOUR",
        "VirtualPrivateCloud": {"VpcId": inst.get("vpc_id") or "vpc-00000000",
                                "SubnetId": inst.get("subnet_id") or "subnet-00000000", "AsVpcGateway": False},
        "SecurityGroupIds": list(inst.get("security_group_ids") or []),
        "IPv6Addresses": list(inst.get("ipv6_addresses") or []) or None,
        "Tags": [{"Key": k, "Value": v} for k, v in (inst.get("tags") or {}).items()],
        "Uuid": inst["instance_id"],
    }


# ------------------------------------------------------------------------------------------------
# guests with a real sshd


# What reaches sshd_config and the guests' directories: checked here too, whatever the store holds.
LOGIN_USER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")  # a plain POSIX user name
INSTANCE_ID_RE = re.compile(r"^ins-[0-9a-z]{8}$")                # Tencent Cloud's format


def find_sshd() -> str | None:
    """The sshd binary (Debian's openssh-server puts it in /usr/sbin, often not on PATH), or None."""
    return shutil.which("sshd") or next(
        (p for p in ("/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd") if os.access(p, os.X_OK)), None)


class Guests:
    """The guests of the instances created with ssh=true. Each has a port on 127.0.0.1 for its whole life (the
    emulator listens on it, as an instance keeps its address across restarts). While the instance is RUNNING, every
    connection is handed to a real OpenSSH sshd in inetd mode (`sshd -i`), whose AuthorizedKeysFile is the guest's
    authorized_keys; while it is not, connections are closed at once, and stopping it ends the sessions it had.

    No sshd listens: each serves one connection and ends with it, so an emulator killed with SIGKILL leaves no
    port open, only the sessions in progress until their clients go. (sshd is started without a preexec_fn: one
    that loaded libc with ctypes deadlocked a forked child now and then, and Popen with it, under load.)"""

    def __init__(self) -> None:
        self.root: str | None = None
        self.lock = threading.Lock()
        self.listeners: dict[str, socket.socket] = {}  # instance_id -> listening socket
        self.unseen: set[str] = set()  # instance_ids given a port that the lifecycle has not yet seen in the store
        self.running: dict[str, str] = {}  # instance_id -> login user, while the instance is RUNNING
        self.sessions: dict[str, list[subprocess.Popen[bytes]]] = {}  # instance_id -> [Popen]
        self.files: dict[str, str] = {}  # instance_id -> authorized_keys text written
        # instance_id -> connections handed to sshd so far (the admin state shows them)
        self.connections: dict[str, int] = {}
        self.selector = selectors.DefaultSelector()
        self.wakeup_r, self.wakeup_w = socket.socketpair()
        self.selector.register(self.wakeup_r, selectors.EVENT_READ, None)
        self.closing = False
        self.error: str | None = None
        self.thread = threading.Thread(target=self._accept_loop, name="cvm-emulator-sshd", daemon=True)
        self.thread.start()

    # files ---------------------------------------------------------------------------------------
    def _dir(self, instance_id: str) -> str:
        if not INSTANCE_ID_RE.match(instance_id or ""):
            raise OSError("refusing a guest directory for instance %r" % (instance_id,))
        if self.root is None:
            self.root = tempfile.mkdtemp(prefix="cvm-emulator-guests-")
        path = os.path.join(self.root, instance_id)
        if not os.path.isdir(path):
            os.mkdir(path, 0o700)
        key = os.path.join(path, "ssh_host_ed25519_key")
        if not os.path.exists(key):
            self._host_key(key)
        return path

    @staticmethod
    def _host_key(path: str) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519

        key = ed25519.Ed25519PrivateKey.generate()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                           serialization.NoEncryption()))

    def _config(self, instance_id: str, user: str) -> str:
        if not LOGIN_USER_RE.match(user or "") or not INSTANCE_ID_RE.match(instance_id or ""):
            raise OSError("refusing to write an sshd_config for instance %r, user %r" % (instance_id, user))
        path = self._dir(instance_id)
        config = os.path.join(path, "sshd_config")
        text = "\n".join([
            "HostKey %s" % os.path.join(path, "ssh_host_ed25519_key"),
            "AuthorizedKeysFile %s" % os.path.join(path, "authorized_keys"),
            "AllowUsers %s" % user,
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "UsePAM no",
            "StrictModes no",
            "PrintMotd no",
            "Subsystem sftp internal-sftp",
            "LogLevel VERBOSE",
            "",
        ])
        if not os.path.exists(config) or open(config).read() != text:
            with open(config, "w") as handle:
                handle.write(text)
        return config

    def write_keys(self, inst: Instance) -> None:
        path = self._dir(inst["instance_id"])
        text = inst.get("authorized_keys") or ""
        target = os.path.join(path, "authorized_keys")
        if self.files.get(inst["instance_id"]) != text or not os.path.exists(target):
            tmp = target + ".tmp"
            with open(tmp, "w") as handle:
                handle.write(text)
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
            self.files[inst["instance_id"]] = text

    # ports ---------------------------------------------------------------------------------------
    def listen(self, instance_id: str) -> int:
        """The instance's port: a listening socket on 127.0.0.1 that it keeps until it is gone."""
        with self.lock:
            sock = self.listeners.get(instance_id)
            if sock is None:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", 0))
                sock.listen(64)
                sock.setblocking(False)
                self.listeners[instance_id] = sock
                self.unseen.add(instance_id)  # not forgotten before its instance is stored
                self.selector.register(sock, selectors.EVENT_READ, instance_id)
                self.wakeup_w.send(b"x")
            port: int = sock.getsockname()[1]  # an AF_INET address: (host, port)
            return port

    def forget(self, instance_id: str) -> None:
        """Closes the instance's port and ends its sessions (an instance that could not be stored)."""
        self._forget(instance_id)

    def _forget(self, instance_id: str) -> None:
        with self.lock:
            sock = self.listeners.pop(instance_id, None)
            self.unseen.discard(instance_id)
            if sock is not None:
                self.selector.unregister(sock)
                sock.close()
        self.running.pop(instance_id, None)
        self._end_sessions(instance_id)
        self.files.pop(instance_id, None)
        self.connections.pop(instance_id, None)
        if self.root is not None:
            shutil.rmtree(os.path.join(self.root, instance_id), ignore_errors=True)

    # the lifecycle's view ------------------------------------------------------------------------
    def reconcile(self, instances: Iterable[Instance]) -> None:
        """Follows the store: which instances run (their connections go to sshd), their authorized_keys, and the
        ports of instances that are gone."""
        present = set()
        for inst in instances:
            if not inst.get("ssh"):
                continue
            instance_id = inst["instance_id"]
            present.add(instance_id)
            self.write_keys(inst)
            if inst.get("ssh_port") and instance_id not in self.listeners:
                continue  # created in another emulator process (a --db file): no port here
            if inst["state"] == "RUNNING" and inst.get("terminated_at") is None:
                self.running[instance_id] = inst.get("login_user") or getpass.getuser()
            elif instance_id in self.running:
                del self.running[instance_id]
                self._end_sessions(instance_id)  # a power-off ends every session
        with self.lock:
            self.unseen -= present
            gone = set(self.listeners) - present - self.unseen
        for instance_id in gone:
            self._forget(instance_id)

    def _end_sessions(self, instance_id: str) -> None:
        """Ends the instance's SSH sessions: each sshd and what it runs (a session's command is a process group of
        its own, so it is found through /proc), as a power-off would."""
        for proc in self.sessions.pop(instance_id, []):
            doomed = descendants(proc.pid)
            _terminate(proc)
            for pid in doomed:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    # the acceptor --------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self.closing:
            for key, _events in self.selector.select(timeout=0.5):
                if key.data is None:
                    self.wakeup_r.recv(64)
                    continue
                listener = cast(socket.socket, key.fileobj)  # registered with data: a port of listen()
                try:
                    conn, _peer = listener.accept()
                except OSError:
                    continue
                with conn:
                    try:
                        self._serve(key.data, conn)
                    except (OSError, subprocess.SubprocessError) as exc:  # this connection fails, not the acceptor
                        sys.stderr.write("cvm-emulator: sshd for %s: %s: %s\n" % (key.data, type(exc).__name__, exc))
            for instance_id, procs in list(self.sessions.items()):
                self.sessions[instance_id] = [p for p in procs if p.poll() is None]

    def _serve(self, instance_id: str, conn: socket.socket) -> None:
        user = self.running.get(instance_id)
        if user is None:
            return  # the instance is not running: the connection is closed at once
        peer = peer_uid(conn)
        if peer not in (os.geteuid(), 0):
            # The guest logs in as the user running the emulator: only that user (and root) may reach its sshd.
            # Anyone else who can bind a key pair through the API (the default credential is public) would get a
            # shell as that user.
            sys.stderr.write("cvm-emulator: %s: refused a connection from uid %s (only uid %d and root may log in)\n"
                             % (instance_id, "unknown" if peer is None else peer, os.geteuid()))
            return
        sshd = find_sshd()
        if sshd is None:
            self.error = "sshd not found: install OpenSSH's server (Debian: openssh-server)"
            return
        if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", 0o755, exist_ok=True)  # sshd's privilege separation directory
        config = self._config(instance_id, user)
        with open(os.path.join(self._dir(instance_id), "sshd.log"), "ab") as log:
            conn.setblocking(True)
            proc = subprocess.Popen([sshd, "-i", "-e", "-f", config], stdin=conn.fileno(), stdout=conn.fileno(),
                                    stderr=log, close_fds=True, start_new_session=True)
        self.sessions.setdefault(instance_id, []).append(proc)
        self.connections[instance_id] = self.connections.get(instance_id, 0) + 1

    def close(self) -> None:
        self.closing = True
        self.wakeup_w.send(b"x")
        if threading.current_thread() is not self.thread:
            self.thread.join(5)
        for instance_id in list(self.listeners):
            self._forget(instance_id)
        for instance_id in list(self.sessions):
            self._end_sessions(instance_id)
        self.selector.close()
        self.wakeup_r.close()
        self.wakeup_w.close()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None


def _hex_address(address: tuple[str, int]) -> str:
    """('127.0.0.1', 40123) -> '0100007F:9CBB', as /proc/net/tcp writes an IPv4 socket address."""
    host, port = address[:2]
    packed = socket.inet_aton(host)
    return "%08X:%04X" % (int.from_bytes(packed, "little"), port)


def peer_uid(conn: socket.socket, table: str = "/proc/net/tcp") -> int | None:
    """The uid owning the client end of an accepted loopback TCP connection (its socket appears in this network
    namespace's /proc/net/tcp with local and remote addresses swapped), or None when it cannot be found."""
    try:
        client, server = _hex_address(conn.getpeername()), _hex_address(conn.getsockname())
        with open(table) as handle:
            next(handle)
            for line in handle:
                fields = line.split()
                if len(fields) > 7 and fields[1] == client and fields[2] == server:
                    return int(fields[7])
    except (OSError, ValueError, StopIteration):
        return None
    return None


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    children.setdefault(int(handle.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Lifecycle:
    """The thread that advances operations in progress and keeps the guests' sshd in step with the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.guests = Guests()
        self.stopping = threading.Event()
        self.changed = threading.Condition()
        self.generation = 0
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, name="cvm-emulator-lifecycle", daemon=True)
        self.thread.start()

    def _public_key(self, key_id: str) -> str | None:
        kp = self.store.key_pair(key_id)
        return kp["public_key"] if kp else None

    def tick(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        mode = self.store.setting("associate_mode")
        with self.store:
            self.store.purge_terminated(now, self.store.setting("binding_linger"))
            for inst in self.store.busy_instances():  # a tick reads only what moves: 10,000 records stay cheap
                if advance(inst, now, self._public_key, mode):
                    self.store.put_instance(inst)
            instances = self.store.ssh_instances()
        try:
            self.guests.reconcile(instances)
            self.error = self.guests.error
        except OSError as exc:
            self.error = str(exc)
        with self.changed:
            self.generation += 1
            self.changed.notify_all()

    def settle(self, timeout: float = 15.0) -> str | None:
        """Waits for two full ticks after now (so that a change made before the call has been acted on)."""
        with self.changed:
            target = self.generation + 2
            self.changed.wait_for(lambda: self.generation >= target or self.stopping.is_set(), timeout)
        return self.error

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.tick()
            except Exception as exc:  # keep the emulator serving; the admin API reports it
                self.error = "lifecycle: %s: %s" % (type(exc).__name__, exc)
            self.stopping.wait(TICK)
        self.guests.close()

    def close(self) -> None:
        self.stopping.set()
        if self.thread.is_alive() and threading.current_thread() is not self.thread:
            self.thread.join(15)
