# SPDX-License-Identifier: GPL-3.0-or-later
"""Directories and files reached by descriptors (_core/files.py): open_directory judges a path as OpenSSH's
StrictModes does, and KeyDir never acts through a name someone else could have swapped. Real files under tmp_path;
another user's files are made with os.chown to uid 65534 (CI runs as root)."""

import errno
import os
import stat

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.files import (
    KeyFileError, MissingDirectory, file_kind, open_directory, owner_of, trusted_link,
)
import pytest

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="another user's files need root (CI runs as root)")


def directory(path, mode=0o700):
    path.mkdir()
    os.chmod(str(path), mode)
    return path


def foreign(path):
    os.lchown(str(path), NOBODY, NOBODY)


def refused(path):
    with pytest.raises(KeyFileError) as info:
        open_directory(str(path))
    return str(info.value)


# --- open_directory: the walk and the judgement -----------------------------------------------------------

def test_a_directory_of_yours_is_opened_and_private(tmp_path):
    keys = directory(tmp_path / "keys")
    with open_directory(str(keys) + "/./") as where:
        assert where.path == str(keys)
        assert where.private is True
        assert stat.S_ISDIR(os.fstat(where.fd).st_mode)
    assert where.fd == -1  # closed by the with block


def test_a_sticky_directory_others_can_write_is_usable_but_not_private(tmp_path):
    shared = directory(tmp_path / "shared", 0o1777)
    with open_directory(str(shared)) as where:
        assert where.path == str(shared) and where.private is False


@pytest.mark.parametrize("mode", [0o770, 0o720, 0o702, 0o777])
def test_a_directory_others_can_write_without_the_sticky_bit_is_refused(tmp_path, mode):
    loose = directory(tmp_path / "loose", mode)
    assert refused(loose) == ("the directory %s can be written by others (mode %04o, no sticky bit), who could swap "
                              "files in it under you; use a directory only you can write" % (loose, mode))


@needs_root
def test_a_directory_of_another_user_is_refused(tmp_path):
    theirs = directory(tmp_path / "theirs")
    foreign(theirs)
    assert refused(theirs) == ("the directory %s belongs to nobody (uid 65534), who could swap files in it under "
                               "you; use a directory of your own" % theirs)


def test_a_link_of_yours_in_a_private_directory_is_followed(tmp_path):
    target = directory(tmp_path / "real")
    os.symlink(str(target), str(tmp_path / "alias"))  # absolute target
    os.symlink("real", str(tmp_path / "relative"))
    for name in ("alias", "relative"):
        with open_directory(str(tmp_path / name)) as where:
            assert where.path == str(target)


def test_a_link_in_a_directory_others_can_write_is_not_followed(tmp_path):
    shared = directory(tmp_path / "shared", 0o1777)
    target = directory(tmp_path / "secret")
    os.symlink(str(target), str(shared / "keys"))  # yours, but anyone could have swapped it for another
    message = refused(shared / "keys")
    assert message.startswith("%s is a symbolic link that another user could have made or changed" % (shared / "keys"))
    assert message.endswith("in a directory others can write): it is not followed")


@needs_root
def test_a_link_another_user_planted_is_not_followed(tmp_path):
    shared = directory(tmp_path / "shared", 0o1777)
    os.symlink(str(directory(tmp_path / "secret")), str(shared / "keys"))
    foreign(shared / "keys")
    assert refused(shared / "keys" / "deeper") == (
        "%s is a symbolic link that another user could have made or changed (it belongs to nobody (uid 65534), in a "
        "directory others can write): it is not followed" % (shared / "keys"))


def test_what_is_missing_or_not_a_directory(tmp_path):
    with pytest.raises(MissingDirectory, match="^the directory %s/absent/x does not exist$" % tmp_path):
        open_directory(str(tmp_path / "absent" / "x"))
    (tmp_path / "file").write_text("x")
    assert refused(tmp_path / "file" / "x") == "%s is not a directory" % (tmp_path / "file")


def test_a_loop_of_links_ends(tmp_path):
    os.symlink("b", str(tmp_path / "a"))
    os.symlink("a", str(tmp_path / "b"))
    assert refused(tmp_path / "a") == "too many symbolic links in %s" % (tmp_path / "a")


# --- KeyDir: names in an opened directory ------------------------------------------------------------------

