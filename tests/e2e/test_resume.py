"""Restart markers (REST STREAM, RFC 3659 section 5) and SIZE in TYPE A.

The marker survives the commands clients put between REST and the transfer (PASV, EPSV, PORT,
EPRT, TYPE), counts octets of the transfer representation (TYPE A: every bare LF sent as CRLF),
is used up by the next transfer command however it ends, and each real client's own resume
feature rebuilds the original file byte for byte. Expected bytes are computed here, never asked
of the daemon."""

import ftplib
import hashlib
import io
import os
import re
import socket
import subprocess
import unittest

import harness
from harness import Daemon

BINARY = os.urandom(300000)
# TYPE A downloads: LF line ends, a CRLF the encoder leaves alone, a lone CR, empty lines.
DOWNLOAD_TEXT = (b"".join(b"line %05d %s\n" % (i, b"abcdefghij" * (i % 7)) for i in range(3000)) +
                 b"a CRLF line\r\nlone\rCR\n\n\nno final line end")
# TYPE A uploads: text whose CRLF form decodes back to it (no CRLF of its own).
UPLOAD_TEXT = (b"".join(b"row %05d %s\n" % (i, b"0123456789" * (i % 5)) for i in range(3000)) +
               b"lone\rCR inside\n\n\nlast")


def wire_ascii(data):
    """The TYPE A transfer representation: every LF not preceded by CR becomes CRLF."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def digest(data):
    return hashlib.sha256(data).hexdigest()


def bare_lf_positions(data):
    return [m.start() for m in re.finditer(rb"(?<!\r)\n", data)]


def marker_inside_line_end(data, which):
    """(marker, file offset): a marker between the CR inserted before the `which`-th bare LF and
    that LF; the file offset is that LF's."""
    p = bare_lf_positions(data)[which]
    return len(wire_ascii(data[:p])) + 1, p


def marker_at_file_offset(data, offset):
    """The TYPE A marker of the first `offset` bytes of data."""
    return len(wire_ascii(data[:offset]))


