"""Password hashes stay in the session monitor: a memory scan of every process a client can
reach (the pre-auth child, the standby child, the post-auth child, the TLS relay, the PAM
waiting child and the PAM helper) finds no virtual user's hash, whole or its digest; the same
scan finds them all in the monitor before login (so it can find them), and none in the monitor
once the login phase is over, nor in the listener that checked the file."""

import os
import secrets
import signal
import unittest

import harness
from harness import Daemon, TlsDaemon

# Two hash methods, and two users of one method (each hash has its own salt and digest).
USERS = (("alice", "Alice-pw-" + secrets.token_hex(6), "yescrypt"),
         ("bob", "Bob-pw-" + secrets.token_hex(6), "sha512"),
         ("carol", "Carol-pw-" + secrets.token_hex(6), "yescrypt"))


class CredentialIsolationTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def needles(self, d):
        hashes = harness.users_file_hashes(d.users_file)
        self.assertEqual(sorted(hashes), sorted(u[0] for u in USERS))
        self.assertTrue(hashes["alice"].startswith("$y$") and hashes["bob"].startswith("$6$"),
                        hashes)
        return harness.hash_needles(hashes)

    def assert_holds_no_hash(self, pid, what, needles, control):
        """No needle in pid's memory; `control`, bytes the process is known to hold, must be
        found, or the scan proves nothing (an unreadable process would look clean)."""
        found = harness.memory_contains(pid, list(needles) + [control])
        self.assertIn(control, found, "%s (pid %d): the scan did not find %r, which it holds"
                      % (what, pid, control))
        holders = sorted({needles[n] for n in found if n in needles})
        self.assertEqual(holders, [], "%s (pid %d) holds the password hash of %s"
                         % (what, pid, ", ".join(holders)))

    def assert_monitor_holds_every_hash(self, monitor, needles):
        # The monitor reads the users file after forking its children, so right after the
        # greeting it may not have yet.
        complete = lambda: harness.memory_contains(monitor, list(needles)) == set(needles)
        self.assertTrue(harness.wait_until(complete),
                        "positive control: the scan does not find every hash in the monitor")

    def test_preauth_and_standby_children_hold_no_hash_before_user(self):
        with Daemon(users=USERS) as d, d.raw() as c:
            needles = self.needles(d)
            control = d.users_file.encode()  # in the configuration every child inherits
            monitor = d.monitor_pid_for(c.local_port())
            self.assert_monitor_holds_every_hash(monitor, needles)
            preauth = d.session_child(monitor, "wftpd:preauth")
            standby = d.session_child(monitor, "wftpd:standby")
            self.assert_holds_no_hash(preauth, "pre-auth child before USER", needles, control)
            self.assert_holds_no_hash(standby, "standby child", needles, control)
            # ... nor after a failed login, which the monitor checked against a real hash.
            self.assertEqual(c.cmd("USER alice")[0], 331)
            self.assertEqual(c.cmd("PASS wrong")[0], 530)
            self.assert_holds_no_hash(preauth, "pre-auth child after a failed PASS", needles,
                                      control)
            self.assert_holds_no_hash(standby, "standby child after a failed PASS", needles,
                                      control)

    def test_postauth_child_holds_no_hash_and_monitor_forgets_them_after_login(self):
        with Daemon(users=USERS) as d, d.raw() as c:
            needles = self.needles(d)
            monitor = d.monitor_pid_for(c.local_port())
            self.assert_monitor_holds_every_hash(monitor, needles)
            c.login("alice", USERS[0][1])
            self.assertEqual(c.cmd("PWD")[0], 257)
            postauth = d.session_child(monitor, "wftpd:postauth")
            # Not the other users' hashes, and not alice's own either.
            self.assert_holds_no_hash(postauth, "alice's post-auth child", needles,
                                      d.users_file.encode())
            # The login phase is over: the monitor wiped every hash it had loaded.
            self.assert_holds_no_hash(monitor, "the monitor after login", needles,
                                      d.users_file.encode())

    def test_tls_relay_and_postauth_child_hold_no_hash(self):
        with TlsDaemon(users=USERS) as d:
            needles = self.needles(d)
            ftp = d.ftps(user="bob", password=USERS[1][1])
            try:
                self.assertEqual(ftp.nlst(), [d.TEST_FILE])
                monitor = d.monitor_pid_for(ftp.sock.getsockname()[1])
                relay = d.session_child(monitor, "wftpd:preauth")
                postauth = d.session_child(monitor, "wftpd:postauth")
                control = d.users_file.encode()
                self.assert_holds_no_hash(relay, "the TLS relay (pre-auth child) after login",
                                          needles, control)
                self.assert_holds_no_hash(postauth, "bob's post-auth child (TLS)", needles,
                                          control)
                self.assert_holds_no_hash(monitor, "the monitor after login", needles, control)
            finally:
                ftp.close()

    def pam_config(self):
        """pam_enable with a PAM service of this test's own that refuses everyone (removed
        after the test)."""
        if not os.access(harness.PAM_HELPER, os.X_OK):
            self.fail("PAM helper not found: %s (set WFTPD_PAM_HELPER)" % harness.PAM_HELPER)
        service = "wardenftpd-test-" + secrets.token_hex(4)
        service_file = os.path.join("/etc/pam.d", service)
        with open(service_file, "w") as f:
            f.write("auth required pam_deny.so\naccount required pam_deny.so\n")
        self.addCleanup(os.unlink, service_file)
        return {"pam_enable": "yes", "pam_service": service, "pam_helper": harness.PAM_HELPER}

    def test_pam_waiting_child_and_pam_helper_hold_no_virtual_users_hash(self):
        with Daemon(config=self.pam_config(), users=USERS) as d, d.raw() as c:
            needles = self.needles(d)
            monitor = d.monitor_pid_for(c.local_port())
            self.assert_monitor_holds_every_hash(monitor, needles)
            waiting = d.session_child(monitor, "wftpd:pam-wait")
            self.assert_holds_no_hash(waiting, "the PAM waiting child", needles,
                                      d.users_file.encode())
            # A name that is no virtual user goes to PAM: the waiting child execs the helper,
            # which stays for the rest of the login phase.
            ghost = "ghost" + secrets.token_hex(4)
            self.assertEqual(c.cmd("USER " + ghost)[0], 331)
            self.assertEqual(c.cmd("PASS whatever")[0], 530)
            helper = d.session_child(monitor, "wftpd:pam")
            self.assert_holds_no_hash(helper, "the PAM helper", needles,
                                      b"wardenftpd-pam-helper")  # its argv[0]

    def test_monitor_keeps_no_copy_of_a_password_the_client_typed(self):
        # Long enough to live on the heap wherever it is copied (short strings are stored
        # inside the string object).
        typed = {"alice": "Typed-" + secrets.token_hex(12),    # checked against alice's hash
                 "ghost" + secrets.token_hex(4): "Typed-" + secrets.token_hex(12)}  # PAM
        with Daemon(config=self.pam_config(), users=USERS) as d, d.raw() as c:
            monitor = d.monitor_pid_for(c.local_port())
            for user, password in typed.items():
                self.assertEqual(c.cmd("USER " + user)[0], 331)
                self.assertEqual(c.cmd("PASS " + password)[0], 530)
            passwords = {p.encode() for p in typed.values()}
            # The monitor wipes the received request (after answering it: hence the wait), its
            # decoded copy, the crypt input and the request to the PAM helper. It still holds
            # the hashes (the login phase goes on): proof that the scan reads its memory.
            hashes = set(self.needles(d))
            scan = lambda: harness.memory_contains(monitor, list(passwords | hashes))
            self.assertTrue(harness.wait_until(lambda: scan() == hashes, 3),
                            "the monitor holds %d of the typed passwords (and %d of %d hash "
                            "needles)" % (len(scan() & passwords), len(scan() & hashes),
                                          len(hashes)))

    def test_listener_keeps_no_hash_of_the_users_file_it_checked(self):
        with Daemon(users=USERS) as d:
            needles = self.needles(d)
            control = d.users_file.encode()
            # It read the file at start (validate_config), and again at a reload.
            self.assert_holds_no_hash(d.pid, "the listener after start", needles, control)
            d.proc.send_signal(signal.SIGHUP)
            self.assertTrue(d.wait_log("configuration reloaded"), d.log())
            self.assert_holds_no_hash(d.pid, "the listener after a reload", needles, control)


if __name__ == "__main__":
    unittest.main()
