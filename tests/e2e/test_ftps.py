"""FTPS (RFC 4217) on a live wardenftpd: real clients (python ftplib, curl, lftp) verifying a test
CA, and the attacks: fresh data handshakes, old TLS versions, foreign ALPN, command injection
behind AUTH TLS, truncated uploads, and where the private key is (and is not)."""

import ftplib
import hashlib
import io
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest

import harness
from harness import TlsDaemon


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _curl(*args, timeout=60):
    return subprocess.run(["curl", "--silent", "--show-error", "--max-time", "30"] + list(args),
                          capture_output=True, timeout=timeout)


def _lftp(script, timeout=90):
    return subprocess.run(["lftp", "-c", script], capture_output=True, timeout=timeout)


def _client_hello(version):
    """A minimal TLS ClientHello record offering only `version` (e.g. 0x0302 = TLS 1.1)."""
    ciphers = struct.pack(">6H", 0xC013, 0xC014, 0x002F, 0x0035, 0xC009, 0xC00A)
    body = struct.pack(">H", version) + os.urandom(32) + b"\x00"
    body += struct.pack(">H", len(ciphers)) + ciphers + b"\x01\x00"
    handshake = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack(">H", len(handshake)) + handshake


class FtpsTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    # -- real clients ---------------------------------------------------------------------------

    @harness.covers("ftplib", "explicit-tls", "passive")
    def test_ftplib_prot_p_upload_download_listing_checksums(self):
        payload = os.urandom(2 * 1024 * 1024 + 17)
        with TlsDaemon() as d:
            ftp = d.ftps()
            try:
                self.assertEqual(ftp.sock.version() in ("TLSv1.2", "TLSv1.3"), True)
                self.assertIn(" AUTH TLS", ftp.sendcmd("FEAT"))
                reply = ftp.storbinary("STOR big.bin", io.BytesIO(payload))
                self.assertTrue(reply.startswith("226"), reply)
                with open(os.path.join(d.root, "big.bin"), "rb") as f:
                    self.assertEqual(_sha(f.read()), _sha(payload))
                chunks = []
                self.assertTrue(ftp.retrbinary("RETR big.bin", chunks.append).startswith("226"))
                self.assertEqual(_sha(b"".join(chunks)), _sha(payload))
                listing = []
                ftp.retrlines("LIST", listing.append)
                self.assertTrue(any(line.endswith(" big.bin") for line in listing), listing)
                self.assertEqual(sorted(ftp.nlst()), ["big.bin", d.TEST_FILE])
                facts = list(ftp.mlsd())
                self.assertIn("big.bin", [name for name, _ in facts])
                self.assertTrue(ftp.quit().startswith("221"))
            finally:
                ftp.close()
            self.assertIn("control connection is TLS-protected", d.log())

    @harness.covers("ftplib", "explicit-tls", "passive")
    def test_ftplib_over_tls12_and_implicit_port(self):
        port = harness.free_port()
        with TlsDaemon(config={"tls_implicit_port": str(port)}) as d:
            context = harness.tls_client_context(d.pki["ca"], maximum=ssl.TLSVersion.TLSv1_2)
            ftp = harness.ReusingFTP_TLS(context=context, timeout=harness.TIMEOUT)
            ftp.connect("127.0.0.1", d.port)
            ftp.login("demo", "demo")
            ftp.prot_p()
            self.assertEqual(ftp.sock.version(), "TLSv1.2")
            self.assertEqual(ftp.nlst(), [d.TEST_FILE])
            ftp.quit()
            # Implicit FTPS: TLS from the first byte, then the 220 inside it.
            raw = socket.create_connection(("127.0.0.1", port), timeout=harness.TIMEOUT)
            tls = harness.tls_client_context(d.pki["ca"]).wrap_socket(raw, server_hostname="localhost")
            greeting = tls.recv(200).decode()
            self.assertTrue(greeting.startswith("220 "), greeting)
            tls.close()

    def test_tls12_resumption_by_session_id_without_tickets(self):
        with TlsDaemon() as d:
            context = harness.tls_client_context(d.pki["ca"], maximum=ssl.TLSVersion.TLSv1_2)
            context.options |= ssl.OP_NO_TICKET
            ftp = harness.ReusingFTP_TLS(context=context, timeout=harness.TIMEOUT)
            try:
                ftp.connect("127.0.0.1", d.port)
                ftp.login("demo", "demo")
                ftp.prot_p()
                self.assertFalse(ftp.sock.session.has_ticket)
                self.assertEqual(ftp.nlst(), [d.TEST_FILE])
                self.assertEqual(ftp.nlst(), [d.TEST_FILE])
            finally:
                ftp.close()

    @harness.covers("curl", "explicit-tls", "implicit-tls", "passive")
    def test_curl_explicit_and_implicit_ftps(self):
        port = harness.free_port()
        payload = os.urandom(1024 * 1024 + 3)
        with TlsDaemon(config={"tls_implicit_port": str(port)}) as d:
            src = os.path.join(d.tmp, "upload.bin")
            with open(src, "wb") as f:
                f.write(payload)
            base = "ftp://127.0.0.1:%d/" % d.port
            common = ["--ssl-reqd", "--cacert", d.pki["ca"], "--user", "demo:demo"]
            r = _curl(*common, "-T", src, base + "curl-explicit.bin")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = _curl(*common, base + "curl-explicit.bin")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(_sha(r.stdout), _sha(payload))
            r = _curl(*common, base)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"curl-explicit.bin", r.stdout)
            implicit = "ftps://127.0.0.1:%d/" % port
            r = _curl("--cacert", d.pki["ca"], "--user", "demo:demo", "-T", src,
                      implicit + "curl-implicit.bin")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = _curl("--cacert", d.pki["ca"], "--user", "demo:demo", implicit + "curl-implicit.bin")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(_sha(r.stdout), _sha(payload))
            with open(os.path.join(d.root, "curl-implicit.bin"), "rb") as f:
                self.assertEqual(_sha(f.read()), _sha(payload))
            # TLS 1.2: curl's OpenSSL backend turns session tickets off and resumes data
            # connections by session ID.
            r = _curl(*common, "--tls-max", "1.2", base + "curl-explicit.bin")
            self.assertEqual(r.returncode, 0, (r.stderr, d.log()[-1500:]))
            self.assertEqual(_sha(r.stdout), _sha(payload))
            r = _curl(*common, "--tls-max", "1.2", "-T", src, base + "curl-tls12.bin")
            self.assertEqual(r.returncode, 0, r.stderr)
            # A client that does not trust the CA refuses the server (the certificate is
            # really checked in these tests).
            r = _curl("--ssl-reqd", "--user", "demo:demo", base)
            self.assertNotEqual(r.returncode, 0)

    @harness.covers("lftp", "explicit-tls", "passive")
    def test_lftp_ssl_force_with_ca_file(self):
        payload = os.urandom(512 * 1024 + 5)
        with TlsDaemon() as d:
            work = os.path.join(d.tmp, "lftp")
            os.makedirs(work)
            with open(os.path.join(work, "put.bin"), "wb") as f:
                f.write(payload)
            script = ("set ssl:ca-file %s; set ftp:ssl-force true; set ftp:ssl-protect-data true; "
                      "set ssl:verify-certificate true; set net:max-retries 1; "
                      "set net:timeout 10; open -u demo,demo ftp://localhost:%d; "
                      "lcd %s; put put.bin; get %s -o got.txt; cls -1" %
                      (d.pki["ca"], d.port, work, d.TEST_FILE))
            r = _lftp(script)
            self.assertEqual(r.returncode, 0, (r.stdout, r.stderr, d.log()[-2000:]))
            self.assertIn(b"put.bin", r.stdout)
            with open(os.path.join(d.root, "put.bin"), "rb") as f:
                self.assertEqual(_sha(f.read()), _sha(payload))
            with open(os.path.join(work, "got.txt"), "rb") as f:
                self.assertEqual(f.read(), d.TEST_CONTENT)

    # -- session reuse --------------------------------------------------------------------------

    def test_fresh_data_handshake_is_refused_with_522_and_logged(self):
        with TlsDaemon() as d:
            ftp = d.ftps(reuse=False)  # stock ftplib: a new TLS session per data connection
            try:
                with self.assertRaises((ftplib.error_perm, ssl.SSLError, OSError)):
                    ftp.nlst()
                # The control connection survives and tells why.
                try:
                    reply = ftp.getresp()
                except ftplib.error_perm as e:
                    reply = str(e)
                self.assertTrue(reply.startswith("522"), reply)
                self.assertTrue(ftp.voidcmd("NOOP").startswith("200"))
            finally:
                ftp.close()
            self.assertTrue(harness.wait_until(lambda: "did not resume the control connection"
                                               in d.log()), d.log())

    def test_session_reuse_off_allows_fresh_data_handshakes(self):
        with TlsDaemon(config={"require_tls_session_reuse": "no"}) as d:
            ftp = d.ftps(reuse=False)
            try:
                self.assertEqual(ftp.nlst(), [d.TEST_FILE])
            finally:
                ftp.close()

    def _connect_ftps(self, d, context, source):
        ftp = harness.ReusingFTP_TLS(context=context, timeout=harness.TIMEOUT)
        ftp.connect("127.0.0.1", d.port, source_address=(source, 0))
        ftp.login("demo", "demo")
        ftp.prot_p()
        return ftp

    def _nlst_resuming(self, ftp, session):
        """NLST on `ftp` whose data connection offers `session`: (names, final reply), or
        (None, reply) when the data handshake failed."""
        ftp.sendcmd("TYPE I")
        host, port = ftplib.parse227(ftp.sendcmd("PASV"))
        raw = socket.create_connection((host, port), timeout=harness.TIMEOUT,
                                       source_address=(ftp.sock.getsockname()[0], 0))
        ftp.putcmd("NLST")
        self.assertTrue(ftp.getresp().startswith("150"))
        try:
            data = ftp.context.wrap_socket(raw, server_hostname="127.0.0.1", session=session)
            chunks = []
            while chunk := data.recv(4096):
                chunks.append(chunk)
            data.close()
        except (ssl.SSLError, OSError):
            raw.close()
            try:
                return None, ftp.getresp()
            except ftplib.error_perm as refused:
                return None, str(refused)
        return b"".join(chunks).decode().split(), ftp.getresp()

    def test_session_of_another_client_address_is_not_resumed(self):
        with TlsDaemon() as d:
            # One client context for both (Python only offers a session in its own context).
            context = harness.tls_client_context(d.pki["ca"])
            first = self._connect_ftps(d, context, "127.0.0.2")
            second = self._connect_ftps(d, context, "127.0.0.1")
            try:
                foreign = first.sock.session
                self.assertTrue(foreign.has_ticket)
                names, reply = self._nlst_resuming(second, foreign)
                self.assertIsNone(names)
                self.assertTrue(reply.startswith("522"), reply)
                self.assertTrue(harness.wait_until(lambda: "did not resume the control connection"
                                                   in d.log()), d.log())
                # Its own session resumes.
                names, reply = self._nlst_resuming(second, second.sock.session)
                self.assertEqual(names, [d.TEST_FILE])
                self.assertTrue(reply.startswith("226"), reply)
            finally:
                first.close()
                second.close()

    def test_session_of_another_ftp_session_of_the_same_client_address_resumes(self):
        # Go's crypto/tls (rclone) shares one ticket among all its connections to a server: a
        # data connection of one FTP session offers the ticket of another.
        for maximum in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            with self.subTest(maximum=maximum), TlsDaemon() as d:
                context = harness.tls_client_context(d.pki["ca"], maximum=maximum)
                first = self._connect_ftps(d, context, "127.0.0.1")
                second = self._connect_ftps(d, context, "127.0.0.1")
                try:
                    sibling = first.sock.session
                    self.assertTrue(sibling.has_ticket)
                    self.assertNotEqual(sibling.id, second.sock.session.id)
                    names, reply = self._nlst_resuming(second, sibling)
                    self.assertEqual(names, [d.TEST_FILE], reply)
                    self.assertTrue(reply.startswith("226"), reply)
                finally:
                    first.close()
                    second.close()
                self.assertNotIn("did not resume the control connection", d.log())

    # -- policy ---------------------------------------------------------------------------------

    def test_plaintext_login_refused_when_tls_required(self):
        with TlsDaemon() as d:
            with d.raw() as c:
                code, text = c.cmd("USER demo")
                self.assertEqual(code, 530, text)
                self.assertIn("TLS", text)
                code, _ = c.cmd("PASS demo")
                self.assertEqual(code, 503)
            self.assertNotIn("login accepted", d.log())

    def test_plaintext_login_allowed_when_not_required(self):
        with TlsDaemon(config={"require_tls_login": "no", "require_tls_data": "no"}) as d:
            ftp = d.ftp()
            try:
                self.assertEqual(ftp.nlst(), [d.TEST_FILE])
            finally:
                ftp.close()

    def test_prot_c_refused_with_521_and_clear_transfer_refused(self):
        with TlsDaemon() as d:
            ftp = d.ftps(login=False)
            try:
                ftp.login("demo", "demo")  # AUTH TLS, USER, PASS; no PBSZ/PROT yet
                ftp.sendcmd("TYPE I")
                ftp.sendcmd("PASV")
                with self.assertRaises(ftplib.error_perm) as clear:
                    ftp.sendcmd("LIST")
                self.assertTrue(str(clear.exception).startswith("521"), str(clear.exception))
                self.assertEqual(ftp.sendcmd("PBSZ 0"), "200 PBSZ=0")
                with self.assertRaises(ftplib.error_perm) as prot_c:
                    ftp.sendcmd("PROT C")
                self.assertTrue(str(prot_c.exception).startswith("521"), str(prot_c.exception))
                with self.assertRaises(ftplib.error_perm) as ccc:
                    ftp.sendcmd("CCC")
                self.assertTrue(str(ccc.exception).startswith("534"), str(ccc.exception))
                self.assertTrue(ftp.prot_p().startswith("200"))  # PBSZ 0 + PROT P
                self.assertEqual(ftp.nlst(), [d.TEST_FILE])
            finally:
                ftp.close()

    def test_tls_1_0_and_1_1_are_refused(self):
        with TlsDaemon() as d:
            for version in (0x0301, 0x0302):
                with d.raw() as c:
                    code, _ = c.cmd("AUTH TLS")
                    self.assertEqual(code, 234)
                    c.send(_client_hello(version))
                    c.sock.settimeout(harness.TIMEOUT)
                    answer = c.sock.recv(7)
                    # A fatal alert (21), protocol_version (70), never a ServerHello (22).
                    self.assertEqual(answer[:1], b"\x15", answer)
                    self.assertEqual(answer[5:7], b"\x02\x46", answer)

    def test_foreign_alpn_refused_ftp_alpn_accepted(self):
        with TlsDaemon() as d:
            with d.raw() as c:
                self.assertEqual(c.cmd("AUTH TLS")[0], 234)
                context = harness.tls_client_context(d.pki["ca"], alpn=["http/1.1"])
                with self.assertRaises(ssl.SSLError) as refused:
                    context.wrap_socket(c.sock, server_hostname="localhost")
                self.assertIn("NO APPLICATION PROTOCOL",
                              str(refused.exception).upper().replace("_", " "))
            self.assertTrue(harness.wait_until(lambda: "without \"ftp\"" in d.log()), d.log())
            with d.raw() as c:
                self.assertEqual(c.cmd("AUTH TLS")[0], 234)
                context = harness.tls_client_context(d.pki["ca"], alpn=["ftp", "http/1.1"])
                tls = context.wrap_socket(c.sock, server_hostname="localhost")
                self.assertEqual(tls.selected_alpn_protocol(), "ftp")
                tls.sendall(b"NOOP\r\n")
                self.assertTrue(tls.recv(100).startswith(b"200"))
                tls.close()

    def test_strict_sni_hostname(self):
        with TlsDaemon(config={"tls_sni_hostname": "localhost"}) as d:
            for name, accepted in (("localhost", True), ("evil.example", False)):
                with d.raw() as c:
                    self.assertEqual(c.cmd("AUTH TLS")[0], 234)
                    context = harness.tls_client_context(d.pki["ca"])
                    context.check_hostname = False
                    if accepted:
                        tls = context.wrap_socket(c.sock, server_hostname=name)
                        tls.sendall(b"NOOP\r\n")
                        self.assertTrue(tls.recv(100).startswith(b"200"))
                        tls.close()
                    else:
                        with self.assertRaises(ssl.SSLError) as refused:
                            context.wrap_socket(c.sock, server_hostname=name)
                        self.assertIn("UNRECOGNIZED NAME",
                                      str(refused.exception).upper().replace("_", " "))

    def test_http_verb_before_login_closes_connection(self):
        with TlsDaemon() as d:
            with d.raw() as c:
                code, _ = c.cmd("GET / HTTP/1.1")
                self.assertEqual(code, 421)
                self.assertTrue(c.wait_closed())

    # -- attacks --------------------------------------------------------------------------------

    def test_commands_pipelined_behind_auth_tls_are_discarded(self):
        with TlsDaemon() as d:
            with d.raw() as c:
                # One packet: AUTH TLS and a USER a man in the middle appended in clear.
                c.send(b"AUTH TLS\r\nUSER demo\r\n")
                code, _ = c.reply()
                self.assertEqual(code, 234)
                context = harness.tls_client_context(d.pki["ca"])
                tls = context.wrap_socket(c.sock, server_hostname="localhost")
                tls.sendall(b"PASS demo\r\n")
                answer = tls.recv(200).decode()
                # Had USER run inside TLS, PASS would log in (230).
                self.assertTrue(answer.startswith("503"), answer)
                tls.close()
            self.assertNotIn("login accepted", d.log())

    def test_truncated_prot_p_upload_is_reported_failed_and_not_stored(self):
        with TlsDaemon() as d:
            with open(os.path.join(d.root, "keep.bin"), "wb") as f:
                f.write(b"old content")
            ftp = d.ftps()
            try:
                ftp.sendcmd("TYPE I")
                conn = ftp.transfercmd("STOR keep.bin")  # 150 read, TLS on the data connection
                conn.sendall(os.urandom(256 * 1024))
                # End the TCP connection without close_notify (as a cut cable or an attacker
                # injecting a FIN would).
                os.close(conn.detach())
                with self.assertRaises(ftplib.error_temp) as failed:
                    ftp.voidresp()
                self.assertTrue(str(failed.exception).startswith("426"), str(failed.exception))
                self.assertTrue(ftp.voidcmd("NOOP").startswith("200"))
            finally:
                ftp.close()
            with open(os.path.join(d.root, "keep.bin"), "rb") as f:
                self.assertEqual(f.read(), b"old content")
            self.assertEqual([n for n in os.listdir(d.root) if n.startswith(".wftpd-upload")], [])
            self.assertTrue(harness.wait_until(lambda: "without TLS close_notify" in d.log()),
                            d.log())

    def test_errors_after_auth_tls_travel_inside_tls(self):
        with TlsDaemon(config={"idle_timeout": "2"}) as d:
            ftp = d.ftps()
            try:
                with self.assertRaises(ftplib.error_perm) as wrong:
                    ftp.sendcmd("MKD /no/such/dir")
                self.assertTrue(str(wrong.exception).startswith("550"))
                time.sleep(3)
                # The post-auth child's idle-timeout 421 reaches us through the TLS relay.
                line = ftp.getline()
                self.assertTrue(line.startswith("421"), line)
            finally:
                ftp.close()

    def test_post_auth_child_killed_client_gets_421_inside_tls(self):
        with TlsDaemon() as d:
            ftp = d.ftps()
            try:
                monitor = d.monitor_pid_for(ftp.sock.getsockname()[1])
                postauth = d.session_child(monitor, "wftpd:postauth")
                os.kill(postauth, signal.SIGKILL)
                line = ftp.getline()
                self.assertTrue(line.startswith("421"), line)
            finally:
                ftp.close()
            self.assertTrue(harness.wait_until(lambda: harness.zombies_among_descendants(d.pid) == []))

    def test_anonymous_session_over_tls(self):
        anon_root = tempfile.mkdtemp(prefix="wftpd-anon-", dir="/tmp")
        try:
            os.chmod(anon_root, 0o755)
            with open(os.path.join(anon_root, "pub.txt"), "wb") as f:
                f.write(b"public file\n")
            config = {"anonymous_enable": "yes", "anon_root": anon_root,
                      "anon_user": "%d:%d" % (harness.DEMO_UID + 50, harness.DEMO_GID + 50)}
            with TlsDaemon(config=config) as d:
                ftp = d.ftps(user="anonymous", password="guest@")
                try:
                    chunks = []
                    ftp.retrbinary("RETR pub.txt", chunks.append)
                    self.assertEqual(b"".join(chunks), b"public file\n")
                    with self.assertRaises(ftplib.error_perm):
                        ftp.storbinary("STOR x", io.BytesIO(b"x"))
                finally:
                    ftp.close()
                # Anonymous in clear is allowed (anon_require_tls=no), local users are not.
                with d.raw() as c:
                    self.assertEqual(c.cmd("USER anonymous")[0], 331)
        finally:
            shutil.rmtree(anon_root, ignore_errors=True)

    def test_anonymous_looking_name_of_a_real_account_needs_tls(self):
        # Regression: the pre-auth child took any capitalisation of anonymous/ftp for an
        # anonymous login and let USER through in clear, while the monitor logged "Anonymous"
        # in as the virtual user of that name: require_tls_login was bypassed. Now the monitor's
        # login policy answers for every name, with anonymous FTP on and off.
        anon_root = tempfile.mkdtemp(prefix="wftpd-anon-", dir="/tmp")
        try:
            os.chmod(anon_root, 0o755)
            for enable in ("yes", "no"):
                config = {"anonymous_enable": enable, "anon_root": anon_root,
                          "anon_user": "%d:%d" % (harness.DEMO_UID + 50, harness.DEMO_GID + 50)}
                users = (("demo", "demo"), ("Anonymous", "real-secret"))
                with TlsDaemon(config=config, users=users) as d, self.subTest(anonymous_enable=enable):
                    with d.raw() as c:
                        code, text = c.cmd("USER Anonymous")
                        self.assertEqual(code, 530, text)
                        self.assertIn("Non-anonymous", text)
                        self.assertEqual(c.cmd("PASS real-secret")[0], 503)
                        if enable == "yes":
                            self.assertEqual(c.cmd("USER anonymous")[0], 331)
                    # Over TLS the real account logs in as itself.
                    ftp = d.ftps(user="Anonymous", password="real-secret")
                    try:
                        self.assertEqual(ftp.pwd(), "/")
                    finally:
                        ftp.close()
        finally:
            shutil.rmtree(anon_root, ignore_errors=True)

    # -- the TLS endpoint (where the key is not: test_key_isolation.py) ---------------------------

    def test_tls_endpoint_is_sandboxed_after_login(self):
        with TlsDaemon() as d:
            ftp = d.ftps()
            try:
                monitor = d.monitor_pid_for(ftp.sock.getsockname()[1])
                preauth = d.session_child(monitor, "wftpd:preauth")
                status = harness.proc_status(preauth)
                self.assertEqual(harness.status_ids(status, "Uid")[0], harness.NOBODY_UID)
                self.assertEqual(harness.status_hex(status, "CapEff"), 0)
                self.assertEqual(status["NoNewPrivs"], "1")
                self.assertEqual(status["Seccomp"], "2")
                self.assertEqual(harness.proc_root(preauth), d.empty_dir)
                self.assertEqual(ftp.nlst(), [d.TEST_FILE])
            finally:
                ftp.close()

    # -- reload ---------------------------------------------------------------------------------

    def test_sighup_reloads_certificate_and_keeps_old_one_on_error(self):
        with TlsDaemon() as d:
            new_dir = tempfile.mkdtemp(prefix="wftpd-pki2-", dir="/tmp")
            try:
                new = harness.make_test_pki(new_dir)
                shutil.copy(new["cert"], d.pki["cert"])
                shutil.copy(new["key"], d.pki["key"])
                os.chmod(d.pki["key"], 0o600)
                d.proc.send_signal(signal.SIGHUP)
                self.assertTrue(harness.wait_until(lambda: "configuration reloaded" in d.log()))
                for ca, trusted in ((new["ca"], True), (d.pki["ca"], False)):
                    with d.raw() as c:
                        self.assertEqual(c.cmd("AUTH TLS")[0], 234)
                        context = harness.tls_client_context(ca)
                        if trusted:
                            context.wrap_socket(c.sock, server_hostname="localhost").close()
                        else:
                            with self.assertRaises(ssl.SSLCertVerificationError):
                                context.wrap_socket(c.sock, server_hostname="localhost")
                # A broken key file: the reload is refused, the last good pair stays.
                with open(d.pki["key"], "w") as f:
                    f.write("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
                d.proc.send_signal(signal.SIGHUP)
                self.assertTrue(harness.wait_until(lambda: "reload refused" in d.log()), d.log())
                self.assertIn("tls_key_file", d.log().split("reload refused")[-1])
                with d.raw() as c:
                    self.assertEqual(c.cmd("AUTH TLS")[0], 234)
                    context = harness.tls_client_context(new["ca"])
                    context.wrap_socket(c.sock, server_hostname="localhost").close()
            finally:
                shutil.rmtree(new_dir, ignore_errors=True)

    def test_world_readable_key_is_refused_at_start(self):
        with TlsDaemon(start=False) as d:
            os.chmod(d.pki["key"], 0o644)
            d.proc = subprocess.Popen([harness.BINARY, "-c", d.config_file],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out, _ = d.proc.communicate(timeout=20)
            self.assertEqual(d.proc.returncode, 1, out)
            self.assertIn(b"readable by group or others", out)
            d.proc = None


if __name__ == "__main__":
    unittest.main()
