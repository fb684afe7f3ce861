"""wardenftpd-ctl against live sessions: who (a live upload's bytes grow), kick (by user, session
and client; exactly those sessions end), manual bans (421 before anything is forked; kept across
a restart in a root-owned state file), automatic bans listed and lifted, status, reload, metrics
(checked with Prometheus' own parser, counters move with the traffic), and the control socket's
trust model (root only, or control_group; malformed requests are answered, never fatal)."""

import json
import os
import re
import socket
import stat
import struct
import time
import unittest

import harness
from harness import Daemon, RawClient, first_reply_line, wait_until

from prometheus_client.parser import text_string_to_metric_families


def monitors_started(d):
    return len(re.findall(r"\(monitor pid \d+\)", d.log()))


def sample(families, name, **labels):
    """The value of one sample of the parsed exposition, or None."""
    for family in families:
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


def metrics(d):
    return list(text_string_to_metric_families(d.ctl("metrics").stdout))


def session_of(rows, user):
    return [r for r in rows if r["user"] == user]


class SlowUpload:
    """A STOR that sends `chunk` bytes every `pause` seconds until stopped."""

    def __init__(self, d, name, user="demo", password="demo"):
        self.client = RawClient("127.0.0.1", d.port)
        self.client.reply()
        self.client.login(user, password)
        assert self.client.cmd("TYPE I")[0] == 200
        code, text = self.client.cmd("EPSV")
        assert code == 229, text
        port = int(re.search(r"\(\|\|\|(\d+)\|\)", text).group(1))
        self.data = socket.create_connection(("127.0.0.1", port), timeout=harness.TIMEOUT)
        self.client.send("STOR %s\r\n" % name)
        code, text = self.client.reply()
        assert code == 150, text
        self.sent = 0

    def send(self, size):
        self.data.sendall(b"x" * size)
        self.sent += size

    def finish(self):
        self.data.close()
        return self.client.reply()


class WhoTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_who_shows_a_live_uploads_bytes_growing_and_a_session_before_login(self):
        with Daemon() as d:
            waiting = RawClient("127.0.0.1", d.port)
            waiting.reply()
            upload = SlowUpload(d, "big.bin")
            seen = []
            deadline = time.monotonic() + 20
            # The post-auth child reports progress about once a second: keep sending until two
            # readings of `who` show the upload's bytes growing.
            while time.monotonic() < deadline and len(set(seen)) < 2:
                upload.send(256 * 1024)
                time.sleep(0.3)
                rows = session_of(d.ctl("who", json_output=True), "demo")
                if rows and rows[0]["state"] == "upload":
                    self.assertEqual(rows[0]["path"], "/big.bin")
                    self.assertEqual(rows[0]["client"], "127.0.0.1")
                    self.assertLessEqual(rows[0]["bytes"], upload.sent)
                    seen.append(rows[0]["bytes"])
            self.assertGreaterEqual(len(set(seen)), 2, "bytes never grew: %r" % seen)
            self.assertEqual(seen, sorted(seen))
            rows = d.ctl("who", json_output=True)
            login = [r for r in rows if r["user"] == "-"]
            self.assertEqual(len(login), 1, rows)
            self.assertEqual(login[0]["state"], "login")
            self.assertIsNone(login[0]["bytes"])
            monitor = d.monitor_pid_for(waiting.local_port())
            self.assertEqual(login[0]["pid"], monitor)
            self.assertEqual(upload.finish()[0], 226)
            # After the transfer: idle, no path.
            self.assertTrue(wait_until(lambda: session_of(d.ctl("who", json_output=True), "demo")[0]["state"] == "idle", 10, 0.2))
            # The plain table names the columns.
            self.assertTrue(d.ctl("who").stdout.startswith("session  pid"))
            waiting.close()
            upload.client.close()


class KickTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_kick_user_ends_exactly_that_users_sessions(self):
        with Daemon(users=(("demo", "demo"), ("alice", "wonderland"))) as d:
            demo = [RawClient("127.0.0.1", d.port) for _ in range(2)]
            for c in demo:
                c.reply()
                c.login()
            alice = RawClient("127.0.0.1", d.port)
            alice.reply()
            alice.login("alice", "wonderland")
            self.assertTrue(wait_until(lambda: len(d.ctl("who", json_output=True)) == 3 and all(
                r["user"] != "-" for r in d.ctl("who", json_output=True)), 10, 0.1))
            pids = {r["pid"] for r in session_of(d.ctl("who", json_output=True), "demo")}
            result = d.ctl("kick", "--user", "demo")
            self.assertIn("ended 2 sessions", result.stdout)
            for c in demo:
                self.assertTrue(c.wait_closed(10), "a demo session was not ended")
            self.assertTrue(wait_until(lambda: not any(harness.pid_alive(p) for p in pids), 10))
            self.assertEqual(alice.cmd("NOOP")[0], 200)
            rows = d.ctl("who", json_output=True)
            self.assertEqual([r["user"] for r in rows], ["alice"])
            self.assertTrue(d.wait_log("(user 'demo') ended by uid 0"))
            # Nothing left to kick: exit status 1 and a message.
            again = d.ctl("kick", "--user", "demo", check=False)
            self.assertEqual(again.returncode, 1)
            self.assertIn("no session matched", again.stderr)
            alice.close()

    def test_kick_by_session_id_and_by_client_prefix(self):
        with Daemon() as d:
            first = RawClient("127.0.0.1", d.port)
            first.reply()
            first.login()
            second = socket.socket()
            second.bind(("127.0.0.7", 0))
            second.connect(("127.0.0.1", d.port))
            second.settimeout(harness.TIMEOUT)
            self.assertTrue(second.recv(100).startswith(b"220"))
            self.assertTrue(wait_until(lambda: len(d.ctl("who", json_output=True)) == 2, 10))
            rows = {r["client"]: r for r in d.ctl("who", json_output=True)}
            d.ctl("kick", str(rows["127.0.0.1"]["session"]))
            self.assertTrue(first.wait_closed(10))
            d.ctl("kick", "--client", "127.0.0.0/29")
            self.assertTrue(wait_until(lambda: second.recv(100) == b"", 10))
            self.assertEqual(d.ctl("who", json_output=True), [])
            bad = d.ctl("kick", "--client", "127.0.0.1/8", check=False)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("bits set beyond the prefix", bad.stderr)
            second.close()


class BanControlTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_manual_ban_refuses_before_fork_until_unbanned(self):
        with Daemon() as d:
            out = d.ctl("ban", "127.0.0.9")
            self.assertIn("banned 127.0.0.9 until unbanned", out.stdout)
            before = monitors_started(d)
            reply = first_reply_line(d.port, source="127.0.0.9")
            self.assertTrue(reply.startswith(b"421 "), reply)
            self.assertTrue(d.wait_log("banned (127.0.0.9), until unbanned"))
            self.assertEqual(monitors_started(d), before, "a monitor was made for a banned client")
            self.assertTrue(first_reply_line(d.port, source="127.0.0.10").startswith(b"220"))
            bans = d.ctl("bans", json_output=True)
            self.assertEqual(bans, [{"prefix": "127.0.0.9", "origin": "manual", "remaining": None,
                                     "until": "forever"}])
            d.ctl("unban", "127.0.0.9")
            self.assertTrue(first_reply_line(d.port, source="127.0.0.9").startswith(b"220"))
            self.assertEqual(d.ctl("unban", "127.0.0.9", check=False).returncode, 1)
            self.assertTrue(d.wait_log("lifted by uid 0"))

    def test_bans_survive_a_restart_in_a_root_owned_state_file(self):
        with Daemon() as d:
            d.ctl("ban", "127.0.0.0/30", "--for", "2h")
            d.ctl("ban", "2001:db8::/32")
            state = os.path.join(d.tmp, "state", "bans")
            st = os.stat(state)
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o600))
            self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(state)).st_mode), 0o700)
            d.stop()
            d.start()
            self.assertTrue(d.wait_log("restored 2 ban(s)"))
            bans = {b["prefix"]: b for b in d.ctl("bans", json_output=True)}
            self.assertEqual(set(bans), {"127.0.0.0/30", "2001:db8::/32"})
            self.assertGreater(bans["127.0.0.0/30"]["remaining"], 7000)
            self.assertIsNone(bans["2001:db8::/32"]["remaining"])
            self.assertTrue(first_reply_line(d.port, source="127.0.0.2").startswith(b"421 "))
            self.assertTrue(first_reply_line(d.port, source="127.0.0.5").startswith(b"220"))

    def test_a_state_file_others_can_write_is_not_trusted(self):
        with Daemon(start=False) as d:
            os.makedirs(os.path.join(d.tmp, "state"), mode=0o700)
            state = os.path.join(d.tmp, "state", "bans")
            with open(state, "w") as f:
                f.write("manual 127.0.0.9 forever\n")
            os.chmod(state, 0o666)
            d.start()
            self.assertTrue(d.wait_log("writable only by root"))
            self.assertEqual(d.ctl("bans", json_output=True), [])

    def test_automatic_ban_is_listed_and_can_be_lifted(self):
        config = {"login_fail_delay_ms": "0", "ban_after_failures": "2", "ban_exempt": ""}
        with Daemon(config=config) as d:
            for _ in range(2):
                with socket.socket() as s:
                    s.bind(("127.0.0.11", 0))
                    s.connect(("127.0.0.1", d.port))
                    f = s.makefile("rb")
                    f.readline()
                    s.sendall(b"USER demo\r\nPASS wrong\r\n")
                    f.readline()
                    self.assertTrue(f.readline().startswith(b"530"))
            self.assertTrue(d.wait_log("banning 127.0.0.11"))
            bans = d.ctl("bans", json_output=True)
            self.assertEqual([(b["prefix"], b["origin"]) for b in bans], [("127.0.0.11", "automatic")])
            self.assertGreater(bans[0]["remaining"], 3000)
            with open(os.path.join(d.tmp, "state", "bans")) as f:
                self.assertIn("automatic 127.0.0.11 until", f.read())
            d.ctl("unban", "127.0.0.11")
            self.assertTrue(first_reply_line(d.port, source="127.0.0.11").startswith(b"220"))


class StatusReloadMetricsTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_status_and_reload(self):
        with Daemon() as d:
            status = d.ctl("status", json_output=True)[0]
            self.assertEqual(status["sessions"], 0)
            self.assertEqual(status["reloaded"], "never")
            self.assertEqual(status["config"], d.config_file)
            d.write_config(max_clients="7")
            self.assertIn("configuration reloaded", d.ctl("reload").stdout)
            status = d.ctl("status", json_output=True)[0]
            self.assertEqual(status["max_clients"], 7)
            self.assertNotEqual(status["reloaded"], "never")
            d.write_config(max_clients="0")
            refused = d.ctl("reload", check=False)
            self.assertEqual(refused.returncode, 1)
            self.assertIn("reload refused", refused.stderr)
            self.assertEqual(d.ctl("status", json_output=True)[0]["max_clients"], 7)

    def test_metrics_parse_and_move_with_the_traffic(self):
        with Daemon(config={"login_fail_delay_ms": "0"}) as d:
            before = metrics(d)
            self.assertEqual(sample(before, "wardenftpd_sessions_total"), 0)
            ftp = d.ftp()
            data = []
            ftp.retrbinary("RETR " + Daemon.TEST_FILE, data.append)
            ftp.storbinary("STOR up.bin", __import__("io").BytesIO(b"y" * 5000))
            wrong = d.raw()
            self.assertEqual(wrong.cmd("USER demo")[0], 331)
            self.assertEqual(wrong.cmd("PASS wrong")[0], 530)
            wrong.close()
            d.ctl("ban", "127.0.0.9", "--for", "60")
            first_reply_line(d.port, source="127.0.0.9")
            # The refused session's monitor ends when its client has gone.
            self.assertTrue(wait_until(lambda: sample(metrics(d), "wardenftpd_sessions_open") == 1, 10, 0.1))
            after = metrics(d)
            self.assertEqual(sample(after, "wardenftpd_sessions_total"), 2)
            self.assertEqual(sample(after, "wardenftpd_sessions_open"), 1)
            self.assertEqual(sample(after, "wardenftpd_logins_total", result="accepted", backend="virtual"), 1)
            self.assertEqual(sample(after, "wardenftpd_logins_total", result="failed", backend="virtual"), 1)
            self.assertEqual(sample(after, "wardenftpd_transfers_total", direction="out", result="complete"), 1)
            self.assertEqual(sample(after, "wardenftpd_transfers_total", direction="in", result="complete"), 1)
            self.assertEqual(sample(after, "wardenftpd_transfer_bytes_total", direction="out"),
                             len(Daemon.TEST_CONTENT))
            self.assertEqual(sample(after, "wardenftpd_transfer_bytes_total", direction="in"), 5000)
            self.assertEqual(sample(after, "wardenftpd_connections_refused_total", reason="banned"), 1)
            self.assertEqual(sample(after, "wardenftpd_bans_total", origin="manual"), 1)
            self.assertEqual(sample(after, "wardenftpd_bans_in_force"), 1)
            types = {f.name: f.type for f in after}
            self.assertEqual(types["wardenftpd_transfers"], "counter")
            self.assertEqual(types["wardenftpd_sessions_open"], "gauge")
            ftp.quit()

    def test_tls_handshakes_reuse_refusals_and_throttled_logins_are_counted(self):
        with harness.TlsDaemon(config={"login_fail_delay_ms": "100"}) as d:
            # A client that resumes (the harness's default): one control handshake, one data one.
            ftp = d.ftps()
            ftp.nlst()
            # Counted while the session goes on: its status goes out once the client pauses.
            self.assertTrue(wait_until(lambda: sample(metrics(d), "wardenftpd_tls_handshakes_total",
                                                      channel="data") == 1, 5, 0.2))
            ftp.quit()
            # Stock ftplib starts a fresh TLS session per data connection: refused with 522.
            fresh = d.ftps(reuse=False)
            with self.assertRaises(Exception):
                fresh.nlst()
            fresh.close()
            # Two wrong passwords in one session: the second waits longer than the first.
            wrong = d.ftps(login=False)
            for _ in range(2):
                with self.assertRaises(Exception):
                    wrong.login("demo", "wrong")
            wrong.close()
            def counted():
                m = metrics(d)
                return (sample(m, "wardenftpd_tls_handshakes_total", channel="control") >= 3 and
                        sample(m, "wardenftpd_tls_handshakes_total", channel="data") >= 1 and
                        sample(m, "wardenftpd_tls_reuse_refusals_total") == 1 and
                        sample(m, "wardenftpd_logins_throttled_total") == 1 and m)
            m = wait_until(counted, 10, 0.2)
            self.assertTrue(m, d.ctl("metrics").stdout)
            self.assertEqual(sample(m, "wardenftpd_logins_total", result="failed", backend="virtual"), 2)

    def test_metrics_textfile_is_rewritten(self):
        with Daemon(start=False) as d:
            path = os.path.join(d.tmp, "wardenftpd.prom")
            d.extra_config.update(metrics_textfile=path, metrics_interval="1")
            d.write_config()
            d.start()
            self.assertTrue(wait_until(lambda: os.path.exists(path), 10))
            d.ftp().quit()
            def sessions_in_file():
                with open(path) as f:
                    return sample(list(text_string_to_metric_families(f.read())), "wardenftpd_sessions_total")
            self.assertTrue(wait_until(lambda: sessions_in_file() == 1, 10, 0.2))
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o644)


