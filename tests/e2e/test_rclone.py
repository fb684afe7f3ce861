"""rclone (Go's crypto/tls) over FTPS with require_tls_session_reuse=yes, the default.

Go keeps one TLS session per server name for all the connections of a client: rclone's parallel
FTP sessions (--transfers, --checkers) overwrite each other's ticket, so a data connection of
one FTP session offers the ticket another session's control connection received. These tests
copy whole trees with several FTP sessions at once, over TLS 1.3 and TLS 1.2 (where Go resumes
with tickets only, never by session ID), and check that a client that does not resume at all is
still refused."""

import hashlib
import os
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import TlsDaemon

REFUSAL = "did not resume the control connection's TLS session"


def tree_digest(root):
    """{relative path: sha256} of every regular file below root."""
    result = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                result[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return result


def make_tree(root):
    """Files of different sizes (empty, one byte, across TLS record and buffer sizes) in
    nested directories: more files than rclone's --transfers, so sessions run in parallel."""
    sizes = (("a.bin", 70000), ("b.bin", 1), ("empty.bin", 0), ("c.bin", 16384),
             ("d.bin", 16385), ("sub/e.bin", 300000), ("sub/f.bin", 4096),
             ("sub/deeper/g.bin", 1 << 20), ("sub/deeper/h h.bin", 777))
    for rel, size in sizes:
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(os.urandom(size))


class RcloneFtpsTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)
        self.work = tempfile.mkdtemp(prefix="wftpd-rclone-", dir="/tmp")
        self.addCleanup(shutil.rmtree, self.work, True)
        password = subprocess.run(["rclone", "obscure", "demo"], capture_output=True, text=True,
                                  timeout=30, check=True).stdout.strip()
        # A remote made of environment variables only: ":ftp:" with RCLONE_FTP_*; no config file.
        self.env = dict(os.environ, RCLONE_CONFIG=os.path.join(self.work, "rclone.conf"),
                        RCLONE_FTP_HOST="127.0.0.1", RCLONE_FTP_USER="demo",
                        RCLONE_FTP_PASS=password, HOME=self.work)

    def rclone(self, d, *args, port=None, implicit=False, tls13=True, extra=()):
        env = dict(self.env, RCLONE_FTP_PORT=str(port or d.port))
        env["RCLONE_FTP_TLS" if implicit else "RCLONE_FTP_EXPLICIT_TLS"] = "true"
        # The certificate is really checked: rclone's FTP backend ignores --ca-cert, but Go
        # takes its trusted roots from SSL_CERT_FILE (the test CA; the certificate names
        # 127.0.0.1, the server name rclone uses and caches sessions under).
        env["SSL_CERT_FILE"] = d.pki["ca"]
        if not tls13:
            env["RCLONE_FTP_DISABLE_TLS13"] = "true"
        command = ["rclone", "--retries", "1", "--low-level-retries", "1", "--contimeout", "10s",
                   "--timeout", "30s", "-v"] + list(extra) + list(args)
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=180)

    def round_trip(self, key_type, tls13, implicit=False):
        source = os.path.join(self.work, "source")
        back = os.path.join(self.work, "back")
        make_tree(source)
        expected = tree_digest(source)
        self.assertEqual(len(expected), 9)
        implicit_port = harness.free_port() if implicit else None
        config = {"log_level": "debug"}
        if implicit:
            config["tls_implicit_port"] = str(implicit_port)
        with TlsDaemon(config=config, key_type=key_type) as d:
            # rclone's defaults: 4 transfers and 8 checkers, each on an FTP session of its own.
            up = self.rclone(d, "copy", source, ":ftp:up", port=implicit_port, implicit=implicit,
                             tls13=tls13)
            self.assertEqual(up.returncode, 0, (up.stderr[-3000:], d.log()[-3000:]))
            self.assertEqual(tree_digest(os.path.join(d.root, "up")), expected)
            down = self.rclone(d, "copy", ":ftp:up", back, port=implicit_port, implicit=implicit,
                               tls13=tls13)
            self.assertEqual(down.returncode, 0, (down.stderr[-3000:], d.log()[-3000:]))
            self.assertEqual(tree_digest(back), expected)
            log = d.log()
            self.assertNotIn(REFUSAL, log)
            # Several FTP sessions of this one client really ran (the case that failed), and they
            # spoke the TLS version asked for.
            sessions = log.count("login accepted for user 'demo'")
            self.assertGreater(sessions, 2, log[-3000:])
            version = "TLSv1.3" if tls13 else "TLSv1.2"
            self.assertEqual(log.count("control connection: " + version), sessions, log[-3000:])

    @harness.covers("rclone", "explicit-tls", "passive", "tree")
    def test_rclone_copies_a_tree_up_and_down_over_tls13_with_an_ec_certificate(self):
        self.round_trip("ec", tls13=True)

    @harness.covers("rclone", "explicit-tls", "passive", "tree")
    def test_rclone_copies_a_tree_up_and_down_over_tls12_with_an_ec_certificate(self):
        self.round_trip("ec", tls13=False)

    def test_rclone_copies_a_tree_up_and_down_over_tls13_with_an_rsa_certificate(self):
        self.round_trip("rsa", tls13=True)

    def test_rclone_copies_a_tree_up_and_down_over_tls12_with_an_rsa_certificate(self):
        self.round_trip("rsa", tls13=False)

    @harness.covers("rclone", "implicit-tls", "passive", "tree")
    def test_rclone_copies_a_tree_over_implicit_ftps(self):
        self.round_trip("ec", tls13=True, implicit=True)

    def test_rclone_without_a_session_cache_is_refused_with_522(self):
        # --ftp-tls-cache-size 0: every data connection is a full handshake, which must fail.
        with TlsDaemon() as d:
            for tls13 in (True, False):
                r = self.rclone(d, "lsf", ":ftp:", tls13=tls13, extra=("--ftp-tls-cache-size", "0",
                                                                       "--ftp-concurrency", "1"))
                self.assertNotEqual(r.returncode, 0, r.stdout)
                self.assertNotIn(d.TEST_FILE, r.stdout)
                self.assertIn("522", r.stderr)
            self.assertTrue(harness.wait_until(lambda: REFUSAL in d.log()), d.log()[-3000:])
            # The same client with its cache resumes and lists.
            r = self.rclone(d, "lsf", ":ftp:")
            self.assertEqual(r.returncode, 0, (r.stderr[-3000:], d.log()[-3000:]))
            self.assertEqual(r.stdout.split(), [d.TEST_FILE])


if __name__ == "__main__":
    unittest.main()
