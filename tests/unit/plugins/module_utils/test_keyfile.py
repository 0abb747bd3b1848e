# SPDX-License-Identifier: GPL-3.0-or-later
"""Local key files: destination checks, fingerprints, atomic writes, backups."""

import base64
import hashlib
import os
import stat
import subprocess

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _keyfile
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keyfile import KeyFileError
from helpers import PEM_BEGIN, PEM_END


@pytest.fixture(scope="module")
def rsa_pem():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def test_fingerprint_matches_ssh_keygen(tmp_path, rsa_pem):
    public = _keyfile.public_key_of_private(rsa_pem.encode())
    (tmp_path / "k.pub").write_text(public + " comment\n")
    out = subprocess.run(["ssh-keygen", "-lf", str(tmp_path / "k.pub")], capture_output=True, text=True, check=True)
    assert out.stdout.split()[1] == _keyfile.fingerprint(public)
    blob = base64.b64decode(public.split()[1])
    assert _keyfile.fingerprint(public) == "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def test_passphrase_file_is_encrypted_pkcs8_and_opens_with_ssh_keygen(tmp_path, rsa_pem):
    data = _keyfile.private_key_bytes(rsa_pem, "correct horse")
    assert data.startswith(("-----BEGIN ENCRYPTED " + "PRIVATE KEY-----").encode())
    path = tmp_path / "k"
    _keyfile.atomic_write(str(path), data, 0o600)
    out = subprocess.run(["ssh-keygen", "-y", "-P", "correct horse", "-f", str(path)], capture_output=True,
                         text=True, check=True)
    assert out.stdout.split()[1] == _keyfile.public_key_of_private(rsa_pem.encode()).split()[1]
    assert _keyfile.public_key_of_private(data, "correct horse").split()[1] == out.stdout.split()[1]
    with pytest.raises(KeyFileError, match="passphrase"):
        _keyfile.public_key_of_private(data, None)
    with pytest.raises(KeyFileError, match="decrypted"):
        _keyfile.public_key_of_private(data, "wrong passphrase")


def test_atomic_write_mode_and_no_temp_left(tmp_path):
    path = tmp_path / "key"
    _keyfile.atomic_write(str(path), b"secret", 0o400)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o400 and path.read_bytes() == b"secret"
    assert os.listdir(tmp_path) == ["key"]


def test_atomic_write_failure_mid_way_leaves_old_file_and_no_temp(tmp_path):
    path = tmp_path / "key"
    path.write_bytes(b"old")

    def broken_writer(handle, data):
        handle.write(data[:3])
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left on device"):
        _keyfile.atomic_write(str(path), b"new key material", 0o600, writer=broken_writer)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["key"]


def test_temp_file_is_private_while_written(tmp_path):
    seen = {}

    def spy(handle, data):
        seen["mode"] = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        handle.write(data)

    _keyfile.atomic_write(str(tmp_path / "k"), b"x", 0o600, writer=spy)
    assert seen["mode"] == 0o600


def test_backup(tmp_path):
    path = tmp_path / "key"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    backup = _keyfile.backup_file(str(path))
    assert open(backup, "rb").read() == b"old" and backup.endswith("~")
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600


def test_destination_checks(tmp_path, rsa_pem):
    with pytest.raises(KeyFileError, match="does not exist"):
        _keyfile.inspect_destination(str(tmp_path / "missing" / "k"))
    (tmp_path / "dir").mkdir()
    with pytest.raises(KeyFileError, match="is a directory"):
        _keyfile.inspect_destination(str(tmp_path / "dir"))
    os.symlink(str(tmp_path / "nowhere"), str(tmp_path / "dangling"))
    with pytest.raises(KeyFileError, match="dangling"):
        _keyfile.inspect_destination(str(tmp_path / "dangling"))
    os.symlink("/dev/null", str(tmp_path / "devnull"))
    with pytest.raises(KeyFileError, match="not a regular file"):
        _keyfile.inspect_destination(str(tmp_path / "devnull"))
    (tmp_path / "k.pub").mkdir()
    with pytest.raises(KeyFileError, match="k.pub is a directory"):
        _keyfile.inspect_destination(str(tmp_path / "k"))

    (tmp_path / "real").write_text(rsa_pem)
    os.symlink(str(tmp_path / "real"), str(tmp_path / "link"))
    dest = _keyfile.inspect_destination(str(tmp_path / "link"))
    assert dest.target == str(tmp_path / "real") and dest.exists and dest.public_key.startswith("ssh-rsa ")

    (tmp_path / "junk").write_text("hello")
    dest = _keyfile.inspect_destination(str(tmp_path / "junk"))
    assert dest.exists and dest.public_key is None and dest.read_error


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


