"""Reply codes of the FTP control protocol, checked over raw sockets."""

import re
import socket
import time
import unittest

import harness
from harness import Daemon

LONG_LINE = b"NOOP " + b"A" * 5000 + b"\r\n"


class ProtocolReplyTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_unknown_verb_gets_500_before_and_after_login(self):
        with Daemon() as d, d.raw() as c:
            self.assertEqual(c.cmd("XYZZY")[0], 500)
            c.login()
            self.assertEqual(c.cmd("XYZZY foo")[0], 500)
            self.assertEqual(c.cmd("NOOP")[0], 200)

    def test_auth_before_login_gets_502(self):
        with Daemon() as d, d.raw() as c:
            self.assertEqual(c.cmd("AUTH TLS")[0], 502)
            self.assertEqual(c.cmd("NOOP")[0], 200)

    def test_bad_type_argument_gets_501_and_type_e_gets_504(self):
        with Daemon() as d, d.raw() as c:
            c.login()
            self.assertEqual(c.cmd("TYPE Z")[0], 501)
            self.assertEqual(c.cmd("TYPE E")[0], 504)
            self.assertEqual(c.cmd("TYPE I")[0], 200)
            self.assertEqual(c.cmd("TYPE A")[0], 200)
            self.assertEqual(c.cmd("MODE S")[0], 200)
            self.assertEqual(c.cmd("STRU F")[0], 200)

    def test_host_before_login_is_parsed_and_refused_without_virtual_hosts(self):
        with Daemon() as d, d.raw() as c:
            self.assertEqual(c.cmd("HOST ftp.example.com")[0], 504)
            self.assertEqual(c.cmd("HOST bad/host name")[0], 501)
            c.login()
            self.assertEqual(c.cmd("HOST ftp.example.com")[0], 503)

    def test_pasv_announces_the_configured_external_address(self):
        with Daemon(config={"pasv_address": "203.0.113.9"}) as d, d.raw() as c:
            c.login()
            code, text = c.cmd("PASV")
            self.assertEqual(code, 227, text)
            self.assertIn("(203,0,113,9,", text)

    def test_rein_is_refused_with_502(self):
        with Daemon() as d, d.raw() as c:
            c.login()
            self.assertEqual(c.cmd("REIN")[0], 502)
            self.assertEqual(c.cmd("PWD")[0], 257)

    def test_pass_without_user_gets_503(self):
        with Daemon() as d, d.raw() as c:
            self.assertEqual(c.cmd("PASS demo")[0], 503)
            # The session keeps going and a proper login still works.
            c.login()
            self.assertEqual(c.cmd("PWD")[0], 257)

    def test_known_unimplemented_verb_after_login_gets_502(self):
        with Daemon() as d, d.raw() as c:
            c.login()
            self.assertEqual(c.cmd("SMNT /mnt")[0], 502)
            self.assertEqual(c.cmd("NOOP")[0], 200)

    def test_port_and_eprt_to_the_control_peer_are_accepted(self):
        with Daemon() as d, d.raw() as c:
            c.login()
            self.assertEqual(c.cmd("PORT 127,0,0,1,4,1")[0], 200)
            self.assertEqual(c.cmd("EPRT |1|127.0.0.1|1025|")[0], 200)

    def test_ftp_bounce_port_to_foreign_address_or_low_port_gets_504(self):
        with Daemon() as d, d.raw() as c:
            c.login()
            self.assertEqual(c.cmd("PORT 192,0,2,7,0,25")[0], 504)
            self.assertEqual(c.cmd("PORT 127,0,0,2,4,1")[0], 504)
            self.assertEqual(c.cmd("PORT 127,0,0,1,0,25")[0], 504)
            self.assertEqual(c.cmd("EPRT |1|198.51.100.1|2000|")[0], 504)
            self.assertEqual(c.cmd("EPRT |1|127.0.0.1|21|")[0], 504)
            # A refused PORT leaves no data connection behind.
            self.assertEqual(c.cmd("RETR hello.txt")[0], 425)
            self.assertIn("FTP bounce", d.log())

    def test_malformed_port_and_eprt_get_501_and_unknown_protocol_522(self):
        with Daemon() as d, d.raw() as c:
            c.login()
            for bad in ("PORT 127,0,0,1,4", "PORT 127,0,0,1,4,1,1", "PORT 256,0,0,1,4,1",
                        "PORT a,b,c,d,e,f", "PORT 127,0,0,1,-4,1", "EPRT |1|127.0.0.1|",
                        "EPRT |1|not-an-ip|2000|", "EPRT |1|127.0.0.1|0|", "EPRT x"):
                self.assertEqual(c.cmd(bad)[0], 501, bad)
            self.assertEqual(c.cmd("EPRT |3|127.0.0.1|2000|")[0], 522)
            self.assertEqual(c.cmd("EPRT |2|::1|2000|")[0], 522)
            self.assertEqual(c.cmd("NOOP")[0], 200)

    def test_overlong_line_gets_500_and_session_continues(self):
        with Daemon() as d, d.raw() as c:
            c.send(LONG_LINE)
            self.assertEqual(c.reply()[0], 500)
            self.assertEqual(c.cmd("NOOP")[0], 200)
            c.login()
            c.send(LONG_LINE)
            self.assertEqual(c.reply()[0], 500)
            self.assertEqual(c.cmd("NOOP")[0], 200)

    def _three_overlong_lines(self, c):
        for _ in range(2):
            c.send(LONG_LINE)
            self.assertEqual(c.reply()[0], 500)
        c.send(LONG_LINE)
        code, text = c.reply()
        if code == 500:  # the third line's own 500 may precede the 421
            code, text = c.reply()
        self.assertEqual(code, 421, text)
        self.assertTrue(c.wait_closed(5), "connection not closed after 421")

    def test_three_overlong_lines_get_421_and_close(self):
        with Daemon() as d:
            with d.raw() as c:
                self._three_overlong_lines(c)
            with d.raw() as c:
                c.login()
                self._three_overlong_lines(c)
            # The daemon keeps serving other clients.
            with d.raw() as c:
                c.login()
                self.assertEqual(c.cmd("NOOP")[0], 200)

    def test_epsv_all_then_pasv_gets_501(self):
        with Daemon() as d, d.raw() as c:
            c.login()
            code, text = c.cmd("PASV")
            self.assertEqual(code, 227, text)
            self.assertRegex(text, r"\(\d+,\d+,\d+,\d+,\d+,\d+\)")
            self.assertEqual(c.cmd("EPSV ALL")[0], 200)
            self.assertEqual(c.cmd("PASV")[0], 501)
            code, text = c.cmd("EPSV")
            self.assertEqual(code, 229, text)

    def test_retr_without_pasv_gets_425(self):
        with Daemon() as d, d.raw() as c:
            c.login()
            self.assertEqual(c.cmd("RETR " + Daemon.TEST_FILE)[0], 425)
            self.assertEqual(c.cmd("LIST")[0], 425)
            # Still usable afterwards.
            code, data = harness.pasv_retr(c, Daemon.TEST_FILE)
            self.assertEqual(code, 226)

    def test_three_failed_logins_get_530s_then_421_and_close(self):
        with Daemon() as d, d.raw() as c:
            codes = []
            for _ in range(3):
                self.assertEqual(c.cmd("USER demo")[0], 331)
                code, text = c.cmd("PASS wrong")
                codes.append(code)
                if code == 530 and len(codes) == 3:
                    code, text = c.reply()
                    codes.append(code)
            self.assertEqual(codes, [530, 530, 530, 421])
            self.assertTrue(c.wait_closed(5), "connection not closed after 421")

    def test_unknown_user_and_wrong_password_get_identical_reply(self):
        with Daemon() as d:
            replies = []
            for user in ("nosuchuser", "demo"):
                with d.raw() as c:
                    user_reply = c.cmd("USER " + user)
                    started = time.monotonic()
                    code, text = c.cmd("PASS wrong-password")
                    replies.append((user_reply, code, text, time.monotonic() - started))
            self.assertEqual(replies[0][0], replies[1][0], "USER replies differ")
            self.assertEqual(replies[0][1:3], replies[1][1:3], "PASS replies differ")
            self.assertEqual(replies[0][1], 530)
            self.assertEqual(replies[0][2], "530 Login incorrect.")
            # Both failures are delayed (login_fail_delay_ms=200).
            self.assertGreaterEqual(replies[0][3], 0.15)
            self.assertGreaterEqual(replies[1][3], 0.15)


if __name__ == "__main__":
    unittest.main()
