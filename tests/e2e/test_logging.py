"""Logging: syslog datagrams, JSON lines and the xferlog transfer log, each parsed back."""

import ftplib
import json
import os
import re
import socket
import subprocess
import time
import unittest

import harness
from harness import Daemon, wait_until

# <PRI>Mmm dd hh:mm:ss wardenftpd[PID]: LEVEL ROLE[ session=N client=ADDR]: MESSAGE
SYSLOG_LINE = re.compile(
    r"^<(\d{1,3})>([A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d) wardenftpd\[(\d+)\]: "
    r"(error|warning|info|debug) (listener|monitor)(?: session=(\d+) client=(\S+))?: (.*)$")
SEVERITY = {"error": 3, "warning": 4, "info": 6, "debug": 7}

# A file name with what a client should not be able to smuggle into a log: quotes, backslashes,
# control bytes (ESC, BEL), DEL, a space, UTF-8 and invalid UTF-8. (No 0xff: that is Telnet IAC,
# which the control connection interprets, as RFC 854 says.)
HOSTILE_NAME = b'q"uo\\te \x01\x07\x1b[31m\x7f\xc3\xa9\xfe\x80 end.txt'


class SyslogReceiver:
    """The test's own syslog daemon: an AF_UNIX datagram socket the server is pointed at."""

    def __init__(self, path):
        self.path = path
        self.lines = []
        self.sock = None
        self.bind()

    def bind(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)

    def restart(self):
        """What a syslog daemon restart looks like to its clients: a new socket, same path."""
        self.drain()
        self.sock.close()
        self.bind()

    def drain(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return self.lines
            self.lines.append(data)

    def parsed(self):
        result = []
        for data in self.drain():
            text = data.decode("ascii")  # every byte a client sent is escaped: plain ASCII
            match = SYSLOG_LINE.match(text)
            if match is None:
                raise AssertionError("unparsable syslog datagram: %r" % data)
            pri, _, pid, level, role, session, client, message = match.groups()
            result.append({"pri": int(pri), "pid": int(pid), "level": level, "role": role,
                           "session": int(session) if session else None, "client": client,
                           "message": message, "raw": data})
        return result

    def wait_for(self, needle, timeout=harness.TIMEOUT):
        return wait_until(lambda: any(needle in r["message"] for r in self.parsed()), timeout)

    def close(self):
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def raw_login(port, user, password):
    """Log in over a raw socket (ftplib cannot send arbitrary bytes); returns the reply lines."""
    with socket.create_connection(("127.0.0.1", port), timeout=harness.TIMEOUT) as s:
        reader = s.makefile("rb")
        replies = [reader.readline()]
        s.sendall(b"USER " + user + b"\r\n")
        replies.append(reader.readline())
        s.sendall(b"PASS " + password + b"\r\n")
        replies.append(reader.readline())
        s.sendall(b"QUIT\r\n")
        replies.append(reader.readline())
        return replies


def decode_xferlog_field(field):
    out = bytearray()
    i = 0
    raw = field.encode("ascii")
    while i < len(raw):
        if raw[i:i + 2] == b"\\x":
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def parse_xferlog(path):
    """Each line split into the 18 wu-ftpd fields (current-time is 5 of them)."""
    records = []
    with open(path, "rb") as f:
        for line in f.read().decode("ascii").splitlines():
            fields = line.split()
            if len(fields) != 18:
                raise AssertionError("xferlog line without 18 fields: %r" % line)
            records.append({
                "time": " ".join(fields[0:5]), "seconds": int(fields[5]), "host": fields[6],
                "size": int(fields[7]), "name": decode_xferlog_field(fields[8]),
                "type": fields[9], "action": fields[10], "direction": fields[11],
                "access": fields[12], "user": decode_xferlog_field(fields[13]),
                "service": fields[14], "auth": fields[15], "auth_user": fields[16],
                "status": fields[17]})
    return records


class SyslogTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_syslog_datagrams_carry_priority_tag_pid_session_and_client(self):
        with Daemon(start=False) as d:
            receiver = SyslogReceiver(os.path.join(d.tmp, "log.sock"))
            try:
                d.write_config(log_output="syslog", syslog_socket=receiver.path,
                               syslog_facility="local3")
                d.start(listening=lambda: receiver.wait_for("listening on", timeout=0))
                ftp = d.ftp()
                ftp.retrlines("NLST", lambda _line: None)
                ftp.quit()
                self.assertTrue(receiver.wait_for("session ended"))
                records = receiver.parsed()
                for r in records:
                    self.assertEqual(r["pri"] >> 3, 19, r)  # local3
                    self.assertEqual(r["pri"] & 7, SEVERITY[r["level"]], r)
                    self.assertNotIn(b"\n", r["raw"])
                listener = [r for r in records if r["role"] == "listener"]
                self.assertTrue(all(r["pid"] == d.pid for r in listener), listener)
                start = [r for r in listener if re.match(r"session \d+ from 127\.0\.0\.1:", r["message"])]
                self.assertEqual(len(start), 1, listener)
                session = start[0]["session"]
                self.assertEqual(start[0]["client"], "127.0.0.1")
                monitor = [r for r in records if r["role"] == "monitor"]
                self.assertTrue(any("login accepted for user 'demo'" in r["message"] for r in monitor))
                for r in monitor:
                    self.assertEqual((r["session"], r["client"]), (session, "127.0.0.1"), r)
                    self.assertNotEqual(r["pid"], d.pid)
                # Nothing went to stderr once syslog was connected.
                self.assertNotIn("listening on", d.log())
            finally:
                receiver.close()

    def test_json_over_syslog_is_one_object_per_datagram(self):
        with Daemon(start=False) as d:
            receiver = SyslogReceiver(os.path.join(d.tmp, "log.sock"))
            try:
                d.write_config(log_output="syslog", syslog_socket=receiver.path, log_format="json")
                header = re.compile(rb"^<(\d+)>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d wardenftpd\[(\d+)\]: ")
                datagrams = lambda: [header.match(x) and json.loads(x[header.match(x).end():])
                                     for x in receiver.drain()]
                d.start(listening=lambda: any(o and o["msg"].startswith("listening on")
                                              for o in datagrams()))
                ftp = d.ftp()
                ftp.quit()
                self.assertTrue(wait_until(lambda: any(o and o["msg"] == "session ended"
                                                       for o in datagrams())))
                for raw in receiver.drain():
                    match = header.match(raw)
                    self.assertIsNotNone(match, raw)
                    obj = json.loads(raw[match.end():])
                    self.assertEqual(int(match.group(2)), obj["pid"])
                    self.assertEqual(int(match.group(1)), 24 + SEVERITY[obj["level"]])
                    if obj["role"] == "monitor":
                        self.assertEqual(obj["client"], "127.0.0.1")
                        self.assertIsInstance(obj["session"], int)
                logins = [json.loads(x[header.match(x).end():]) for x in receiver.drain()]
                self.assertEqual([o["user"] for o in logins if o.get("event") == "login"], ["demo"])
            finally:
                receiver.close()

    def test_listener_reconnects_when_the_syslog_daemon_restarts(self):
        with Daemon(start=False) as d:
            receiver = SyslogReceiver(os.path.join(d.tmp, "log.sock"))
            try:
                d.write_config(log_output="syslog", syslog_socket=receiver.path)
                d.start(listening=lambda: receiver.wait_for("listening on", timeout=0))
                receiver.restart()
                ftp = d.ftp()
                ftp.quit()
                # The listener's line about the new session reaches the new socket, and so do
                # the lines of the session's monitor (it inherits the reconnected socket).
                self.assertTrue(receiver.wait_for("session ended"), d.log())
                roles = {r["role"] for r in receiver.parsed()}
                self.assertEqual(roles, {"listener", "monitor"})
            finally:
                receiver.close()

    def test_start_failure_is_also_on_stderr_with_syslog_output(self):
        with Daemon(start=False) as d:
            receiver = SyslogReceiver(os.path.join(d.tmp, "log.sock"))
            blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                blocker.bind(("127.0.0.1", 0))
                blocker.listen(1)
                d.write_config(log_output="syslog", syslog_socket=receiver.path,
                               listen_address="127.0.0.1", listen_port=blocker.getsockname()[1])
                result = subprocess.run([harness.BINARY, "-c", d.config_file],
                                        capture_output=True, timeout=30)
                self.assertEqual(result.returncode, 1)
                self.assertIn(b"Address already in use", result.stderr)
                self.assertTrue(receiver.wait_for("Address already in use"))
            finally:
                blocker.close()
                receiver.close()

    def test_unreachable_syslog_fails_at_start_unless_stderr_is_forced(self):
        with Daemon(start=False) as d:
            missing = os.path.join(d.tmp, "no-such.sock")
            d.write_config(log_output="syslog", syslog_socket=missing)
            result = subprocess.run([harness.BINARY, "-c", d.config_file], capture_output=True,
                                    timeout=30)
            self.assertEqual(result.returncode, 1)
            self.assertIn(b"cannot log to syslog", result.stderr)
            self.assertIn(missing.encode(), result.stderr)
            # --stderr: the same configuration runs, logging to stderr.
            d.start(extra_args=["--stderr"])
            ftp = d.ftp()
            ftp.quit()
            self.assertTrue(d.wait_log("session ended"))


class JsonLogTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_every_line_is_json_and_hostile_bytes_stay_escaped(self):
        # upload_names_plain=no lets the hostile name be stored: the log must stay escaped
        # whatever names an operator allows.
        with Daemon(config={"log_format": "json", "upload_names_plain": "no"}) as d:
            replies = raw_login(d.port, b'ev"il\\' + b"\x01\x1b[2J\x7f\xc3\x28\xfe\x80{\"forged\":1}",
                                b"wrong")
            self.assertTrue(replies[2].startswith(b"530"), replies)
            ftp = d.ftp()
            ftp.encoding = "latin-1"  # sends the name's bytes as they are
            ftp.voidcmd("TYPE I")
            name = HOSTILE_NAME.decode("latin-1")
            with open(os.path.join(d.tmp, "payload"), "wb") as f:
                f.write(b"z" * 1000)
            with open(os.path.join(d.tmp, "payload"), "rb") as f:
                ftp.storbinary("STOR " + name, f)
            ftp.quit()
            self.assertTrue(os.path.exists(os.path.join(d.root.encode(), HOSTILE_NAME)))
            self.assertTrue(d.wait_log('"msg":"session ended"', count=2))
            with open(d.log_file, "rb") as f:
                raw = f.read()
            records = []
            for line in raw.split(b"\n")[:-1]:
                line.decode("utf-8")  # strict: invalid UTF-8 never reaches the log
                records.append(json.loads(line))
            self.assertTrue(raw.endswith(b"\n"))
            for r in records:
                for key in ("ts", "level", "role", "pid", "msg"):
                    self.assertIn(key, r)
                self.assertRegex(r["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
                for value in r.values():
                    if isinstance(value, str):
                        self.assertFalse(any(ord(c) < 0x20 or ord(c) == 0x7f for c in value), r)
                if r["role"] == "monitor":
                    self.assertIsInstance(r["session"], int)
                    self.assertEqual(r["client"], "127.0.0.1")
                if r["msg"].startswith("session ") and " from " in r["msg"]:
                    self.assertEqual(r["client"], "127.0.0.1")
                    self.assertIsInstance(r["session"], int)
            failed = [r for r in records if r.get("event") == "login-failed"]
            self.assertEqual(len(failed), 1, records)
            self.assertEqual(failed[0]["user"],
                             'ev"il\\x5c\\x01\\x1b[2J\\x7f\\xc3(\\xfe\\x80{"forged":1}')
            self.assertNotIn("forged", [k for r in records for k in r])
            logins = [r for r in records if r.get("event") == "login"]
            self.assertEqual([r["user"] for r in logins], ["demo"])
            transfers = [r for r in records if r.get("event") == "transfer"]
            self.assertEqual(len(transfers), 1, records)
            t = transfers[0]
            self.assertEqual((t["direction"], t["bytes"], t["status"], t["type"], t["user"]),
                             ("in", "1000", "complete", "binary", "demo"))
            self.assertIn('q"uo\\x5cte \\x01\\x07\\x1b[31m\\x7f\\xc3\\xa9\\xfe\\x80 end.txt', t["path"])
            # Both sessions' lines carry different session ids.
            self.assertEqual(len({r["session"] for r in records if r["role"] == "monitor"}), 2)


class TransferLogTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_stor_retr_and_aborted_retr_are_logged_in_xferlog_format(self):
        with Daemon(start=False) as d:
            xferlog = os.path.join(d.tmp, "xferlog")
            # upload_names_plain=no lets the hostile name be stored: the xferlog line must keep
            # its fields whatever names an operator allows.
            d.write_config(xferlog_enable="yes", xferlog_file=xferlog, upload_names_plain="no")
            d.start()
            self.assertEqual(os.stat(xferlog).st_mode & 0o777, 0o640)
            big = os.path.join(d.root, "large.bin")
            with open(big, "wb") as f:
                f.truncate(256 << 20)
            upload = os.urandom(70000)
            ftp = d.ftp()
            ftp.encoding = "latin-1"
            ftp.voidcmd("TYPE I")
            with open(os.path.join(d.tmp, "up"), "wb") as f:
                f.write(upload)
            with open(os.path.join(d.tmp, "up"), "rb") as f:
                ftp.storbinary("STOR " + HOSTILE_NAME.decode("latin-1"), f)
            ftp.voidcmd("TYPE A")
            lines = []
            ftp.retrlines("RETR " + Daemon.TEST_FILE, lines.append)
            ftp.voidcmd("TYPE I")
            conn = ftp.transfercmd("RETR large.bin")
            conn.recv(65536)
            self.assertEqual(ftp.abort()[:3], "426")
            self.assertEqual(ftp.getresp()[:3], "226")
            conn.close()
            ftp.retrlines("LIST", lambda _line: None)  # listings are not file transfers
            ftp.quit()
            self.assertTrue(d.wait_log("session ended"))
            records = parse_xferlog(xferlog)
            self.assertEqual(len(records), 3, records)
            stor, retr, aborted = records
            for r in records:
                self.assertRegex(r["time"], r"^[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d \d{4}$")
                self.assertGreaterEqual(r["seconds"], 1)
                self.assertEqual((r["host"], r["action"], r["access"], r["user"], r["service"],
                                  r["auth"], r["auth_user"]),
                                 ("127.0.0.1", "_", "r", b"demo", "ftp", "0", "*"))
            self.assertEqual((stor["direction"], stor["type"], stor["status"], stor["size"]),
                             ("i", "b", "c", len(upload)))
            self.assertEqual(stor["name"], b"/" + HOSTILE_NAME)
            with open(os.path.join(d.root.encode(), HOSTILE_NAME), "rb") as f:
                self.assertEqual(f.read(), upload)
            self.assertEqual((retr["direction"], retr["type"], retr["status"], retr["name"]),
                             ("o", "a", "c", b"/" + Daemon.TEST_FILE.encode()))
            # ASCII mode: the bytes on the wire (LF became CRLF).
            self.assertEqual(retr["size"], len(Daemon.TEST_CONTENT) + Daemon.TEST_CONTENT.count(b"\n"))
            self.assertEqual((aborted["direction"], aborted["status"], aborted["name"]),
                             ("o", "i", b"/large.bin"))
            self.assertGreater(aborted["size"], 0)
            self.assertLess(aborted["size"], 256 << 20)

    def test_anonymous_downloads_are_logged_with_access_mode_a(self):
        with Daemon(start=False) as d:
            anon_root = os.path.join(d.tmp, "anon")
            os.makedirs(anon_root)
            os.chmod(anon_root, 0o755)
            with open(os.path.join(anon_root, "pub.txt"), "wb") as f:
                f.write(b"public\n")
            xferlog = os.path.join(d.tmp, "xferlog")
            d.write_config(xferlog_enable="yes", xferlog_file=xferlog, anonymous_enable="yes",
                           anon_root=anon_root, anon_user="%d:%d" % (harness.NOBODY_UID, harness.NOBODY_UID))
            d.start()
            ftp = ftplib.FTP(timeout=harness.TIMEOUT)
            ftp.connect("127.0.0.1", d.port)
            ftp.login("anonymous", "someone@example.org")
            ftp.retrbinary("RETR pub.txt", lambda _data: None)
            ftp.quit()
            self.assertTrue(d.wait_log("session ended"))
            records = parse_xferlog(xferlog)
            self.assertEqual(len(records), 1, records)
            self.assertEqual((records[0]["access"], records[0]["user"], records[0]["size"],
                              records[0]["direction"], records[0]["status"]),
                             ("a", b"anonymous", 7, "o", "c"))

    def test_transfer_log_in_a_directory_others_can_write_is_refused(self):
        with Daemon(start=False) as d:
            unsafe = os.path.join(d.tmp, "unsafe")
            os.makedirs(unsafe)
            os.chmod(unsafe, 0o777)
            d.write_config(xferlog_enable="yes", xferlog_file=os.path.join(unsafe, "xferlog"))
            result = subprocess.run([harness.BINARY, "-c", d.config_file], capture_output=True,
                                    timeout=30)
            self.assertEqual(result.returncode, 1)
            self.assertIn(b"not writable by others", result.stderr)
            self.assertFalse(os.path.exists(os.path.join(unsafe, "xferlog")))

    def test_sighup_reopens_the_transfer_log_after_rotation(self):
        with Daemon(start=False) as d:
            xferlog = os.path.join(d.tmp, "xferlog")
            d.write_config(xferlog_enable="yes", xferlog_file=xferlog)
            d.start()
            ftp = d.ftp()
            ftp.retrbinary("RETR " + Daemon.TEST_FILE, lambda _data: None)
            ftp.quit()
            self.assertTrue(d.wait_log("session ended"))
            os.rename(xferlog, xferlog + ".1")
            os.kill(d.pid, 1)  # SIGHUP
            self.assertTrue(d.wait_log("configuration reloaded"))
            ftp = d.ftp()
            ftp.retrbinary("RETR " + Daemon.TEST_FILE, lambda _data: None)
            ftp.quit()
            self.assertTrue(d.wait_log("session ended", count=2))
            self.assertEqual(len(parse_xferlog(xferlog + ".1")), 1)
            self.assertEqual(len(parse_xferlog(xferlog)), 1)


if __name__ == "__main__":
    unittest.main()
