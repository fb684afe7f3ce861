"""Where the TLS private key is, on live sessions: only in the session monitor (which signs the
handshakes' digests) and, as a sealed memfd it never maps, in the listener. No process that holds
a client socket (the pre-auth child, the TLS relay it becomes, the post-auth child) ever holds
it, for RSA and EC keys, TLS 1.2 and 1.3, explicit and implicit TLS, and with
require_tls_session_reuse=no (data handshakes sign through the monitor too).

The scan reads /proc/PID/mem of each process for the key's secret numbers (both byte orders)
and the base64 of the key file; the monitor is the positive control that the scan finds them.
"""

import ftplib
import os
import re
import socket
import ssl
import struct
import subprocess
import unittest

import harness
from harness import TlsDaemon, memory_contains, monitor_datagram

TYPE_SIGN_REQUEST = 19
TYPE_SIGN_RESULT = 20


def _private_numbers(key_file):
    """The key's secret numbers, big-endian: the EC scalar, or RSA's d, p and q."""
    out = subprocess.run(["openssl", "pkey", "-in", key_file, "-noout", "-text"],
                         capture_output=True, check=True, timeout=30).stdout.decode()
    labels = ("priv",) if "priv:" in out else ("privateExponent", "prime1", "prime2")
    numbers = []
    for label in labels:
        match = re.search(r"^%s:\s*\n?((?:\s+[0-9a-f]{2}(?::[0-9a-f]{2})*:?\n)+)" % label, out, re.M)
        assert match, (label, out)
        number = bytes.fromhex(re.sub(r"[^0-9a-f]", "", match.group(1))).lstrip(b"\0")
        assert len(number) >= 24, (label, number)
        numbers.append(number)
    return numbers


