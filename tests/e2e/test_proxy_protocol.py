"""The PROXY protocol (v1 and v2) from trusted load balancers: a real HAProxy in front of
wardenftpd on loopback (control and passive data through it, the real client address in the
monitor's log and in the per-address limits), and raw-socket tests of what a header from an
untrusted address, a malformed header and a silent proxy get."""

import ftplib
import io
import os
import random
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Daemon, TlsDaemon

HAPROXY = "/usr/sbin/haproxy"
PROXY_ADDRESS = "127.0.0.2"    # haproxy's frontends; its own connections come from 127.0.0.1
CLIENT_A = "127.0.0.3"
CLIENT_B = "127.0.0.4"
UNTRUSTED = "127.0.0.6"
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def v2_header(source, source_port, destination, destination_port, command=0x21, family=0x11):
    body = b""
    if family == 0x11:
        body = (socket.inet_aton(source) + socket.inet_aton(destination) +
                struct.pack(">HH", source_port, destination_port))
    return V2_SIGNATURE + bytes([command, family]) + struct.pack(">H", len(body)) + body


def listening(address, port):
    """True when a socket listens on address:port (IPv4), from /proc/net/tcp."""
    wanted = "%s:%04X" % ("".join("%02X" % int(b) for b in reversed(address.split("."))), port)
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == wanted and fields[3] == "0A":
                return True
    return False


