"""Sandbox of the live session processes: monitor M, pre-auth child P, post-auth child U."""

import os
import shutil
import signal
import socket
import tempfile
import unittest

import harness
from harness import Daemon

O_PATH = 0o10000000


def _fd_flags(pid, fd):
    with open("/proc/%d/fdinfo/%d" % (pid, fd)) as f:
        for line in f:
            if line.startswith("flags:"):
                return int(line.split()[1], 8)
    return None


class SandboxLiveTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def _assert_unprivileged(self, pid, uid, gid, root, listener_pid, what):
        st = harness.proc_status(pid)
        self.assertEqual(harness.status_ids(st, "Uid"), [uid] * 4, what + " Uid")
        self.assertEqual(harness.status_ids(st, "Gid"), [gid] * 4, what + " Gid")
        self.assertEqual(st.get("Groups", ""), "", what + " supplementary groups")
        for cap in ("CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"):
            self.assertEqual(harness.status_hex(st, cap), 0, "%s %s=%s" % (what, cap, st[cap]))
        self.assertEqual(st["NoNewPrivs"], "1", what + " NoNewPrivs")
        self.assertEqual(st["Seccomp"], "2", what + " Seccomp")
        self.assertEqual(harness.proc_root(pid), root, what + " root")
        self.assertNotEqual(harness.netns(pid), harness.netns(listener_pid),
                            what + " shares the listener's network namespace")

    def _assert_monitor(self, pid, d):
        # The pre-auth child can greet and answer before the monitor has finished its start-up
        # (users file, TLS key) and confined itself; it does so before it reads any request.
        harness.wait_until(lambda: harness.proc_status(pid)["NoNewPrivs"] == "1", 5)
        st = harness.proc_status(pid)
        self.assertEqual(st["Name"], "wftpd:monitor")
        self.assertEqual(harness.status_ids(st, "Uid"), [0] * 4, "monitor Uid")
        self.assertEqual(harness.status_hex(st, "CapEff"), harness.CAP_KILL_MASK,
                         "monitor CapEff=" + st["CapEff"])
        self.assertEqual(harness.status_hex(st, "CapPrm") & ~harness.CAP_KILL_MASK, 0,
                         "monitor CapPrm=" + st["CapPrm"])
        self.assertEqual(harness.status_hex(st, "CapBnd") & ~harness.CAP_KILL_MASK, 0,
                         "monitor CapBnd=" + st["CapBnd"])
        self.assertEqual(harness.status_hex(st, "CapAmb"), 0, "monitor CapAmb")
        self.assertEqual(st["NoNewPrivs"], "1", "monitor NoNewPrivs")
        self.assertEqual(st["Seccomp"], "2", "monitor Seccomp")
        self.assertEqual(harness.proc_root(pid), d.empty_dir, "monitor root")
        self.assertEqual(harness.netns(pid), harness.netns(d.pid),
                         "monitor must stay in the listener's network namespace")
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
        self.assertIn(b"--session", argv)

    def _socket_inode(self, sock):
        return "socket:[%d]" % os.fstat(sock.fileno()).st_ino

    def test_preauth_session_processes_are_sandboxed(self):
        with Daemon() as d, d.raw() as c:
            monitor = d.monitor_pid_for(c.local_port())
            self.assertEqual(harness.read_stat(monitor)[2], d.pid, "monitor's parent")
            preauth = d.session_child(monitor, "wftpd:preauth")
            # P must have finished setting up its sandbox: it answers commands.
            self.assertEqual(c.cmd("NOOP")[0], 200)
            self._assert_monitor(monitor, d)
            self._assert_unprivileged(preauth, harness.NOBODY_UID, harness.NOBODY_UID,
                                      d.empty_dir, d.pid, "pre-auth child")
            # P: 0-2 /dev/null, 3 the control socket, 4 the monitor socketpair, nothing else.
            fds = harness.proc_fds(preauth)
            self.assertEqual(sorted(fds), [0, 1, 2, 3, 4], fds)
            for fd in (0, 1, 2):
                self.assertEqual(fds[fd], "/dev/null", "P fd %d -> %s" % (fd, fds[fd]))
            self.assertTrue(fds[3].startswith("socket:"), fds)
            self.assertTrue(fds[4].startswith("socket:"), fds)
            # fd 3 is the very TCP connection of this client: the monitor's fds include the
            # same socket inode; fd 4 is an AF_UNIX SOCK_SEQPACKET socket.
            unix_fd = harness.pidfd_getfd(preauth, 4)
            s = socket.socket(fileno=unix_fd)
            try:
                self.assertEqual(s.family, socket.AF_UNIX)
                self.assertEqual(s.type, socket.SOCK_SEQPACKET)
            finally:
                s.detach()
                os.close(unix_fd)
            control = socket.socket(fileno=harness.pidfd_getfd(preauth, 3))
            try:
                self.assertEqual(control.getpeername()[1], c.local_port(),
                                 "P fd 3 is not this client's control connection")
            finally:
                control.close()
            self.assertEqual(c.cmd("NOOP")[0], 200)

    def test_postauth_session_processes_are_sandboxed(self):
        with Daemon() as d, d.raw() as c:
            monitor = d.monitor_pid_for(c.local_port())
            preauth = d.session_child(monitor, "wftpd:preauth")
            c.login()
            self.assertEqual(c.cmd("PWD")[0], 257)
            postauth = d.session_child(monitor, "wftpd:postauth")
            # The pre-auth child is gone after the hand-off.
            self.assertTrue(harness.wait_until(lambda: not harness.pid_alive(preauth), 5),
                            "pre-auth child %d still alive after login" % preauth)
            self.assertEqual([p["comm"] for p in harness.children(monitor)], ["wftpd:postauth"])
            self._assert_monitor(monitor, d)
            self._assert_unprivileged(postauth, harness.DEMO_UID, harness.DEMO_GID, d.root,
                                      d.pid, "post-auth child")
            self.assertNotEqual(harness.netns(postauth), harness.netns(monitor))

    def test_postauth_child_holds_only_its_fixed_descriptors(self):
        with Daemon() as d, d.raw() as c:
            monitor = d.monitor_pid_for(c.local_port())
            c.login()
            # Do a transfer first, so any leaked data/listen socket would show up afterwards.
            code, data = harness.pasv_retr(c, Daemon.TEST_FILE)
            self.assertEqual((code, data), (226, Daemon.TEST_CONTENT))
            self.assertEqual(c.cmd("NOOP")[0], 200)
            postauth = d.session_child(monitor, "wftpd:postauth")
            fds = harness.proc_fds(postauth)
            for fd in (0, 1, 2):
                self.assertEqual(fds.get(fd), "/dev/null", "U fd %d: %r" % (fd, fds))
            self.assertTrue(fds.get(3, "").startswith("socket:"), fds)
            self.assertTrue(fds.get(4, "").startswith("socket:"), fds)
            extra = {fd: target for fd, target in fds.items() if fd > 4}
            # Apart from 0-4 the only descriptor allowed at rest is an O_PATH handle on the
            # user's own root (what openat2(RESOLVE_IN_ROOT) resolves against); anything else
            # (data sockets, listening sockets, files, the log) is a leak.
            for fd, target in extra.items():
                self.assertEqual(target, d.root, "U holds unexpected fd %d -> %s (all: %r)" %
                                 (fd, target, fds))
                flags = _fd_flags(postauth, fd)
                self.assertTrue(flags is not None and flags & O_PATH,
                                "U fd %d -> %s is not O_PATH (flags %o)" % (fd, target, flags))
            self.assertLessEqual(len(extra), 1, fds)

    def test_listener_floor_is_under_every_session_process(self):
        """The listener's deny list (policy/listener.policy) is installed once start-up is done
        and inherited by every monitor and child: one filter in the listener, two (the floor
        and the role's own) in every session process. Plain, TLS and anonymous sessions and a
        SIGHUP reload (configuration, certificate and key re-read) still work under it."""
        anon_root = tempfile.mkdtemp(prefix="wftpd-floor-anon-", dir="/tmp")
        os.chmod(anon_root, 0o755)
        with open(os.path.join(anon_root, "pub.txt"), "w") as f:
            f.write("public\n")
        anon_uid = harness.DEMO_UID + 98
        config = {"anonymous_enable": "yes", "anon_root": anon_root,
                  "anon_user": "%d:%d" % (anon_uid, anon_uid)}
        try:
            with harness.TlsDaemon(config=config) as d:
                st = harness.proc_status(d.pid)
                self.assertEqual(st["Seccomp"], "2", "listener Seccomp")
                self.assertEqual(st["Seccomp_filters"], "1", "listener Seccomp_filters")
                # SECURITY.md: the listener does not set no_new_privs (it is root with every
                # capability; its descendants set it themselves before their own filters).
                self.assertEqual(st["NoNewPrivs"], "0", "listener NoNewPrivs")

                def assert_stacked(pid, what):
                    # The greeting comes from the pre-auth child, which may answer before the
                    # monitor has finished its start-up (users file, TLS key) and confined
                    # itself; it does so before it reads a single request from its children.
                    harness.wait_until(lambda: harness.proc_status(pid)["Seccomp_filters"] == "2", 5)
                    child = harness.proc_status(pid)
                    self.assertEqual(child["Seccomp"], "2", what)
                    self.assertEqual(child["Seccomp_filters"], "2",
                                     what + ": the floor and its own filter")

                with d.raw() as plain:
                    monitor = d.monitor_pid_for(plain.local_port())
                    assert_stacked(monitor, "monitor")
                    assert_stacked(d.session_child(monitor, "wftpd:preauth"), "pre-auth child")
                    self.assertEqual(plain.cmd("NOOP")[0], 200)
                ftps = d.ftps()
                try:
                    monitor = d.monitor_pid_for(ftps.sock.getsockname()[1])
                    assert_stacked(d.session_child(monitor, "wftpd:preauth"), "TLS relay")
                    assert_stacked(d.session_child(monitor, "wftpd:postauth"), "TLS post-auth")
                    lines = []
                    ftps.retrlines("LIST", lines.append)
                    self.assertTrue(any(Daemon.TEST_FILE in line for line in lines), lines)
                    chunks = []
                    ftps.retrbinary("RETR " + Daemon.TEST_FILE, chunks.append)
                    self.assertEqual(b"".join(chunks), Daemon.TEST_CONTENT)
                finally:
                    ftps.close()
                anonymous = d.ftp(user="anonymous", password="guest@")
                try:
                    monitor = d.monitor_pid_for(anonymous.sock.getsockname()[1])
                    assert_stacked(d.session_child(monitor, "wftpd:postauth"), "anonymous")
                    self.assertEqual(anonymous.nlst(), ["pub.txt"])
                finally:
                    anonymous.close()
                # A reload re-reads the configuration, certificate and key under the floor.
                d.proc.send_signal(signal.SIGHUP)
                d.wait_log("configuration reloaded")
                ftps = d.ftps()
                try:
                    self.assertEqual(ftps.voidcmd("NOOP")[:3], "200")
                finally:
                    ftps.close()
                self.assertNotIn("stopped by its seccomp filter", d.log())
                self.assertNotIn("SIGSYS", d.log())
        finally:
            shutil.rmtree(anon_root, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
