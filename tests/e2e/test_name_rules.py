"""Name rules of the post-auth child, with real clients (curl, lftp) and a raw client for the
commands they do not send: deny_names (neither created nor opened, still listed), hide_names
(never listed, neither opened nor created), and the rules for new names (control characters, a
leading '-', length, UTF-8). Each rule shows the refusal and the allowed path beside it."""

import os
import subprocess
import unittest

import harness
from harness import Daemon, plant

RULES = {"deny_names": "*.php, .htaccess", "hide_names": ".secret*, private"}


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "30"] + list(args), capture_output=True,
                          timeout=60)


def lftp(d, script):
    return subprocess.run(
        ["lftp", "-u", "demo,demo", "-p", str(d.port), "-e",
         "set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 10; " + script + "; bye",
         "127.0.0.1"], capture_output=True, timeout=120, stdin=subprocess.DEVNULL)




class NameRulesTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    @harness.covers("curl", "plain", "passive")
    def test_denied_names_can_be_neither_uploaded_nor_downloaded_with_curl(self):
        with Daemon(config=RULES) as d:
            plant(d, ".htaccess", b"deny from all\n")
            plant(d, "page.php", b"<?php ?>")
            src = os.path.join(d.tmp, "upload.bin")
            with open(src, "wb") as f:
                f.write(b"payload")
            url = "ftp://demo:demo@127.0.0.1:%d/" % d.port
            refused = curl("-T", src, url + "shell.php")
            self.assertNotEqual(refused.returncode, 0)
            self.assertFalse(os.path.exists(os.path.join(d.root, "shell.php")))
            allowed = curl("-T", src, url + "shell.txt")
            self.assertEqual(allowed.returncode, 0, allowed.stderr)
            for name in (".htaccess", "page.php"):
                got = curl("-o", os.path.join(d.tmp, "out"), url + name)
                self.assertNotEqual(got.returncode, 0, name)
            self.assertEqual(curl(url + "hello.txt").stdout, Daemon.TEST_CONTENT)
            # Denied names are still listed (hide_names is for that).
            listing = curl("-l", url).stdout.decode()
            self.assertIn("page.php", listing)
            self.assertTrue(d.wait_log("refused by deny_names '*.php'"))

    @harness.covers("lftp", "plain", "passive")
    def test_hidden_names_are_not_listed_and_cannot_be_opened_with_lftp(self):
        with Daemon(config=RULES) as d:
            plant(d, ".secret-key", b"key")
            plant(d, "private", directory=True)
            plant(d, "private/inside.txt", b"in")
            plant(d, ".visible-dotfile", b"v")
            out = lftp(d, "cls -a")
            self.assertEqual(out.returncode, 0, out.stderr)
            names = out.stdout.decode().split()
            self.assertIn("hello.txt", names)
            self.assertIn(".visible-dotfile", names)
            self.assertNotIn(".secret-key", names)
            self.assertNotIn("private/", names + [n + "/" for n in names])
            # (lftp's `cat` with cmd:fail-exit waits forever after any failed RETR: `get` here.)
            out_file = os.path.join(d.tmp, "got")
            self.assertNotEqual(lftp(d, "get .secret-key -o " + out_file).returncode, 0)
            self.assertNotEqual(lftp(d, "get private/inside.txt -o " + out_file).returncode, 0)
            self.assertNotEqual(lftp(d, "cd private").returncode, 0)
            self.assertEqual(lftp(d, "cat .visible-dotfile").stdout, b"v")

    def test_every_path_taking_command_obeys_the_rules(self):
        with Daemon(config=RULES) as d:
            plant(d, "private", directory=True)
            plant(d, "private/inside.txt", b"in")
            plant(d, "page.php", b"<?php ?>")
            with d.raw() as c:
                c.login()
                refused = [
                    "CWD private", "SIZE private/inside.txt", "MDTM page.php", "DELE page.php",
                    "RNFR page.php", "MKD .htaccess", "MKD private/sub", "RMD private",
                    "SITE CHMOD 600 page.php", "MFMT 20200101000000 page.php", "MLST private",
                    "STAT private", "LIST private", "NLST private/*", "MLSD private",
                    "STOU private/x",
                ]
                for line in refused:
                    code, text = c.cmd(line)
                    self.assertEqual(code, 550, "%s: %s" % (line, text))
                # RNTO to a denied name: the rename is refused, the source stays.
                self.assertEqual(c.cmd("RNFR hello.txt")[0], 350)
                self.assertEqual(c.cmd("RNTO hello.php")[0], 550)
                self.assertTrue(os.path.exists(os.path.join(d.root, "hello.txt")))
                # The allowed paths beside them.
                self.assertEqual(c.cmd("MKD open")[0], 257)
                self.assertEqual(c.cmd("RNFR hello.txt")[0], 350)
                self.assertEqual(c.cmd("RNTO hello2.txt")[0], 250)
                self.assertEqual(c.cmd("SIZE hello2.txt")[0], 213)
                code, text = c.cmd("STAT /")
                self.assertEqual(code, 213, text)
                self.assertNotIn("private", text)
                self.assertIn("page.php", text)

    def test_new_names_with_control_characters_a_leading_dash_or_too_long_get_553(self):
        with Daemon(config={"upload_name_max_bytes": "20", "utf8_names_only": "yes"}) as d:
            with d.raw() as c:
                c.login()
                for name in ("-rf", "bell\x07name", "esc\x1b[2J", "x" * 21, "caf\xe9"):
                    c.send(b"MKD " + name.encode("latin-1") + b"\r\n")
                    code, text = c.reply()
                    self.assertEqual(code, 553, "%r: %s" % (name, text))
                code, text = c.cmd("MKD caf\u00e9-" + "x" * 10)
                self.assertEqual(code, 257, text)
                self.assertEqual(c.cmd("MKD rf-ok")[0], 257)
            self.assertTrue(d.wait_log("refused by upload_names_plain (a leading '-')"))
            self.assertTrue(d.wait_log("refused by utf8_names_only"))
            src = os.path.join(d.tmp, "long.bin")
            with open(src, "wb") as f:
                f.write(b"data")
            refused = curl("-T", src, "ftp://demo:demo@127.0.0.1:%d/%s" % (d.port, "y" * 21))
            self.assertNotEqual(refused.returncode, 0)
            allowed = curl("-T", src, "ftp://demo:demo@127.0.0.1:%d/%s" % (d.port, "y" * 20))
            self.assertEqual(allowed.returncode, 0, allowed.stderr)

    def test_plain_names_can_be_turned_off(self):
        with Daemon(config={"upload_names_plain": "no"}) as d:
            with d.raw() as c:
                c.login()
                self.assertEqual(c.cmd("MKD -dash")[0], 257)
                self.assertTrue(os.path.isdir(os.path.join(d.root, "-dash")))


if __name__ == "__main__":
    unittest.main()
