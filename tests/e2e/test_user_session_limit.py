"""max_sessions_per_user with a real client: the monitor asks the listener for a place among the
user's sessions after it confined itself, and reads the answer on the report socket (a
regression test: that read once used read(), which the monitor's filter does not allow, so the
monitor was killed at the second login)."""

import ftplib
import unittest

import harness
from harness import Daemon


class UserSessionLimitTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    @harness.covers("ftplib", "plain", "passive")
    def test_a_login_beyond_the_users_limit_gets_530_and_the_first_session_goes_on(self):
        with Daemon(config={"max_sessions_per_user": "1"}) as d:
            first = d.ftp()
            try:
                second = ftplib.FTP(timeout=harness.TIMEOUT)
                second.connect("127.0.0.1", d.port)
                with self.assertRaises(ftplib.error_perm) as refused:
                    second.login("demo", "demo")
                self.assertTrue(str(refused.exception).startswith("530"), refused.exception)
                second.close()
                # The allowed path: the first session still works.
                self.assertEqual(first.nlst(), [d.TEST_FILE])
                self.assertNotIn("seccomp", d.log())
            finally:
                first.close()
            # Its place is free again once it ended.
            self.assertTrue(harness.wait_until(lambda: len(d.monitors()) == 0))
            again = d.ftp()
            self.assertEqual(again.nlst(), [d.TEST_FILE])
            again.close()


if __name__ == "__main__":
    unittest.main()
