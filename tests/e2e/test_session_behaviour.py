"""Session behaviour real clients and attackers meet: the idle timer before and after login,
CLNT, and what an overwriting upload keeps of the replaced file (its mode and group)."""

import ftplib
import io
import os
import socket
import stat
import subprocess
import time
import unittest

import harness
from harness import Daemon


def read_until_closed(sock, limit=5.0):
    """Everything the server sends until it closes the connection (or `limit` passes)."""
    sock.settimeout(0.2)
    data = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            return data, True
        data += chunk
    return data, False


def trickle_until_closed(sock, limit=15.0):
    """Sends one byte every 0.4 s, never a line end, until the server closes the connection
    (or `limit` seconds pass); returns (closed, what the server sent, seconds taken)."""
    started = time.monotonic()
    data = b""
    sock.settimeout(0.4)
    while time.monotonic() - started < limit:
        try:
            sock.sendall(b"N")
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return True, data, time.monotonic() - started
        if not chunk:
            return True, data, time.monotonic() - started
        data += chunk
    return False, data, time.monotonic() - started


class PreloginIdleTest(unittest.TestCase):
    """idle_timeout applies before login too: the idle timer counts complete command lines,
    and bytes that never finish a line do not restart it; login_timeout bounds the whole
    pre-login phase."""

    CONFIG = {"idle_timeout": "2", "login_timeout": "60"}

    def test_silent_connection_is_closed_after_idle_timeout_not_login_timeout(self):
        with Daemon(config=self.CONFIG) as d:
            with socket.create_connection(("127.0.0.1", d.port), timeout=10) as s:
                started = time.monotonic()
                data, closed = read_until_closed(s, limit=15)
                elapsed = time.monotonic() - started
            self.assertTrue(closed, data)
            self.assertIn(b"421 Timeout", data)
            self.assertLess(elapsed, 10, "held %.1f s with idle_timeout=2" % elapsed)
            self.assertTrue(d.wait_log("idle past idle_timeout"), d.log())

    def test_trickled_bytes_without_a_line_end_do_not_reset_the_idle_timer(self):
        with Daemon(config=self.CONFIG) as d:
            with socket.create_connection(("127.0.0.1", d.port), timeout=10) as s:
                s.settimeout(5)
                self.assertTrue(s.recv(4096).startswith(b"220"))
                closed, data, elapsed = trickle_until_closed(s)
            self.assertTrue(closed, "still open after %.1f s of trickling: %r" % (elapsed, data))
            self.assertIn(b"421 Timeout", data)
            self.assertLess(elapsed, 10, "held %.1f s with idle_timeout=2" % elapsed)

    def test_complete_commands_keep_a_login_dialogue_alive_until_login_timeout(self):
        with Daemon(config={"idle_timeout": "2", "login_timeout": "4"}) as d:
            with d.raw() as c:
                started = time.monotonic()
                replies = []
                # A NOOP every second: never idle, but never logged in either (at most 20).
                for _ in range(20):
                    try:
                        code, _text = c.cmd("NOOP")
                    except (OSError, EOFError, AssertionError):
                        break
                    replies.append(code)
                    if code == 421:
                        break
                    time.sleep(1)
                elapsed = time.monotonic() - started
            self.assertIn(200, replies)
            self.assertGreaterEqual(elapsed, 3, replies)
            self.assertLess(elapsed, 12, replies)
            self.assertTrue(d.wait_log("login_timeout"), d.log())

    def test_trickled_bytes_after_login_do_not_reset_the_idle_timer(self):
        with Daemon(config=self.CONFIG) as d:
            with d.raw() as c:
                c.login()
                closed, data, elapsed = trickle_until_closed(c.sock)
            self.assertTrue(closed, data)
            self.assertIn(b"421 Timeout", data)
            self.assertLess(elapsed, 10)


