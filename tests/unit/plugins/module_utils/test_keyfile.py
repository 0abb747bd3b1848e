# SPDX-License-Identifier: GPL-3.0-or-later
"""Key formats (_keys), the destination (_keyfile: directories, checks, atomic writes, backups) and the reservation
of a creation (_reservation)."""

import base64
import hashlib
import json
import os
import stat
import subprocess

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core import files as _files
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.files import open_directory
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair import (
    keys as _keys, reservation as _reservation,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.destination import Destination
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.keys import KeyFileError
from helpers import PEM_BEGIN, PEM_END
import pytest


@pytest.fixture(scope="module")
def rsa_pem():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def test_fingerprint_matches_ssh_keygen(tmp_path, rsa_pem):
    public = _keys.public_key_of_private(rsa_pem.encode())
    (tmp_path / "k.pub").write_text(public + " comment\n")
    out = subprocess.run(["ssh-keygen", "-lf", str(tmp_path / "k.pub")], capture_output=True, text=True, check=True)
    assert out.stdout.split()[1] == _keys.fingerprint(public)
    blob = base64.b64decode(public.split()[1])
    assert _keys.fingerprint(public) == "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def inspect(path, passphrase=None):
    """What the reconciler reads: the destination and what an interrupted creation left there (the Destination,
    whose attributes hold what its inspect() returned as a snapshot)."""
    dest = Destination.open(path)
    try:
        dest.inspect(passphrase, read_leftovers=_reservation.read_leftovers)
        return dest
    except BaseException:
        dest.close()
        raise


def write_file(path, data, mode=0o600):
    with open_directory(str(path.parent)) as where:
        where.write_new(path.name, data, mode)


def test_passphrase_file_is_encrypted_pkcs8_and_opens_with_ssh_keygen(tmp_path, rsa_pem):
    data = _keys.private_key_bytes(rsa_pem, "correct horse")
    assert data.startswith(("-----BEGIN ENCRYPTED " + "PRIVATE KEY-----").encode())
    path = tmp_path / "k"
    write_file(path, data)
    out = subprocess.run(["ssh-keygen", "-y", "-P", "correct horse", "-f", str(path)], capture_output=True,
                         text=True, check=True)
    assert out.stdout.split()[1] == _keys.public_key_of_private(rsa_pem.encode()).split()[1]
    assert _keys.public_key_of_private(data, "correct horse").split()[1] == out.stdout.split()[1]
    with pytest.raises(KeyFileError, match="passphrase"):
        _keys.public_key_of_private(data, None)
    with pytest.raises(KeyFileError, match="decrypted"):
        _keys.public_key_of_private(data, "wrong passphrase")


def pbkdf2_iterations(pem):
    """The PBKDF2 iteration count of an encrypted PKCS#8 PEM, read with openssl (an independent parser)."""
    out = subprocess.run(["openssl", "asn1parse"], input=pem, capture_output=True, check=True).stdout.decode()
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if ":PBKDF2" in line)
    return int(next(line for line in lines[at:] if "INTEGER" in line).rsplit(":", 1)[1], 16)


def test_passphrase_encryption_has_todays_work_factor(rsa_pem):
    """PBKDF2-HMAC-SHA256 at 600,000 iterations with AES-256-CBC (not cryptography's 2,048), and the collection
    recognises the weaker files it wrote before, to encrypt them again."""
    from cryptography.hazmat.primitives import serialization

    data = _keys.private_key_bytes(rsa_pem, "correct horse")
    assert pbkdf2_iterations(data) == 600000
    parsed = subprocess.run(["openssl", "asn1parse"], input=data, capture_output=True, check=True).stdout.decode()
    assert "hmacWithSHA256" in parsed and "aes-256-cbc" in parsed
    assert _keys.encryption_is_weak(data) is False
    key = serialization.load_pem_private_key(rsa_pem.encode(), None)
    old = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(b"correct horse"))  # what 0.1.0 wrote
    assert pbkdf2_iterations(old) < 600000 and _keys.encryption_is_weak(old) is True
    traditional = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.BestAvailableEncryption(b"correct horse"))
    assert _keys.encryption_is_weak(traditional) is True
    assert _keys.encryption_is_weak(rsa_pem.encode()) is False


def test_write_new_mode_and_no_temp_left(tmp_path):
    path = tmp_path / "key"
    write_file(path, b"secret", 0o400)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o400 and path.read_bytes() == b"secret"
    assert os.listdir(tmp_path) == ["key"]


def test_write_new_failure_mid_way_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "key"
    path.write_bytes(b"old")
    seen = {}

    def broken(fd, data):
        seen["mode"] = stat.S_IMODE(os.fstat(fd).st_mode)  # private while it is written
        os.write(fd, data[:3])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_files, "write_fd", broken)
    with pytest.raises(OSError, match="No space left on device"):
        write_file(path, b"new key material")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["key"] and seen["mode"] == 0o600


