"""A compromised child speaking bad monitor protocol: the monitor must end that session only.

The test plays the compromised child by stealing its monitor socket (fd 4) with pidfd_getfd
and sending datagrams on it.
"""

import os
import signal
import socket
import time
import unittest

import harness
from harness import Daemon, monitor_datagram, u16_string

TYPE_LOGIN_REQUEST = 1
TYPE_PASSIVE_LISTEN = 7
TYPE_DATA_CONNECT = 9
TYPE_LOG_EVENT = 13

MAX_LOG_EVENTS_PER_CHILD = 200  # kMaxLogEventsPerChild


def log_event(text, level=3):
    return monitor_datagram(TYPE_LOG_EVENT, bytes([level]) + u16_string(text))


class MonitorProtocolTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def _assert_others_unaffected(self, d, bystander):
        self.assertEqual(bystander.cmd("NOOP")[0], 200, "bystander session broken")
        code, data = harness.pasv_retr(bystander, Daemon.TEST_FILE)
        self.assertEqual((code, data), (226, Daemon.TEST_CONTENT))
        with d.raw() as fresh:
            fresh.login()
            self.assertEqual(fresh.cmd("PWD")[0], 257)
            self.assertEqual(fresh.cmd("QUIT")[0], 221)

    def _attack(self, d, child_comm, datagram, login_victim=False):
        """Open a bystander (logged in) and a victim session; steal the victim child's fd 4,
        send datagram, and check that only the victim session ends."""
        with d.raw() as bystander, d.raw() as victim:
            bystander.login()
            monitor = d.monitor_pid_for(victim.local_port())
            if login_victim:
                victim.login()
            self.assertEqual(victim.cmd("NOOP")[0], 200)
            child = d.session_child(monitor, child_comm)
            sock = socket.socket(fileno=harness.pidfd_getfd(child, 4))
            try:
                self.assertEqual(sock.type, socket.SOCK_SEQPACKET)
                sock.send(datagram)
                self.assertTrue(victim.wait_closed(5),
                                "the server did not close the victim's control connection "
                                "after a bad datagram from %s" % child_comm)
                self.assertTrue(harness.wait_until(lambda: not harness.pid_alive(monitor), 5),
                                "monitor %d of the victim session is still running" % monitor)
                self.assertTrue(harness.wait_until(lambda: not harness.pid_alive(child), 5),
                                "%s %d is still running" % (child_comm, child))
            finally:
                sock.close()
            self._assert_others_unaffected(d, bystander)
            self.assertIsNone(d.proc.poll(), "the listener died")

    def test_stealing_the_socket_alone_does_not_end_session(self):
        # Control experiment for the tests below: the theft itself is harmless.
        with Daemon() as d, d.raw() as victim:
            monitor = d.monitor_pid_for(victim.local_port())
            preauth = d.session_child(monitor, "wftpd:preauth")
            socket.socket(fileno=harness.pidfd_getfd(preauth, 4)).close()
            self.assertEqual(victim.cmd("NOOP")[0], 200)
            victim.login()
            postauth = d.session_child(monitor, "wftpd:postauth")
            socket.socket(fileno=harness.pidfd_getfd(postauth, 4)).close()
            code, data = harness.pasv_retr(victim, Daemon.TEST_FILE)
            self.assertEqual((code, data), (226, Daemon.TEST_CONTENT))
            self.assertTrue(harness.pid_alive(monitor))

    def test_wrong_length_field_from_preauth_ends_session(self):
        payload = u16_string(b"demo") + u16_string(b"demo")
        with Daemon() as d:
            self._attack(d, "wftpd:preauth",
                         monitor_datagram(TYPE_LOGIN_REQUEST, payload, length=len(payload) + 7))

    def test_nonzero_reserved_and_truncated_field_from_preauth_end_session(self):
        with Daemon() as d:
            self._attack(d, "wftpd:preauth",
                         monitor_datagram(TYPE_LOGIN_REQUEST,
                                          u16_string(b"demo") + u16_string(b"demo"),
                                          reserved=1))
            # A user-name length that runs past the end of the payload.
            self._attack(d, "wftpd:preauth",
                         monitor_datagram(TYPE_LOGIN_REQUEST, b"\x00\x40demo"))

    def test_passive_listen_from_preauth_is_out_of_phase_and_ends_session(self):
        with Daemon() as d:
            self._attack(d, "wftpd:preauth", monitor_datagram(TYPE_PASSIVE_LISTEN, b"\x00"))

    def test_data_connect_from_preauth_is_out_of_phase_and_ends_session(self):
        with Daemon() as d:
            self._attack(d, "wftpd:preauth", monitor_datagram(TYPE_DATA_CONNECT))

    def test_unknown_type_from_preauth_ends_session(self):
        with Daemon() as d:
            self._attack(d, "wftpd:preauth", monitor_datagram(999, b"\x00\x00\x00\x00"))

    def test_login_request_from_postauth_is_out_of_phase_and_ends_session(self):
        payload = u16_string(b"demo") + u16_string(b"demo")
        with Daemon() as d:
            self._attack(d, "wftpd:postauth", monitor_datagram(TYPE_LOGIN_REQUEST, payload),
                         login_victim=True)

    def test_unknown_type_from_postauth_ends_session(self):
        with Daemon() as d:
            self._attack(d, "wftpd:postauth", monitor_datagram(999), login_victim=True)