def port_is_free(address, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def free_port_range(count):
    """`count` consecutive ports free on 127.0.0.1 and on the proxy address."""
    for _ in range(200):
        base = random.randrange(20000, 60000 - count)
        if all(port_is_free(a, p) for p in range(base, base + count)
               for a in ("127.0.0.1", PROXY_ADDRESS)):
            return base
    raise AssertionError("no free port range")


class HAProxy:
    """A real haproxy (mode tcp) in the foreground, started and stopped by the test: one
    frontend relaying the control port with a PROXY header, one relaying the passive range
    (each port to the same port on the server, without a header)."""

    def __init__(self, server_port, pasv_range, send_proxy="send-proxy-v2"):
        self.server_port = server_port
        self.pasv_range = pasv_range
        self.send_proxy = send_proxy
        self.port = harness.free_port()
        self.proc = None
        self.tmp = None

    def __enter__(self):
        if not os.access(HAPROXY, os.X_OK):
            raise AssertionError("haproxy not installed at %s (apt-get install haproxy)" % HAPROXY)
        self.tmp = tempfile.mkdtemp(prefix="wftpd-haproxy-", dir="/tmp")
        low, high = self.pasv_range
        config = "\n".join([
            "global",
            "    maxconn 200",
            "defaults",
            "    mode tcp",
            "    timeout connect 5s",
            "    timeout client 60s",
            "    timeout server 60s",
            "frontend ftp_control",
            "    bind %s:%d" % (PROXY_ADDRESS, self.port),
            "    default_backend ftp_control",
            "backend ftp_control",
            "    server ftp1 127.0.0.1:%d %s" % (self.server_port, self.send_proxy),
            "frontend ftp_passive",
            "    bind %s:%d-%d" % (PROXY_ADDRESS, low, high),
            "    default_backend ftp_passive",
            "backend ftp_passive",
            # No port: the port the client connected to, so each passive port maps to itself.
            "    server ftp1 127.0.0.1",
            ""])
        self.config_file = os.path.join(self.tmp, "haproxy.cfg")
        with open(self.config_file, "w") as f:
            f.write(config)
        self.log_file = os.path.join(self.tmp, "haproxy.log")
        with open(self.log_file, "wb") as log:
            self.proc = subprocess.Popen([HAPROXY, "-db", "-f", self.config_file],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        ready = harness.wait_until(
            lambda: self.proc.poll() is not None or
            (listening(PROXY_ADDRESS, self.port) and listening(PROXY_ADDRESS, high)), 10)
        if not ready or self.proc.poll() is not None:
            self.__exit__(None, None, None)
            raise AssertionError("haproxy did not start listening")
        return self

    def log(self):
        with open(self.log_file, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.tmp:
            for name in os.listdir(self.tmp):
                os.unlink(os.path.join(self.tmp, name))
            os.rmdir(self.tmp)
        return False


def proxy_config(pasv_low=None, pasv_high=None, **extra):
    config = {"proxy_protocol": "yes", "trusted_proxies": "127.0.0.1",
              "listen_address": "127.0.0.1"}
    if pasv_low is not None:
        config.update({"pasv_min_port": str(pasv_low), "pasv_max_port": str(pasv_high)})
    config.update(extra)
    return config


def ftp_from(source, host, port):
    client = ftplib.FTP(source_address=(source, 0), timeout=harness.TIMEOUT)
    try:
        client.connect(host, port)
    except BaseException:
        client.close()
        raise
    return client


def raw_from(source, port, host="127.0.0.1"):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(harness.TIMEOUT)
    sock.bind((source, 0))
    sock.connect((host, port))
    return sock


def wrap(sock):
    """A harness.RawClient (reply parsing) around an already connected socket."""
    client = harness.RawClient.__new__(harness.RawClient)
    client.sock, client.buffer = sock, b""
    return client


def read_until_closed(sock, timeout):
    """(bytes received, True if the server closed within timeout)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return data, True
            data += chunk
    except ConnectionResetError:
        return data, True
    except socket.timeout:
        return data, False


class ProxyProtocolTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    # -- through a real HAProxy -----------------------------------------------------------------

    def test_haproxy_v2_login_list_retr_stor_with_real_client_in_log(self):
        low = free_port_range(4)
        with Daemon(config=proxy_config(low, low + 3)) as d, \
                HAProxy(d.port, (low, low + 3)) as proxy:
            ftp = ftp_from(CLIENT_A, PROXY_ADDRESS, proxy.port)
            # PASV names the proxy's address (the PROXY header's destination), so the data
            # connection goes through haproxy too.
            ftp.trust_server_pasv_ipv4_address = True
            try:
                ftp.login("demo", "demo")
                reply = ftp.sendcmd("PASV")
                self.assertIn("(127,0,0,2,", reply)
                host, port = ftplib.parse227(reply)
                self.assertEqual(host, PROXY_ADDRESS)
                self.assertTrue(low <= port <= low + 3, reply)
                listing = []
                ftp.retrlines("LIST", listing.append)
                self.assertTrue(any(line.endswith(" " + d.TEST_FILE) for line in listing), listing)
                chunks = []
                ftp.retrbinary("RETR " + d.TEST_FILE, chunks.append)
                self.assertEqual(b"".join(chunks), d.TEST_CONTENT)
                payload = os.urandom(300000)
                self.assertTrue(ftp.storbinary("STOR up.bin", io.BytesIO(payload)).startswith("226"))
                with open(os.path.join(d.root, "up.bin"), "rb") as f:
                    self.assertEqual(f.read(), payload)
                ftp.quit()
            finally:
                ftp.close()
            self.assertTrue(d.wait_log("session ended"))
            log = d.log()
            # The listener and the monitor name the real client, and the proxy it came through.
            self.assertRegex(log, r"session \d+ from 127\.0\.0\.3:\d+ via proxy 127\.0\.0\.1:\d+")
            self.assertIn("client=127.0.0.3", log)
            self.assertIn("connected through trusted proxy 127.0.0.1:", log)
            self.assertRegex(log, r"client=127\.0\.0\.3\S* .*login accepted for user 'demo'")
            self.assertNotIn("client=127.0.0.1", log)
            self.assertNotIn("foreign address", log)

    def test_haproxy_per_address_limit_counts_the_real_client(self):
        low = free_port_range(2)
        with Daemon(config=proxy_config(low, low + 1, max_per_ip="1")) as d, \
                HAProxy(d.port, (low, low + 1)) as proxy:
            first = ftp_from(CLIENT_A, PROXY_ADDRESS, proxy.port)
            try:
                self.assertTrue(first.getwelcome().startswith("220"))
                # Every connection reaches the server from haproxy's 127.0.0.1; the limit is
                # on the client haproxy names: a second one from 127.0.0.3 is refused...
                with self.assertRaises(ftplib.error_temp) as refused:
                    ftp_from(CLIENT_A, PROXY_ADDRESS, proxy.port)
                self.assertIn("Too many connections from your address", str(refused.exception))
                # ...while another client address is served.
                other = ftp_from(CLIENT_B, PROXY_ADDRESS, proxy.port)
                try:
                    self.assertTrue(other.getwelcome().startswith("220"))
                    other.login("demo", "demo")
                finally:
                    other.close()
            finally:
                first.close()
            self.assertRegex(d.log(), r"refusing 127\.0\.0\.3:\d+ \(via proxy 127\.0\.0\.1:\d+\): "
                                      r"max_per_ip \(1\) reached")

    def test_haproxy_v1_header_and_configured_pasv_address(self):
        low = free_port_range(2)
        config = proxy_config(low, low + 1, pasv_address=PROXY_ADDRESS)
        with Daemon(config=config) as d, \
                HAProxy(d.port, (low, low + 1), send_proxy="send-proxy") as proxy:
            ftp = ftp_from(CLIENT_B, PROXY_ADDRESS, proxy.port)
            ftp.trust_server_pasv_ipv4_address = True
            try:
                ftp.login("demo", "demo")
                chunks = []
                ftp.retrbinary("RETR " + d.TEST_FILE, chunks.append)
                self.assertEqual(b"".join(chunks), d.TEST_CONTENT)
                ftp.quit()
            finally:
                ftp.close()
            self.assertTrue(d.wait_log("session ended"))
            self.assertIn("client=127.0.0.4", d.log())
            self.assertRegex(d.log(), r"session \d+ from 127\.0\.0\.4:\d+ via proxy")

    # -- raw sockets ------------------------------------------------------------------------------

    def test_header_from_untrusted_address_is_not_honoured(self):
        with Daemon(config=proxy_config()) as d:
            sock = raw_from(UNTRUSTED, d.port)
            try:
                sock.sendall(b"PROXY TCP4 10.9.8.7 127.0.0.1 4000 21\r\n")
                client = wrap(sock)
                code, text = client.reply()
                self.assertEqual(code, 220, text)
                # The header is just an unknown command from this client.
                code, text = client.reply()
                self.assertGreaterEqual(code, 500, text)
            finally:
                sock.close()
            self.assertTrue(d.wait_log("client=127.0.0.6"))
            self.assertNotIn("10.9.8.7", d.log())

    def test_trusted_proxy_header_and_pipelined_command_in_one_segment(self):
        with Daemon(config=proxy_config()) as d:
            sock = raw_from("127.0.0.1", d.port)
            try:
                # The client's first command arrives in the same segment as the header: the
                # listener must consume the header and nothing more.
                sock.sendall(v2_header("192.0.2.55", 40000, "198.51.100.1", 21) + b"USER demo\r\n")
                client = wrap(sock)
                self.assertEqual(client.reply()[0], 220)
                code, text = client.reply()
                self.assertEqual(code, 331, text)
                code, text = client.cmd("PASS demo")
                self.assertEqual(code, 230, text)
            finally:
                sock.close()
            self.assertTrue(d.wait_log("client=192.0.2.55"))
            # The listener logs the session once posix_spawn returned; the monitor may log first.
            self.assertTrue(d.wait_log("from 192.0.2.55:40000 via proxy"))
            self.assertRegex(d.log(), r"session \d+ from 192\.0\.2\.55:40000 via proxy 127\.0\.0\.1:")

    def test_passive_data_from_the_named_client_and_not_from_a_stranger(self):
        with Daemon(config=proxy_config()) as d:
            sock = raw_from("127.0.0.1", d.port)
            client = wrap(sock)
            try:
                sock.sendall(b"PROXY TCP4 127.0.0.7 127.0.0.1 40001 21\r\n")
                self.assertEqual(client.reply()[0], 220)
                client.login()
                self.assertEqual(client.cmd("TYPE I")[0], 200)
                code, text = client.cmd("EPSV")
                self.assertEqual(code, 229, text)
                port = int(text.split("|||")[1].split("|")[0])
                stranger = raw_from("127.0.0.8", port)
                client.send("RETR %s\r\n" % d.TEST_FILE)
                self.assertTrue(d.wait_log("data connection from foreign address 127.0.0.8"))
                stranger.close()
                with raw_from("127.0.0.7", port) as data:
                    self.assertEqual(client.reply()[0], 150)
                    received, closed = read_until_closed(data, harness.TIMEOUT)
                self.assertTrue(closed)
                self.assertEqual(received, d.TEST_CONTENT)
                self.assertEqual(client.reply()[0], 226)
                # PORT must name the real client, not the proxy.
                code, text = client.cmd("PORT 127,0,0,1,200,1")
                self.assertEqual(code // 100, 5, text)
            finally:
                sock.close()
            self.assertIn("control peer is 127.0.0.7, via proxy 127.0.0.1", d.log())

    def test_ipv6_client_named_by_a_v1_header(self):
        with Daemon(config=proxy_config()) as d:
            sock = raw_from("127.0.0.1", d.port)
            try:
                sock.sendall(b"PROXY TCP6 2001:db8::5 2001:db8::1 40002 21\r\n")
                self.assertTrue(sock.recv(100).startswith(b"220 "))
            finally:
                sock.close()
            self.assertTrue(d.wait_log("client=2001:db8::5"))
            # The listener logs the session once posix_spawn returned; the monitor may log first.
            self.assertTrue(d.wait_log("from [2001:db8::5]:40002 via proxy"))
            self.assertRegex(d.log(), r"session \d+ from \[2001:db8::5\]:40002 via proxy")

    def test_who_and_kick_name_the_client_behind_the_proxy(self):
        with Daemon(config=proxy_config()) as d:
            sock = raw_from("127.0.0.1", d.port)
            try:
                sock.sendall(b"PROXY TCP4 198.51.100.7 127.0.0.1 40003 21\r\n")
                self.assertTrue(sock.recv(100).startswith(b"220 "))
                rows = d.ctl("who", json_output=True)
                self.assertEqual(len(rows), 1, rows)
                self.assertEqual(rows[0]["client"], "198.51.100.7")
                self.assertTrue(rows[0]["proxy"].startswith("127.0.0.1:"), rows)
                # The proxy's own address names no session; the client's does.
                self.assertEqual(d.ctl("kick", "--client", "127.0.0.1", check=False).returncode, 1)
                d.ctl("kick", "--client", "198.51.100.0/24")
                sock.settimeout(10)
                self.assertEqual(sock.recv(100), b"")
            finally:
                sock.close()

    def test_local_command_keeps_the_proxys_own_address(self):
        with Daemon(config=proxy_config()) as d:
            sock = raw_from("127.0.0.1", d.port)
            try:
                sock.sendall(v2_header(None, 0, None, 0, command=0x20, family=0x00))
                self.assertTrue(sock.recv(100).startswith(b"220 "))
            finally:
                sock.close()
            self.assertTrue(d.wait_log("client=127.0.0.1"))

    def test_malformed_header_from_trusted_proxy_drops_the_connection(self):
        bad_headers = [
            b"PROXY TCP4 10.1.2.999 127.0.0.1 4000 21\r\n",      # bad address
            b"PROXY TCP4 10.1.2.3 127.0.0.1 4000 21\n",          # no CR
            b"USER demo\r\n",                                    # no header at all
            b"PROXY UNKNOWN " + b"x" * 120 + b"\r\n",            # over 107 bytes
            # AF_UNIX over STREAM is not a TCP client.
            V2_SIGNATURE + b"\x21\x31" + struct.pack(">H", 216) + b"\x00" * 216,
        ]
        with Daemon(config=proxy_config()) as d:
            for header in bad_headers:
                sock = raw_from("127.0.0.1", d.port)
                try:
                    sock.sendall(header)
                    data, closed = read_until_closed(sock, 5)
                    self.assertTrue(closed, header)
                    self.assertEqual(data, b"", header)  # no greeting: no session was started
                finally:
                    sock.close()
            self.assertTrue(d.wait_log("sent an invalid PROXY header", count=len(bad_headers)))
            self.assertEqual(d.monitors(), [])
            self.assertNotIn("monitor pid", d.log())

    def test_silent_or_slow_trusted_proxy_is_dropped_after_the_deadline(self):
        with Daemon(config=proxy_config(proxy_header_timeout="1")) as d:
            silent = raw_from("127.0.0.1", d.port)
            partial = raw_from("127.0.0.1", d.port)
            try:
                started = time.monotonic()
                partial.sendall(b"PROXY TCP4 192.0.2.1 ")
                for sock in (silent, partial):
                    data, closed = read_until_closed(sock, 6)
                    self.assertTrue(closed)
                    self.assertEqual(data, b"")
                elapsed = time.monotonic() - started
                self.assertGreaterEqual(elapsed, 0.9)
                self.assertLess(elapsed, 5)
            finally:
                silent.close()
                partial.close()
            self.assertTrue(d.wait_log("within proxy_header_timeout", count=2))
            self.assertNotIn("monitor pid", d.log())
            # Direct clients are served as before.
            direct = wrap(raw_from(UNTRUSTED, d.port))
            try:
                self.assertEqual(direct.reply()[0], 220)
            finally:
                direct.close()

    def test_monitor_refuses_a_proxied_client_from_an_untrusted_peer(self):
        """Defence in depth: a monitor exec'd with --proxied-client for a connection whose
        peer is not a trusted proxy (a listener bug) ends the session instead of believing it."""
        with Daemon(config=proxy_config(), start=False) as d:
            config = os.memfd_create("wftpd-test-config")
            os.write(config, d.config_text().encode())
            os.lseek(config, 0, os.SEEK_SET)
            server = socket.socket()
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            client = raw_from(UNTRUSTED, server.getsockname()[1])
            accepted, _ = server.accept()
            report_read, report_write = os.pipe()
            devnull = os.open(os.devnull, os.O_RDWR)
            layout = [devnull, devnull, None, accepted.fileno(), config, devnull, devnull,
                      report_write]

            def arrange():
                high = [os.dup(fd) if fd is not None else None for fd in layout]
                for target, fd in enumerate(high):
                    if fd is not None:
                        os.dup2(fd, target)
            with open(d.log_file, "ab") as log:
                monitor = subprocess.Popen(
                    [harness.BINARY, "--session", "99", "--proxied-client", "192.0.2.1:5"],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                    preexec_fn=arrange, pass_fds=(3, 4, 5, 6, 7))
                rc = monitor.wait(20)
            for fd in (config, report_read, report_write, devnull):
                os.close(fd)
            accepted.close()
            server.close()
            data, closed = read_until_closed(client, 5)
            client.close()
            self.assertEqual(rc, 1, d.log())
            self.assertEqual(data, b"")  # no greeting
            self.assertIn("proxied client given for a connection from 127.0.0.6", d.log())

    def test_implicit_tls_port_behind_a_proxy(self):
        port = harness.free_port()
        config = proxy_config(tls_implicit_port=str(port))
        with TlsDaemon(config=config) as d:
            raw = raw_from("127.0.0.1", port)
            try:
                # The header comes before the ClientHello, in the same segment as far as TCP
                # is concerned: the TLS handshake must see exactly its own bytes.
                raw.sendall(v2_header("192.0.2.77", 41000, "198.51.100.1", 990))
                context = harness.tls_client_context(d.pki["ca"])
                tls = context.wrap_socket(raw, server_hostname="localhost")
                greeting = tls.recv(200).decode()
                self.assertTrue(greeting.startswith("220 "), greeting)
                tls.sendall(b"USER demo\r\n")
                self.assertTrue(tls.recv(200).startswith(b"331"))
                tls.close()
            finally:
                raw.close()
            self.assertTrue(d.wait_log("client=192.0.2.77"))
            # The listener logs the session once posix_spawn returned; the monitor may log first.
            self.assertTrue(d.wait_log("from 192.0.2.77:41000 via proxy"))
            self.assertRegex(d.log(), r"session \d+ from 192\.0\.2\.77:41000 via proxy")


if __name__ == "__main__":
    unittest.main()