def test_backup_is_private_whatever_the_mode_of_the_file(tmp_path, rsa_pem):
    path = tmp_path / "key"
    path.write_text(rsa_pem)
    os.chmod(path, 0o644)  # a key file left readable by others: its copy must not be
    with inspect(str(path)) as dest:
        backup = dest.backup()
    assert open(backup).read() == rsa_pem and backup.endswith("~")
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600


def test_destination_checks(tmp_path, rsa_pem):
    with pytest.raises(KeyFileError, match="does not exist"):
        inspect(str(tmp_path / "missing" / "k"))
    (tmp_path / "dir").mkdir()
    with pytest.raises(KeyFileError, match="is a directory"):
        inspect(str(tmp_path / "dir"))
    os.symlink(str(tmp_path / "nowhere"), str(tmp_path / "dangling"))
    with pytest.raises(KeyFileError, match="dangling"):
        inspect(str(tmp_path / "dangling"))
    os.symlink("/dev/null", str(tmp_path / "devnull"))
    with pytest.raises(KeyFileError, match="which is a character device"):
        inspect(str(tmp_path / "devnull"))
    (tmp_path / "k.pub").mkdir()
    with pytest.raises(KeyFileError, match="k.pub is a directory"):
        inspect(str(tmp_path / "k"))

    (tmp_path / "real").write_text(rsa_pem)
    os.symlink(str(tmp_path / "real"), str(tmp_path / "link"))  # a link of yours, in a directory only you write
    with inspect(str(tmp_path / "link")) as dest:
        assert dest.target == str(tmp_path / "real") and dest.exists and dest.public_key.startswith("ssh-rsa ")

    (tmp_path / "junk").write_text("hello")
    with inspect(str(tmp_path / "junk")) as dest:
        assert dest.exists and dest.public_key is None and dest.read_error


def within(seconds, func, *args):
    """func(*args), failing the test instead of hanging when it blocks (a FIFO opened for reading would)."""
    import signal

    def expired(_signum, _frame):
        raise AssertionError("blocked for %s s" % seconds)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        return func(*args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("name", ["k", "k.pub", "k.new", ".k.reservation", ".k.reservation.key"])
@pytest.mark.parametrize("kind", ["FIFO", "socket"])
def test_special_files_fail_at_once(tmp_path, name, kind):
    """A FIFO or a socket at any name the destination uses: a clear error at once, never a hang (a FIFO at
    <path>.pub used to block the task forever, holding the directory lock)."""
    import socket

    path = str(tmp_path / name)
    if kind == "FIFO":
        os.mkfifo(path)
    else:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(path)
    with pytest.raises(KeyFileError, match=r"%s is a %s|it is a %s" % (name.replace(".", r"\."), kind, kind)):
        within(5, inspect, str(tmp_path / "k"))


def foreign(path):
    os.lchown(str(path), 65534, 65534)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="another user's files need root (CI runs as root)")


