"""Per-user policy with real clients (curl, lftp) and a raw client for the commands they do not
send: classes ([class NAME] sections, the users file's class field, default_class, anon_class),
per-user overrides ([user NAME] sections and user_config_dir files), permissions,
allow_networks, max_sessions_per_user, per-class umask and name rules, and
--print-config FILE USER. Each rule shows the refusal beside the allowed path."""

import os
import stat
import subprocess
import unittest

import harness
from harness import Daemon

CLASSES = """
[class readers]
permissions=read,list

[class listonly]
permissions=list

[class writers]
permissions=all
deny_names=*.exe
local_umask=077

[class office]
allow_networks=127.0.0.2/32

[class pair]
max_sessions_per_user=2
"""


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "30"] + list(args), capture_output=True,
                          timeout=60)


def lftp(d, user, script):
    return subprocess.run(
        ["lftp", "-u", "%s,%s" % (user, user), "-p", str(d.port), "-e",
         "set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 10; " + script + "; bye",
         "127.0.0.1"], capture_output=True, timeout=120, stdin=subprocess.DEVNULL)


def start_with_classes(d, extra_sections="", **config):
    d.write_config(sections=CLASSES + extra_sections, **config)
    d.start()


def upload_source(d, content=b"payload\n"):
    src = os.path.join(d.tmp, "upload.bin")
    with open(src, "wb") as f:
        f.write(content)
    return src


class UserPolicyTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    @harness.covers("lftp", "plain", "passive")
    def test_a_read_only_class_downloads_and_lists_but_cannot_write_with_lftp(self):
        with Daemon(start=False) as d:
            reader_root = d.add_user("reader", "reader", user_class="readers")
            start_with_classes(d)
            src = upload_source(d)
            refused = lftp(d, "reader", "put %s -o new.bin" % src)
            self.assertNotEqual(refused.returncode, 0)
            self.assertFalse(os.path.exists(os.path.join(reader_root, "new.bin")))
            self.assertTrue(d.wait_log("STOR refused by class 'readers': permissions lack write"))
            allowed = lftp(d, "reader", "cls; get hello.txt -o %s" % os.path.join(d.tmp, "got"))
            self.assertEqual(allowed.returncode, 0, allowed.stderr)
            self.assertIn("hello.txt", allowed.stdout.decode())
            with open(os.path.join(d.tmp, "got"), "rb") as f:
                self.assertEqual(f.read(), Daemon.TEST_CONTENT)
            # demo has no class: the default class, every permission.
            written = lftp(d, "demo", "put %s -o new.bin" % src)
            self.assertEqual(written.returncode, 0, written.stderr)
            self.assertTrue(os.path.exists(os.path.join(d.root, "new.bin")))
            self.assertTrue(d.wait_log("login accepted for user 'reader' (virtual), class readers"))

    def test_every_permission_guards_its_commands(self):
        with Daemon(start=False) as d:
            d.add_user("lister", "lister", user_class="listonly")
            d.add_user("reader", "reader", user_class="readers")
            start_with_classes(d)
            # The permission is checked before anything else the command needs: without it,
            # 550; with it, the command goes on (425 here: no data connection was prepared).
            with d.raw() as c:
                c.login("lister", "lister")
                for line in ("RETR hello.txt", "HASH hello.txt", "STOR x", "APPE x", "STOU", "DELE hello.txt",
                             "MKD d", "RMD d", "RNFR hello.txt", "SITE CHMOD 600 hello.txt",
                             "MFMT 20200101000000 hello.txt"):
                    self.assertEqual(c.cmd(line)[0], 550, line)
                self.assertEqual(c.cmd("LIST")[0], 425)
                self.assertEqual(c.cmd("MLST hello.txt")[0], 250)
            with d.raw() as c:
                c.login("reader", "reader")
                self.assertEqual(c.cmd("RETR hello.txt")[0], 425)
                self.assertEqual(c.cmd("HASH hello.txt")[0], 213)
                self.assertEqual(c.cmd("RNFR hello.txt")[0], 550)
            # demo (default class): the same commands are allowed.
            with d.raw() as c:
                c.login()
                self.assertEqual(c.cmd("RNFR hello.txt")[0], 350)
                self.assertEqual(c.cmd("RNTO renamed.txt")[0], 250)
                self.assertEqual(c.cmd("MKD d")[0], 257)
                self.assertEqual(c.cmd("RMD d")[0], 250)
            self.assertTrue(d.wait_log("refused by class 'listonly': permissions lack read"))
            self.assertTrue(d.wait_log("refused by class 'listonly': permissions lack rename"))

    @harness.covers("curl", "plain", "passive")
    def test_a_class_without_list_refuses_listings_with_curl(self):
        sections = "\n[class nolist]\npermissions=read,write\n"
        with Daemon(start=False) as d:
            d.add_user("blind", "blind", user_class="nolist")
            start_with_classes(d, sections)
            url = "ftp://blind:blind@127.0.0.1:%d/" % d.port
            self.assertNotEqual(curl("-l", url).returncode, 0)
            self.assertNotEqual(curl(url).returncode, 0)
            got = curl(url + "hello.txt")
            self.assertEqual(got.returncode, 0, got.stderr)
            self.assertEqual(got.stdout, Daemon.TEST_CONTENT)
            listed = curl("-l", "ftp://demo:demo@127.0.0.1:%d/" % d.port)
            self.assertEqual(listed.returncode, 0, listed.stderr)
            self.assertIn(b"hello.txt", listed.stdout)

    @harness.covers("curl", "plain", "passive")
    def test_allow_networks_refuses_logins_from_elsewhere(self):
        with Daemon(start=False) as d:
            d.add_user("officer", "officer", user_class="office")
            start_with_classes(d, listen_address="127.0.0.1")
            url = "ftp://officer:officer@127.0.0.1:%d/hello.txt" % d.port
            refused = curl("--interface", "127.0.0.1", url)
            self.assertNotEqual(refused.returncode, 0)
            self.assertTrue(d.wait_log(
                "login refused for user 'officer': class 'office' allow_networks does not include "
                "127.0.0.1"))
            allowed = curl("--interface", "127.0.0.2", url)
            self.assertEqual(allowed.returncode, 0, allowed.stderr)
            self.assertEqual(allowed.stdout, Daemon.TEST_CONTENT)

    @harness.covers("curl", "plain", "passive")
    def test_max_sessions_per_user_counts_logged_in_sessions_across_the_server(self):
        with Daemon(start=False) as d:
            d.add_user("twice", "twice", user_class="pair")
            d.add_user("other", "other", user_class="pair")
            # One failed login would ban this address: the limit's refusal must not count.
            start_with_classes(d, ban_after_failures="1", ban_exempt="")
            url = "ftp://%s:%s@127.0.0.1:%d/hello.txt"
            first = d.ftp(user="twice", password="twice")
            second = d.ftp(user="twice", password="twice")
            try:
                third = curl(url % ("twice", "twice", d.port))
                self.assertEqual(third.returncode, 67, third.stderr)  # curl: login denied
                self.assertIn(b"530", third.stderr)
                self.assertTrue(d.wait_log("max_sessions_per_user (2) reached"))
                # wardenftpd-ctl who names each session's class.
                rows = [r for r in d.ctl("who", json_output=True) if r["user"] == "twice"]
                self.assertEqual([r["class"] for r in rows], ["pair", "pair"])
                # Another user of the class has places of its own.
                other = curl(url % ("other", "other", d.port))
                self.assertEqual(other.stdout, Daemon.TEST_CONTENT, other.stderr)
                # A place is free again once a session has ended.
                first.quit()
                first = None
                self.assertTrue(harness.wait_until(
                    lambda: curl(url % ("twice", "twice", d.port)).stdout == Daemon.TEST_CONTENT,
                    timeout=10))
            finally:
                for client in (first, second):
                    if client is not None:
                        client.close()
            # A right password refused by the limit is no failed guess: it bans nobody.
            self.assertNotIn("banning", d.log())
            # The monitor waited for the listener's answer inside its filter (it once read it
            # with read(2), which the filter does not allow, and was killed).
            self.assertNotIn("seccomp", d.log())

    @harness.covers("curl", "plain", "passive")
    def test_class_umask_and_name_rules_apply_to_its_users_only_with_curl(self):
        with Daemon(start=False) as d:
            writer_root = d.add_user("writer", "writer", user_class="writers")
            start_with_classes(d)
            src = upload_source(d)
            base = "ftp://%s:%s@127.0.0.1:%d/"
            writer = base % ("writer", "writer", d.port)
            demo = base % ("demo", "demo", d.port)
            self.assertNotEqual(curl("-T", src, writer + "tool.exe").returncode, 0)
            self.assertFalse(os.path.exists(os.path.join(writer_root, "tool.exe")))
            self.assertEqual(curl("-T", src, writer + "notes.txt").returncode, 0)
            self.assertEqual(curl("-T", src, demo + "tool.exe").returncode, 0)
            self.assertEqual(curl("-T", src, demo + "notes.txt").returncode, 0)
            mode = stat.S_IMODE(os.stat(os.path.join(writer_root, "notes.txt")).st_mode)
            self.assertEqual(mode, 0o600)
            # The class's umask is a floor SITE UMASK cannot lower; it can add bits.
            with d.raw() as c:
                c.login("writer", "writer")
                code, text = c.cmd("SITE UMASK 022")
                self.assertEqual(code, 200)
                self.assertIn("UMASK set to 0077", text)
                code, text = c.cmd("SITE UMASK 277")
                self.assertIn("UMASK set to 0277", text)
            mode = stat.S_IMODE(os.stat(os.path.join(d.root, "notes.txt")).st_mode)
            self.assertEqual(mode, 0o644)

    @harness.covers("lftp", "plain", "passive")
    def test_user_config_dir_overrides_one_user_and_reload_rereads_it(self):
        with Daemon(start=False) as d:
            overrides = os.path.join(d.tmp, "users.d")
            os.mkdir(overrides, 0o755)
            with open(os.path.join(overrides, "demo"), "w") as f:
                f.write("# demo may read only\nclass=readers\n")
            with open(os.path.join(overrides, ".demo.swp"), "w") as f:
                f.write("not read: a dot file\n")
            start_with_classes(d, user_config_dir=overrides)
            src = upload_source(d)
            self.assertNotEqual(lftp(d, "demo", "put %s -o new.bin" % src).returncode, 0)
            self.assertTrue(d.wait_log("refused by class 'readers'"))
            printed = subprocess.run([harness.BINARY, "--print-config", d.config_file, "demo"],
                                     capture_output=True, text=True, timeout=30)
            self.assertEqual(printed.returncode, 0, printed.stderr)
            self.assertIn("# class readers (from %s/demo)" % overrides, printed.stdout)
            self.assertIn("\npermissions=read,list\n", printed.stdout)
            # The file changes: a reload takes it for new sessions.
            with open(os.path.join(overrides, "demo"), "w") as f:
                f.write("permissions=all\nlocal_umask=027\n")
            self.assertEqual(d.ctl("reload").returncode, 0)
            written = lftp(d, "demo", "put %s -o new.bin" % src)
            self.assertEqual(written.returncode, 0, written.stderr)
            mode = stat.S_IMODE(os.stat(os.path.join(d.root, "new.bin")).st_mode)
            self.assertEqual(mode, 0o640)

    def test_bad_overrides_and_undefined_classes_refuse_the_configuration(self):
        with Daemon(start=False) as d:
            overrides = os.path.join(d.tmp, "users.d")
            os.mkdir(overrides, 0o755)
            d.write_config(sections=CLASSES, user_config_dir=overrides)

            def check():
                return subprocess.run([harness.BINARY, "--check-config", d.config_file],
                                      capture_output=True, text=True, timeout=30)
            ok = check()
            self.assertEqual(ok.returncode, 0, ok.stderr)
            self.assertIn("configuration OK (5 classes, 0 user overrides)", ok.stdout)
            cases = [
                ("demo", "listen_port=21\n", "demo:1: key 'listen_port' cannot be set for one user"),
                ("demo", "class=nosuch\n", "class 'nosuch' is not defined"),
                ("demo", "permissions=read,fly\n", "'fly' is not a permission"),
                ("bad name", "permissions=read\n", "the name is not a user name"),
            ]
            for name, text, message in cases:
                path = os.path.join(overrides, name)
                with open(path, "w") as f:
                    f.write(text)
                refused = check()
                self.assertEqual(refused.returncode, 1, name)
                self.assertIn(message, refused.stderr)
                os.unlink(path)
            # Writable by others: refused whatever it says.
            path = os.path.join(overrides, "demo")
            with open(path, "w") as f:
                f.write("permissions=read\n")
            os.chmod(path, 0o666)
            self.assertIn("not writable by group or others", check().stderr)
            os.unlink(path)
            # The users file names a class no section defines.
            d.add_user("ghost", "ghost", user_class="nosuch")
            refused = check()
            self.assertEqual(refused.returncode, 1)
            self.assertIn("user 'ghost' has class 'nosuch'", refused.stderr)
            # A server key inside a class, and a class named twice.
            for sections, message in (("[class x]\nlisten_port=21\n", "cannot be set in a class"),
                                      ("[class x]\n[class x]\n", "class 'x' defined twice")):
                d.write_config(sections=sections)
                refused = check()
                self.assertEqual(refused.returncode, 1)
                self.assertIn(message, refused.stderr)

    @harness.covers("curl", "plain", "passive")
    def test_anonymous_sessions_get_anon_class(self):
        anon_root = None
        with Daemon(start=False) as d:
            anon_root = os.path.join(d.tmp, "anon")
            os.mkdir(anon_root, 0o755)
            with open(os.path.join(anon_root, "pub.txt"), "wb") as f:
                f.write(b"public\n")
            d.write_config(sections=CLASSES + "\n[class anonymous-read]\npermissions=read\n",
                           anonymous_enable="yes", anon_user="nobody", anon_root=anon_root,
                           anon_class="anonymous-read")
            d.start()
            url = "ftp://anonymous:guest@127.0.0.1:%d/" % d.port
            got = curl(url + "pub.txt")
            self.assertEqual(got.returncode, 0, got.stderr)
            self.assertEqual(got.stdout, b"public\n")
            self.assertNotEqual(curl("-l", url).returncode, 0)
            self.assertTrue(d.wait_log("anonymous login, class anonymous-read"))
            self.assertTrue(d.wait_log("refused by class 'anonymous-read': permissions lack list"))
            printed = subprocess.run([harness.BINARY, "--print-config", d.config_file, "ftp"],
                                     capture_output=True, text=True, timeout=30)
            self.assertIn("# user ftp: anonymous\n# class anonymous-read (from anon_class)",
                          printed.stdout, printed.stderr)
            # demo keeps listing.
            self.assertEqual(curl("-l", "ftp://demo:demo@127.0.0.1:%d/" % d.port).returncode, 0)


if __name__ == "__main__":
    unittest.main()