class DataPort:
    """A data connection set up with PASV, EPSV, PORT or EPRT on a RawClient."""

    def __init__(self, client, command):
        self.client = client
        self.command = command
        self.listener = None
        self.target = None
        host = client.sock.getpeername()[0]
        if command == "PASV":
            code, text = client.cmd("PASV")
            assert code == 227, text
            n = [int(x) for x in re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", text).groups()]
            self.target = ("%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5])
        elif command == "EPSV":
            code, text = client.cmd("EPSV")
            assert code == 229, text
            self.target = (host, int(re.search(r"\(\|\|\|(\d+)\|\)", text).group(1)))
        else:
            self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.listener.bind(("127.0.0.1", 0))
            self.listener.listen(1)
            self.listener.settimeout(harness.TIMEOUT)
            port = self.listener.getsockname()[1]
            if command == "PORT":
                line = "PORT 127,0,0,1,%d,%d" % (port // 256, port % 256)
            else:
                line = "EPRT |1|127.0.0.1|%d|" % port
            code, text = client.cmd(line)
            assert code == 200, text

    def open(self):
        """The data socket, once the transfer command has been sent."""
        if self.listener is not None:
            sock, _ = self.listener.accept()
            self.listener.close()
        else:
            sock = socket.create_connection(self.target, timeout=harness.TIMEOUT)
        sock.settimeout(harness.TIMEOUT)
        return sock

    def close(self):
        if self.listener is not None:
            self.listener.close()


def run_transfer(client, port, line, upload=None):
    """Sends `line` (RETR/STOR/...), moves the data; returns (final code, downloaded bytes)."""
    client.send(line + "\r\n")
    sock = port.open()
    code, text = client.reply()
    if code != 150:
        sock.close()
        raise AssertionError("%s: %s" % (line, text))
    data = b""
    with sock:
        if upload is not None:
            sock.sendall(upload)
        else:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    code, text = client.reply()
    return code, data


# The orders real clients send: REST before TYPE and the data-port command, between them, and
# after the data-port command right before the transfer.
ORDERS = ("REST TYPE PORT", "TYPE REST PORT", "TYPE PORT REST")


def prepare(client, order, type_code, marker, port_command):
    """Sends REST, TYPE and the data-port command in `order`; returns the DataPort."""
    port = None
    for step in order.split():
        if step == "REST":
            code, text = client.cmd("REST %d" % marker)
            assert code == 350, text
        elif step == "TYPE":
            code, text = client.cmd("TYPE " + type_code)
            assert code == 200, text
        else:
            port = DataPort(client, port_command)
    return port


class RestOrderTest(unittest.TestCase):
    """REST with each data-port command, in each order, TYPE I and TYPE A, RETR and STOR."""

    def setUp(self):
        harness.require_root(self)

    def download_cases(self):
        mid, _ = marker_inside_line_end(DOWNLOAD_TEXT, 1500)
        return [("I", "bin.dat", 123457, BINARY[123457:]),
                ("A", "text.txt", mid, wire_ascii(DOWNLOAD_TEXT)[mid:]),
                ("A", "text.txt", mid + 11, wire_ascii(DOWNLOAD_TEXT)[mid + 11:])]

    def check_retr(self, port_command):
        with Daemon() as d:
            for name, content in (("bin.dat", BINARY), ("text.txt", DOWNLOAD_TEXT)):
                with open(os.path.join(d.root, name), "wb") as f:
                    f.write(content)
            with d.raw() as client:
                client.login()
                for order in ORDERS:
                    for type_code, name, marker, expected in self.download_cases():
                        with self.subTest(order=order, type=type_code, marker=marker):
                            port = prepare(client, order, type_code, marker, port_command)
                            code, data = run_transfer(client, port, "RETR " + name)
                            self.assertEqual(code, 226)
                            self.assertEqual(len(data), len(expected))
                            self.assertEqual(digest(data), digest(expected))

    def check_stor(self, port_command):
        mid, mid_offset = marker_inside_line_end(UPLOAD_TEXT, 2000)
        plain_offset = bare_lf_positions(UPLOAD_TEXT)[1000] + 5
        cases = [
            # (type, marker, what the server holds before, what the client sends, result)
            ("I", 77777, BINARY[:77777] + b"stale tail", BINARY[77777:], BINARY),
            ("A", mid, UPLOAD_TEXT[:mid_offset + 1] + b"stale tail",
             wire_ascii(UPLOAD_TEXT)[mid:], UPLOAD_TEXT),
            ("A", marker_at_file_offset(UPLOAD_TEXT, plain_offset),
             UPLOAD_TEXT[:plain_offset] + b"stale\ntail\n",
             wire_ascii(UPLOAD_TEXT)[marker_at_file_offset(UPLOAD_TEXT, plain_offset):],
             UPLOAD_TEXT),
        ]
        with Daemon() as d:
            path = os.path.join(d.root, "up.dat")
            with d.raw() as client:
                client.login()
                for order in ORDERS:
                    for type_code, marker, before, sent, result in cases:
                        with self.subTest(order=order, type=type_code, marker=marker):
                            with open(path, "wb") as f:
                                f.write(before)
                            os.chown(path, harness.DEMO_UID, harness.DEMO_GID)
                            port = prepare(client, order, type_code, marker, port_command)
                            code, _ = run_transfer(client, port, "STOR up.dat", upload=sent)
                            self.assertEqual(code, 226)
                            with open(path, "rb") as f:
                                stored = f.read()
                            self.assertEqual(len(stored), len(result))
                            self.assertEqual(digest(stored), digest(result))

    def test_retr_resumes_at_marker_set_around_pasv(self):
        self.check_retr("PASV")

    def test_retr_resumes_at_marker_set_around_epsv(self):
        self.check_retr("EPSV")

    def test_retr_resumes_at_marker_set_around_port(self):
        self.check_retr("PORT")

    def test_retr_resumes_at_marker_set_around_eprt(self):
        self.check_retr("EPRT")

    def test_stor_resumes_at_marker_set_around_pasv(self):
        self.check_stor("PASV")

    def test_stor_resumes_at_marker_set_around_epsv(self):
        self.check_stor("EPSV")

    def test_stor_resumes_at_marker_set_around_port(self):
        self.check_stor("PORT")

    def test_stor_resumes_at_marker_set_around_eprt(self):
        self.check_stor("EPRT")


class MarkerLifetimeTest(unittest.TestCase):
    """Which commands keep the marker and which use it up."""

    def setUp(self):
        harness.require_root(self)

    def session(self, d):
        path = os.path.join(d.root, "f.bin")
        with open(path, "wb") as f:
            f.write(BINARY)
        os.chown(path, harness.DEMO_UID, harness.DEMO_GID)
        client = d.raw()
        client.login()
        self.assertEqual(client.cmd("TYPE I")[0], 200)
        return client

    def retr_all(self, client, name="f.bin"):
        port = DataPort(client, "EPSV")
        return run_transfer(client, port, "RETR " + name)

    def test_marker_survives_commands_that_transfer_nothing(self):
        with Daemon() as d, self.session(d) as client:
            self.assertEqual(client.cmd("REST 1000")[0], 350)
            for line in ("NOOP", "PWD", "SIZE f.bin", "MDTM f.bin", "CWD /", "MODE S", "STRU F",
                         "TYPE A", "TYPE I", "STAT", "FEAT", "OPTS UTF8 ON"):
                self.assertLess(client.cmd(line)[0], 400, line)
            code, data = self.retr_all(client)
            self.assertEqual(code, 226)
            self.assertEqual(digest(data), digest(BINARY[1000:]))

    def test_failed_retr_uses_the_marker_up(self):
        with Daemon() as d, self.session(d) as client:
            # 550: no such file.
            self.assertEqual(client.cmd("REST 1000")[0], 350)
            port = DataPort(client, "EPSV")
            self.assertEqual(client.cmd("RETR missing.bin")[0], 550)
            code, data = run_transfer(client, port, "RETR f.bin")
            self.assertEqual((code, digest(data)), (226, digest(BINARY)))
            # 425: no data connection yet.
            self.assertEqual(client.cmd("REST 1000")[0], 350)
            self.assertEqual(client.cmd("RETR f.bin")[0], 425)
            code, data = self.retr_all(client)
            self.assertEqual((code, digest(data)), (226, digest(BINARY)))
            # 554: past the end.
            self.assertEqual(client.cmd("REST %d" % (len(BINARY) + 1))[0], 350)
            port = DataPort(client, "EPSV")
            self.assertEqual(client.cmd("RETR f.bin")[0], 554)
            code, data = run_transfer(client, port, "RETR f.bin")
            self.assertEqual((code, digest(data)), (226, digest(BINARY)))

    def test_listing_refuses_a_marker_and_a_later_upload_starts_at_zero(self):
        with Daemon() as d, self.session(d) as client:
            for listing in ("LIST", "NLST", "MLSD"):
                self.assertEqual(client.cmd("REST 5")[0], 350)
                port = DataPort(client, "EPSV")
                self.assertEqual(client.cmd(listing)[0], 554, listing)
                # The passive port is still there; the stale marker is not.
                code, _ = run_transfer(client, port, "STOR new.bin", upload=b"fresh")
                self.assertEqual(code, 226)
                with open(os.path.join(d.root, "new.bin"), "rb") as f:
                    self.assertEqual(f.read(), b"fresh")
            # Without a marker, the listing is sent.
            code, data = run_transfer(client, DataPort(client, "EPSV"), "NLST")
            self.assertEqual(code, 226)
            self.assertIn(b"new.bin", data)

    def test_stor_with_a_marker_into_a_missing_file_creates_nothing(self):
        with Daemon() as d, self.session(d) as client:
            self.assertEqual(client.cmd("REST 100")[0], 350)
            port = DataPort(client, "EPSV")
            self.assertEqual(client.cmd("STOR absent.bin")[0], 554)
            self.assertFalse(os.path.exists(os.path.join(d.root, "absent.bin")))
            code, _ = run_transfer(client, port, "STOR absent.bin", upload=b"whole")
            self.assertEqual(code, 226)
            with open(os.path.join(d.root, "absent.bin"), "rb") as f:
                self.assertEqual(f.read(), b"whole")

    def test_stor_marker_past_the_end_is_refused_and_leaves_the_file(self):
        with Daemon() as d, self.session(d) as client:
            self.assertEqual(client.cmd("REST %d" % (len(BINARY) + 1))[0], 350)
            DataPort(client, "EPSV")
            self.assertEqual(client.cmd("STOR f.bin")[0], 554)
            with open(os.path.join(d.root, "f.bin"), "rb") as f:
                self.assertEqual(digest(f.read()), digest(BINARY))

    def test_appe_takes_a_marker_only_at_the_end_of_the_file(self):
        with Daemon() as d, self.session(d) as client:
            path = os.path.join(d.root, "log.txt")
            with open(path, "wb") as f:
                f.write(b"one\ntwo\n")
            os.chown(path, harness.DEMO_UID, harness.DEMO_GID)
            self.assertEqual(client.cmd("REST 3")[0], 350)
            DataPort(client, "EPSV")
            self.assertEqual(client.cmd("APPE log.txt")[0], 554)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), b"one\ntwo\n")
            # TYPE A: the file is 10 octets as sent ("one\r\ntwo\r\n").
            self.assertEqual(client.cmd("TYPE A")[0], 200)
            self.assertEqual(client.cmd("REST 10")[0], 350)
            code, _ = run_transfer(client, DataPort(client, "EPSV"), "APPE log.txt",
                                   upload=b"three\r\n")
            self.assertEqual(code, 226)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), b"one\ntwo\nthree\n")

    def test_stou_refuses_a_marker(self):
        with Daemon() as d, self.session(d) as client:
            self.assertEqual(client.cmd("REST 4")[0], 350)
            DataPort(client, "EPSV")
            self.assertEqual(client.cmd("STOU")[0], 554)
            code, _ = run_transfer(client, DataPort(client, "EPSV"), "STOU", upload=b"u")
            self.assertEqual(code, 226)

    def test_rein_and_a_bad_rest_clear_the_marker(self):
        with Daemon() as d, self.session(d) as client:
            self.assertEqual(client.cmd("REST 1000")[0], 350)
            self.assertEqual(client.cmd("REIN")[0], 502)
            code, data = self.retr_all(client)
            self.assertEqual((code, digest(data)), (226, digest(BINARY)))
            self.assertEqual(client.cmd("REST 1000")[0], 350)
            self.assertEqual(client.cmd("REST ten")[0], 501)
            code, data = self.retr_all(client)
            self.assertEqual((code, digest(data)), (226, digest(BINARY)))

    def test_type_a_marker_at_the_exact_end_sends_nothing_and_one_past_is_refused(self):
        with Daemon() as d, self.session(d) as client:
            with open(os.path.join(d.root, "t.txt"), "wb") as f:
                f.write(DOWNLOAD_TEXT)
            end = len(wire_ascii(DOWNLOAD_TEXT))
            self.assertEqual(client.cmd("TYPE A")[0], 200)
            self.assertEqual(client.cmd("REST %d" % end)[0], 350)
            code, data = self.retr_all(client, "t.txt")
            self.assertEqual((code, data), (226, b""))
            self.assertEqual(client.cmd("REST %d" % (end + 1))[0], 350)
            DataPort(client, "EPSV")
            self.assertEqual(client.cmd("RETR t.txt")[0], 554)