@needs_root
def test_a_link_someone_else_planted_is_never_followed(tmp_path, rsa_pem):
    """The attack: in a sticky world-writable directory (/tmp), another user plants key -> a file of yours. The
    link is not followed, whatever it points to; the target is not touched."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    victim = tmp_path / "authorized_keys"
    victim.write_text("ssh-rsa AAAA precious\n")
    os.symlink(str(victim), str(shared / "deploy_key"))
    foreign(shared / "deploy_key")
    with pytest.raises(KeyFileError, match="symbolic link that another user could have made .* not followed"):
        inspect(str(shared / "deploy_key"))
    os.symlink(str(victim), str(shared / "mine"))  # even a link of yours: others can write this directory
    with pytest.raises(KeyFileError, match="not followed"):
        inspect(str(shared / "mine"))
    assert victim.read_text() == "ssh-rsa AAAA precious\n"


@needs_root
def test_directories_others_could_swap_files_in_are_refused(tmp_path):
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)  # no sticky bit
    with pytest.raises(KeyFileError, match="can be written by others .*0777"):
        inspect(str(open_dir / "k"))
    group = tmp_path / "group"
    group.mkdir()
    os.chmod(group, 0o770)
    with pytest.raises(KeyFileError, match="can be written by others"):
        inspect(str(group / "k"))
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    foreign(theirs)
    with pytest.raises(KeyFileError, match="belongs to nobody .*uid 65534"):
        inspect(str(theirs / "k"))
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)  # like /tmp: usable, names in it are judged one by one
    with inspect(str(sticky / "k")) as dest:
        assert dest.exists is False
    (sticky / "k.pub").write_text("ssh-rsa AAAA theirs\n")
    foreign(sticky / "k.pub")
    with pytest.raises(KeyFileError, match="k.pub belongs to nobody"):
        inspect(str(sticky / "k"))


@needs_root
def test_a_planted_link_in_the_directory_path_is_not_followed(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    target = tmp_path / "secret"
    target.mkdir()
    os.symlink(str(target), str(shared / "keys"))
    foreign(shared / "keys")
    with pytest.raises(KeyFileError, match="keys is a symbolic link .* not followed"):
        inspect(str(shared / "keys" / "k"))
    os.symlink(str(target), str(tmp_path / "own"))  # yours, in a directory only you write: followed
    with inspect(str(tmp_path / "own" / "k")) as dest:
        assert dest.dir.path == str(target)


@pytest.fixture
def unwritable_dir(tmp_path):
    """A directory nobody may create files in: mode 0500, and for root (who ignores modes) the immutable flag."""
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(locked)], check=True, capture_output=True)
    yield locked
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(locked)], check=True, capture_output=True)
    os.chmod(locked, 0o700)


def record(where, **changes):
    import socket
    import time

    made = {"version": 1, "name": "k", "key_pair": "k", "region": "ap-guangzhou", "endpoint": "https://x/",
            "project_id": 0, "path": str(where), "time": round(time.time(), 3), "timeout": 30.0,
            "pid": os.getpid(), "host": socket.gethostname()}
    made.update(changes)
    return made


def test_unwritable_directory_is_found_by_the_reservation(unwritable_dir):
    dest = inspect(str(unwritable_dir / "k"))  # exists: reading is enough here
    with pytest.raises(KeyFileError, match="cannot write in .*locked"):
        _reservation.Reservation(dest, record(unwritable_dir / "k")).__enter__()
    assert os.listdir(unwritable_dir) == []


def test_proc_is_found_by_the_reservation():
    """As root, os.access says /proc is writable; creating a file there fails."""
    dest = inspect("/proc/deploy_key")
    with pytest.raises(KeyFileError, match="cannot write in /proc"):
        _reservation.Reservation(dest, record("/proc/deploy_key")).__enter__()


def test_reservation_lifecycle(tmp_path, rsa_pem):
    """reserved -> committed -> settled: the key written into its reserved blocks takes the record with it."""
    path = tmp_path / "k"
    with inspect(str(path)) as dest, _reservation.Reservation(dest, record(path)) as reservation:
        assert reservation.state == "reserved"
        assert sorted(os.listdir(tmp_path)) == [".k.pub.reservation", ".k.reservation", ".k.reservation.key"]
        assert os.path.getsize(reservation.key_tmp) == _reservation.RESERVED_BYTES  # the space is taken
        assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in reservation.present())
        with inspect(str(path)) as again:  # what a later run would see if this one died now
            assert again.record == record(path, time=again.record["time"])
            assert again.reserved_public_key is None
        reservation.commit()
        reservation.write_key(rsa_pem.encode(), 0o400)
        assert reservation.state == "settled" and ".k.reservation" not in os.listdir(tmp_path)
        assert path.read_text() == rsa_pem and stat.S_IMODE(os.stat(path).st_mode) == 0o400
        reservation.write_pub(b"ssh-rsa AAAA k\n")
    assert sorted(os.listdir(tmp_path)) == ["k", "k.pub"]


def test_reservation_kept_record_and_written_key(tmp_path, rsa_pem):
    """Left while committed (the process dies, or the outcome is uncertain): the record stays, the rest goes."""
    path = tmp_path / "k"
    made = record(path)
    with inspect(str(path)) as dest, _reservation.Reservation(dest, made) as reservation:
        reservation.commit()
        fd = reservation._fds.pop(reservation.key_name)  # the key written, the process killed before the rename
        os.write(fd, rsa_pem.encode())
        os.ftruncate(fd, len(rsa_pem))
        os.close(fd)
    assert sorted(os.listdir(tmp_path)) == [".k.reservation"]  # reserved files go, the record stays
    seen = inspect(str(path))
    assert seen.record == made and seen.reserved_public_key is None  # the reserved key is gone with it


def plant_record(tmp_path, content, owner=None, mode=0o600):
    path = tmp_path / ".k.reservation"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    os.chmod(path, mode)
    if owner is not None:
        os.chown(str(path), owner, owner)
    return path


@pytest.mark.parametrize("case,changes,match", [
    ("other host", {"host": "elsewhere"}, "written on host 'elsewhere'"),
    ("future", {"time": 4102444800.0}, "its time lies in the future"),
    ("wide window", {"timeout": 1e9}, "its timeout is not between"),
    ("other file", {"path": "/etc/passwd"}, "it names another file"),
    ("wrong type", {"time": "yesterday"}, "time is not of the right type"),
    ("extra field", {"extra": 1}, "not a record of this collection"),
])
def test_implausible_records_are_not_trusted(tmp_path, case, changes, match):
    plant_record(tmp_path, record(tmp_path / "k", **changes))
    with pytest.raises(KeyFileError, match=match) as refused:
        inspect(str(tmp_path / "k"))
    assert refused.value.code == "UntrustedRecord", case


@needs_root
def test_another_users_record_is_not_trusted(tmp_path):
    plant_record(tmp_path, record(tmp_path / "k"), owner=65534)
    with pytest.raises(KeyFileError, match="belongs to nobody .*not trusted") as refused:
        inspect(str(tmp_path / "k"))
    assert refused.value.code == "UntrustedRecord"


def test_a_record_cut_short_means_nothing_was_sent(tmp_path):
    plant_record(tmp_path, '{"version": 1, "name": "k", "key_')
    with inspect(str(tmp_path / "k")) as dest:
        assert dest.record == {}


def test_a_linked_record_is_refused(tmp_path):
    (tmp_path / "elsewhere").write_text(json.dumps(record(tmp_path / "k")))
    os.symlink(str(tmp_path / "elsewhere"), str(tmp_path / ".k.reservation"))
    with pytest.raises(KeyFileError, match=r"\.k\.reservation is a symbolic link"):
        inspect(str(tmp_path / "k"))


def test_generated_key_checks(rsa_pem):
    public = _keys.public_key_of_private(rsa_pem.encode())
    _keys.check_generated_key(rsa_pem, public)
    other = _keys.public_key_of_private(_keys.private_key_bytes(rsa_pem))  # the same key: fine
    _keys.check_generated_key(rsa_pem, other)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stranger_public = stranger.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                         serialization.PublicFormat.OpenSSH).decode()
    with pytest.raises(KeyFileError, match="does not belong to its PublicKey"):
        _keys.check_generated_key(rsa_pem, stranger_public)
    with pytest.raises(KeyFileError, match="not a valid unencrypted PEM"):
        _keys.check_generated_key("-----BEGIN RSA " + "PRIVATE KEY-----\nAAAA\n", public)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()).decode()
    with pytest.raises(KeyFileError, match="at least 2048 bits"):
        _keys.check_generated_key(small, public)
    curve = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()).decode()
    with pytest.raises(KeyFileError, match="not an RSA key"):
        _keys.check_generated_key(curve, public)


def test_staging_file_in_the_way(tmp_path, rsa_pem):
    (tmp_path / "k.new").write_text("not a key")
    with pytest.raises(KeyFileError, match=r"k.new is in the way: .*not a private key"):
        inspect(str(tmp_path / "k"))
    (tmp_path / "k.new").write_text(rsa_pem)
    dest = inspect(str(tmp_path / "k"))
    assert dest.staged_public_key == _keys.public_key_of_private(rsa_pem.encode())


def test_existing_file_mode_encryption_and_pub(tmp_path, rsa_pem):
    path = tmp_path / "k"
    path.write_text(rsa_pem)
    os.chmod(path, 0o644)
    dest = inspect(str(path))
    assert (dest.mode, dest.encrypted, dest.pub_exists) == (0o644, False, False)
    public = _keys.public_key_of_private(rsa_pem.encode())
    (tmp_path / "k.pub").write_bytes(_keys.public_key_line(public, "k"))
    path.write_bytes(_keys.encrypted_copy(path.read_bytes(), "pass-phrase"))
    dest = inspect(str(path), "pass-phrase")
    assert dest.encrypted is True and dest.public_key == public and dest.pub_blob == public.split()[1]
    with pytest.raises(KeyFileError, match="encrypted; give its passphrase"):
        inspect(str(path))


def test_encrypted_openssh_key_without_bcrypt_is_a_clear_error(tmp_path):
    path = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "pass-phrase", "-f", str(path)], check=True)
    try:
        import bcrypt  # noqa: F401 - with bcrypt installed cryptography reads the key, and there is no error
    except ImportError:
        with pytest.raises(KeyFileError, match="needs the Python package bcrypt"):
            inspect(str(path), "pass-phrase")
    else:
        assert inspect(str(path), "pass-phrase").encrypted is True


@pytest.mark.parametrize("text,match", [
    ("garbage", "not an OpenSSH public key"),
    ("ssh-rsa !!!", "not valid base64"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x", "only OpenSSH RSA"),
    ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ", "not valid base64|truncated|corrupt"),
    (PEM_BEGIN + "\nMIIE\n" + PEM_END, "holds a private key"),
    ("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", "does not match its type"),
])
def test_public_key_validation(text, match):
    with pytest.raises(KeyFileError, match=match):
        _keys.parse_rsa_public_key(text)
