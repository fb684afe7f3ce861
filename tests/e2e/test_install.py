"""`cmake --install` of the build the tests run on: standard paths, every documented file there,
the installed programs runnable, the man pages rendering without warnings."""

import os
import shutil
import subprocess
import tempfile
import unittest

import harness

# The build directory holding the binary under test (BUILD/daemon/wardenftpd).
BUILD = os.path.dirname(os.path.dirname(os.path.abspath(harness.BINARY)))

EXPECTED = [
    "sbin/wardenftpd",
    "sbin/wardenftpd-session",
    "sbin/wardenftpd-passwd",
    "sbin/wardenftpd-ctl",
    "share/man/man8/wardenftpd.8",
    "share/man/man5/wardenftpd.conf.5",
    "share/man/man1/wardenftpd-passwd.1",
    "share/man/man8/wardenftpd-ctl.8",
    "share/doc/wardenftpd/wardenftpd.conf.sample",
    "share/doc/wardenftpd/README.md",
    "share/doc/wardenftpd/SECURITY.md",
    "lib/systemd/system/wardenftpd.service",
    "lib/systemd/system/wardenftpd.socket",
    "lib/systemd/system/wardenftpd-inetd.socket",
    "lib/systemd/system/wardenftpd-inetd@.service",
    "libexec/wardenftpd-pam-helper",
    "lib/sysusers.d/wardenftpd.conf",
    "lib/tmpfiles.d/wardenftpd.conf",
]
# PAM reads /etc/pam.d whatever the prefix: installed there (under DESTDIR) as an absolute path.
EXPECTED_ABSOLUTE = ["etc/pam.d/wardenftpd", "etc/fail2ban/filter.d/wardenftpd.conf",
                     "etc/fail2ban/jail.d/wardenftpd.conf", "etc/logrotate.d/wardenftpd",
                     "etc/wardenftpd/wardenftpd.conf"]


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.prefix = tempfile.mkdtemp(prefix="wftpd-install-", dir="/tmp")

    def tearDown(self):
        shutil.rmtree(self.prefix, ignore_errors=True)

    def test_cmake_install_puts_every_file_in_its_standard_place(self):
        # A staged install (DESTDIR), as a package build does: nothing lands outside it, not even
        # the absolute /etc/pam.d path.
        prefix = None
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_INSTALL_PREFIX:"):
                    prefix = line.split("=", 1)[1].strip()
        self.assertTrue(prefix and prefix.startswith("/"), prefix)
        staged = self.prefix + prefix
        result = subprocess.run(["cmake", "--install", BUILD], capture_output=True, text=True,
                                timeout=120, env=dict(os.environ, DESTDIR=self.prefix))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        for path in EXPECTED:
            self.assertTrue(os.path.isfile(os.path.join(staged, path)), path)
        for path in EXPECTED_ABSOLUTE:
            self.assertTrue(os.path.isfile(os.path.join(self.prefix, path)), path)
        for program in ("sbin/wardenftpd", "sbin/wardenftpd-session", "sbin/wardenftpd-passwd",
                        "sbin/wardenftpd-ctl", "libexec/wardenftpd-pam-helper"):
            self.assertTrue(os.access(os.path.join(staged, program), os.X_OK), program)
        # The unit runs the installed binary.
        with open(os.path.join(staged, "lib/systemd/system/wardenftpd.service")) as f:
            self.assertIn("ExecStart=%s/sbin/wardenftpd" % prefix, f.read())
        version = subprocess.run([os.path.join(staged, "sbin", "wardenftpd"), "--version"],
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(version.returncode, 0, version.stderr)
        self.assertTrue(version.stdout.startswith("wardenftpd "), version.stdout)

    def staged_install(self):
        result = subprocess.run(["cmake", "--install", BUILD], capture_output=True, text=True,
                                timeout=120, env=dict(os.environ, DESTDIR=self.prefix))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            prefix = next(line.split("=", 1)[1].strip() for line in f
                          if line.startswith("CMAKE_INSTALL_PREFIX:"))
        return self.prefix + prefix

    def test_default_configuration_is_installed_once_and_never_overwritten(self):
        self.staged_install()
        conf = os.path.join(self.prefix, "etc/wardenftpd/wardenftpd.conf")
        with open(conf) as f, open(os.path.join(harness._REPO, "wardenftpd.conf.sample")) as g:
            self.assertEqual(f.read(), g.read())
        check = subprocess.run([harness.BINARY, "--check-config", conf], capture_output=True,
                               text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        with open(conf, "w") as f:
            f.write("listen_port=2121\n")  # the operator's own
        self.staged_install()
        with open(conf) as f:
            self.assertEqual(f.read(), "listen_port=2121\n")

    def test_tmpfiles_entry_makes_the_jail_directory(self):
        staged = self.staged_install()
        root = os.path.join(self.prefix, "root")
        os.makedirs(root)
        result = subprocess.run(["systemd-tmpfiles", "--create", "--root", root,
                                 os.path.join(staged, "lib/tmpfiles.d/wardenftpd.conf")],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        jail = os.stat(os.path.join(root, "run/wardenftpd/empty"))
        self.assertEqual((jail.st_uid, jail.st_mode & 0o7777), (0, 0o755))
        # And the daemon accepts it as secure_chroot_dir.
        conf = os.path.join(self.prefix, "check.conf")
        with open(conf, "w") as f:
            f.write("secure_chroot_dir=%s\n" % os.path.join(root, "run/wardenftpd/empty"))
        check = subprocess.run([harness.BINARY, "--check-config", conf], capture_output=True,
                               text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_sysusers_entry_creates_the_anonymous_account_only_if_missing(self):
        staged = self.staged_install()
        entry = os.path.join(staged, "lib/sysusers.d/wardenftpd.conf")
        for existing in ("", "ftp:x:101:101:mine:/srv/ftp:/usr/sbin/nologin\n"):
            root = tempfile.mkdtemp(dir=self.prefix)
            os.makedirs(os.path.join(root, "etc"))
            with open(os.path.join(root, "etc/passwd"), "w") as f:
                f.write("root:x:0:0:root:/root:/bin/bash\n" + existing)
            with open(os.path.join(root, "etc/group"), "w") as f:
                f.write("root:x:0:\n" + ("ftp:x:101:\n" if existing else ""))
            result = subprocess.run(["systemd-sysusers", "--root", root, entry],
                                    capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            with open(os.path.join(root, "etc/passwd")) as f:
                ftp = [line for line in f if line.startswith("ftp:")]
            self.assertEqual(len(ftp), 1, ftp)
            if existing:
                self.assertEqual(ftp[0], existing, "an existing account is left as it is")
            else:
                self.assertIn(":/srv/ftp:", ftp[0])

    def test_logrotate_entry_is_valid(self):
        self.staged_install()
        state = os.path.join(self.prefix, "logrotate.state")
        result = subprocess.run(["logrotate", "--debug", "--state", state,
                                 os.path.join(self.prefix, "etc/logrotate.d/wardenftpd")],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("considering log /var/log/xferlog", result.stdout + result.stderr)
        self.assertNotIn("error", (result.stdout + result.stderr).lower())

    def test_man_pages_render_without_warnings(self):
        pages = [os.path.join(harness._REPO, "man", name)
                 for name in ("wardenftpd.8", "wardenftpd.conf.5", "wardenftpd-passwd.1",
                              "wardenftpd-ctl.8")]
        for page in pages:
            result = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page],
                                    capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stderr.strip(), "", "%s: %s" % (page, result.stderr))


if __name__ == "__main__":
    unittest.main()
