"""Upload events (upload_event_socket) end to end, with the real example consumer
(contrib/upload-scan/wardenftpd-upload-scan) and a stand-in scanner: ClamAV's signatures cannot
be downloaded here, so a small script takes clamdscan's place (same contract: the file on
standard input, exit 0 clean, 1 infected) and flags files holding the EICAR test string.

Checked: a completed upload (STOR, APPE, STOU) gives one event with the right fields and a
clean file stays; an infected one is moved to quarantine; an aborted upload gives none; with no
consumer, a consumer that never reads, or one that went away, uploads still end at once with
226 and the drop is logged (first drop, then the count at the session's end); a restarted
consumer gets the events of sessions started after it; a hostile file name (quotes, backslash,
CR, tab, ESC, invalid UTF-8; an FTP path cannot hold a newline, the unit tests cover that)
reaches the consumer exactly; the consumer refuses forged events for links and for paths outside
its roots."""

import contextlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import harness
from harness import Daemon, wait_until

CONSUMER = os.path.join(os.path.dirname(os.path.dirname(harness._HERE)), "contrib", "upload-scan",
                        "wardenftpd-upload-scan")
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
WAIT = 20.0

# The stand-in scanner: records the event it was run for, then judges standard input.
SCANNER = r'''#!/usr/bin/python3
import os, sys
data = sys.stdin.buffer.read()
with open(%(events)r, "a") as f:
    f.write(os.environ["WARDENFTPD_UPLOAD_EVENT"] + "\n")
if %(eicar)r in data:
    print("stdin: Eicar-Test-Signature FOUND")
    sys.exit(1)
print("stdin: OK")
'''


def max_dgram_qlen():
    with open("/proc/sys/net/unix/max_dgram_qlen") as f:
        return int(f.read())


