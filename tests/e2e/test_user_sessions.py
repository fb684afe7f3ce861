"""max_sessions_per_user: the confined session monitor asks the listener for a place among the
user's sessions and waits for its answer on the report socket (regression: the monitor read the
answer with read(2), which its seccomp filter does not allow, so the first such login killed
the monitor)."""

import ftplib
import unittest

import harness
from harness import Daemon


class UserSessionsTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_a_second_session_of_the_user_is_refused_until_the_first_ends(self):
        with Daemon(config={"max_sessions_per_user": "1"}) as d:
            first = d.ftp()
            self.assertEqual(first.pwd(), "/")
            second = d.ftp(login=False)
            with self.assertRaises(ftplib.error_perm) as ctx:
                second.login("demo", "demo")
            self.assertTrue(str(ctx.exception).startswith("530"), str(ctx.exception))
            second.close()
            first.quit()
            # The place is free once the first session's monitor is gone.
            def logs_in():
                try:
                    client = d.ftp()
                except ftplib.error_perm:
                    return False
                client.quit()
                return True
            self.assertTrue(harness.wait_until(logs_in, 10))
            self.assertNotIn("seccomp", d.log())


if __name__ == "__main__":
    unittest.main()
