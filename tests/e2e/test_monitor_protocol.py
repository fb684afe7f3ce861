"""A compromised child speaking bad monitor protocol: the monitor must end that session only.

The test plays the compromised child by stealing its monitor socket (fd 4) with pidfd_getfd
and sending datagrams on it.
"""

import array
import os
import re
import signal
import socket
import struct
import time
import unittest

import harness
from harness import Daemon, monitor_datagram, u16_string

TYPE_LOGIN_REQUEST = 1
TYPE_PASSIVE_LISTEN = 7
TYPE_PASSIVE_READY = 8
TYPE_DATA_CONNECT = 9
TYPE_DATA_READY = 10
TYPE_LOG_EVENT = 13
TYPE_TRANSFER_DONE = 14

DATA_FOR_FILE_TRANSFER = 1
DATA_FOR_LISTING = 2
MAX_LOG_EVENTS_PER_CHILD = 200  # kMaxLogEventsPerChild


def log_event(text, level=3):
    return monitor_datagram(TYPE_LOG_EVENT, bytes([level]) + u16_string(text))


def transfer_done(path, size=1234):
    # direction (2: outgoing), TYPE A?, complete?, u64 bytes, u64 milliseconds, path
    payload = bytes([2, 0, 1]) + struct.pack(">QQ", size, 10) + u16_string(path)
    return monitor_datagram(TYPE_TRANSFER_DONE, payload)


def receive_answer(sock, expected_type, timeout=harness.TIMEOUT):
    """One datagram from the monitor on a stolen channel: (payload, descriptors it carried)."""
    sock.settimeout(timeout)
    fds = array.array("i")
    data, ancillary, _flags, _addr = sock.recvmsg(65536, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, cdata in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(cdata[:len(cdata) - (len(cdata) % fds.itemsize)])
    msg_type, _reserved, length = struct.unpack(">HHI", data[:8])
    if msg_type != expected_type:
        for fd in fds:
            os.close(fd)
        raise AssertionError("expected message type %d from the monitor, got %d" %
                             (expected_type, msg_type))
    return data[8:8 + length], list(fds)


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


class TransferReportTest(unittest.TestCase):
    """A compromised post-auth child can put a line in the transfer log only for a data
    connection the monitor handed out for a file transfer, one line per connection, and only
    until it asks for the next connection: listings (real or invented) and unused permits buy
    it no line."""

    def setUp(self):
        harness.require_root(self)

    def _open_data_connection(self, sock, purpose):
        """PassiveListen, our own connection to the port as the client, DataConnect."""
        sock.send(monitor_datagram(TYPE_PASSIVE_LISTEN, b"\x01"))
        payload, _ = receive_answer(sock, TYPE_PASSIVE_READY)
        self.assertEqual(payload[0], 1, "the monitor could not listen")
        port = struct.unpack(">H", payload[18:20])[0]
        with socket.create_connection(("127.0.0.1", port), timeout=harness.TIMEOUT):
            sock.send(monitor_datagram(TYPE_DATA_CONNECT, bytes([purpose])))
            payload, fds = receive_answer(sock, TYPE_DATA_READY)
        for fd in fds:
            os.close(fd)
        self.assertEqual((payload[0], len(fds)), (1, 1), "no data connection handed out")

    def _run(self, d, script, honest_listings=0):
        """Logs in, lets the honest child make `honest_listings` LISTs, then plays the
        compromised child with `script(sock)` on its stolen channel (the real child stopped).
        Returns whether the session ended."""
        with d.raw() as victim:
            monitor = d.monitor_pid_for(victim.local_port())
            victim.login()
            for _ in range(honest_listings):
                code, text = victim.cmd("EPSV")
                self.assertEqual(code, 229, text)
                port = int(re.search(r"\(\|\|\|(\d+)\|\)", text).group(1))
                with socket.create_connection(("127.0.0.1", port), timeout=harness.TIMEOUT) as data:
                    self.assertEqual(victim.cmd("LIST")[0], 150)
                    harness.read_until_eof(data)
                self.assertEqual(victim.reply()[0], 226)
            postauth = d.session_child(monitor, "wftpd:postauth")
            sock = socket.socket(fileno=harness.pidfd_getfd(postauth, 4))
            os.kill(postauth, signal.SIGSTOP)
            try:
                script(sock)
                ended = harness.wait_until(lambda: not harness.pid_alive(monitor), 5)
            finally:
                sock.close()
            return ended

    def test_transfer_reports_need_a_data_connection_for_a_file_transfer(self):
        with Daemon(start=False) as d:
            xferlog = os.path.join(d.tmp, "xferlog")
            d.write_config(xferlog_enable="yes", xferlog_file=xferlog)
            d.start()

            # Three real listings: their connections permit no report, then or later.
            self.assertTrue(self._run(d, lambda sock: sock.send(transfer_done(b"/after-listings")),
                                      honest_listings=3))

            # A listing the compromised child asks for itself.
            def listing_then_report(sock):
                self._open_data_connection(sock, DATA_FOR_LISTING)
                sock.send(transfer_done(b"/invented-listing"))
            self.assertTrue(self._run(d, listing_then_report))

            # A file transfer's connection permits one report, not two.
            def two_reports(sock):
                self._open_data_connection(sock, DATA_FOR_FILE_TRANSFER)
                sock.send(transfer_done(b"/one-connection-first"))
                sock.send(transfer_done(b"/one-connection-second"))
            self.assertTrue(self._run(d, two_reports))

            # A permit left unused expires with the next DataConnect: it is not saved up.
            def unused_then_listing(sock):
                self._open_data_connection(sock, DATA_FOR_FILE_TRANSFER)
                self._open_data_connection(sock, DATA_FOR_LISTING)
                sock.send(transfer_done(b"/saved-up"))
            self.assertTrue(self._run(d, unused_then_listing))

            with open(xferlog, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            self.assertEqual(len(lines), 1, lines)
            self.assertIn(" /one-connection-first ", lines[0])
            log = d.log()
            self.assertEqual(log.count("protocol violation: TransferDone (type 14) from the "
                                       "post-auth child without a data connection"), 4, log)
            self.assertIsNone(d.proc.poll(), "the listener died")


if __name__ == "__main__":
    unittest.main()