class Consumer:
    """The contrib consumer, run for a test; its own directory holds the socket, the quarantine,
    the stand-in scanner and the events that scanner saw."""

    def __init__(self, directory, roots, socket_mode=None):
        self.directory = directory
        self.socket = os.path.join(directory, "events.sock")
        self.quarantine = os.path.join(directory, "quarantine")
        self.events_file = os.path.join(directory, "scanned.jsonl")
        self.log_file = os.path.join(directory, "consumer.log")
        self.scanner = os.path.join(directory, "scanner")
        self.roots = roots
        self.socket_mode = socket_mode
        self.proc = None
        os.makedirs(self.quarantine, mode=0o700, exist_ok=True)
        with open(self.scanner, "w") as f:
            f.write(SCANNER % {"events": self.events_file, "eicar": EICAR})
        os.chmod(self.scanner, 0o755)

    def start(self):
        before = self.log().count("listening on")
        args = [sys.executable, CONSUMER, "--socket", self.socket, "--quarantine", self.quarantine,
                "--scanner", self.scanner, "--scan-timeout", "20"]
        for root in self.roots:
            args += ["--root", root]
        if self.socket_mode:
            args += ["--socket-mode", self.socket_mode]
        with open(self.log_file, "ab") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        if not wait_until(lambda: self.log().count("listening on") > before or
                          self.proc.poll() is not None, WAIT) or self.proc.poll() is not None:
            raise AssertionError("consumer did not start; its log:\n" + self.log())

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(10)

    def log(self):
        try:
            with open(self.log_file, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def scanned(self):
        """The events the scanner was run for, parsed (strict JSON)."""
        try:
            with open(self.events_file) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def wait_scanned(self, count):
        events = wait_until(lambda: len(self.scanned()) >= count and self.scanned(), WAIT)
        if not events or len(events) < count:
            raise AssertionError("the scanner saw %d events, expected %d; consumer log:\n%s" %
                                 (len(events or []), count, self.log()))
        return events

    def quarantined(self):
        return sorted(os.listdir(self.quarantine))


@contextlib.contextmanager
def scanning_daemon(config=None, start_consumer=True):
    """A daemon whose upload_event_socket is the consumer's socket, and that consumer (its
    --root the daemon's temp dir, which holds the users' roots)."""
    directory = tempfile.mkdtemp(prefix="wftpd-scan-", dir="/tmp")
    try:
        merged = {"upload_event_socket": os.path.join(directory, "events.sock")}
        merged.update(config or {})
        with Daemon(config=merged) as d:
            consumer = Consumer(directory, [d.tmp])
            try:
                if start_consumer:
                    consumer.start()
                yield d, consumer
            except BaseException:
                sys.stderr.write("\n---- consumer log ----\n%s---- end ----\n" % consumer.log())
                raise
            finally:
                consumer.kill()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def session_of(d, ftp):
    """The listener's session number for an ftplib client's connection."""
    port = ftp.sock.getsockname()[1]
    match = wait_until(lambda: re.search(r"session (\d+) from \S*:%d " % port, d.log()))
    if not match:
        raise AssertionError("no session line for port %d" % port)
    return int(match.group(1))


def timed_stor(ftp, name, data):
    started = time.monotonic()
    reply = ftp.storbinary("STOR " + name, io.BytesIO(data))
    return reply, time.monotonic() - started


class UploadEventTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_clean_upload_gives_one_event_with_every_field_and_the_file_stays(self):
        with scanning_daemon() as (d, consumer):
            ftp = d.ftp()
            content = b"nothing to see here\n" * 100
            before = time.time()
            self.assertTrue(ftp.storbinary("STOR clean.txt", io.BytesIO(content)).startswith("226"))
            session = session_of(d, ftp)
            ftp.quit()
            (event,) = consumer.wait_scanned(1)
            disk_path = os.path.join(d.root, "clean.txt")
            self.assertEqual(event["event"], "upload")
            self.assertEqual(event["user"], "demo")
            self.assertEqual(event["client"], "127.0.0.1")
            self.assertEqual(event["path"], "/clean.txt")
            self.assertEqual(event["disk_path"], disk_path)
            self.assertEqual(bytes.fromhex(event["disk_path_hex"]), disk_path.encode())
            self.assertEqual(event["bytes"], len(content))
            self.assertEqual(event["type"], "binary")
            self.assertEqual(event["session"], session)
            self.assertTrue(before - 2 <= event["unix_time"] <= time.time() + 2, event)
            self.assertEqual(event["time"][:19],
                             time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(event["unix_time"])))
            self.assertTrue(event["time"].endswith("Z"))
            self.assertTrue(wait_until(lambda: "clean: " in consumer.log(), WAIT), consumer.log())
            with open(disk_path, "rb") as f:
                self.assertEqual(f.read(), content)
            self.assertEqual(consumer.quarantined(), [])

    def test_infected_upload_is_moved_to_quarantine(self):
        with scanning_daemon() as (d, consumer):
            ftp = d.ftp()
            self.assertTrue(ftp.storbinary("STOR eicar.com", io.BytesIO(EICAR)).startswith("226"))
            ftp.quit()
            self.assertTrue(wait_until(lambda: "INFECTED, moved to quarantine" in consumer.log(),
                                       WAIT), consumer.log())
            self.assertFalse(os.path.exists(os.path.join(d.root, "eicar.com")))
            names = consumer.quarantined()
            files = [n for n in names if not n.endswith(".json")]
            self.assertEqual(len(files), 1, names)
            self.assertTrue(files[0].endswith("-eicar.com"), files)
            with open(os.path.join(consumer.quarantine, files[0]), "rb") as f:
                self.assertEqual(f.read(), EICAR)
            with open(os.path.join(consumer.quarantine, files[0] + ".json")) as f:
                record = json.load(f)
            self.assertEqual(record["path"], "/eicar.com")
            self.assertIn("FOUND", record["scanner_output"])

    def test_appe_and_stou_give_events(self):
        with scanning_daemon() as (d, consumer):
            ftp = d.ftp()
            self.assertTrue(ftp.storbinary("APPE hello.txt", io.BytesIO(b"appended\n"))
                            .startswith("226"))
            before = set(os.listdir(d.root))
            self.assertTrue(ftp.storbinary("STOU", io.BytesIO(b"unique\n")).startswith("226"))
            (unique,) = set(os.listdir(d.root)) - before
            ftp.quit()
            events = consumer.wait_scanned(2)
            self.assertEqual([e["path"] for e in events], ["/hello.txt", "/" + unique])
            self.assertEqual(events[0]["bytes"], len(b"appended\n"))
            self.assertEqual(events[1]["disk_path"], os.path.join(d.root, unique))

    def test_aborted_upload_gives_no_event(self):
        with scanning_daemon() as (d, consumer):
            ftp = d.ftp()
            ftp.voidcmd("TYPE I")
            conn = ftp.transfercmd("APPE hello.txt")
            conn.sendall(b"y" * 100000)
            self.assertEqual(ftp.abort()[:3], "426")
            self.assertEqual(ftp.getresp()[:3], "226")
            conn.close()
            self.assertTrue(d.wait_log("upload of '/hello.txt' incomplete"))
            # A completed upload after it: the events of one session arrive in order, so once
            # this one is scanned, an event for the aborted one would have been seen first.
            self.assertTrue(ftp.storbinary("STOR after.txt", io.BytesIO(b"x")).startswith("226"))
            ftp.quit()
            events = consumer.wait_scanned(1)
            time.sleep(0.5)
            self.assertEqual([e["path"] for e in consumer.scanned()], ["/after.txt"], events)

    def test_without_a_consumer_uploads_end_at_once_and_the_drop_is_logged(self):
        with scanning_daemon(start_consumer=False) as (d, consumer):
            ftp = d.ftp()
            reply, took = timed_stor(ftp, "a.txt", b"a")
            self.assertTrue(reply.startswith("226"), reply)
            self.assertLess(took, 2.0)
            reply, took = timed_stor(ftp, "b.txt", b"b")
            self.assertTrue(reply.startswith("226"), reply)
            ftp.quit()
            self.assertTrue(d.wait_log("upload event dropped: no consumer at " + consumer.socket +
                                       " when this session started"))
            self.assertTrue(d.wait_log("upload events dropped in this session: 2 of 2"))
            self.assertEqual(d.log().count("upload event dropped:"), 1, "one line per drop")
            # And counted in the listener's metrics.
            metrics = d.ctl("metrics").stdout
            self.assertIn("\nwardenftpd_upload_events_dropped_total 2\n", metrics)

    def test_consumer_that_never_reads_does_not_slow_uploads(self):
        queue_length = max_dgram_qlen()
        if queue_length > 200:
            self.fail("net.unix.max_dgram_qlen is %d: too long a queue to fill here" % queue_length)
        uploads = queue_length + 5
        with scanning_daemon() as (d, consumer):
            # Stopped (both of its threads): nothing reads the socket, whose queue fills.
            consumer.proc.send_signal(signal.SIGSTOP)
            ftp = d.ftp()
            slowest = 0.0
            for i in range(uploads):
                reply, took = timed_stor(ftp, "f%d.txt" % i, b"data %d\n" % i)
                self.assertTrue(reply.startswith("226"), reply)
                slowest = max(slowest, took)
            ftp.quit()
            self.assertLess(slowest, 2.0)
            self.assertTrue(d.wait_log("upload event dropped: the consumer at " + consumer.socket +
                                       " is not keeping up"))
            self.assertTrue(d.wait_log("upload events dropped in this session: "))
            dropped, total = map(int, re.search(
                r"upload events dropped in this session: (\d+) of (\d+)", d.log()).groups())
            self.assertEqual(total, uploads)
            # The kernel queues max_dgram_qlen datagrams (Linux takes one more before it
            # counts the queue as full); every other event was dropped.
            self.assertIn(dropped, (uploads - queue_length, uploads - queue_length - 1))
            # Resumed, it scans exactly the events that were not dropped.
            consumer.proc.send_signal(signal.SIGCONT)
            self.assertEqual(len(consumer.wait_scanned(total - dropped)), total - dropped)
            time.sleep(0.5)
            self.assertEqual(len(consumer.scanned()), total - dropped)

    def test_consumer_gone_drops_and_a_restarted_one_gets_new_sessions(self):
        with scanning_daemon() as (d, consumer):
            ftp = d.ftp()  # connected to the first consumer
            self.assertTrue(ftp.storbinary("STOR one.txt", io.BytesIO(b"1")).startswith("226"))
            consumer.wait_scanned(1)
            consumer.kill()
            consumer.start()  # a new socket at the same path
            reply, took = timed_stor(ftp, "two.txt", b"2")
            self.assertTrue(reply.startswith("226"), reply)
            self.assertLess(took, 2.0)
            ftp.quit()
            self.assertTrue(d.wait_log("upload event dropped: the consumer at " + consumer.socket +
                                       " went away"))
            self.assertTrue(d.wait_log("upload events dropped in this session: 1 of 2"))
            ftp = d.ftp()  # a session started after the consumer came back
            self.assertTrue(ftp.storbinary("STOR three.txt", io.BytesIO(b"3")).startswith("226"))
            ftp.quit()
            events = consumer.wait_scanned(2)
            self.assertEqual([e["path"] for e in events], ["/one.txt", "/three.txt"])

    def test_hostile_file_name_reaches_the_consumer_exactly(self):
        name = b'ev"il\\ \r\t\x1b \xff\xfe\x80 \xc3\xa9 {"user":"root"}.bin'
        # upload_names_plain=no lets such a name be stored; the event must carry it exactly.
        with scanning_daemon(config={"upload_names_plain": "no"}) as (d, consumer):
            with d.raw() as client:
                client.login()
                for file_name, data in ((name, b"harmless\n"), (b"2" + name, EICAR)):
                    self.assertEqual(client.cmd("TYPE I")[0], 200)
                    code, text = client.cmd("EPSV")
                    self.assertEqual(code, 229, text)
                    port = int(re.search(r"\(\|\|\|(\d+)\|\)", text).group(1))
                    with socket.create_connection(("127.0.0.1", port), harness.TIMEOUT) as data_sock:
                        # Telnet: a 0xff data byte is sent as IAC IAC.
                        client.send(b"STOR " + file_name.replace(b"\xff", b"\xff\xff") + b"\r\n")
                        code, text = client.reply()
                        self.assertEqual(code, 150, text)
                        data_sock.sendall(data)
                    code, text = client.reply()
                    self.assertEqual(code, 226, text)
                client.cmd("QUIT")
            events = consumer.wait_scanned(2)
            for event, file_name in zip(events, (name, b"2" + name)):
                self.assertEqual(bytes.fromhex(event["disk_path_hex"]),
                                 os.fsencode(d.root) + b"/" + file_name)
                self.assertEqual(event["path"], "/" + file_name.decode("utf-8", "replace"))
                self.assertEqual(event["user"], "demo")
            self.assertTrue(os.path.exists(os.fsencode(d.root) + b"/" + name))
            self.assertTrue(wait_until(lambda: "INFECTED, moved to quarantine" in consumer.log(),
                                       WAIT), consumer.log())
            self.assertFalse(os.path.exists(os.fsencode(d.root) + b"/2" + name))
            files = [n for n in consumer.quarantined() if not n.endswith(".json")]
            self.assertEqual(len(files), 1)
            self.assertRegex(files[0], r"^[0-9]+-[0-9]+-[0-9a-f]{8}-[A-Za-z0-9._-]+$")


