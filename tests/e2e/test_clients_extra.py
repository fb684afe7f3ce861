"""Real clients on whole trees and raw commands: lftp mirror both ways, curl active mode and
-Q, ASCII round trip, and port theft from another local address."""

import ftplib
import hashlib
import io
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Daemon


def tree_digest(root):
    """{relative path: sha256} of every regular file below root."""
    result = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            if name.startswith(".wftpd-upload"):
                continue
            with open(path, "rb") as f:
                result[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return result


def make_tree(root):
    for rel, size in (("a.bin", 70000), ("dir1/b.bin", 1), ("dir1/dir2/c.bin", 300000),
                      ("dir1/dir2/empty.bin", 0), ("dir3/d d.bin", 4096)):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(os.urandom(size))


class ExtraClientTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def lftp(self, d, script):
        return subprocess.run(
            ["lftp", "-u", "demo,demo", "-p", str(d.port), "-e",
             "set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 10; " + script + "; bye",
             "127.0.0.1"], capture_output=True, timeout=120)

    @harness.covers("lftp", "plain", "passive", "tree")
    def test_lftp_mirror_reverse_then_mirror_back_keeps_every_byte(self):
        local = tempfile.mkdtemp(prefix="wftpd-mirror-")
        back = tempfile.mkdtemp(prefix="wftpd-mirror-back-")
        try:
            make_tree(local)
            with Daemon() as d:
                out = self.lftp(d, "mirror -R %s /up" % local)
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertEqual(tree_digest(os.path.join(d.root, "up")), tree_digest(local))
                out = self.lftp(d, "mirror /up %s" % back)
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertEqual(tree_digest(back), tree_digest(local))
        finally:
            shutil.rmtree(local, ignore_errors=True)
            shutil.rmtree(back, ignore_errors=True)

    @harness.covers("curl", "plain", "active")
    def test_curl_active_mode_upload_and_raw_quote_commands(self):
        with Daemon() as d:
            src = os.path.join(d.tmp, "src.bin")
            with open(src, "wb") as f:
                f.write(os.urandom(150000))
            base = "ftp://127.0.0.1:%d/" % d.port
            out = subprocess.run(["curl", "-sS", "--max-time", "30", "--user", "demo:demo",
                                  "--ftp-port", "127.0.0.1", "-T", src, base + "act.bin"],
                                 capture_output=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            with open(src, "rb") as a, open(os.path.join(d.root, "act.bin"), "rb") as b:
                self.assertEqual(a.read(), b.read())
            out = subprocess.run(["curl", "-sS", "--max-time", "30", "--user", "demo:demo",
                                  "-Q", "MKD made", "-Q", "RNFR act.bin", "-Q", "RNTO made/act.bin",
                                  "--ftp-pasv", base], capture_output=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertTrue(os.path.exists(os.path.join(d.root, "made", "act.bin")))
            # A refused quote command fails curl with the server's reply.
            out = subprocess.run(["curl", "-sS", "--max-time", "30", "--user", "demo:demo",
                                  "-Q", "DELE no-such-file", base], capture_output=True, timeout=60)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn(b"550", out.stderr)

    @harness.covers("ftplib", "plain", "passive", "ascii")
    def test_ascii_mode_round_trip_converts_line_ends_both_ways(self):
        with Daemon() as d:
            ftp = d.ftp()
            text = "line one\r\nline two\r\nno newline at end"
            ftp.storlines("STOR text.txt", io.BytesIO(text.encode().replace(b"\r\n", b"\n")))
            # On disk: Unix line ends.
            with open(os.path.join(d.root, "text.txt"), "rb") as f:
                self.assertEqual(f.read(), b"line one\nline two\nno newline at end\n")
            ftp.voidcmd("TYPE A")
            data = harness.read_until_eof(ftp.transfercmd("RETR text.txt"))
            ftp.voidresp()
            self.assertEqual(data, b"line one\r\nline two\r\nno newline at end\r\n")
            ftp.quit()

    def test_data_connection_from_another_address_is_refused_and_the_client_still_succeeds(self):
        with Daemon() as d, d.raw() as c:
            c.login()
            self.assertEqual(c.cmd("TYPE I")[0], 200)
            code, text = c.cmd("EPSV")
            self.assertEqual(code, 229, text)
            port = int(text.split("|||")[1].split("|")[0])
            # The thief connects first, from 127.0.0.2.
            thief = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            thief.bind(("127.0.0.2", 0))
            thief.settimeout(5)
            thief.connect(("127.0.0.1", port))
            c.send("RETR %s\r\n" % Daemon.TEST_FILE)
            time.sleep(0.3)
            with socket.create_connection(("127.0.0.1", port), timeout=10) as data_sock:
                self.assertEqual(c.reply()[0], 150)
                received = b""
                while True:
                    chunk = data_sock.recv(65536)
                    if not chunk:
                        break
                    received += chunk
            self.assertEqual(c.reply()[0], 226)
            self.assertEqual(received, Daemon.TEST_CONTENT)
            # The thief got nothing and was disconnected.
            try:
                self.assertEqual(thief.recv(100), b"")
            except ConnectionResetError:
                pass
            thief.close()
            self.assertTrue(d.wait_log("data connection from foreign address 127.0.0.2"), d.log())

    def test_abor_during_a_1_gib_retr(self):
        with Daemon() as d:
            with open(os.path.join(d.root, "gig.bin"), "wb") as f:
                f.truncate(1 << 30)
            ftp = d.ftp()
            ftp.voidcmd("TYPE I")
            conn = ftp.transfercmd("RETR gig.bin")
            got = 0
            while got < (8 << 20):
                chunk = conn.recv(1 << 20)
                if not chunk:
                    break
                got += len(chunk)
            self.assertEqual(ftp.abort()[:3], "426")
            self.assertEqual(ftp.getresp()[:3], "226")
            conn.close()
            self.assertEqual(ftp.size("gig.bin"), 1 << 30)
            ftp.quit()


if __name__ == "__main__":
    unittest.main()