class AsciiSizeTest(unittest.TestCase):
    """SIZE answers the octets RETR sends in the current TYPE."""

    def setUp(self):
        harness.require_root(self)

    def test_size_after_retrlines_counts_line_ends_as_crlf(self):
        with Daemon() as d:
            with open(os.path.join(d.root, "t.txt"), "wb") as f:
                f.write(DOWNLOAD_TEXT)
            ftp = d.ftp()
            lines = []
            ftp.retrlines("RETR t.txt", lines.append)  # leaves TYPE A
            self.assertEqual(ftp.size("t.txt"), len(wire_ascii(DOWNLOAD_TEXT)))
            self.assertNotEqual(len(wire_ascii(DOWNLOAD_TEXT)), len(DOWNLOAD_TEXT))
            # What RETR sends in TYPE A is exactly that many octets.
            data = harness.read_until_eof(ftp.transfercmd("RETR t.txt"))
            ftp.voidresp()
            self.assertEqual(len(data), ftp.size("t.txt"))
            ftp.voidcmd("TYPE I")
            self.assertEqual(ftp.size("t.txt"), len(DOWNLOAD_TEXT))
            ftp.quit()

    def test_size_in_ascii_over_the_limit_is_550_and_binary_is_unchanged(self):
        with Daemon(config={"ascii_size_limit": "1000"}) as d:
            with open(os.path.join(d.root, "small.txt"), "wb") as f:
                f.write(b"a\n" * 500)  # exactly at the limit
            with open(os.path.join(d.root, "big.txt"), "wb") as f:
                f.write(b"a\n" * 500 + b"b")
            ftp = d.ftp()
            ftp.voidcmd("TYPE A")
            self.assertEqual(ftp.size("small.txt"), 1500)
            with self.assertRaises(ftplib.error_perm) as ctx:
                ftp.size("big.txt")
            self.assertTrue(str(ctx.exception).startswith("550"))
            self.assertIn("TYPE I", str(ctx.exception))
            ftp.voidcmd("TYPE I")
            self.assertEqual(ftp.size("big.txt"), 1001)
            ftp.quit()

    def test_size_in_ascii_is_off_with_limit_zero(self):
        with Daemon(config={"ascii_size_limit": "0"}) as d:
            ftp = d.ftp()
            ftp.voidcmd("TYPE A")
            with self.assertRaises(ftplib.error_perm) as ctx:
                ftp.size(Daemon.TEST_FILE)
            self.assertTrue(str(ctx.exception).startswith("550"))
            ftp.voidcmd("TYPE I")
            self.assertEqual(ftp.size(Daemon.TEST_FILE), len(Daemon.TEST_CONTENT))
            ftp.quit()