class ConsumerTest(unittest.TestCase):
    """The example consumer alone, with events forged as root (the monitors' uid)."""

    def setUp(self):
        harness.require_root(self)

    def test_consumer_refuses_links_paths_outside_its_roots_and_other_senders(self):
        directory = tempfile.mkdtemp(prefix="wftpd-scan-", dir="/tmp")
        os.chmod(directory, 0o711)  # the unprivileged sender must reach the socket
        consumer = None
        try:
            root = os.path.join(directory, "root")
            outside = os.path.join(directory, "outside")
            os.makedirs(os.path.join(root, "user"))
            os.makedirs(outside)
            target = os.path.join(outside, "victim.bin")
            with open(target, "wb") as f:
                f.write(EICAR)
            os.symlink(target, os.path.join(root, "user", "link.bin"))
            os.symlink(outside, os.path.join(root, "user", "dirlink"))
            consumer = Consumer(directory, [root], socket_mode="0666")
            consumer.start()

            def forge(disk_path, sender_uid=0):
                event = {"event": "upload", "session": 1, "user": "u", "disk_path_hex":
                         disk_path.encode().hex()}
                pid = os.fork()
                if pid == 0:  # a child, so that the sender's uid can differ
                    try:
                        os.setuid(sender_uid)
                        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                            s.sendto(json.dumps(event).encode(), consumer.socket)
                    finally:
                        os._exit(0)
                os.waitpid(pid, 0)

            forge(os.path.join(root, "user", "link.bin"))
            forge(os.path.join(root, "user", "dirlink", "victim.bin"))
            forge(target)
            forge(os.path.join(root, "user", "..", "..", "outside", "victim.bin"))
            forge(os.path.join(root, "user", "dirlink", "victim.bin"), sender_uid=harness.NOBODY_UID)
            self.assertTrue(wait_until(lambda: consumer.log().count("not scanned: ") == 4 and
                                       "refused a datagram from uid %d" % harness.NOBODY_UID
                                       in consumer.log(), WAIT), consumer.log())
            log = consumer.log()
            self.assertEqual(log.count("a symbolic link or a non-directory on the way"), 2, log)
            self.assertIn("path is not under any --root", log)
            self.assertIn("path is not a normalised absolute path", log)
            self.assertEqual(consumer.scanned(), [])
            self.assertEqual(consumer.quarantined(), [])
            with open(target, "rb") as f:
                self.assertEqual(f.read(), EICAR)
        finally:
            if consumer is not None:
                if consumer.proc is not None and consumer.proc.poll() is not None:
                    sys.stderr.write(consumer.log())
                consumer.kill()
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