class ControlSocketTrustTest(unittest.TestCase):
    NOBODY = (65534, 65534, [])

    def setUp(self):
        harness.require_root(self)

    def test_only_root_may_use_the_socket_by_default(self):
        with Daemon() as d:
            path = os.path.join(d.tmp, "ctl")
            st = os.stat(path)
            self.assertTrue(stat.S_ISSOCK(st.st_mode))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
            # Even with the file opened up, the listener checks the peer itself.
            os.chmod(path, 0o666)
            refused = d.ctl("who", check=False, user=self.NOBODY)
            self.assertEqual(refused.returncode, 1)
            self.assertIn("permission denied", refused.stderr)
            self.assertTrue(d.wait_log("refused a connection from uid 65534"))

    def test_control_group_members_may_use_it(self):
        with Daemon(config={"control_group": "nogroup"}) as d:
            st = os.stat(os.path.join(d.tmp, "ctl"))
            self.assertEqual((stat.S_IMODE(st.st_mode), st.st_gid), (0o660, 65534))
            self.assertEqual(d.ctl("who", json_output=True, user=self.NOBODY), [])
            # A supplementary group counts too (SO_PEERGROUPS).
            self.assertEqual(d.ctl("who", json_output=True, user=(65533, 65533, [65534])), [])
            # Others: the file mode keeps them out, and so does the listener's own check.
            outsider = d.ctl("who", check=False, user=(65533, 65533, []))
            self.assertEqual(outsider.returncode, 3)
            self.assertIn("Permission denied", outsider.stderr)
            os.chmod(os.path.join(d.tmp, "ctl"), 0o666)
            outsider = d.ctl("who", check=False, user=(65533, 65533, []))
            self.assertEqual(outsider.returncode, 1)
            self.assertIn("permission denied", outsider.stderr)

    def test_malformed_requests_are_answered_and_the_listener_serves_on(self):
        with Daemon() as d:
            path = os.path.join(d.tmp, "ctl")
            for payload in (struct.pack(">I", 1 << 30), struct.pack(">I", 1) + b"\x63",
                            struct.pack(">I", 3) + b"\x02\x09\x00", struct.pack(">I", 2) + b"\x01\x00"):
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(10)
                    s.connect(path)
                    s.sendall(payload)
                    answer = b""
                    while True:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        answer += chunk
                    self.assertIn(b"malformed request", answer)
            # A client that connects and says nothing is dropped after the deadline; meanwhile
            # others are served.
            idle = socket.socket(socket.AF_UNIX)
            idle.connect(path)
            self.assertEqual(d.ctl("who", json_output=True), [])
            idle.close()
            self.assertTrue(first_reply_line(d.port).startswith(b"220"))

    def test_a_second_daemon_does_not_take_over_a_live_socket(self):
        with Daemon() as d, Daemon(start=False) as other:
            other.extra_config["control_socket"] = os.path.join(d.tmp, "ctl")
            other.write_config()
            with self.assertRaises(Exception):
                other.start(timeout=5)
            self.assertIn("another process serves", other.log())
            self.assertEqual(d.ctl("who", json_output=True), [])


if __name__ == "__main__":
    unittest.main()
