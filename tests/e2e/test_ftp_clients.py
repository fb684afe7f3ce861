"""Real FTP clients (python ftplib, curl, lftp) against a live wardenftpd."""

import ftplib
import hashlib
import io
import os
import re
import socket
import subprocess
import time
import unittest

import harness
from harness import Daemon


def _sha(data):
    return hashlib.sha256(data).hexdigest()


class FtpClientTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    @harness.covers("ftplib", "plain", "passive")
    def test_ftplib_stor_retr_3mib_roundtrip_and_metadata(self):
        payload = os.urandom(3 * 1024 * 1024)
        with Daemon() as d:
            ftp = d.ftp()
            try:
                self.assertTrue(ftp.pwd() == "/")
                reply = ftp.storbinary("STOR big.bin", io.BytesIO(payload))
                self.assertTrue(reply.startswith("226"), reply)
                with open(os.path.join(d.root, "big.bin"), "rb") as f:
                    self.assertEqual(_sha(f.read()), _sha(payload), "file on disk differs")
                st = os.stat(os.path.join(d.root, "big.bin"))
                self.assertEqual((st.st_uid, st.st_gid), (harness.DEMO_UID, harness.DEMO_GID))
                chunks = []
                reply = ftp.retrbinary("RETR big.bin", chunks.append)
                self.assertTrue(reply.startswith("226"), reply)
                self.assertEqual(_sha(b"".join(chunks)), _sha(payload))
                listing = []
                ftp.retrlines("LIST", listing.append)
                self.assertTrue(any(line.split()[-1] == "big.bin" and str(len(payload)) in line
                                    for line in listing), listing)
                names = ftp.nlst()
                self.assertIn("big.bin", names)
                self.assertIn(Daemon.TEST_FILE, names)
                ftp.voidcmd("TYPE I")
                self.assertEqual(ftp.size("big.bin"), len(payload))
                mdtm = ftp.voidcmd("MDTM big.bin")
                match = re.match(r"^213 (\d{14})$", mdtm)
                self.assertIsNotNone(match, mdtm)
                expected = time.strftime("%Y%m%d%H%M%S", time.gmtime(st.st_mtime))
                self.assertEqual(match.group(1), expected)
                self.assertTrue(ftp.quit().startswith("221"))
            finally:
                ftp.close()

    def test_type_a_download_converts_lf_to_crlf(self):
        with Daemon() as d:
            ftp = d.ftp()
            try:
                self.assertTrue(ftp.sendcmd("TYPE A").startswith("200"))
                # ntransfercmd does not force TYPE I (retrbinary would).
                conn, _ = ftp.ntransfercmd("RETR " + Daemon.TEST_FILE)
                data = harness.read_until_eof(conn)
                self.assertTrue(ftp.voidresp().startswith("226"))
                self.assertEqual(data, Daemon.TEST_CONTENT.replace(b"\n", b"\r\n"))
                ftp.quit()
            finally:
                ftp.close()

    @harness.covers("curl", "plain", "passive")
    def test_curl_upload_and_download(self):
        payload = os.urandom(512 * 1024) + b"\nend\n"
        with Daemon() as d:
            src = os.path.join(d.tmp, "curl-src.bin")
            out = os.path.join(d.tmp, "curl-out.bin")
            with open(src, "wb") as f:
                f.write(payload)
            url = "ftp://127.0.0.1:%d/" % d.port
            up = subprocess.run(["curl", "-sS", "--max-time", "30", "-T", src, url,
                                 "--user", "demo:demo"], capture_output=True, timeout=60)
            self.assertEqual(up.returncode, 0, up.stderr)
            with open(os.path.join(d.root, "curl-src.bin"), "rb") as f:
                self.assertEqual(_sha(f.read()), _sha(payload))
            down = subprocess.run(["curl", "-sS", "--max-time", "30", "-o", out,
                                   url + "curl-src.bin", "--user", "demo:demo"],
                                  capture_output=True, timeout=60)
            self.assertEqual(down.returncode, 0, down.stderr)
            with open(out, "rb") as f:
                self.assertEqual(_sha(f.read()), _sha(payload))
            listing = subprocess.run(["curl", "-sS", "--max-time", "30", url,
                                      "--user", "demo:demo"], capture_output=True, timeout=60)
            self.assertEqual(listing.returncode, 0, listing.stderr)
            self.assertIn(b"curl-src.bin", listing.stdout)

    def test_wrong_password_is_rejected_with_530(self):
        with Daemon() as d:
            ftp = d.ftp(login=False)
            try:
                with self.assertRaises(ftplib.error_perm) as ctx:
                    ftp.login("demo", "not-the-password")
                self.assertTrue(str(ctx.exception).startswith("530"), str(ctx.exception))
            finally:
                ftp.close()

    def test_commands_before_login_get_530(self):
        with Daemon() as d:
            with d.raw() as c:
                for command in ("PWD", "LIST", "RETR x", "CWD /", "SYST"):
                    code, text = c.cmd(command)
                    self.assertEqual(code, 530, "%s -> %s" % (command, text))
                code, _ = c.cmd("QUIT")
                self.assertEqual(code, 221)

    @harness.covers("ftplib", "plain", "passive", "ipv6")
    def test_login_and_transfer_over_ipv6(self):
        with Daemon() as d:
            ftp = d.ftp(host="::1")
            try:
                self.assertEqual(ftp.pwd(), "/")
                chunks = []
                ftp.retrbinary("RETR " + Daemon.TEST_FILE, chunks.append)
                self.assertEqual(b"".join(chunks), Daemon.TEST_CONTENT)
                ftp.quit()
            finally:
                ftp.close()

    def test_pipelined_user_pass_pwd_in_one_send(self):
        with Daemon() as d:
            with d.raw() as c:
                c.send(b"USER demo\r\nPASS demo\r\nPWD\r\n")
                codes = [c.reply()[0] for _ in range(3)]
                self.assertEqual(codes, [331, 230, 257])
                self.assertEqual(c.cmd("NOOP")[0], 200)

    @harness.covers("lftp", "plain", "passive")
    def test_lftp_put_get_ls(self):
        payload = os.urandom(200 * 1024)
        with Daemon() as d:
            src = os.path.join(d.tmp, "lftp-src.bin")
            out = os.path.join(d.tmp, "lftp-out.bin")
            with open(src, "wb") as f:
                f.write(payload)
            script = ("set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 10; "
                      "put %s; get lftp-src.bin -o %s; ls; bye" % (src, out))
            result = subprocess.run(["lftp", "-u", "demo,demo", "-p", str(d.port), "-e", script,
                                     "127.0.0.1"], capture_output=True, timeout=90,
                                    stdin=subprocess.DEVNULL)
            self.assertEqual(result.returncode, 0,
                             "lftp failed: stdout=%r stderr=%r" % (result.stdout, result.stderr))
            with open(os.path.join(d.root, "lftp-src.bin"), "rb") as f:
                self.assertEqual(_sha(f.read()), _sha(payload))
            with open(out, "rb") as f:
                self.assertEqual(_sha(f.read()), _sha(payload))
            self.assertIn(b"lftp-src.bin", result.stdout)


class ActiveModeTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    @harness.covers("ftplib", "plain", "active")
    def test_ftplib_active_mode_upload_download_and_listing(self):
        payload = os.urandom(200000)
        with Daemon() as d:
            ftp = d.ftp()
            ftp.set_pasv(False)
            ftp.storbinary("STOR active.bin", io.BytesIO(payload))
            chunks = []
            ftp.retrbinary("RETR active.bin", chunks.append)
            self.assertEqual(_sha(b"".join(chunks)), _sha(payload))
            self.assertIn("active.bin", ftp.nlst())
            ftp.quit()

    @harness.covers("curl", "plain", "active", "ipv6")
    def test_curl_active_mode_download_over_ipv4_and_ipv6(self):
        with Daemon() as d:
            for host in ("127.0.0.1", "[::1]"):
                out = subprocess.run(
                    ["curl", "-sS", "--max-time", "20", "-P", "-", "--user", "demo:demo",
                     "ftp://%s:%d/%s" % (host, d.port, Daemon.TEST_FILE)],
                    capture_output=True, timeout=30)
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertEqual(out.stdout, Daemon.TEST_CONTENT)


    def test_active_connections_come_from_port_20_when_configured(self):
        with Daemon(config={"connect_from_port_20": "yes"}) as d, d.raw() as c:
            c.login()
            self.assertEqual(c.cmd("TYPE I")[0], 200)
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            listener.settimeout(10)
            port = listener.getsockname()[1]
            self.assertEqual(c.cmd("PORT 127,0,0,1,%d,%d" % (port // 256, port % 256))[0], 200)
            c.send("RETR %s\r\n" % Daemon.TEST_FILE)
            conn, peer = listener.accept()
            data = harness.read_until_eof(conn)
            listener.close()
            self.assertEqual(peer[1], 20)
            self.assertEqual(data, Daemon.TEST_CONTENT)
            self.assertEqual(c.reply()[0], 150)
            self.assertEqual(c.reply()[0], 226)
            # The monitor holds CAP_NET_BIND_SERVICE (bit 10) besides CAP_KILL, nothing else.
            monitor = d.monitor_pid_for(c.local_port())
            cap_eff = harness.status_hex(harness.proc_status(monitor), "CapEff")
            self.assertEqual(cap_eff, harness.CAP_KILL_MASK | (1 << 10))


if __name__ == "__main__":
    unittest.main()