RECORD = {"key_pair": "k", "time": 0}


def test_unwritable_directory_is_found_by_the_reservation(unwritable_dir):
    dest = _keyfile.inspect_destination(str(unwritable_dir / "k"))  # exists: reading is enough here
    with pytest.raises(KeyFileError, match="cannot write in .*locked"):
        _keyfile.Reservation(dest).reserve(RECORD)
    assert os.listdir(unwritable_dir) == []


def test_proc_is_found_by_the_reservation():
    """As root, os.access says /proc is writable; creating a file there fails."""
    dest = _keyfile.inspect_destination("/proc/deploy_key")
    with pytest.raises(KeyFileError, match="cannot write in /proc"):
        _keyfile.Reservation(dest).reserve(RECORD)


def test_reservation_lifecycle(tmp_path, rsa_pem):
    path = tmp_path / "k"
    dest = _keyfile.inspect_destination(str(path))
    reservation = _keyfile.Reservation(dest)
    reservation.reserve(dict(RECORD, path=str(path)))
    assert sorted(os.listdir(tmp_path)) == [".k.pub.reservation", ".k.reservation", ".k.reservation.key"]
    assert os.path.getsize(reservation.key_tmp) == _keyfile.Reservation.RESERVED_BYTES  # the space is taken
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in reservation.files())
    again = _keyfile.inspect_destination(str(path))  # what a later run would see if this one died now
    assert again.reservation == dict(RECORD, path=str(path)) and again.reserved_public_key is None
    reservation.write_key(rsa_pem.encode(), 0o400, str(path))
    assert path.read_text() == rsa_pem and stat.S_IMODE(os.stat(path).st_mode) == 0o400
    reservation.write_pub(b"ssh-rsa AAAA k\n")
    reservation.done()
    reservation.release()
    assert sorted(os.listdir(tmp_path)) == ["k", "k.pub"]


def test_reservation_kept_record_and_written_key(tmp_path, rsa_pem):
    path = tmp_path / "k"
    reservation = _keyfile.Reservation(_keyfile.inspect_destination(str(path)))
    reservation.reserve(RECORD)
    fd = reservation._fds.pop(reservation.key_tmp)  # the key written, the process killed before the rename
    os.write(fd, rsa_pem.encode())
    os.ftruncate(fd, len(rsa_pem))
    os.close(fd)
    reservation.release(keep_record=True)
    assert sorted(os.listdir(tmp_path)) == [".k.reservation"]  # reserved files go, the record stays
    seen = _keyfile.inspect_destination(str(path))
    assert seen.reservation == RECORD and seen.reserved_public_key is None  # the reserved key is gone with it


def test_staging_file_in_the_way(tmp_path, rsa_pem):
    (tmp_path / "k.new").write_text("not a key")
    with pytest.raises(KeyFileError, match=r"k.new is in the way: .*not a private key"):
        _keyfile.inspect_destination(str(tmp_path / "k"))
    (tmp_path / "k.new").write_text(rsa_pem)
    dest = _keyfile.inspect_destination(str(tmp_path / "k"))
    assert dest.staged_public_key == _keyfile.public_key_of_private(rsa_pem.encode())


def test_existing_file_mode_encryption_and_pub(tmp_path, rsa_pem):
    path = tmp_path / "k"
    path.write_text(rsa_pem)
    os.chmod(path, 0o644)
    dest = _keyfile.inspect_destination(str(path))
    assert (dest.mode, dest.encrypted, dest.pub_exists) == (0o644, False, False)
    public = _keyfile.public_key_of_private(rsa_pem.encode())
    (tmp_path / "k.pub").write_bytes(_keyfile.public_key_line(public, "k"))
    path.write_bytes(_keyfile.encrypted_copy(str(path), "pass-phrase"))
    dest = _keyfile.inspect_destination(str(path), "pass-phrase")
    assert dest.encrypted is True and dest.public_key == public and dest.pub_blob == public.split()[1]
    with pytest.raises(KeyFileError, match="encrypted; give its passphrase"):
        _keyfile.inspect_destination(str(path))


def test_encrypted_openssh_key_without_bcrypt_is_a_clear_error(tmp_path):
    path = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "pass-phrase", "-f", str(path)], check=True)
    try:
        import bcrypt  # noqa: F401 - with bcrypt installed cryptography reads the key, and there is no error
    except ImportError:
        with pytest.raises(KeyFileError, match="needs the Python package bcrypt"):
            _keyfile.inspect_destination(str(path), "pass-phrase")
    else:
        assert _keyfile.inspect_destination(str(path), "pass-phrase").encrypted is True


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
        _keyfile.parse_rsa_public_key(text)
