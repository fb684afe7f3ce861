"""Options of the control connection's socket, read from the live session processes.

Regression for issue 13: without TCP_NODELAY, a reply written while the one before it was still
unacknowledged (the 226 after a 150) waited for the client's delayed ACK, about 40 ms on Linux,
which held a session to some 23 small files per second. The tests check the cause (the socket
option on the very socket the monitor and its children write replies to), not a timing.
"""

import socket
import unittest

import harness
from harness import Daemon, TlsDaemon


def _peer_port_and_nodelay(pid, fd):
    """(peer port, TCP_NODELAY) of TCP socket `fd` of process `pid`, or None for any other
    descriptor."""
    stolen = harness.pidfd_getfd(pid, fd)
    sock = socket.socket(fileno=stolen)
    try:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
            return None
        try:
            peer = sock.getpeername()
        except OSError:  # a listening socket
            return None
        return peer[1], bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    finally:
        sock.close()  # closes our duplicate only


class ControlSocketTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def assert_nodelay(self, pid, fd, client_port, what):
        found = _peer_port_and_nodelay(pid, fd)
        self.assertIsNotNone(found, "%s fd %d is not a connected TCP socket" % (what, fd))
        self.assertEqual(found[0], client_port, "%s fd %d is not this client's control connection"
                         % (what, fd))
        self.assertTrue(found[1], "%s: control connection without TCP_NODELAY" % what)

    def monitor_control_fds(self, monitor, client_port):
        """The monitor's descriptors that are this client's control connection."""
        fds = []
        for fd, target in harness.proc_fds(monitor).items():
            if not target.startswith("socket:"):
                continue
            found = _peer_port_and_nodelay(monitor, fd)
            if found is not None and found[0] == client_port:
                fds.append(fd)
        return fds

    def test_plain_control_connection_has_nodelay_in_monitor_and_children(self):
        with Daemon() as d, d.raw() as c:
            port = c.local_port()
            monitor = d.monitor_pid_for(port)
            preauth = d.session_child(monitor, "wftpd:preauth")
            self.assertEqual(c.cmd("NOOP")[0], 200)
            self.assert_nodelay(preauth, 3, port, "pre-auth child")
            held = self.monitor_control_fds(monitor, port)
            self.assertTrue(held, "the monitor holds no descriptor for the control connection")
            for fd in held:
                self.assert_nodelay(monitor, fd, port, "monitor")
            c.login()
            # After a transfer, which is where the missing option showed (150, then 226).
            code, data = harness.pasv_retr(c, Daemon.TEST_FILE)
            self.assertEqual((code, data), (226, Daemon.TEST_CONTENT))
            postauth = d.session_child(monitor, "wftpd:postauth")
            self.assert_nodelay(postauth, 3, port, "post-auth child")

    def test_tls_control_connection_has_nodelay_in_the_relay(self):
        with TlsDaemon() as d:
            client = d.ftps()
            try:
                port = client.sock.getsockname()[1]
                monitor = d.monitor_pid_for(port)
                # With TLS the pre-auth child stays, as the TLS endpoint that writes the
                # encrypted replies to the client socket (fd 3).
                relay = d.session_child(monitor, "wftpd:preauth")
                d.session_child(monitor, "wftpd:postauth")
                self.assertEqual(client.voidcmd("NOOP")[:3], "200")
                self.assert_nodelay(relay, 3, port, "TLS relay")
                lines = []
                client.retrlines("NLST", lines.append)
                self.assertIn(Daemon.TEST_FILE, lines)
                self.assert_nodelay(relay, 3, port, "TLS relay after a transfer")
                client.quit()
            finally:
                client.close()


if __name__ == "__main__":
    unittest.main()
