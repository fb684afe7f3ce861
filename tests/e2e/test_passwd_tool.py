"""wardenftpd-passwd never rewrites a users file, or writes one into a directory, that the daemon
itself would refuse: it cannot copy entries someone else planted into a file the daemon then
accepts. Both make the same check (open_users_file in common/users_file.cpp), so each case is
run against the tool and against `wardenftpd --check-config`."""

import os
import shutil
import subprocess
import tempfile
import unittest

import harness

NOBODY = 65534


def passwd(users_file, *args, password="secret"):
    return subprocess.run([harness.PASSWD, "-f", users_file] + list(args),
                          input=(password + "\n").encode(), capture_output=True, timeout=60)


def add(users_file, name, uid=20501):
    return passwd(users_file, "add", name, "--uid", str(uid), "--gid", str(uid),
                  "--root", "/srv/" + name)


def snapshot(directory):
    """Every entry of `directory` with its owner, mode and content (symlinks: their target)."""
    result = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        st = os.lstat(path)
        if os.path.islink(path):
            content = os.readlink(path)
        elif os.path.isfile(path):
            with open(path, "rb") as f:
                content = f.read()
        else:
            content = None
        result[name] = (st.st_uid, st.st_mode, content)
    return result


class PasswdToolTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)
        self.base = tempfile.mkdtemp(prefix="wftpd-passwd-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.addCleanup(shutil.rmtree, self.base, True)
        self.empty = os.path.join(self.base, "empty")
        # A users line with a real hash, as an attacker would plant it.
        good = self.directory("good")
        result = add(os.path.join(good, "users"), "mallory", uid=20666)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(good, "users"), "rb") as f:
            self.planted = f.read()
        self.assertIn(b"mallory:", self.planted)

    def directory(self, name, mode=0o755, owner=0):
        path = os.path.join(self.base, name)
        os.makedirs(path)
        os.chown(path, owner, owner)
        os.chmod(path, mode)
        return path

    def plant(self, path, mode=0o600, owner=0):
        with open(path, "wb") as f:
            f.write(self.planted)
        os.chown(path, owner, owner)
        os.chmod(path, mode)

    def daemon_accepts(self, users_file):
        config = os.path.join(self.base, "wardenftpd.conf")
        with open(config, "w") as f:
            f.write("listen_address=127.0.0.1\nlisten_port=2121\nsecure_chroot_dir=%s\n"
                    "users_file=%s\n" % (self.empty, users_file))
        result = subprocess.run([harness.BINARY, "--check-config", config], capture_output=True,
                                text=True, timeout=60)
        return result.returncode == 0, result.stdout + result.stderr

    def assert_both_refuse(self, users_file, message):
        """The daemon refuses the file (or, for a missing one, would refuse one there), and
        every command of the tool refuses it without changing or creating anything."""
        directory = os.path.dirname(users_file)
        before = snapshot(directory)
        if os.path.lexists(users_file):
            accepted, output = self.daemon_accepts(users_file)
            self.assertFalse(accepted, output)
            self.assertIn(message, output)
        for result in (add(users_file, "alice"), passwd(users_file, "delete", "mallory"),
                       passwd(users_file, "list")):
            self.assertEqual(result.returncode, 1, result)
            self.assertIn(message, result.stderr.decode())
            self.assertNotIn(b"mallory", result.stdout)
        self.assertEqual(snapshot(directory), before, "the tool changed %s" % directory)

    def test_a_file_the_daemon_accepts_is_rewritten_and_stays_acceptable(self):
        users = os.path.join(self.directory("etc"), "users")
        self.assertEqual(add(users, "alice").returncode, 0)
        self.plant(users)  # a root-owned 0600 file, as the tool writes it
        os.chmod(users, 0o640)
        result = add(users, "bob", uid=20502)
        self.assertEqual(result.returncode, 0, result.stderr)
        st = os.stat(users)
        self.assertEqual((st.st_uid, st.st_mode & 0o7777), (0, 0o600))
        accepted, output = self.daemon_accepts(users)
        self.assertTrue(accepted, output)
        listed = passwd(users, "list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn(b"mallory\t", listed.stdout)
        self.assertIn(b"bob\t", listed.stdout)
        self.assertEqual(passwd(users, "delete", "mallory").returncode, 0)

    def test_a_file_someone_else_owns_is_never_copied_into_one_of_roots(self):
        # The planted file belongs to another user: the tool used to read it, add its user and
        # write the result as root, mode 0600, which the daemon then accepted.
        users = os.path.join(self.directory("etc"), "users")
        self.plant(users, owner=NOBODY)
        self.assert_both_refuse(users, "must be a regular file owned by root, mode 0600 or 0640")
        self.assertEqual(os.stat(users).st_uid, NOBODY)

    def test_a_file_group_or_others_may_read_or_write_is_refused(self):
        for mode in (0o644, 0o620, 0o666, 0o604):
            users = os.path.join(self.directory("etc-%o" % mode), "users")
            self.plant(users, mode=mode)
            self.assert_both_refuse(users, "must be a regular file owned by root, mode 0600 or 0640")

    def test_a_symlink_is_refused(self):
        target = os.path.join(self.directory("elsewhere"), "users")
        self.plant(target)
        users = os.path.join(self.directory("etc"), "users")
        os.symlink(target, users)
        self.assert_both_refuse(users, "Too many levels of symbolic links")
        self.assertTrue(os.path.islink(users))

    def test_a_directory_someone_else_can_write_is_refused(self):
        rule = "must be a directory (not a symlink) owned by root and not writable by group or others"
        cases = [("world-writable", 0o777, 0), ("sticky like /tmp", 0o1777, 0),
                 ("group-writable", 0o775, 0), ("owned by nobody", 0o755, NOBODY)]
        for name, mode, owner in cases:
            directory = self.directory(name, mode=mode, owner=owner)
            users = os.path.join(directory, "users")
            self.plant(users)  # root-owned and 0600: only its directory is wrong
            self.assert_both_refuse(users, rule)
            # No file there yet: nothing is created either (no users file, lock or temporary).
            self.assert_both_refuse(os.path.join(directory, "new-users"), rule)
        # A symlink to a good directory.
        good = self.directory("real")
        self.plant(os.path.join(good, "users"))
        linked = os.path.join(self.base, "linked")
        os.symlink(good, linked)
        self.assert_both_refuse(os.path.join(linked, "users"), rule)


if __name__ == "__main__":
    unittest.main()
