"""The shipped fail2ban filter and jail (dist/fail2ban) against real lines the daemon wrote:
text on stderr, text to syslog (as rsyslog files it) and JSON; checked with Debian's
fail2ban-regex and fail2ban-client."""

import ftplib
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import Daemon
from test_logging import SyslogReceiver

DIST = os.path.join(harness._REPO, "dist", "fail2ban")
FILTER = os.path.join(DIST, "filter.d", "wardenftpd.conf")
JAIL = os.path.join(DIST, "jail.d", "wardenftpd.conf")
SYSTEM_CONFIG = "/etc/fail2ban"
# A user name that tries to put another address into the line.
FORGED_USER = "x client=198.51.100.1[1]: login refused for user 'y"


def require_fail2ban(testcase):
    if shutil.which("fail2ban-regex") is None or not os.path.isdir(SYSTEM_CONFIG):
        testcase.fail("fail2ban is not installed (tools/install-deps.sh installs it)")


def failed_login(port, host, user, password="wrong"):
    client = ftplib.FTP(timeout=harness.TIMEOUT)
    client.connect(host, port)
    try:
        client.login(user, password)
        raise AssertionError("login of %r unexpectedly accepted" % user)
    except ftplib.error_perm as e:
        assert str(e).startswith("530"), e
    finally:
        client.close()


class Fail2banTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)
        require_fail2ban(self)
        # The filter includes common.conf from its own directory, as in /etc/fail2ban/filter.d.
        self.work = tempfile.mkdtemp(prefix="wftpd-f2b-", dir="/tmp")
        self.addCleanup(shutil.rmtree, self.work, True)
        os.mkdir(os.path.join(self.work, "filter.d"))
        shutil.copy(os.path.join(SYSTEM_CONFIG, "filter.d", "common.conf"),
                    os.path.join(self.work, "filter.d"))
        self.filter = os.path.join(self.work, "filter.d", "wardenftpd.conf")
        shutil.copy(FILTER, self.filter)

    def banned_addresses(self, lines):
        """The address fail2ban-regex finds in each line it matches, in order."""
        log = os.path.join(self.work, "lines.log")
        with open(log, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        result = subprocess.run(["fail2ban-regex", "-o", "ip", log, self.filter],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return [line.strip() for line in result.stdout.splitlines() if line.strip()]

    def make_failures(self, d):
        """Two failures from 127.0.0.1 (one with a forged-looking name), one from ::1, then a
        good login: three refusals in the log, none of them naming 198.51.100.1."""
        failed_login(d.port, "127.0.0.1", "demo")
        failed_login(d.port, "127.0.0.1", FORGED_USER)
        failed_login(d.port, "::1", "nosuch")
        d.ftp().quit()

    def assert_three_bans(self, addresses, lines):
        self.assertEqual(addresses, ["127.0.0.1", "127.0.0.1", "::1"], "\n".join(lines))

    def test_text_lines_on_stderr(self):
        with Daemon() as d:
            self.make_failures(d)
            self.assertTrue(d.wait_log("login accepted for user 'demo'"))
            lines = d.log().splitlines()
        self.assertEqual(sum("login refused" in line for line in lines), 3, lines)
        self.assert_three_bans(self.banned_addresses(lines), lines)

    def test_json_lines(self):
        with Daemon(config={"log_format": "json"}) as d:
            self.make_failures(d)
            self.assertTrue(d.wait_log("login accepted for user 'demo'"))
            lines = d.log().splitlines()
        self.assertEqual(sum("login refused" in line for line in lines), 3, lines)
        self.assert_three_bans(self.banned_addresses(lines), lines)

    def test_syslog_lines_as_rsyslog_writes_them(self):
        with Daemon(start=False) as d:
            receiver = SyslogReceiver(os.path.join(d.tmp, "log.sock"))
            try:
                d.write_config(log_output="syslog", syslog_socket=receiver.path)
                d.start(listening=lambda: receiver.wait_for("listening on", timeout=0))
                self.make_failures(d)
                self.assertTrue(receiver.wait_for("login accepted for user 'demo'"))
                datagrams = [r["raw"].decode("ascii") for r in receiver.parsed()]
            finally:
                receiver.close()
        # rsyslog's file format: the priority dropped, the host name after the time stamp.
        lines = []
        for datagram in datagrams:
            match = re.match(r"<\d+>(\w{3} [ \d]\d \d\d:\d\d:\d\d) (.*)$", datagram)
            self.assertIsNotNone(match, datagram)
            lines.append("%s ftphost %s" % (match.group(1), match.group(2)))
        self.assert_three_bans(self.banned_addresses(lines), lines)

    def test_only_refusals_match(self):
        # Accepted logins, session lines and the listener's own lines name clients too.
        with Daemon() as d:
            d.ftp().quit()
            self.assertTrue(d.wait_log("session ended"))
            lines = d.log().splitlines()
        self.assertEqual(self.banned_addresses(lines), [])

    def test_jail_is_a_valid_configuration(self):
        # This system's fail2ban configuration plus ours, with our jail the only one enabled
        # (Debian's jail.d/defaults-debian.conf enables sshd, whose log may not exist here).
        config = os.path.join(self.work, "fail2ban")
        shutil.copytree(SYSTEM_CONFIG, config)
        for name in os.listdir(os.path.join(config, "jail.d")):
            os.unlink(os.path.join(config, "jail.d", name))
        shutil.copy(FILTER, os.path.join(config, "filter.d"))
        with open(JAIL) as f:
            jail = f.read()
        self.assertIn("enabled  = false", jail, "the jail is shipped disabled")
        with open(os.path.join(config, "jail.d", "wardenftpd.conf"), "w") as f:
            f.write(jail.replace("enabled  = false", "enabled  = true"))
        result = subprocess.run(["fail2ban-client", "-c", config, "-t"], capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("OK: configuration test is successful", result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
