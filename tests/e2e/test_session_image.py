"""Which image a session runs: wardenftpd-session (no TLS, no OpenSSL) for configurations
without tls_enable, the full wardenftpd for TLS; how the listener finds and checks the lean
image, and that it falls back to the full image when the lean one is missing or unsafe."""

import contextlib
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import unittest

import harness
from harness import Daemon, TlsDaemon

LEAN = os.path.join(os.path.dirname(harness.BINARY), "wardenftpd-session")
# The version banner OpenSSL compiles into libcrypto (OPENSSL_VERSION_TEXT): in every image that
# links it, stripped or not.
OPENSSL_BANNER = b"OpenSSL 3."


def exe_of(pid):
    return os.readlink("/proc/%d/exe" % pid)


@contextlib.contextmanager
def binary(path):
    """Run the Daemons of this block from `path` instead of the build's wardenftpd."""
    saved = harness.BINARY
    harness.BINARY = path
    try:
        yield
    finally:
        harness.BINARY = saved


class SessionImageTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)
        self.assertTrue(os.path.exists(LEAN), LEAN + " was not built")

    def _copy_images(self, with_lean=True):
        """A directory of its own holding copies of the images (root-owned, 0755)."""
        directory = tempfile.mkdtemp(prefix="wftpd-image-", dir="/tmp")
        self.addCleanup(shutil.rmtree, directory, True)
        os.chmod(directory, 0o755)
        full = os.path.join(directory, "wardenftpd")
        shutil.copy2(harness.BINARY, full)
        if with_lean:
            shutil.copy2(LEAN, os.path.join(directory, "wardenftpd-session"))
        return directory, full

    def _session_processes(self, d, c, login):
        monitor = d.monitor_pid_for(c.local_port())
        if login:
            c.login()
            self.assertEqual(c.cmd("PWD")[0], 257)
            child = d.session_child(monitor, "wftpd:postauth")
        else:
            self.assertEqual(c.cmd("NOOP")[0], 200)
            child = d.session_child(monitor, "wftpd:preauth")
        return monitor, child

    def test_lean_image_links_no_openssl(self):
        # Statically linked (release), OpenSSL's banner is in the image; dynamically linked
        # (sanitizer builds), the image names libssl/libcrypto as needed libraries.
        def links_openssl(path):
            with open(path, "rb") as f:
                if OPENSSL_BANNER in f.read():
                    return True
            needed = subprocess.run(["readelf", "-d", path], capture_output=True, text=True,
                                    timeout=30)
            self.assertEqual(needed.returncode, 0, needed.stderr)
            return "libssl" in needed.stdout or "libcrypto" in needed.stdout

        # Positive control: the same check finds OpenSSL in the full image.
        self.assertTrue(links_openssl(harness.BINARY), harness.BINARY)
        self.assertFalse(links_openssl(LEAN), LEAN)

    def test_plain_sessions_run_the_lean_image_in_every_role(self):
        with Daemon() as d:
            self.assertIn("sessions without TLS run " + os.path.realpath(LEAN), d.log())
            with d.raw() as c:
                monitor, preauth = self._session_processes(d, c, login=False)
                standby = d.session_child(monitor, "wftpd:standby")
                for pid in (monitor, preauth, standby):
                    self.assertEqual(exe_of(pid), os.path.realpath(LEAN), harness.read_stat(pid))
            with d.raw() as c:
                monitor, postauth = self._session_processes(d, c, login=True)
                for pid in (monitor, postauth):
                    self.assertEqual(exe_of(pid), os.path.realpath(LEAN))
                    # No session process keeps a descriptor of the image it was exec'd from.
                    for fd, target in harness.proc_fds(pid).items():
                        self.assertNotIn("wardenftpd-session", target, (pid, fd))
                # The sandbox is the same as the full image's (test_sandbox_live checks it in
                # detail): confined, no capabilities in the child.
                status = harness.proc_status(postauth)
                self.assertEqual(status["Seccomp"], "2")
                self.assertEqual(status["NoNewPrivs"], "1")
                self.assertEqual(harness.status_hex(status, "CapEff"), 0)
                self.assertEqual(harness.pasv_retr(c, Daemon.TEST_FILE),
                                 (226, Daemon.TEST_CONTENT))

    def test_tls_sessions_run_the_full_image(self):
        with TlsDaemon() as d:
            ftp = d.ftps()
            try:
                monitor = d.monitors()[0]["pid"]
                postauth = d.session_child(monitor, "wftpd:postauth")
                for pid in (monitor, postauth):
                    self.assertEqual(exe_of(pid), os.path.realpath(harness.BINARY))
            finally:
                ftp.quit()

    def test_lean_image_refuses_a_tls_configuration(self):
        # As the listener would exec it, but with a configuration that has tls_enable: the
        # monitor must stop before it serves anything.
        config = ("tls_enable=yes\ntls_cert_file=/nonexistent.pem\n"
                  "tls_key_file=/nonexistent.key\nlog_output=stderr\n")
        memfd = os.memfd_create("config", 0)
        os.write(memfd, config.encode())
        os.lseek(memfd, 0, os.SEEK_SET)
        client, server = socket.socketpair()

        def layout():
            # Above the targets first, so that neither dup2 overwrites the other's source.
            high_server = os.dup2(server.fileno(), 100)
            high_config = os.dup2(memfd, 101)
            os.dup2(high_server, 3)
            os.dup2(high_config, 4)
        result = subprocess.run([LEAN, "--session", "1"], preexec_fn=layout, close_fds=False,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, timeout=10)
        client.close()
        server.close()
        os.close(memfd)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(b"built without TLS", result.stderr)

    def test_lean_image_is_only_a_session(self):
        result = subprocess.run([LEAN], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                timeout=10)
        self.assertEqual(result.returncode, 2)
        self.assertIn(b"usage: wardenftpd-session --session", result.stderr)

    def _assert_fallback(self, d, full, problem):
        self.assertIn("session image without TLS not usable", d.log())
        self.assertIn(problem, d.log())
        with d.raw() as c:
            monitor, postauth = self._session_processes(d, c, login=True)
            self.assertEqual(exe_of(monitor), full)
            self.assertEqual(exe_of(postauth), full)
            self.assertEqual(harness.pasv_retr(c, Daemon.TEST_FILE),
                             (226, Daemon.TEST_CONTENT))

    def test_missing_lean_image_falls_back_to_the_full_image(self):
        directory, full = self._copy_images(with_lean=False)
        with binary(full), Daemon() as d:
            self._assert_fallback(d, full, "No such file or directory")

    def test_lean_image_writable_by_group_is_not_used(self):
        directory, full = self._copy_images()
        lean = os.path.join(directory, "wardenftpd-session")
        os.chmod(lean, 0o775)
        with binary(full), Daemon() as d:
            self._assert_fallback(d, full, "writable by group or others")

    def test_lean_image_owned_by_another_user_is_not_used(self):
        directory, full = self._copy_images()
        os.chown(os.path.join(directory, "wardenftpd-session"), harness.NOBODY_UID, -1)
        with binary(full), Daemon() as d:
            self._assert_fallback(d, full, "not owned by root")

    def test_lean_image_reached_through_a_symlink_is_not_used(self):
        directory, full = self._copy_images(with_lean=False)
        os.symlink(os.path.realpath(LEAN), os.path.join(directory, "wardenftpd-session"))
        with binary(full), Daemon() as d:
            self._assert_fallback(d, full, "is not a regular file")

    def test_sessions_keep_the_image_found_at_start_when_the_file_is_replaced(self):
        # An upgrade that replaces the files must not make a running listener exec a session
        # image of another build: the listener execs the inode it checked at start.
        directory, full = self._copy_images()
        lean = os.path.join(directory, "wardenftpd-session")
        original = os.stat(lean).st_ino
        with binary(full), Daemon() as d:
            replacement = lean + ".new"
            shutil.copy2(full, replacement)  # any other executable
            os.chmod(replacement, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP)
            os.rename(replacement, lean)
            with d.raw() as c:
                monitor, postauth = self._session_processes(d, c, login=True)
                self.assertEqual(os.stat("/proc/%d/exe" % monitor).st_ino, original)
                self.assertEqual(exe_of(monitor), lean + " (deleted)")
                self.assertEqual(harness.pasv_retr(c, Daemon.TEST_FILE),
                             (226, Daemon.TEST_CONTENT))


if __name__ == "__main__":
    unittest.main()