class ClntTest(unittest.TestCase):
    """CLNT (FileZilla-style clients name themselves) gets 200, before and after login; the
    name reaches the log escaped and bounded, once per phase."""

    def test_clnt_before_and_after_login_is_accepted_and_logged_escaped(self):
        with Daemon() as d:
            with d.raw() as c:
                code, _ = c.cmd("CLNT FileZilla 3.63.1")
                self.assertEqual(code, 200)
                code, _ = c.cmd("CLNT again")
                self.assertEqual(code, 200)
                c.login()
                code, _ = c.cmd("CLNT evil\x1b[31m client")
                self.assertEqual(code, 200)
                code, _ = c.cmd("CLNT " + "x" * 600)
                self.assertEqual(code, 200)
                self.assertEqual(c.cmd("PWD")[0], 257)
            self.assertTrue(d.wait_log("client software (CLNT): 'FileZilla 3.63.1'"), d.log())
            self.assertTrue(d.wait_log("client software (CLNT): 'evil\\x1b[31m client'"), d.log())
            log = d.log()
            self.assertNotIn("again", log)
            self.assertNotIn("\x1b", log)
            self.assertNotIn("x" * 129, log)

    def test_clnt_without_a_name_is_accepted(self):
        with Daemon() as d:
            with d.raw() as c:
                self.assertEqual(c.cmd("CLNT")[0], 200)
            self.assertTrue(d.wait_log("client software (CLNT): (no name)"), d.log())

    def test_help_lists_clnt(self):
        with Daemon() as d:
            ftp = d.ftp()
            self.assertIn("CLNT", ftp.sendcmd("HELP"))
            ftp.quit()


class ReplacedFileModeTest(unittest.TestCase):
    """An atomic STOR over an existing file keeps the replaced file's permission bits (never
    set-id bits). The group: the post-auth child has no supplementary groups, so the only group
    the user may set is its own."""

    def replace_and_stat(self, d, name, mode, gid=None, client="ftplib"):
        path = os.path.join(d.root, name)
        with open(path, "wb") as f:
            f.write(b"old content\n")
        os.chown(path, harness.DEMO_UID, harness.DEMO_GID if gid is None else gid)
        os.chmod(path, mode)
        new = os.urandom(70000)
        if client == "ftplib":
            ftp = d.ftp()
            ftp.storbinary("STOR " + name, io.BytesIO(new))
            ftp.quit()
        else:
            local = os.path.join(d.tmp, "upload-" + name)
            with open(local, "wb") as f:
                f.write(new)
            subprocess.run(["curl", "-sS", "--max-time", "30", "-T", local,
                            "ftp://demo:demo@127.0.0.1:%d/%s" % (d.port, name)],
                           check=True, timeout=60)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), new)
        return os.stat(path)

    def test_overwrite_keeps_permission_bits_of_several_modes(self):
        with Daemon() as d:
            for mode in (0o600, 0o640, 0o664, 0o644, 0o400, 0o755, 0o700, 0o606):
                name = "mode-%o.bin" % mode
                st = self.replace_and_stat(d, name, mode)
                self.assertEqual(stat.S_IMODE(st.st_mode), mode, name)
                self.assertEqual(st.st_uid, harness.DEMO_UID)
            # The same through curl (another client's STOR order).
            st = self.replace_and_stat(d, "curl-0600.bin", 0o600, client="curl")
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)

    def test_overwrite_never_copies_setid_or_sticky_bits(self):
        with Daemon() as d:
            st = self.replace_and_stat(d, "setid.bin", 0o6755 | stat.S_ISVTX)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o755)

    def test_a_new_file_still_gets_the_umask_mode(self):
        with Daemon(config={"local_umask": "022"}) as d:
            ftp = d.ftp()
            ftp.storbinary("STOR fresh.bin", io.BytesIO(b"new"))
            ftp.quit()
            st = os.stat(os.path.join(d.root, "fresh.bin"))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o644)

    def test_overwrite_leaves_the_file_in_the_users_own_group(self):
        # The post-auth child has only the user's own gid: a file in another group comes back
        # in the user's group, like any overwrite by that user; one in the user's group keeps
        # it, with group write.
        with Daemon() as d:
            st = self.replace_and_stat(d, "own-group.bin", 0o660)
            self.assertEqual(st.st_gid, harness.DEMO_GID)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
            st = self.replace_and_stat(d, "other-group.bin", 0o664, gid=4242)
            self.assertEqual(st.st_gid, harness.DEMO_GID)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o664)


if __name__ == "__main__":
    unittest.main()
