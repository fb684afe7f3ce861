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
    "share/man/man8/wardenftpd.8",
    "share/man/man5/wardenftpd.conf.5",
    "share/man/man1/wardenftpd-passwd.1",
    "share/doc/wardenftpd/wardenftpd.conf.sample",
    "share/doc/wardenftpd/README.md",
    "share/doc/wardenftpd/SECURITY.md",
    "lib/systemd/system/wardenftpd.service",
    "lib/systemd/system/wardenftpd.socket",
    "lib/systemd/system/wardenftpd-inetd.socket",
    "lib/systemd/system/wardenftpd-inetd@.service",
    "libexec/wardenftpd-pam-helper",
]
# PAM reads /etc/pam.d whatever the prefix: installed there (under DESTDIR) as an absolute path.
EXPECTED_ABSOLUTE = ["etc/pam.d/wardenftpd"]


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
                        "libexec/wardenftpd-pam-helper"):
            self.assertTrue(os.access(os.path.join(staged, program), os.X_OK), program)
        # The unit runs the installed binary.
        with open(os.path.join(staged, "lib/systemd/system/wardenftpd.service")) as f:
            self.assertIn("ExecStart=%s/sbin/wardenftpd" % prefix, f.read())
        version = subprocess.run([os.path.join(staged, "sbin", "wardenftpd"), "--version"],
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(version.returncode, 0, version.stderr)
        self.assertTrue(version.stdout.startswith("wardenftpd "), version.stdout)

    def test_man_pages_render_without_warnings(self):
        pages = [os.path.join(harness._REPO, "man", name)
                 for name in ("wardenftpd.8", "wardenftpd.conf.5", "wardenftpd-passwd.1")]
        for page in pages:
            result = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page],
                                    capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stderr.strip(), "", "%s: %s" % (page, result.stderr))


if __name__ == "__main__":
    unittest.main()
