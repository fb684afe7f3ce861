"""A compromised child speaking bad monitor protocol: the monitor must end that session only.

The test plays the compromised child by stealing its monitor socket (fd 4) with pidfd_getfd
and sending datagrams on it.
"""

import os
import socket
import unittest

import harness
from harness import Daemon, monitor_datagram, u16_string

TYPE_LOGIN_REQUEST = 1
TYPE_PASSIVE_LISTEN = 7
TYPE_DATA_CONNECT = 9


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


if __name__ == "__main__":
    unittest.main()
