"""One decision on whether a configuration is usable (priv/config_validation.cpp): the same bad
file is refused with the same message by --check-config, by a start, by a SIGHUP reload of a
running listener and by --inetd."""

import os
import pwd
import shutil
import signal
import subprocess
import unittest

import harness
from harness import Daemon
from test_service_modes import InetdSession


def _bad_configs(d):
    """(name, config overrides, the message without the file name) for problems that only the
    system shows, which --check-config once accepted, and one relation between keys."""
    jail = os.path.join(d.tmp, "open-jail")
    os.makedirs(jail, exist_ok=True)
    os.chmod(jail, 0o777)
    logs = os.path.join(d.tmp, "open-logs")
    os.makedirs(logs, exist_ok=True)
    os.chmod(logs, 0o777)
    open_users_dir = os.path.join(d.tmp, "open-users")
    os.makedirs(open_users_dir, exist_ok=True)
    os.chmod(open_users_dir, 0o777)
    shutil.copy(d.users_file, os.path.join(open_users_dir, "users"))
    readable_users = os.path.join(d.tmp, "readable-users")
    shutil.copy(d.users_file, readable_users)
    os.chmod(readable_users, 0o644)
    missing_user = "no-such-wftpd-user"
    try:
        pwd.getpwnam(missing_user)
        raise AssertionError("user %s exists on this system" % missing_user)
    except KeyError:
        pass
    return [
        ("secure_chroot_dir writable by others", {"secure_chroot_dir": jail},
         "secure_chroot_dir: %s is writable by group or others" % jail),
        ("transfer log in a directory others can write",
         {"xferlog_enable": "yes", "xferlog_file": os.path.join(logs, "xferlog")},
         "xferlog_file: %s must be a directory owned by root and not writable by others" % logs),
        ("users file readable by others", {"users_file": readable_users},
         "users_file: %s must be a regular file owned by root, mode 0600 or 0640" % readable_users),
        ("users file in a directory others can write",
         {"users_file": os.path.join(open_users_dir, "users")},
         "users_file: %s/users: its directory %s must be a directory (not a symlink) owned by "
         "root and not writable by group or others" % (open_users_dir, open_users_dir)),
        ("unknown nopriv_user", {"nopriv_user": missing_user},
         "nopriv_user '%s' does not exist in /etc/passwd (names from other NSS sources are "
         "not looked up; give UID:GID)" % missing_user),
        ("half a passive port range", {"pasv_min_port": "40000"},
         "pasv_min_port and pasv_max_port must both be 0 or both be set"),
    ]


class ConfigValidationTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_check_config_start_reload_and_inetd_refuse_with_the_same_message(self):
        with Daemon() as d:
            good = d.config_text()
            for name, overrides, message in _bad_configs(d):
                with self.subTest(name):
                    expected = "%s: %s" % (d.config_file, message)
                    d.write_config(d.config_text(**overrides))

                    check = subprocess.run([harness.BINARY, "--check-config", d.config_file],
                                           capture_output=True, timeout=30,
                                           stdin=subprocess.DEVNULL)
                    self.assertEqual(check.returncode, 1, check)
                    self.assertEqual(check.stderr.decode().strip(), expected)
                    self.assertNotIn(b"configuration OK", check.stdout)

                    start = subprocess.run([harness.BINARY, "-c", d.config_file],
                                           capture_output=True, timeout=30,
                                           stdin=subprocess.DEVNULL)
                    self.assertEqual(start.returncode, 1, start)
                    self.assertIn(expected, start.stderr.decode())
                    self.assertNotIn("listening on", start.stderr.decode())

                    d.proc.send_signal(signal.SIGHUP)
                    refused = "reload refused, keeping the current configuration: " + expected
                    self.assertTrue(d.wait_log(refused, harness.TIMEOUT), d.log())
                    self.assertIsNone(d.proc.poll(), "listener exited on SIGHUP")

                    inetd = InetdSession(d)
                    try:
                        with harness.RawClient("127.0.0.1", inetd.port) as c:
                            code, text = c.reply()
                            self.assertEqual(code, 421, text)
                        self.assertEqual(inetd.wait_spawned().wait(harness.TIMEOUT), 1)
                    finally:
                        inetd.close()
                    self.assertIn("inetd mode: " + expected, d.log())

                    # The running listener kept its configuration and still serves.
                    d.write_config(good)
                    with d.raw() as c:
                        c.login()
                        self.assertEqual(c.cmd("NOOP")[0], 200)

    def test_check_config_accepts_what_the_listener_starts_with(self):
        with Daemon() as d:
            check = subprocess.run([harness.BINARY, "--check-config", d.config_file],
                                   capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
            self.assertEqual(check.returncode, 0, check)
            self.assertIn(b"configuration OK", check.stdout)


if __name__ == "__main__":
    unittest.main()