def key_needles(key_file):
    needles = set()
    for number in _private_numbers(key_file):
        # OpenSSL keeps big numbers as little-endian words: look for both byte orders, and for
        # a 24-byte window from the middle so that a number split across words still shows.
        middle = number[len(number) // 2 - 12:len(number) // 2 + 12]
        needles.update({number, number[::-1], middle, middle[::-1]})
    with open(key_file, "rb") as f:
        lines = f.read().split(b"\n")
    needles.add(b"".join(lines[1:3]))  # base64 of the key itself
    return needles


def holds_client_socket(pid):
    return any(target.startswith("socket:") for target in harness.proc_fds(pid).values())


class KeyIsolationTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def assert_no_key(self, pid, needles, what):
        self.assertEqual(memory_contains(pid, needles), set(), "%s (pid %d) holds the private key" % (what, pid))
        fds = harness.proc_fds(pid)
        self.assertFalse(any("wardenftpd-tls" in target for target in fds.values()),
                         "%s has the TLS credential memfd: %r" % (what, fds))

    def _session(self, d, version, implicit):
        context = harness.tls_client_context(d.pki["ca"], minimum=version, maximum=version)
        if implicit:
            raw = socket.create_connection(("127.0.0.1", d.implicit_port), timeout=harness.TIMEOUT)
            sock = context.wrap_socket(raw, server_hostname="localhost")
            # ftplib has no implicit FTPS: it is given the TLS socket, and login() then sends no
            # AUTH TLS (the socket is already TLS).
            ftp = harness.ReusingFTP_TLS(context=context, timeout=harness.TIMEOUT)
            ftp.host = "127.0.0.1"
            ftp.sock = sock
            ftp.af = sock.family
            ftp.file = sock.makefile("r", encoding=ftp.encoding)
            ftp.welcome = ftp.getresp()
            ftp.login("demo", "demo")
        else:
            ftp = harness.ReusingFTP_TLS(context=context, timeout=harness.TIMEOUT)
            ftp.connect("127.0.0.1", d.port)
            ftp.login("demo", "demo")
        ftp.prot_p()
        self.assertEqual(ftp.sock.version(), "TLSv1.3" if version == ssl.TLSVersion.TLSv1_3 else "TLSv1.2")
        return ftp

    def _check(self, key_type, config=None):
        config = dict(config or {})
        config.setdefault("tls_implicit_port", str(harness.free_port()))
        with TlsDaemon(key_type=key_type, config=config) as d:
            d.implicit_port = int(d.extra_config["tls_implicit_port"])
            needles = key_needles(d.pki["key"])
            # Before any TLS: a fresh session's pre-auth child (and the standby child).
            with d.raw() as fresh:
                monitor = d.monitor_pid_for(fresh.local_port())
                self.assert_no_key(d.session_child(monitor, "wftpd:preauth"), needles, "pre-auth child before TLS")
                self.assert_no_key(d.session_child(monitor, "wftpd:standby"), needles, "standby child")
                self.assertTrue(memory_contains(monitor, needles), "the scan cannot find the key in the monitor")
            for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                for implicit in (False, True):
                    with self.subTest(version=version.name, implicit=implicit):
                        ftp = self._session(d, version, implicit)
                        try:
                            self.assertEqual(ftp.nlst(), [d.TEST_FILE])  # a data handshake
                            monitor = d.monitor_pid_for(ftp.sock.getsockname()[1])
                            relay = d.session_child(monitor, "wftpd:preauth")
                            postauth = d.session_child(monitor, "wftpd:postauth")
                            for pid, what in ((relay, "TLS relay (pre-auth child)"),
                                              (postauth, "post-auth child")):
                                self.assertTrue(holds_client_socket(pid), what)
                                self.assert_no_key(pid, needles, what)
                            # Positive control: the search finds the key where it is.
                            self.assertTrue(memory_contains(monitor, needles),
                                            "the scan cannot find the key in the monitor")
                        finally:
                            ftp.close()
            # The listener has it only in the sealed memfd it hands on, not in its memory.
            self.assertEqual(memory_contains(d.proc.pid, needles), set(), "the listener's memory holds the key")
            self.assertNotIn("seccomp", d.log())

    def test_ec_key_stays_in_the_monitor(self):
        self._check("ec")

    def test_rsa_key_stays_in_the_monitor(self):
        self._check("rsa")

    def test_fresh_data_handshakes_sign_through_the_monitor(self):
        # require_tls_session_reuse=no: stock ftplib makes a full handshake per data connection;
        # the post-auth child asks the monitor for that signature and still never has the key.
        for key_type in ("ec", "rsa"):
            with self.subTest(key=key_type), \
                    TlsDaemon(key_type=key_type, config={"require_tls_session_reuse": "no"}) as d:
                needles = key_needles(d.pki["key"])
                ftp = d.ftps(reuse=False)
                try:
                    for _ in range(3):
                        self.assertEqual(ftp.nlst(), [d.TEST_FILE])
                    monitor = d.monitor_pid_for(ftp.sock.getsockname()[1])
                    self.assert_no_key(d.session_child(monitor, "wftpd:postauth"), needles, "post-auth child")
                    self.assert_no_key(d.session_child(monitor, "wftpd:preauth"), needles, "TLS relay")
                finally:
                    ftp.close()
                self.assertNotIn("seccomp", d.log())


class SigningOracleTest(unittest.TestCase):
    """A process holding a child's monitor socket (the child compromised) asks for signatures."""

    def setUp(self):
        harness.require_root(self)

    @staticmethod
    def sign_request(scheme=0x0403, digest=b"\x11" * 32):
        return monitor_datagram(TYPE_SIGN_REQUEST, struct.pack(">HH", scheme, len(digest)) + digest)

    @staticmethod
    def read_sign_result(sock):
        sock.settimeout(harness.TIMEOUT)
        datagram = sock.recv(65536)
        msg_type, _, length = struct.unpack(">HHI", datagram[:8])
        return msg_type, datagram[8:8 + length]

    def assert_session_ended(self, d, victim, monitor, reason):
        self.assertTrue(victim.wait_closed(5), "the victim's control connection stayed open")
        self.assertTrue(harness.wait_until(lambda: not harness.pid_alive(monitor), 5))
        self.assertTrue(harness.wait_until(lambda: reason in d.log(), 5), d.log())

    def test_preauth_child_gets_one_signature_and_no_more(self):
        with TlsDaemon() as d, d.raw() as victim:
            monitor = d.monitor_pid_for(victim.local_port())
            preauth = d.session_child(monitor, "wftpd:preauth")
            sock = socket.socket(fileno=harness.pidfd_getfd(preauth, 4))
            try:
                sock.send(self.sign_request())
                msg_type, payload = self.read_sign_result(sock)
                self.assertEqual(msg_type, TYPE_SIGN_RESULT)
                (length,) = struct.unpack(">H", payload[:2])
                self.assertGreater(length, 0)  # a DER ECDSA signature
                self.assertEqual(payload[2:3], b"\x30")
                sock.send(self.sign_request())
                self.assert_session_ended(d, victim, monitor, "without a control-connection handshake to sign")
            finally:
                sock.close()

    def test_signature_requests_outside_the_rules_end_the_session(self):
        cases = (
            ("a digest of the wrong length", self.sign_request(0x0403, b"\x11" * 31), "malformed SignRequest"),
            ("a whole message instead of a digest", self.sign_request(0x0401, b"\x11" * 200), "malformed SignRequest"),
            ("SHA-1", self.sign_request(0x0201, b"\x11" * 20), "malformed SignRequest"),
            ("an RSA scheme for an EC key", self.sign_request(0x0804, b"\x11" * 32), "signature request refused"),
        )
        with TlsDaemon() as d:
            for what, datagram, reason in cases:
                with self.subTest(what), d.raw() as victim:
                    monitor = d.monitor_pid_for(victim.local_port())
                    preauth = d.session_child(monitor, "wftpd:preauth")
                    sock = socket.socket(fileno=harness.pidfd_getfd(preauth, 4))
                    try:
                        sock.send(datagram)
                        self.assert_session_ended(d, victim, monitor, reason)
                    finally:
                        sock.close()

    def test_no_signature_after_the_handshake_phase(self):
        with TlsDaemon() as d:
            # The relay (pre-auth child after login) and the post-auth child (sessions that
            # must resume) get nothing.
            for child in ("wftpd:preauth", "wftpd:postauth"):
                with self.subTest(child=child):
                    ftp = d.ftps()
                    try:
                        monitor = d.monitor_pid_for(ftp.sock.getsockname()[1])
                        pid = d.session_child(monitor, child)
                        sock = socket.socket(fileno=harness.pidfd_getfd(pid, 4))
                        try:
                            sock.send(self.sign_request())
                            self.assertTrue(harness.wait_until(lambda: not harness.pid_alive(monitor), 5))
                        finally:
                            sock.close()
                        reason = "not allowed in the post-auth phase" if child == "wftpd:preauth" \
                            else "without a data connection to sign a handshake for"
                        self.assertTrue(harness.wait_until(lambda: reason in d.log(), 5), d.log())
                        with self.assertRaises((OSError, EOFError, ftplib.Error)):
                            ftp.voidcmd("NOOP")
                    finally:
                        ftp.sock.close()

    def test_post_auth_child_gets_one_signature_per_data_connection(self):
        with TlsDaemon(config={"require_tls_session_reuse": "no"}) as d:
            ftp = d.ftps(reuse=False)
            try:
                self.assertEqual(ftp.nlst(), [d.TEST_FILE])  # one data connection, signed
                monitor = d.monitor_pid_for(ftp.sock.getsockname()[1])
                postauth = d.session_child(monitor, "wftpd:postauth")
                sock = socket.socket(fileno=harness.pidfd_getfd(postauth, 4))
                try:
                    # Its one permit was used by that handshake: another request ends the session.
                    sock.send(self.sign_request())
                    self.assertTrue(harness.wait_until(lambda: not harness.pid_alive(monitor), 5))
                    self.assertIn("without a data connection to sign a handshake for", d.log())
                finally:
                    sock.close()
            finally:
                ftp.sock.close()


if __name__ == "__main__":
    unittest.main()
