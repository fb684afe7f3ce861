"""Many short sessions: no zombies, no leftover monitors; max_clients is enforced."""

import socket
import threading
import time
import unittest

import harness
from harness import Daemon

# The sanitizer build serves about a tenth as many sessions per second: it runs fewer, so the
# bound on time still holds.
SESSIONS = 300 if harness.is_sanitizer_build() else 2000
THREADS = 8
BURST_DEADLINE = 150.0  # seconds for the whole burst


class BurstTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def _short_session(self, port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return "closed before greeting: %r" % data
                data += chunk
            if not data.startswith(b"220"):
                return "greeting: %r" % data
            s.sendall(b"QUIT\r\n")
            data = data.partition(b"\r\n")[2]
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return "closed before 221: %r" % data
                data += chunk
            if not data.startswith(b"221"):
                return "QUIT reply: %r" % data
        return None

    def test_2000_short_sessions_leave_no_zombies_or_monitors(self):
        # max_clients well above the 8 clients: sessions that answered QUIT may still be ending
        # (monitors reaping) when the next connection arrives on a loaded machine. Every session
        # comes from 127.0.0.1, hundreds a second: no per-address limits (their defaults would
        # refuse most of the burst; they are tested in PerAddressLimitTest and
        # test_default_limits.py).
        with Daemon(config={"max_clients": "1000", "max_per_ip": "0",
                            "connect_rate_per_ip": "0"}) as d:
            counter = iter(range(SESSIONS))
            lock = threading.Lock()
            errors = []
            done = [0]
            deadline = time.monotonic() + BURST_DEADLINE

            def worker():
                while time.monotonic() < deadline:
                    with lock:
                        if next(counter, None) is None:
                            return
                    try:
                        error = self._short_session(d.port)
                    except OSError as e:
                        error = repr(e)
                    with lock:
                        if error:
                            errors.append(error)
                        else:
                            done[0] += 1

            threads = [threading.Thread(target=worker, daemon=True) for _ in range(THREADS)]
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(BURST_DEADLINE + 20)
            elapsed = time.monotonic() - started
            self.assertFalse(any(t.is_alive() for t in threads), "burst threads hung")
            self.assertIsNone(d.proc.poll(), "listener died during the burst")
            self.assertEqual(errors[:5], [], "%d failed sessions" % len(errors))
            self.assertEqual(done[0], SESSIONS,
                             "only %d of %d sessions in %.1fs" % (done[0], SESSIONS, elapsed))

            def settled():
                desc = harness.descendants(d.pid)
                return not desc
            # Sessions end asynchronously after QUIT; on a loaded CI machine that takes a moment.
            self.assertTrue(harness.wait_until(settled, 20),
                            "leftover descendants after the burst: zombies=%r others=%r" %
                            (harness.zombies_among_descendants(d.pid),
                             harness.descendants(d.pid)[:10]))
            self.assertEqual(harness.zombies_among_descendants(d.pid), [])
            self.assertEqual(d.monitors(), [])
            self.assertIsNone(d.proc.poll(), "listener died during the burst")
            with d.raw() as c:
                c.login()
                code, text = c.cmd("EPSV")
                self.assertEqual(code, 229, text)
                port = int(text.split("|||")[1].split("|")[0])
                with socket.create_connection(("127.0.0.1", port), timeout=10) as data_sock:
                    self.assertEqual(c.cmd("LIST")[0], 150)
                    listing = b""
                    while True:
                        chunk = data_sock.recv(65536)
                        if not chunk:
                            break
                        listing += chunk
                self.assertEqual(c.reply()[0], 226)
                self.assertIn(Daemon.TEST_FILE.encode(), listing)

    def test_max_clients_refuses_third_connection_with_421(self):
        with Daemon(config={"max_clients": "2"}) as d:
            first = d.raw()
            second = d.raw()
            try:
                first.login()
                self.assertEqual(second.cmd("NOOP")[0], 200)
                with harness.RawClient("127.0.0.1", d.port) as third:
                    code, text = third.reply()
                    self.assertEqual(code, 421, text)
                    self.assertTrue(third.wait_closed(5), "refused connection left open")
                self.assertEqual(first.cmd("NOOP")[0], 200)
                self.assertEqual(second.cmd("QUIT")[0], 221)
                second.close()
                monitor_count = lambda: len(d.monitors()) <= 1
                self.assertTrue(harness.wait_until(monitor_count, 5))
                # The listener may notice the session end a moment after the monitor exits.
                served = None
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    with harness.RawClient("127.0.0.1", d.port) as fourth:
                        code, text = fourth.reply()
                        if code == 220:
                            fourth.login()
                            self.assertEqual(fourth.cmd("PWD")[0], 257)
                            served = True
                            break
                    time.sleep(0.1)
                self.assertTrue(served, "no new session served after one was closed")
            finally:
                first.close()
                second.close()


class PerAddressLimitTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_max_per_ip_refuses_with_421_and_frees_a_slot_when_a_session_ends(self):
        with Daemon(config={"max_per_ip": "2"}) as d:
            first, second = d.raw(), d.raw()
            try:
                with socket.create_connection(("127.0.0.1", d.port), timeout=10) as s:
                    reply = s.makefile("rb").readline()
                    self.assertTrue(reply.startswith(b"421"), reply)
                # IPv6 loopback is another address: still served.
                with d.raw(host="::1") as other:
                    self.assertEqual(other.cmd("NOOP")[0], 200)
                self.assertEqual(first.cmd("QUIT")[0], 221)
                first.close()
                self.assertTrue(harness.wait_until(lambda: len(d.monitors()) <= 1, 10))
                with d.raw() as again:
                    self.assertEqual(again.cmd("NOOP")[0], 200)
                self.assertIn("max_per_ip", d.log())
            finally:
                first.close()
                second.close()

    def test_connect_rate_per_ip_refuses_a_flood_with_421(self):
        with Daemon(config={"connect_rate_per_ip": "2"}) as d:
            # Connect all at once (admission is decided at accept time), then read the replies,
            # so slow session start-up (e.g. a sanitizer build) cannot spread the flood out.
            sockets = [socket.create_connection(("127.0.0.1", d.port), timeout=10)
                       for _ in range(12)]
            replies = []
            for s in sockets:
                with s:
                    replies.append(s.makefile("rb").readline()[:3])
            self.assertIn(b"220", replies)
            self.assertIn(b"421", replies)
            self.assertLessEqual(replies.count(b"220"), 6)
            time.sleep(1.5)
            with d.raw() as c:
                self.assertEqual(c.cmd("NOOP")[0], 200)


if __name__ == "__main__":
    unittest.main()
