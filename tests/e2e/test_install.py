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
]


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.prefix = tempfile.mkdtemp(prefix="wftpd-install-", dir="/tmp")

    def tearDown(self):
        shutil.rmtree(self.prefix, ignore_errors=True)

    def test_cmake_install_puts_every_file_in_its_standard_place(self):
        result = subprocess.run(["cmake", "--install", BUILD, "--prefix", self.prefix],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        for path in EXPECTED:
            self.assertTrue(os.path.isfile(os.path.join(self.prefix, path)), path)
        for program in ("sbin/wardenftpd", "sbin/wardenftpd-passwd"):
            self.assertTrue(os.access(os.path.join(self.prefix, program), os.X_OK), program)
        version = subprocess.run([os.path.join(self.prefix, "sbin", "wardenftpd"), "--version"],
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
