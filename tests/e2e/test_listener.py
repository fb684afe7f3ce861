"""The listener: configuration checking, address families, SIGTERM and SIGHUP."""

import os
import signal
import socket
import subprocess
import time
import unittest

import harness
from harness import Daemon

BAD_CONFIGS = {
    # name: (line to append, line number it lands on, expected message fragment)
    "unknown_key": ("bogus_key=1", "unknown key"),
    "bad_value": ("max_clients=abc", "max_clients"),
    "duplicate_key": ("login_fail_delay_ms=300", "login_fail_delay_ms"),
}


def _broken_config(d, which):
    """The daemon's valid config with one bad line appended; returns (text, bad line number)."""
    line, _ = BAD_CONFIGS[which]
    text = d.config_text() + line + "\n"
    return text, text.count("\n")


class ListenerTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def _check_config(self, path):
        return subprocess.run([harness.BINARY, "--check-config", path], capture_output=True,
                              timeout=30, stdin=subprocess.DEVNULL)

    def test_check_config_accepts_good_file(self):
        with Daemon(start=False) as d:
            result = self._check_config(d.config_file)
            self.assertEqual(result.returncode, 0, result)
            output = (result.stdout + result.stderr).decode()
            self.assertIn("%s: configuration OK" % d.config_file, output)

    def test_check_config_reports_file_and_line_of_errors(self):
        with Daemon(start=False) as d:
            for which, (_, fragment) in sorted(BAD_CONFIGS.items()):
                text, line_number = _broken_config(d, which)
                d.write_config(text)
                result = self._check_config(d.config_file)
                output = (result.stdout + result.stderr).decode()
                self.assertEqual(result.returncode, 1, "%s: %r" % (which, output))
                self.assertIn("%s:%d:" % (d.config_file, line_number), output, which)
                self.assertIn(fragment, output, which)
                self.assertNotIn("configuration OK", output, which)

    def test_daemon_refuses_to_start_with_broken_config(self):
        with Daemon(start=False) as d:
            for which in sorted(BAD_CONFIGS):
                text, line_number = _broken_config(d, which)
                d.write_config(text)
                try:
                    result = subprocess.run([harness.BINARY, "-c", d.config_file],
                                            capture_output=True, timeout=10,
                                            stdin=subprocess.DEVNULL)
                except subprocess.TimeoutExpired:
                    self.fail("daemon started (kept running) with a broken config (%s)" % which)
                self.assertEqual(result.returncode, 1, which)
                self.assertIn("%s:%d:" % (d.config_file, line_number), result.stderr.decode(),
                              which)
                with self.assertRaises(OSError, msg="port open with a broken config"):
                    socket.create_connection(("127.0.0.1", d.port), timeout=2).close()

    def test_listens_on_ipv4_and_ipv6(self):
        with Daemon() as d:
            for host in ("127.0.0.1", "::1"):
                with d.raw(host=host) as c:
                    c.login()
                    code, data = harness.pasv_retr(c, Daemon.TEST_FILE)
                    self.assertEqual((code, data), (226, Daemon.TEST_CONTENT), host)
                    self.assertEqual(c.cmd("QUIT")[0], 221)
            self.assertIn("127.0.0.1:%d" % d.port, d.log())
            self.assertIn("[::1]:%d" % d.port, d.log())

    def test_sigterm_with_open_session_exits_0_and_ends_session(self):
        with Daemon() as d:
            idle = d.raw()
            busy = d.raw()
            try:
                busy.login()
                monitors = [d.monitor_pid_for(c.local_port()) for c in (idle, busy)]
                session_pids = [p["pid"] for p in harness.descendants(d.pid)]
                self.assertGreaterEqual(len(session_pids), 4, session_pids)
                d.stop()  # asserts exit status 0 within 10 s
                for c in (idle, busy):
                    self.assertTrue(c.wait_closed(5), "session connection left open")
                gone = lambda: not any(harness.pid_alive(pid) for pid in session_pids)
                self.assertTrue(harness.wait_until(gone, 5),
                                "session processes survive the listener: %r" %
                                [harness.read_stat(pid) for pid in session_pids
                                 if harness.pid_alive(pid)])
                self.assertFalse(any(harness.pid_alive(m) for m in monitors))
                with self.assertRaises(OSError):
                    socket.create_connection(("127.0.0.1", d.port), timeout=2).close()
            finally:
                idle.close()
                busy.close()

    def test_sighup_with_broken_config_keeps_serving(self):
        with Daemon() as d:
            with d.raw() as before:
                before.login()
                original = d.config_text()
                d.write_config(original + "bogus_key=1\n")
                d.proc.send_signal(signal.SIGHUP)
                self.assertTrue(d.wait_log("bogus_key", 5),
                                "no error logged for a broken reload; log:\n" + d.log())
                error_lines = [line for line in d.log().splitlines() if "bogus_key" in line]
                self.assertTrue(any(" error " in line and d.config_file in line
                                    for line in error_lines), error_lines)
                self.assertIsNone(d.proc.poll(), "listener exited on SIGHUP")
                self.assertEqual(before.cmd("NOOP")[0], 200)
            with d.raw() as after:
                after.login()
                code, data = harness.pasv_retr(after, Daemon.TEST_FILE)
                self.assertEqual(code, 226)
            # Restore a good file so the final stop is clean either way.
            d.write_config(original)

    def test_sighup_with_good_config_applies_new_banner_to_new_sessions(self):
        with Daemon(config={"ftpd_banner": "before reload"}) as d:
            old = d.raw(greeting=False)
            try:
                code, text = old.reply()
                self.assertEqual((code, text), (220, "220 before reload"))
                d.write_config(ftpd_banner="after reload")
                d.proc.send_signal(signal.SIGHUP)
                self.assertTrue(d.wait_log("configuration reloaded", 5),
                                "no reload logged; log:\n" + d.log())
                with d.raw(greeting=False) as new:
                    self.assertEqual(new.reply(), (220, "220 after reload"))
                    new.login()
                # The session that was open during the reload keeps working.
                old.login()
                self.assertEqual(old.cmd("PWD")[0], 257)
            finally:
                old.close()


if __name__ == "__main__":
    unittest.main()