def test_regular_says_what_is_in_the_way(tmp_path):
    os.mkfifo(str(tmp_path / "fifo"))
    os.symlink("k", str(tmp_path / "link"))
    (tmp_path / "dir").mkdir()
    (tmp_path / "k").write_text("key")
    with open_directory(str(tmp_path)) as where:
        assert where.regular("absent") is None
        assert where.regular("k").st_size == 3
        with pytest.raises(KeyFileError, match=r"^%s is a FIFO \(named pipe\) \(where the private key goes\); move it "
                                               r"away$" % (tmp_path / "fifo")):
            where.regular("fifo", "the private key")
        with pytest.raises(KeyFileError, match="^%s is a symbolic link; move it away$" % (tmp_path / "link")):
            where.regular("link")
        with pytest.raises(KeyFileError, match="^%s is a directory; move it away$" % (tmp_path / "dir")):
            where.regular("dir")


@needs_root
def test_regular_refuses_another_users_file(tmp_path):
    (tmp_path / "k").write_text("key")
    foreign(tmp_path / "k")
    with open_directory(str(tmp_path)) as where:
        with pytest.raises(KeyFileError, match=r"^%s belongs to nobody \(uid 65534\), not to you; move it away$"
                           % (tmp_path / "k")):
            where.regular("k")


def test_read_is_bounded_and_checks_the_file_it_opened(tmp_path):
    (tmp_path / "k").write_bytes(b"x" * 10)
    (tmp_path / "other").write_bytes(b"y")
    os.symlink("k", str(tmp_path / "k-link"))
    with open_directory(str(tmp_path)) as where:
        assert where.read("k", 10) == b"x" * 10
        with pytest.raises(KeyFileError, match="^%s is larger than 9 bytes: not a key file$" % (tmp_path / "k")):
            where.read("k", 9)
        with pytest.raises(KeyFileError, match="^%s changed while it was being read; run the task again$"
                           % (tmp_path / "k")):
            where.read("k", 10, expect=where.lstat("other"))
        with pytest.raises(OSError) as info:
            where.read("k-link", 10)
        assert info.value.errno == errno.ELOOP  # O_NOFOLLOW: a link to the key is not read as the key


def test_write_new_replaces_a_link_and_never_writes_through_it(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    os.symlink(str(victim), str(tmp_path / "k"))
    with open_directory(str(tmp_path)) as where:
        where.write_new("k", b"new key\n", 0o600)
    assert victim.read_text() == "precious\n"
    info = os.lstat(str(tmp_path / "k"))
    assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600
    assert (tmp_path / "k").read_bytes() == b"new key\n"
    assert sorted(os.listdir(str(tmp_path))) == ["k", "victim"]  # no temporary file left


def test_create_rename_and_unlink_stay_in_the_directory(tmp_path):
    os.symlink(str(tmp_path / "elsewhere"), str(tmp_path / "link"))
    with open_directory(str(tmp_path)) as where:
        fd = where.create("new", 0o400)
        os.close(fd)
        assert stat.S_IMODE(os.stat(str(tmp_path / "new")).st_mode) == 0o400
        with pytest.raises(FileExistsError):
            where.create("new")
        with pytest.raises(FileExistsError):
            where.create("link")  # O_EXCL: a dangling link is not created through
        assert not (tmp_path / "elsewhere").exists()
        where.rename("new", "renamed")
        assert where.unlink("renamed") is True
        assert where.unlink("renamed") is False
    assert sorted(os.listdir(str(tmp_path))) == ["link"]


def test_close_is_once(tmp_path):
    where = open_directory(str(tmp_path))
    fd = where.fd
    where.close()
    where.close()
    assert where.fd == -1
    with pytest.raises(OSError):
        os.fstat(fd)


# --- the small judgements --------------------------------------------------------------------------------

def test_file_kind_and_owner(tmp_path):
    os.mkfifo(str(tmp_path / "fifo"))
    assert file_kind(os.lstat(str(tmp_path / "fifo"))) == "a FIFO (named pipe)"
    assert file_kind(os.lstat(str(tmp_path))) == "a directory"
    assert file_kind(os.lstat("/dev/null")) == "a character device"
    assert owner_of(os.lstat(str(tmp_path))).endswith("(uid %d)" % os.geteuid())


def test_a_link_is_trusted_only_when_yours_in_a_private_directory(tmp_path):
    private = directory(tmp_path / "private")
    shared = directory(tmp_path / "shared", 0o1777)
    for parent in (private, shared):
        os.symlink("x", str(parent / "link"))
    with open_directory(str(private)) as mine, open_directory(str(shared)) as theirs:
        assert trusted_link(mine.lstat("link"), mine) is True
        assert trusted_link(theirs.lstat("link"), theirs) is False
