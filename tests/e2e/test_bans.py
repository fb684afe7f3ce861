"""Automatic bans: ban_after_failures failed logins from one address within ban_window refuse
it for ban_time, with 421 before anything is forked; the ban expires; ban_exempt (loopback by
default) is never banned; other addresses are not affected; the client behind a trusted proxy
is the one banned."""

import re
import socket
import unittest

import harness
from harness import Daemon, first_reply_line, wait_until

BANNED = b"421 Too many failed logins from your address"
FAST = {"login_fail_delay_ms": "0", "ban_window": "60"}


def fail_logins(port, count, source="127.0.0.1", first_bytes=b""):
    """`count` wrong passwords, one per session (each session answers 530 and goes on)."""
    for _ in range(count):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(harness.TIMEOUT)
            s.bind((source, 0))
            s.connect(("127.0.0.1", port))
            if first_bytes:
                s.sendall(first_bytes)
            f = s.makefile("rb")
            assert f.readline().startswith(b"220")
            s.sendall(b"USER demo\r\n")
            assert f.readline().startswith(b"331")
            s.sendall(b"PASS wrong\r\n")
            line = f.readline()
            assert line.startswith(b"530"), line


def monitors_started(d):
    return len(re.findall(r"\(monitor pid \d+\)", d.log()))


class BanTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_failures_ban_the_address_until_ban_time_has_passed(self):
        config = dict(FAST, ban_after_failures="3", ban_time="3", ban_exempt="")
        with Daemon(config=config) as d:
            fail_logins(d.port, 2, source="127.0.0.9")
            self.assertTrue(first_reply_line(d.port, source="127.0.0.9").startswith(b"220"))
            fail_logins(d.port, 1, source="127.0.0.9")
            self.assertTrue(d.wait_log("banning 127.0.0.9 for 3 s: 3 failed logins within 60 s"))
            before = monitors_started(d)
            reply = first_reply_line(d.port, source="127.0.0.9")
            self.assertTrue(reply.startswith(BANNED), reply)
            self.assertTrue(d.wait_log("banned after failed logins"))
            self.assertEqual(monitors_started(d), before, "a monitor was made for a banned client")
            # Another address is served, and logs in.
            self.assertTrue(first_reply_line(d.port, source="127.0.0.10").startswith(b"220"))
            d.ftp().quit()
            # The ban ends.
            self.assertTrue(wait_until(
                lambda: first_reply_line(d.port, source="127.0.0.9").startswith(b"220"), 8, 0.25))

    def test_a_successful_login_does_not_reset_the_count(self):
        # An attacker with one valid account cannot launder failures by logging in between.
        config = dict(FAST, ban_after_failures="2", ban_time="60", ban_exempt="")
        with Daemon(config=config) as d:
            fail_logins(d.port, 1)
            d.ftp().quit()
            fail_logins(d.port, 1)
            self.assertTrue(d.wait_log("banning 127.0.0.1"))
            self.assertTrue(first_reply_line(d.port).startswith(BANNED))

    def test_loopback_is_exempt_by_default(self):
        with Daemon(config=dict(FAST, ban_after_failures="2")) as d:
            fail_logins(d.port, 4)
            self.assertTrue(first_reply_line(d.port).startswith(b"220"))
            self.assertNotIn("banning", d.log())

    def test_zero_turns_bans_off(self):
        with Daemon(config=dict(FAST, ban_after_failures="0", ban_exempt="")) as d:
            fail_logins(d.port, 4)
            self.assertTrue(first_reply_line(d.port).startswith(b"220"))
            self.assertNotIn("banning", d.log())

    def test_behind_a_trusted_proxy_the_named_client_is_banned_not_the_proxy(self):
        config = dict(FAST, ban_after_failures="2", ban_time="60", ban_exempt="",
                      proxy_protocol="yes", trusted_proxies="127.0.0.1")
        header = b"PROXY TCP4 192.0.2.50 127.0.0.1 4000 21\r\n"
        other = b"PROXY TCP4 198.51.100.50 127.0.0.1 4000 21\r\n"
        with Daemon(config=config) as d:
            fail_logins(d.port, 2, first_bytes=header)
            self.assertTrue(d.wait_log("banning 192.0.2.50"))
            refused = first_reply_line(d.port, first_bytes=header)
            self.assertTrue(refused.startswith(BANNED), refused)
            self.assertIn("refusing 192.0.2.50:4000 (via proxy 127.0.0.1:", d.log())
            # The proxy itself, for another client, is still served.
            self.assertTrue(first_reply_line(d.port, first_bytes=other).startswith(b"220"))


if __name__ == "__main__":
    unittest.main()
