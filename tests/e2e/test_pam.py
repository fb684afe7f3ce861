"""System users through PAM: a test user made with useradd, a test PAM service (pam_unix auth
and account) in /etc/pam.d, both removed again after every test."""

import os
import secrets
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import Daemon

SHIPPED_PAM_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "pam", "wardenftpd")

GENERIC_REFUSAL = "530"
# CAP_DAC_OVERRIDE (1), CAP_DAC_READ_SEARCH (2), CAP_AUDIT_WRITE (29): all the helper keeps.
HELPER_CAPS = (1 << 1) | (1 << 2) | (1 << 29)


def run(args, input_text=None):
    result = subprocess.run(args, input=input_text, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError("%s failed (%d): %s %s" % (args, result.returncode, result.stdout,
                                                         result.stderr))
    return result.stdout


class PamTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)
        if not os.access(harness.PAM_HELPER, os.X_OK):
            self.fail("PAM helper not found: %s (set WFTPD_PAM_HELPER)" % harness.PAM_HELPER)
        tag = secrets.token_hex(4)
        self.user = "wpam" + tag
        self.password = "Pw-" + secrets.token_hex(8)
        self.service = "wardenftpd-test-" + tag
        self.service_file = os.path.join("/etc/pam.d", self.service)
        self.extra_users = []
        self.addCleanup(self._remove_everything)
        self.home_parent = tempfile.mkdtemp(prefix="wftpd-pam-", dir="/tmp")
        os.chmod(self.home_parent, 0o755)
        self.home = os.path.join(self.home_parent, self.user)
        # -U: a group of the same name (its primary group); no skeleton files.
        run(["useradd", "-M", "-U", "-d", self.home, "-s", "/bin/sh", self.user])
        run(["chpasswd"], "%s:%s\n" % (self.user, self.password))
        entry = run(["getent", "passwd", self.user]).strip().split(":")
        self.uid, self.gid = int(entry[2]), int(entry[3])
        os.mkdir(self.home, 0o755)
        with open(os.path.join(self.home, "mine.txt"), "wb") as f:
            f.write(b"system user file\n")
        os.chown(os.path.join(self.home, "mine.txt"), self.uid, self.gid)
        os.chown(self.home, self.uid, self.gid)
        with open(self.service_file, "w") as f:
            f.write("auth required pam_unix.so\naccount required pam_unix.so\n")

    def _remove_everything(self):
        errors = []
        for name in [self.user] + self.extra_users:
            # -f: also when a process of that uid exists (the uid-0 alias shares root's).
            result = subprocess.run(["userdel", "-f", name], capture_output=True, text=True,
                                    timeout=60)
            if result.returncode not in (0, 6):  # 6: no such user (setUp failed early)
                errors.append("userdel %s: %s" % (name, result.stderr))
        subprocess.run(["groupdel", self.user], capture_output=True, timeout=60)
        if os.path.exists(self.service_file):
            os.unlink(self.service_file)
        shutil.rmtree(self.home_parent, ignore_errors=True)
        if errors:
            raise AssertionError("; ".join(errors))

    def daemon(self, **config):
        values = {"pam_enable": "yes", "pam_service": self.service,
                  "pam_helper": harness.PAM_HELPER}
        values.update(config)
        return Daemon(config=values)

    def refused(self, d, user, password):
        """Log in as user; assert the generic refusal; return its text."""
        with d.raw() as c:
            code, _ = c.cmd("USER " + user)
            self.assertEqual(code, 331)
            code, text = c.cmd("PASS " + password)
            self.assertEqual(str(code), GENERIC_REFUSAL, text)
            return text

    def assert_log_says(self, d, *needles):
        self.assertTrue(d.wait_log(needles[0]), "log lacks %r:\n%s" % (needles[0], d.log()))
        for needle in needles[1:]:
            self.assertIn(needle, d.log())

    def test_system_user_logs_in_as_itself_confined_to_its_home(self):
        with self.daemon() as d, d.raw() as c:
            monitor = d.monitor_pid_for(c.local_port())
            c.login(self.user, self.password)
            self.assertEqual(c.cmd("PWD")[0], 257)
            code, data = harness.pasv_retr(c, "mine.txt")
            self.assertEqual((code, data), (226, b"system user file\n"))
            postauth = d.session_child(monitor, "wftpd:postauth")
            st = harness.proc_status(postauth)
            self.assertEqual(harness.status_ids(st, "Uid"), [self.uid] * 4)
            self.assertEqual(harness.status_ids(st, "Gid"), [self.gid] * 4)
            self.assertEqual(st.get("Groups", ""), "")
            self.assertEqual(harness.status_hex(st, "CapEff"), 0)
            self.assertEqual(st["Seccomp"], "2")
            self.assertEqual(harness.proc_root(postauth), self.home)
            self.assert_log_says(d, "login accepted for user '%s' (PAM)" % self.user)
            self.assertNotIn(self.password, d.log())

    def test_a_pam_user_gets_its_class_from_an_override_or_default_class(self):
        # A PAM user has no users-file line: its class comes from a [user NAME] section (or a
        # user_config_dir file), else default_class.
        with Daemon(start=False) as d:
            d.write_config(sections="[class browse]\npermissions=read,list\n"
                                    "[class keepers]\npermissions=read\n"
                                    "[user %s]\nclass=keepers\n" % self.user,
                           pam_enable="yes", pam_service=self.service,
                           pam_helper=harness.PAM_HELPER, default_class="browse")
            d.start()
            with d.raw() as c:
                c.login(self.user, self.password)
                self.assertEqual(c.cmd("LIST")[0], 550)
                self.assertEqual(harness.pasv_retr(c, "mine.txt"), (226, b"system user file\n"))
            self.assert_log_says(d, "login accepted for user '%s' (PAM), class keepers" % self.user)
            # demo (virtual, no class) gets default_class: it may list, not write.
            with d.raw() as c:
                c.login()
                self.assertEqual(c.cmd("LIST")[0], 425)
                self.assertEqual(c.cmd("DELE hello.txt")[0], 550)
            self.assert_log_says(d, "login accepted for user 'demo' (virtual), class browse")

    def test_helper_is_short_lived_and_holds_only_its_channel(self):
        with self.daemon() as d, d.raw() as c:
            monitor = d.monitor_pid_for(c.local_port())
            # Before any login reaches PAM, nothing has been exec'd: the waiting child is a fork
            # of the monitor.
            waiting = d.session_child(monitor, "wftpd:pam-wait")
            self.assertEqual(os.readlink("/proc/%d/exe" % waiting),
                             os.readlink("/proc/%d/exe" % monitor))
            self.assertEqual(c.cmd("USER " + self.user)[0], 331)
            self.assertEqual(c.cmd("PASS wrong-" + self.password)[0], 530)
            helper = d.session_child(monitor, "wftpd:pam")
            self.assertEqual(helper, waiting, "the waiting child itself execs the helper")
            self.assertEqual(os.readlink("/proc/%d/exe" % helper),
                             os.path.realpath(harness.PAM_HELPER))
            st = harness.proc_status(helper)
            self.assertEqual(harness.status_ids(st, "Uid"), [0] * 4)
            for cap in ("CapEff", "CapPrm", "CapBnd"):
                self.assertEqual(harness.status_hex(st, cap), HELPER_CAPS, "%s=%s" % (cap, st[cap]))
            self.assertEqual(harness.status_hex(st, "CapAmb"), 0)
            self.assertEqual(st["NoNewPrivs"], "1")
            fds = harness.proc_fds(helper)
            self.assertEqual(sorted(fds), [0, 1, 2, 3], fds)
            for fd in (0, 1, 2):
                self.assertEqual(fds[fd], "/dev/null")
            self.assertTrue(fds[3].startswith("socket:"), fds)
            # A successful login ends the pre-auth phase, and the helper with it.
            c.login(self.user, self.password)
            self.assertEqual(c.cmd("NOOP")[0], 200)
            self.assertTrue(harness.wait_until(lambda: not os.path.exists("/proc/%d" % helper), 5),
                            "helper %d outlived the pre-auth phase" % helper)
            self.assertEqual([p["comm"] for p in harness.children(monitor)], ["wftpd:postauth"])
            self.assertEqual(harness.zombies_among_descendants(monitor), [])

    def test_session_without_pam_login_never_execs_the_helper(self):
        with self.daemon() as d, d.raw() as c:
            monitor = d.monitor_pid_for(c.local_port())
            waiting = d.session_child(monitor, "wftpd:pam-wait")
            c.login()  # the virtual user demo
            self.assertTrue(harness.wait_until(lambda: not harness.pid_alive(waiting), 5))
            self.assert_log_says(d, "login accepted for user 'demo' (virtual)")
            self.assertNotIn("PAM helper", d.log())
            self.assertEqual([p["comm"] for p in harness.children(monitor)], ["wftpd:postauth"])

    def test_virtual_user_of_the_same_name_comes_first(self):
        with self.daemon() as d:
            d.add_user(self.user, "virtual-" + self.password)
            self.refused(d, self.user, self.password)
            self.assert_log_says(d, "login refused for user '%s': wrong password" % self.user)
            with d.raw() as c:
                c.login(self.user, "virtual-" + self.password)
            self.assert_log_says(d, "login accepted for user '%s' (virtual)" % self.user)

    def test_wrong_password_gets_the_generic_refusal_and_the_log_the_reason(self):
        with self.daemon() as d:
            wrong = self.refused(d, self.user, "not-" + self.password)
            unknown = self.refused(d, "wpamnosuchuser", "whatever")
            self.assertEqual(wrong, unknown, "the reply tells a known user from an unknown one")
            self.assert_log_says(d, "login refused for user '%s': PAM authentication failed"
                                 % self.user)
            self.assertIn("login refused for user 'wpamnosuchuser': PAM authentication failed",
                          d.log())
            self.assertNotIn("not-" + self.password, d.log())

    def test_expired_account_is_refused_by_the_account_check(self):
        run(["chage", "-E", "0", self.user])
        with self.daemon() as d:
            text = self.refused(d, self.user, self.password)
            self.assertEqual(text, self.refused(d, self.user, "not-" + self.password))
            self.assert_log_says(d, "login refused for user '%s': PAM account check failed"
                                 % self.user, "expired")

    def test_user_deny_refuses_the_right_password(self):
        with self.daemon(user_deny="somebody," + self.user) as d:
            self.refused(d, self.user, self.password)
            self.assert_log_says(d, "login refused for user '%s': in user_deny" % self.user)

    def test_user_allow_admits_only_its_names(self):
        with self.daemon(user_allow="demo") as d:
            self.refused(d, self.user, self.password)
            self.assert_log_says(d, "login refused for user '%s': not in user_allow" % self.user)
            with d.raw() as c:
                c.login()

    def test_group_deny_refuses_members(self):
        with self.daemon(group_deny=self.user) as d:
            self.refused(d, self.user, self.password)
            self.assert_log_says(d, "login refused for user '%s': group %d is in group_deny"
                                 % (self.user, self.gid))

    def test_group_allow_admits_members_only(self):
        with self.daemon(group_allow=self.user) as d:
            with d.raw() as c:
                c.login(self.user, self.password)
            # The virtual user demo (gid 20001) is in no allowed group.
            self.refused(d, "demo", "demo")
            self.assert_log_says(d, "login refused for user 'demo': in no group of group_allow")

    def test_supplementary_group_counts_for_group_deny(self):
        extra = "wpamg" + secrets.token_hex(3)
        run(["groupadd", extra])
        self.addCleanup(subprocess.run, ["groupdel", extra], capture_output=True, timeout=60)
        run(["usermod", "-a", "-G", extra, self.user])
        with self.daemon(group_deny=extra) as d:
            self.refused(d, self.user, self.password)
            self.assert_log_says(d, "is in group_deny")

    def test_root_never_logs_in(self):
        # A second uid-0 account with a known password: even the right password does not do.
        alias = "wpamr" + secrets.token_hex(3)
        run(["useradd", "-o", "-u", "0", "-g", "0", "-M", "-d", "/nonexistent", "-s", "/bin/sh",
             alias])
        self.extra_users.append(alias)
        alias_password = "Pw-" + secrets.token_hex(8)
        run(["chpasswd"], "%s:%s\n" % (alias, alias_password))
        with self.daemon() as d:
            self.refused(d, "root", "whatever")
            self.refused(d, alias, alias_password)
            self.assert_log_says(d, "login refused for user 'root': uid 0 may never log in",
                                 "login refused for user '%s': uid 0 may never log in" % alias)
            self.assertNotIn("login accepted", d.log())

    def test_shipped_pam_file_admits_login_shells_only(self):
        # The pam.d file the project installs, under this test's service name.
        shutil.copy(SHIPPED_PAM_FILE, self.service_file)
        with self.daemon() as d:
            with d.raw() as c:
                c.login(self.user, self.password)
            run(["usermod", "-s", "/usr/sbin/nologin", self.user])
            self.refused(d, self.user, self.password)
            self.assert_log_says(d, "login refused for user '%s': PAM authentication failed"
                                 % self.user)

    def test_helper_that_gives_no_verdict_means_refusal(self):
        # /bin/true exits at once without answering: a refusal with the reason in the log, and
        # the session goes on (the next attempt fails the same way, no crash, no login).
        with self.daemon(pam_helper="/bin/true") as d, d.raw() as c:
            monitor = d.monitor_pid_for(c.local_port())
            for _ in range(2):
                self.assertEqual(c.cmd("USER " + self.user)[0], 331)
                self.assertEqual(c.cmd("PASS " + self.password)[0], 530)
            self.assert_log_says(d, "PAM helper failed: no valid verdict from the PAM helper",
                                 "PAM helper failed: the PAM helper is not running")
            self.assertNotIn("login accepted", d.log())
            self.assertEqual(harness.zombies_among_descendants(monitor), [])

    def test_check_config_refuses_a_helper_others_can_write(self):
        with self.daemon() as d:
            d.stop()
            ok = subprocess.run([harness.BINARY, "--check-config", d.config_file],
                                capture_output=True, text=True, timeout=30)
            self.assertEqual(ok.returncode, 0, ok.stderr)
            copy = os.path.join(d.tmp, "helper")
            shutil.copy(harness.PAM_HELPER, copy)
            os.chmod(copy, 0o777)
            d.write_config(pam_helper=copy)
            bad = subprocess.run([harness.BINARY, "--check-config", d.config_file],
                                 capture_output=True, text=True, timeout=30)
            self.assertNotEqual(bad.returncode, 0)
            self.assertIn("not writable by group or others", bad.stderr)
            d.write_config(pam_service="wardenftpd-no-such-service")
            bad = subprocess.run([harness.BINARY, "--check-config", d.config_file],
                                 capture_output=True, text=True, timeout=30)
            self.assertNotEqual(bad.returncode, 0)
            self.assertIn("/etc/pam.d/wardenftpd-no-such-service", bad.stderr)


if __name__ == "__main__":
    unittest.main()
