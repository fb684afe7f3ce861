"""The default per-address limits (max_per_ip, connect_rate_per_ip, neither set in the
configuration here) keep one address from starving the others: an address that holds as many
idle, unauthenticated connections as it can, or reconnects as fast as it can, gets 421 and
holds at most max_per_ip sessions, while another address is greeted and logs in."""

import ftplib
import socket
import subprocess
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

import harness
from harness import Daemon, first_reply_line

HOG = "127.0.0.9"
OTHER = "127.0.0.10"
TOO_MANY = b"421 Too many connections from your address"
TOO_FAST = b"421 Connecting too fast"


def defaults():
    """{key: default text} from the binary's own table of keys."""
    out = subprocess.run([harness.BINARY, "--describe-config"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    return {line.split("\t")[0]: line.split("\t")[1] for line in out.splitlines()}


def hold_connection(port, source):
    """(first reply line, the still open socket): a connection that sends nothing."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(harness.TIMEOUT)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        data = b""
        while not data.endswith(b"\r\n") and len(data) < 4096:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data, s
    except BaseException:
        s.close()
        raise


def log_in_and_download(port, source):
    """The greeting, then a login and a download over a passive connection, from `source`."""
    ftp = ftplib.FTP(timeout=harness.TIMEOUT, source_address=(source, 0))
    try:
        welcome = ftp.connect("127.0.0.1", port)
        ftp.login("demo", "demo")
        chunks = []
        ftp.retrbinary("RETR " + Daemon.TEST_FILE, chunks.append)
        ftp.quit()
        return welcome, b"".join(chunks)
    finally:
        ftp.close()


class DefaultLimitsTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)
        table = defaults()
        self.max_per_ip = int(table["max_per_ip"])
        self.rate = int(table["connect_rate_per_ip"])
        self.max_clients = int(table["max_clients"])
        # The premise of both tests: the limits are on by default, and leave room for others.
        self.assertGreater(self.max_per_ip, 0)
        self.assertGreater(self.rate, 0)
        self.assertLess(self.max_per_ip, self.max_clients)

    def daemon(self):
        # Neither limit is set here: the defaults are under test.
        d = Daemon()
        self.assertNotIn("max_per_ip", d.extra_config)
        self.assertNotIn("connect_rate_per_ip", d.extra_config)
        return d

    def test_an_address_reconnecting_as_fast_as_it_can_is_refused_and_another_is_served(self):
        with self.daemon() as d:
            greeted, refused = 0, []
            started = time.monotonic()
            # Connect, read the first line, close: as fast as one client can, for 3 s at most.
            # Five connections at a time, so that the rate the client reaches does not depend
            # on how fast a session greets (a loaded machine or a sanitizer build greets in
            # about 100 ms, which alone would keep one-at-a-time under 10 a second).
            for _ in range(600):
                if time.monotonic() - started > 3.0:
                    break
                with ThreadPoolExecutor(5) as pool:
                    lines = list(pool.map(lambda _: first_reply_line(d.port, source=HOG), range(5)))
                for line in lines:
                    if line.startswith(b"220"):
                        greeted += 1
                    else:
                        refused.append(line)
            elapsed = time.monotonic() - started
            self.assertTrue(any(r.startswith(TOO_FAST) for r in refused), refused[:5])
            self.assertTrue(all(r.startswith((TOO_FAST, TOO_MANY)) for r in refused),
                            set(refused))
            # A token bucket of `rate` a second with bursts of twice that.
            self.assertLessEqual(greeted, 2 * self.rate + self.rate * elapsed + 1,
                                 "%d sessions in %.1f s" % (greeted, elapsed))
            # Another address has its own tokens: it is served right after the flood.
            welcome, data = log_in_and_download(d.port, OTHER)
            self.assertTrue(welcome.startswith("220"), welcome)
            self.assertEqual(data, Daemon.TEST_CONTENT)
            self.assertTrue(d.wait_log("connect_rate_per_ip (%d/s) exceeded" % self.rate))

    def test_an_address_holding_idle_connections_cannot_starve_another(self):
        with self.daemon() as d:
            held, refusals = [], []
            stop = threading.Event()
            hammer = {"greeted": 0, "refused": [], "errors": []}
            try:
                # Open and keep every connection that is greeted, as fast as possible, until
                # refused for max_per_ip ten times (or max_clients held: the server is taken).
                deadline = time.monotonic() + 30
                for _ in range(20000):
                    if time.monotonic() > deadline or len(held) >= self.max_clients:
                        break
                    line, s = hold_connection(d.port, HOG)
                    if line.startswith(b"220"):
                        held.append(s)
                        continue
                    s.close()
                    refusals.append(line)
                    if sum(r.startswith(TOO_MANY) for r in refusals) >= 10:
                        break
                self.assertEqual(len(held), self.max_per_ip,
                                 "refusals: %r" % sorted(set(refusals)))
                self.assertTrue(d.wait_log("max_per_ip (%d) reached" % self.max_per_ip))

                # Keep reconnecting from the same address while the other one logs in.
                def reconnect():
                    give_up = time.monotonic() + 60
                    for _ in range(50000):
                        if stop.is_set() or time.monotonic() > give_up:
                            return
                        try:
                            line = first_reply_line(d.port, source=HOG)
                        except OSError as e:
                            hammer["errors"].append(repr(e))
                            continue
                        if line.startswith(b"220"):
                            hammer["greeted"] += 1
                        else:
                            hammer["refused"].append(line)

                thread = threading.Thread(target=reconnect, daemon=True)
                thread.start()
                self.assertTrue(harness.wait_until(lambda: len(hammer["refused"]) >= 20, 10),
                                "the reconnecting thread made no attempts")
                for _ in range(3):
                    welcome, data = log_in_and_download(d.port, OTHER)
                    self.assertTrue(welcome.startswith("220"), welcome)
                    self.assertEqual(data, Daemon.TEST_CONTENT)
                stop.set()
                thread.join(harness.TIMEOUT + 5)
                self.assertFalse(thread.is_alive(), "the reconnecting thread hung")
                self.assertEqual(hammer["errors"][:3], [])
                # Every connection the hog held was still open: none of them was dropped to
                # make room, and the hog never got a session more.
                self.assertEqual(hammer["greeted"], 0)
                self.assertTrue(all(r.startswith(TOO_MANY) for r in hammer["refused"]),
                                sorted(set(hammer["refused"])))
                for s in held:
                    s.setblocking(False)
                    try:
                        got = s.recv(1)
                    except BlockingIOError:
                        got = None
                    self.assertIsNone(got, "a held connection was closed or answered")
            finally:
                stop.set()
                for s in held:
                    s.close()


if __name__ == "__main__":
    unittest.main()
