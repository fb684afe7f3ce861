"""allow_clients and deny_clients: a refused client gets 421 before anything is forked (no
session monitor is ever made for it), behind a trusted proxy the client the proxy names is
judged, a reload applies new lists to new connections, and inetd mode refuses alike."""

import re
import signal
import socket
import subprocess
import unittest

import harness
from harness import Daemon, first_reply_line

REFUSED = b"421 Service not available from your address"


def monitors_started(d):
    return len(re.findall(r"\(monitor pid \d+\)", d.log()))


class ClientAccessTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_denied_address_gets_421_and_no_session_is_made(self):
        with Daemon(config={"deny_clients": "127.0.0.1"}) as d:
            self.assertTrue(first_reply_line(d.port).startswith(REFUSED))
            self.assertTrue(d.wait_log("in deny_clients"))
            self.assertIn("refusing 127.0.0.1:", d.log())
            self.assertEqual(monitors_started(d), 0, d.log())
            self.assertEqual(d.monitors(), [])
            # Another address (IPv6 loopback here) is served.
            self.assertTrue(first_reply_line(d.port, host="::1").startswith(b"220"))
            # The listener logs the session once posix_spawn returned; the monitor may greet
            # the client first.
            self.assertTrue(harness.wait_until(lambda: monitors_started(d) == 1), d.log())

    def test_allow_list_serves_only_its_prefixes(self):
        with Daemon(config={"allow_clients": "127.0.0.2/32, ::1"}) as d:
            self.assertTrue(first_reply_line(d.port).startswith(REFUSED))
            self.assertTrue(d.wait_log("not in allow_clients"))
            self.assertEqual(monitors_started(d), 0, d.log())
            self.assertTrue(first_reply_line(d.port, source="127.0.0.2").startswith(b"220"))
            self.assertTrue(first_reply_line(d.port, host="::1").startswith(b"220"))

    def test_deny_wins_inside_the_allow_list(self):
        with Daemon(config={"allow_clients": "127.0.0.0/8", "deny_clients": "127.0.0.3"}) as d:
            self.assertTrue(first_reply_line(d.port, source="127.0.0.3").startswith(REFUSED))
            self.assertTrue(first_reply_line(d.port, source="127.0.0.4").startswith(b"220"))
            self.assertTrue(first_reply_line(d.port, host="::1").startswith(REFUSED))

    def test_refused_connections_use_no_connection_tokens(self):
        # A denied address hammering the server does not use up the rate of an allowed one
        # sharing nothing with it, and is refused for the list, not for the rate.
        with Daemon(config={"deny_clients": "127.0.0.5", "connect_rate_per_ip": "1"}) as d:
            for _ in range(5):
                self.assertTrue(first_reply_line(d.port, source="127.0.0.5").startswith(REFUSED))
            self.assertNotIn("connect_rate_per_ip", d.log())
            self.assertTrue(first_reply_line(d.port, source="127.0.0.6").startswith(b"220"))

    def test_reload_applies_new_lists_to_new_connections(self):
        with Daemon() as d:
            with d.raw() as kept:
                kept.login()
                d.write_config(deny_clients="127.0.0.1")
                d.proc.send_signal(signal.SIGHUP)
                self.assertTrue(d.wait_log("configuration reloaded", 5), d.log())
                self.assertTrue(first_reply_line(d.port).startswith(REFUSED))
                # The session that was already running goes on.
                self.assertEqual(kept.cmd("PWD")[0], 257)

    def test_behind_a_trusted_proxy_the_named_client_is_judged(self):
        config = {"proxy_protocol": "yes", "trusted_proxies": "127.0.0.1",
                  "deny_clients": "192.0.2.0/24"}
        with Daemon(config=config) as d:
            refused = first_reply_line(d.port, first_bytes=b"PROXY TCP4 192.0.2.9 127.0.0.1 4000 21\r\n")
            self.assertTrue(refused.startswith(REFUSED), refused)
            self.assertTrue(d.wait_log("in deny_clients"))
            self.assertIn("refusing 192.0.2.9:4000 (via proxy 127.0.0.1:", d.log())
            self.assertEqual(monitors_started(d), 0, d.log())
            served = first_reply_line(d.port, first_bytes=b"PROXY TCP4 198.51.100.9 127.0.0.1 4000 21\r\n")
            self.assertTrue(served.startswith(b"220"), served)

    def test_inetd_mode_refuses_before_the_monitor(self):
        with Daemon(start=False, config={"deny_clients": "127.0.0.1"}) as d:
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            with server, socket.create_connection(server.getsockname(), harness.TIMEOUT) as client:
                connection, _ = server.accept()
                with connection, open(d.log_file, "ab") as log:
                    result = subprocess.run(
                        [harness.BINARY, "--inetd", "-c", d.config_file], stdin=connection,
                        stdout=connection, stderr=log, env={}, timeout=harness.TIMEOUT)
                self.assertEqual(result.returncode, 0, d.log())
                client.settimeout(harness.TIMEOUT)
                self.assertTrue(client.recv(4096).startswith(REFUSED))
            self.assertIn("inetd mode: refusing 127.0.0.1:", d.log())
            self.assertIn("in deny_clients", d.log())
            self.assertNotIn("session", re.sub(r"inetd mode: refusing.*", "", d.log()))


if __name__ == "__main__":
    unittest.main()