class ClientResumeTest(unittest.TestCase):
    """Each client's own resume feature, from a partial copy, ends with the original file."""

    def setUp(self):
        harness.require_root(self)

    def put_remote(self, d, name, content):
        path = os.path.join(d.root, name)
        with open(path, "wb") as f:
            f.write(content)
        os.chown(path, harness.DEMO_UID, harness.DEMO_GID)
        return path

    def put_local(self, d, name, content):
        path = os.path.join(d.tmp, name)
        with open(path, "wb") as f:
            f.write(content)
        return path

    def assertFileHolds(self, path, content):
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(len(data), len(content), path)
        self.assertEqual(digest(data), digest(content), path)

    def lftp(self, d, script, passive):
        result = subprocess.run(
            ["lftp", "-u", "demo,demo", "-p", str(d.port), "-e",
             "set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 10; "
             "set ftp:passive-mode %s; %s; bye" % ("on" if passive else "off", script),
             "127.0.0.1"], capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        self.assertEqual(result.returncode, 0, "lftp: %r %r" % (result.stdout, result.stderr))

    def curl(self, *args):
        result = subprocess.run(["curl", "-sS", "--max-time", "30", "--user", "demo:demo"] +
                                list(args), capture_output=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result

    @harness.covers("ftplib", "plain", "passive", "active", "resume-download", "resume-upload")
    def test_ftplib_retrbinary_and_storbinary_with_rest(self):
        with Daemon() as d:
            self.put_remote(d, "f.bin", BINARY)
            for passive in (True, False):
                with self.subTest(passive=passive):
                    ftp = d.ftp()
                    ftp.set_pasv(passive)
                    chunks = [BINARY[:100000]]  # the partial local copy
                    ftp.retrbinary("RETR f.bin", chunks.append, rest=100000)
                    self.assertEqual(digest(b"".join(chunks)), digest(BINARY))
                    up = self.put_remote(d, "up.bin", BINARY[:54321])
                    ftp.storbinary("STOR up.bin", io.BytesIO(BINARY[54321:]), rest=54321)
                    self.assertFileHolds(up, BINARY)
                    ftp.quit()

    @harness.covers("curl", "plain", "passive", "active", "resume-download", "resume-upload")
    def test_curl_resumes_download_and_upload(self):
        with Daemon() as d:
            url = "ftp://127.0.0.1:%d/" % d.port
            self.put_remote(d, "f.bin", BINARY)
            out = self.put_local(d, "f.bin", BINARY[:150000])
            self.curl("-C", "-", "-o", out, url + "f.bin")
            self.assertFileHolds(out, BINARY)
            out = self.put_local(d, "active.bin", BINARY[:1])
            self.curl("-C", "-", "--ftp-port", "127.0.0.1", "-o", out, url + "f.bin")
            self.assertFileHolds(out, BINARY)
            remote = self.put_remote(d, "up.bin", BINARY[:200000])
            src = self.put_local(d, "src.bin", BINARY)
            self.curl("-C", "-", "-T", src, url + "up.bin")
            self.assertFileHolds(remote, BINARY)

    @harness.covers("lftp", "plain", "passive", "active", "resume-download", "resume-upload")
    def test_lftp_get_c_reget_and_reput_passive_and_active(self):
        with Daemon() as d:
            self.put_remote(d, "f.bin", BINARY)
            for passive in (True, False):
                with self.subTest(passive=passive):
                    out = self.put_local(d, "get.bin", BINARY[:99999])
                    self.lftp(d, "get -c f.bin -o %s" % out, passive)
                    self.assertFileHolds(out, BINARY)
                    out = self.put_local(d, "reget.bin", BINARY[:250000])
                    self.lftp(d, "reget f.bin -o %s" % out, passive)
                    self.assertFileHolds(out, BINARY)
                    remote = self.put_remote(d, "reput.bin", BINARY[:123])
                    src = self.put_local(d, "src.bin", BINARY)
                    self.lftp(d, "reput %s -o reput.bin" % src, passive)
                    self.assertFileHolds(remote, BINARY)

    @harness.covers("wget", "plain", "passive", "active", "resume-download")
    def test_wget_continue_passive_and_active(self):
        with Daemon() as d:
            self.put_remote(d, "f.bin", BINARY)
            for passive in (True, False):
                with self.subTest(passive=passive):
                    out = self.put_local(d, "f.bin", BINARY[:31337])
                    args = ["wget", "-q", "-c", "-t", "1", "-T", "20"]
                    if not passive:
                        args.append("--no-passive-ftp")
                    args.append("ftp://demo:demo@127.0.0.1:%d/f.bin" % d.port)
                    result = subprocess.run(args, cwd=d.tmp, capture_output=True, timeout=60,
                                            stdin=subprocess.DEVNULL)
                    self.assertEqual(result.returncode, 0, result.stderr)
                    self.assertFileHolds(out, BINARY)


if __name__ == "__main__":
    unittest.main()