class PreauthPhaseBoundsTest(unittest.TestCase):
    """A compromised pre-auth child cannot keep its session alive: the monitor ends the pre-auth
    phase login_timeout (plus a 5 s grace) after the session began, whatever the child sends,
    and a LogEvent beyond the 200 a child may send is a protocol violation."""

    def setUp(self):
        harness.require_root(self)

    def test_log_events_do_not_keep_a_session_past_login_timeout(self):
        login_timeout = 3
        with Daemon(config={"login_timeout": str(login_timeout), "idle_timeout": "300"}) as d, \
                d.raw() as victim:
            started = time.monotonic()
            monitor = d.monitor_pid_for(victim.local_port())
            preauth = d.session_child(monitor, "wftpd:preauth")
            sock = socket.socket(fileno=harness.pidfd_getfd(preauth, 4))
            # The compromised child never ends the session itself (stopped here: its own
            # login_timeout never fires) and keeps its monitor busy with log lines, far fewer
            # than the 200 a child may send.
            os.kill(preauth, signal.SIGSTOP)
            sent = 0
            try:
                while harness.pid_alive(monitor) and time.monotonic() - started < 40:
                    try:
                        sock.send(log_event(b"still logging in %d" % sent))
                    except OSError:
                        break
                    sent += 1
                    time.sleep(0.25)
                elapsed = time.monotonic() - started  # when the monitor stopped listening
            finally:
                sock.close()
            self.assertTrue(harness.wait_until(lambda: not harness.pid_alive(monitor), 5),
                            "the monitor still runs %.1f s after the session began" % elapsed)
            # login_timeout, the monitor's 5 s grace, at most 5 s for the child's last words.
            self.assertLess(elapsed, login_timeout + 5 + 5 + 3)
            self.assertGreaterEqual(elapsed, login_timeout)
            self.assertLess(sent, MAX_LOG_EVENTS_PER_CHILD)
            self.assertTrue(d.wait_log("no login within login_timeout (3 s)"), d.log())
            self.assertTrue(victim.wait_closed(5))
            self.assertTrue(harness.wait_until(lambda: not harness.pid_alive(preauth), 5))
            self.assertIsNone(d.proc.poll(), "the listener died")

    def test_a_log_event_beyond_the_cap_ends_the_session(self):
        with Daemon() as d, d.raw() as victim:
            monitor = d.monitor_pid_for(victim.local_port())
            preauth = d.session_child(monitor, "wftpd:preauth")
            sock = socket.socket(fileno=harness.pidfd_getfd(preauth, 4))
            try:
                for i in range(MAX_LOG_EVENTS_PER_CHILD):
                    sock.send(log_event(b"line %04d" % i))
                # All 200 are logged and the session goes on...
                self.assertTrue(d.wait_log("pre-auth: line %04d" % (MAX_LOG_EVENTS_PER_CHILD - 1)),
                                d.log())
                self.assertEqual(victim.cmd("NOOP")[0], 200)
                self.assertTrue(harness.pid_alive(monitor))
                # ...the next one ends it, unlogged.
                sock.send(log_event(b"line %04d" % MAX_LOG_EVENTS_PER_CHILD))
                self.assertTrue(victim.wait_closed(5), "the session outlived its 201st LogEvent")
                self.assertTrue(harness.wait_until(lambda: not harness.pid_alive(monitor), 5))
            finally:
                sock.close()
            log = d.log()
            self.assertIn("protocol violation: LogEvent (type 13) from the pre-auth child beyond its "
                          "200 log lines; ending session", log)
            self.assertNotIn("pre-auth: line %04d" % MAX_LOG_EVENTS_PER_CHILD, log)


if __name__ == "__main__":
    unittest.main()
