"""HASH, OPTS HASH and RANG (draft-bryan-ftpext-hash-02) against the real daemon: each digest
compared with Python's hashlib over the same bytes, the ranges RANG selects, FEAT, the refusals
(missing, directory, FIFO, unreadable, hidden and denied names, over hash_max_bytes, the
session's allowance spent, HASH off), ABOR during a long HASH, and HASH in every kind of session:
plain (the lean wardenftpd-session image), anonymous, and TLS (the full image); curl and lftp
send it as raw commands."""

import hashlib
import os
import re
import subprocess
import time
import unittest

import harness
from harness import Daemon, TlsDaemon, plant
from test_anonymous import AnonymousDaemon

LEAN = os.path.join(os.path.dirname(harness.BINARY), "wardenftpd-session")
ALGORITHMS = {"SHA-256": "sha256", "SHA-512": "sha512", "SHA-1": "sha1", "MD5": "md5"}
# The 213 reply: algorithm, inclusive byte range, lowercase hex digest, the pathname as sent.
REPLY = re.compile(r"^213 (\S+) (\d+)-(\d+) ([0-9a-f]+) (.+)$")


def digest(name, data):
    return hashlib.new(ALGORITHMS[name], data).hexdigest()




def hash_of(c, name):
    """(algorithm, first, last, hex, pathname) of a 213 reply to HASH `name` on a RawClient."""
    code, text = c.cmd("HASH " + name)
    match = REPLY.match(text)
    if code != 213 or not match:
        raise AssertionError("HASH %s: %s" % (name, text))
    algo, first, last, hexdigest, path = match.groups()
    return algo, int(first), int(last), hexdigest, path


class HashTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_every_algorithm_matches_hashlib_in_the_lean_image(self):
        # 3 MiB + 7 of random bytes: several read chunks and abort checks, no round size.
        data = os.urandom(3 * 1024 * 1024 + 7)
        with Daemon() as d:
            plant(d, "blob.bin", data)
            with d.raw() as c:
                monitor = d.monitor_pid_for(c.local_port())
                c.login()
                postauth = d.session_child(monitor, "wftpd:postauth")
                self.assertEqual(os.readlink("/proc/%d/exe" % postauth), os.path.realpath(LEAN))
                self.assertEqual(c.cmd("OPTS HASH"), (200, "200 SHA-256"))
                # The default TYPE is A: HASH is of the octets TYPE I would send all the same.
                self.assertEqual(hash_of(c, "blob.bin"),
                                 ("SHA-256", 0, len(data) - 1, digest("SHA-256", data), "blob.bin"))
                for name in ALGORITHMS:
                    self.assertEqual(c.cmd("OPTS HASH " + name.lower()), (200, "200 " + name))
                    self.assertEqual(hash_of(c, "/blob.bin"),
                                     (name, 0, len(data) - 1, digest(name, data), "/blob.bin"))
                # The test file, and an empty one: "0-0", the draft wanting end >= start.
                plant(d, "empty", b"")
                self.assertEqual(hash_of(c, "empty")[1:4], (0, 0, digest("MD5", b"")))
                self.assertEqual(hash_of(c, Daemon.TEST_FILE)[3],
                                 digest("MD5", Daemon.TEST_CONTENT))

    def test_ftplib_hashes_with_each_algorithm_and_feat_marks_the_selection(self):
        data = b"The quick brown fox jumps over the lazy dog\n" * 1000
        with Daemon() as d:
            plant(d, "fox.txt", data)
            ftp = d.ftp(login=False)
            try:
                # Before login FEAT already lists HASH, with the default selected.
                self.assertIn(" HASH SHA-256*;SHA-512;SHA-1;MD5\n", ftp.sendcmd("FEAT") + "\n")
                ftp.login("demo", "demo")
                for name in ALGORITHMS:
                    self.assertEqual(ftp.sendcmd("OPTS HASH " + name), "200 " + name)
                    feat = ftp.sendcmd("FEAT")
                    listed = [line.strip() for line in feat.splitlines() if " HASH " in line]
                    self.assertEqual(len(listed), 1, feat)
                    self.assertIn(name + "*", listed[0].split(" ", 1)[1].split(";"))
                    self.assertEqual(listed[0].count("*"), 1, listed)
                    reply = ftp.sendcmd("HASH fox.txt")
                    self.assertEqual(reply, "213 %s 0-%d %s fox.txt"
                                     % (name, len(data) - 1, digest(name, data)))
                # An unknown algorithm: 501, and the selection stays.
                with self.assertRaises(harness.ftplib.error_perm) as refused:
                    ftp.sendcmd("OPTS HASH CRC-37")
                self.assertTrue(str(refused.exception).startswith("501"))
                self.assertEqual(ftp.sendcmd("OPTS HASH"), "200 MD5")
                with self.assertRaises(harness.ftplib.error_perm) as refused:
                    ftp.sendcmd("OPTS HASH SHA-1 MD5")
                self.assertTrue(str(refused.exception).startswith("501"))
                help_text = ftp.sendcmd("HELP")
                self.assertIn("HASH RANG", help_text)
            finally:
                ftp.quit()

    def test_rang_selects_an_inclusive_range_for_the_next_hash_only(self):
        data = bytes(range(256)) * 4  # 1024 bytes
        with Daemon() as d:
            plant(d, "bytes.bin", data)
            with d.raw() as c:
                c.login()
                self.assertEqual(c.cmd("RANG 10 49")[0], 350)
                self.assertEqual(hash_of(c, "bytes.bin")[:4],
                                 ("SHA-256", 10, 49, digest("SHA-256", data[10:50])))
                # Used once: the next HASH is of the whole file.
                self.assertEqual(hash_of(c, "bytes.bin")[1:4],
                                 (0, 1023, digest("SHA-256", data)))
                # One byte; and an end past the end of the file is cut to it (as RETR would).
                self.assertEqual(c.cmd("RANG 0 0")[0], 350)
                self.assertEqual(hash_of(c, "bytes.bin")[1:4], (0, 0, digest("SHA-256", data[:1])))
                self.assertEqual(c.cmd("RANG 1000 999999")[0], 350)
                self.assertEqual(hash_of(c, "bytes.bin")[1:4],
                                 (1000, 1023, digest("SHA-256", data[1000:])))
                # RANG 1 0 resets to the whole file.
                self.assertEqual(c.cmd("RANG 5 9")[0], 350)
                self.assertEqual(c.cmd("RANG 1 0")[0], 350)
                self.assertEqual(hash_of(c, "bytes.bin")[1:3], (0, 1023))
                # A start past the end: the HASH that uses it is refused, and the range is gone.
                self.assertEqual(c.cmd("RANG 1024 2000")[0], 350)
                self.assertEqual(c.cmd("HASH bytes.bin")[0], 554)
                self.assertEqual(hash_of(c, "bytes.bin")[1:3], (0, 1023))
                # Bad ranges: 501, and a range set before is reset, never half kept.
                for bad in ("RANG 9 5", "RANG 1", "RANG a b", "RANG -1 5", "RANG 1  5",
                            "RANG 99999999999999999999 1", "RANG 9223372036854775808 9",
                            "RANG 0x10 20", "RANG"):
                    self.assertEqual(c.cmd("RANG 0 9")[0], 350)
                    self.assertEqual(c.cmd(bad)[0], 501, bad)
                    self.assertEqual(hash_of(c, "bytes.bin")[1:3], (0, 1023), bad)
                self.assertEqual(c.cmd("NOOP")[0], 200)

    def test_rest_and_rang_replace_each_other_and_rang_refuses_transfers(self):
        with Daemon() as d:
            with d.raw() as c:
                c.login()
                size = len(Daemon.TEST_CONTENT)
                whole = digest("SHA-256", Daemon.TEST_CONTENT)
                # REST is a restart marker for transfers: HASH ignores it and keeps it.
                self.assertEqual(c.cmd("REST 6")[0], 350)
                self.assertEqual(hash_of(c, Daemon.TEST_FILE)[1:4], (0, size - 1, whole))
                self.assertEqual(harness.pasv_retr(c, Daemon.TEST_FILE),
                                 (226, Daemon.TEST_CONTENT[6:]))
                # REST after RANG replaces the range ...
                self.assertEqual(c.cmd("RANG 0 4")[0], 350)
                self.assertEqual(c.cmd("REST 3")[0], 350)
                self.assertEqual(hash_of(c, Daemon.TEST_FILE)[1:3], (0, size - 1))
                # ... and RANG after REST replaces the marker.
                self.assertEqual(c.cmd("RANG 0 4")[0], 350)
                self.assertEqual(hash_of(c, Daemon.TEST_FILE)[1:3], (0, 4))
                self.assertEqual(harness.pasv_retr(c, Daemon.TEST_FILE),
                                 (226, Daemon.TEST_CONTENT))
                # RANG is for HASH only here: a transfer after it is refused, not sent whole.
                self.assertEqual(c.cmd("RANG 0 4")[0], 350)
                self.assertEqual(c.cmd("EPSV")[0], 229)
                self.assertEqual(c.cmd("RETR " + Daemon.TEST_FILE)[0], 554)
                self.assertEqual(hash_of(c, Daemon.TEST_FILE)[1:3], (0, size - 1))

    def test_refusals_have_the_drafts_codes(self):
        config = {"hide_names": ".secret*", "deny_names": "*.key", "hash_max_bytes": "1000"}
        with Daemon(config=config) as d:
            plant(d, ".secret", b"s")
            plant(d, "server.key", b"k")
            plant(d, "big.bin", b"b" * 1001)
            plant(d, "fits.bin", b"f" * 1000)
            os.makedirs(os.path.join(d.root, "dir"))
            os.mkfifo(os.path.join(d.root, "fifo"))
            os.chown(os.path.join(d.root, "fifo"), harness.DEMO_UID, harness.DEMO_UID)
            locked = plant(d, "locked", b"l")
            os.chown(locked, 0, 0)
            os.chmod(locked, 0o600)
            with d.raw() as c:
                c.login()
                self.assertEqual(c.cmd("HASH")[0], 501)
                for name in ("missing.txt", "dir", "fifo", "locked", ".secret", "server.key",
                             "../../etc/passwd/x"):
                    self.assertEqual(c.cmd("HASH " + name)[0], 550, name)
                # Over hash_max_bytes: 556 (refused by policy, for good), and RANG can pick a
                # part that fits.
                code, text = c.cmd("HASH big.bin")
                self.assertEqual(code, 556, text)
                self.assertIn("1000", text)
                self.assertEqual(hash_of(c, "fits.bin")[1:3], (0, 999))
                self.assertEqual(c.cmd("RANG 1 1000")[0], 350)
                self.assertEqual(hash_of(c, "big.bin")[1:4],
                                 (1, 1000, digest("SHA-256", b"b" * 1000)))
                self.assertEqual(c.cmd("NOOP")[0], 200)

    def test_a_spent_allowance_gets_450_until_it_refills(self):
        config = {"hash_max_bytes": "4000", "hash_bytes_per_second": "2000"}
        with Daemon(config=config) as d:
            plant(d, "four.bin", b"4" * 4000)
            with d.raw() as c:
                c.login()
                self.assertEqual(hash_of(c, "four.bin")[1:3], (0, 3999))
                code, text = c.cmd("HASH four.bin")
                self.assertEqual(code, 450, text)
                self.assertRegex(text, r"try again in [12] s")
                # Small digests still fit what refilled meanwhile; the big one after a wait.
                self.assertTrue(harness.wait_until(
                    lambda: c.cmd("HASH four.bin")[0] == 213, timeout=5, interval=0.5))

    def test_hash_off_is_absent_from_feat_and_refused(self):
        with Daemon(config={"hash_max_bytes": "0"}) as d:
            with d.raw() as c:
                self.assertNotIn("HASH", c.cmd("FEAT")[1])
                c.login()
                self.assertNotIn("HASH", c.cmd("FEAT")[1])
                self.assertNotIn("HASH", c.cmd("HELP")[1])
                self.assertEqual(c.cmd("HASH " + Daemon.TEST_FILE)[0], 502)
                self.assertEqual(c.cmd("RANG 0 1")[0], 502)
                self.assertEqual(c.cmd("OPTS HASH")[0], 501)

    def test_abor_ends_a_long_hash(self):
        with Daemon() as d:
            sparse = os.path.join(d.root, "sparse.img")
            with open(sparse, "wb") as f:
                f.truncate(3 << 30)  # 3 GiB of holes: MD5 takes seconds, the disk nothing
            with d.raw() as c:
                c.login()
                self.assertEqual(c.cmd("OPTS HASH MD5")[0], 200)
                started = time.monotonic()
                c.send("HASH sparse.img\r\n")
                time.sleep(0.3)
                c.send("ABOR\r\n")
                code, text = c.reply()
                self.assertEqual(code, 426, text)
                self.assertEqual(c.reply()[0], 226)
                self.assertLess(time.monotonic() - started, 3.0)
                self.assertEqual(c.cmd("NOOP")[0], 200)

    def test_anonymous_sessions_hash_read_only_files(self):
        with AnonymousDaemon() as d:
            with open(os.path.join(d.anon_dir, "pub.txt"), "rb") as f:
                content = f.read()
            ftp = harness.ftplib.FTP(timeout=harness.TIMEOUT)
            ftp.connect("127.0.0.1", d.port)
            try:
                ftp.login()
                self.assertEqual(ftp.sendcmd("OPTS HASH SHA-1"), "200 SHA-1")
                self.assertEqual(ftp.sendcmd("HASH pub.txt"),
                                 "213 SHA-1 0-%d %s pub.txt"
                                 % (len(content) - 1, digest("SHA-1", content)))
                with self.assertRaises(harness.ftplib.error_perm):
                    ftp.sendcmd("HASH dir")
            finally:
                ftp.quit()

    def test_tls_sessions_hash_in_the_full_image(self):
        data = os.urandom(100000)
        with TlsDaemon() as d:
            plant(d, "secret.bin", data)
            ftp = d.ftps()
            try:
                monitor = d.monitors()[0]["pid"]
                postauth = d.session_child(monitor, "wftpd:postauth")
                self.assertEqual(os.readlink("/proc/%d/exe" % postauth),
                                 os.path.realpath(harness.BINARY))
                for name in ALGORITHMS:
                    ftp.sendcmd("OPTS HASH " + name)
                    self.assertEqual(ftp.sendcmd("HASH secret.bin"), "213 %s 0-99999 %s secret.bin"
                                     % (name, digest(name, data)))
                self.assertEqual(ftp.sendcmd("RANG 100 199")[:3], "350")
                self.assertEqual(ftp.sendcmd("HASH secret.bin"), "213 MD5 100-199 %s secret.bin"
                                 % digest("MD5", data[100:200]))
            finally:
                ftp.quit()

    @harness.covers("curl", "plain")
    def test_curl_and_lftp_send_hash_as_a_raw_command(self):
        with Daemon() as d:
            url = "ftp://demo:demo@127.0.0.1:%d/" % d.port
            got = subprocess.run(["curl", "-sS", "-v", "--max-time", "30", "-o", os.devnull,
                                  "-Q", "OPTS HASH SHA-512", "-Q", "HASH " + Daemon.TEST_FILE,
                                  url], capture_output=True, text=True, timeout=60)
            self.assertEqual(got.returncode, 0, got.stderr)
            self.assertIn("< 213 SHA-512 0-%d %s %s" % (len(Daemon.TEST_CONTENT) - 1,
                                                       digest("SHA-512", Daemon.TEST_CONTENT),
                                                       Daemon.TEST_FILE), got.stderr)
            got = subprocess.run(
                ["lftp", "-u", "demo,demo", "-p", str(d.port), "-e",
                 "set net:max-retries 1; set net:timeout 10; quote HASH %s; bye"
                 % Daemon.TEST_FILE, "127.0.0.1"],
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            self.assertEqual(got.returncode, 0, got.stderr)
            self.assertIn("213 SHA-256 0-%d %s %s" % (len(Daemon.TEST_CONTENT) - 1,
                                                     digest("SHA-256", Daemon.TEST_CONTENT),
                                                     Daemon.TEST_FILE), got.stdout)


if __name__ == "__main__":
    unittest.main()
