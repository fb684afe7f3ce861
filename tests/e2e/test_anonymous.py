"""Anonymous FTP: read-only sessions as anon_user in anon_root, under the "anonymous" filter."""

import ftplib
import io
import os
import tempfile
import unittest

import harness
from harness import Daemon

ANON_UID = 20099
ANON_GID = 20099
CONTENT = b"public file\n"


class AnonymousDaemon(Daemon):
    """A Daemon with anonymous FTP on, serving a root-owned anon_root with one public file."""

    def __init__(self, enable=True, drop_box=False, extra_config=None):
        self.anon_dir = tempfile.mkdtemp(prefix="wftpd-anon-", dir="/tmp")
        os.chmod(self.anon_dir, 0o755)
        with open(os.path.join(self.anon_dir, "pub.txt"), "wb") as f:
            f.write(CONTENT)
        os.makedirs(os.path.join(self.anon_dir, "dir"))
        config = {"anonymous_enable": "yes" if enable else "no",
                  "anon_user": "%d:%d" % (ANON_UID, ANON_GID),
                  "anon_root": self.anon_dir}
        if drop_box:
            incoming = os.path.join(self.anon_dir, "incoming")
            os.makedirs(incoming)
            os.chown(incoming, ANON_UID, ANON_GID)
            config["anon_upload_dir"] = "/incoming"
        config.update(extra_config or {})
        super().__init__(config=config)

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            import shutil
            shutil.rmtree(self.anon_dir, ignore_errors=True)


class AnonymousTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_anonymous_login_reads_and_lists(self):
        with AnonymousDaemon() as d:
            ftp = ftplib.FTP(timeout=harness.TIMEOUT)
            ftp.connect("127.0.0.1", d.port)
            self.assertTrue(ftp.login().startswith("230"))  # anonymous / anonymous@
            chunks = []
            ftp.retrbinary("RETR pub.txt", chunks.append)
            self.assertEqual(b"".join(chunks), CONTENT)
            self.assertEqual(sorted(ftp.nlst()), ["dir", "pub.txt"])
            self.assertEqual(dict(ftp.mlsd())["pub.txt"]["perm"], "r")
            ftp.cwd("dir")
            ftp.cwd("/")
            ftp.quit()

    def test_ftp_user_name_is_anonymous_too(self):
        with AnonymousDaemon() as d:
            ftp = d.ftp(user="ftp", password="someone@example.org")
            self.assertEqual(ftp.pwd(), "/")
            ftp.quit()

    def test_every_write_command_gets_550_and_nothing_changes(self):
        with AnonymousDaemon() as d:
            before = sorted(os.listdir(d.anon_dir))
            ftp = ftplib.FTP(timeout=harness.TIMEOUT)
            ftp.connect("127.0.0.1", d.port)
            ftp.login()
            for command in ("MKD new", "XMKD new", "RMD dir", "XRMD dir", "DELE pub.txt",
                            "RNFR pub.txt", "RNTO x"):
                with self.assertRaises(ftplib.error_perm, msg=command) as ctx:
                    ftp.sendcmd(command)
                self.assertTrue(str(ctx.exception).startswith("550"), (command, str(ctx.exception)))
            for verb in ("STOR", "APPE"):
                with self.assertRaises(ftplib.error_perm) as ctx:
                    ftp.storbinary(verb + " up.txt", io.BytesIO(b"x"))
                self.assertTrue(str(ctx.exception).startswith("550"), str(ctx.exception))
            self.assertEqual(ftp.sendcmd("NOOP")[:3], "200")
            ftp.quit()
            self.assertEqual(sorted(os.listdir(d.anon_dir)), before)

    def test_anonymous_session_runs_as_anon_user_under_its_own_filter(self):
        with AnonymousDaemon() as d, d.raw() as c:
            self.assertEqual(c.cmd("USER anonymous")[0], 331)
            self.assertEqual(c.cmd("PASS guest@")[0], 230)
            monitor = d.monitor_pid_for(c.local_port())
            child = d.session_child(monitor, "wftpd:postauth")
            status = harness.proc_status(child)
            self.assertEqual(harness.status_ids(status, "Uid"), [ANON_UID] * 4)
            self.assertEqual(harness.status_ids(status, "Gid"), [ANON_GID] * 4)
            self.assertEqual(status["Seccomp"], "2")
            self.assertEqual(status["NoNewPrivs"], "1")
            self.assertEqual(harness.status_hex(status, "CapEff"), 0)
            self.assertEqual(harness.proc_root(child), d.anon_dir)
            self.assertIn("anonymous login", d.log())

    def test_drop_box_takes_new_files_but_never_lists_reads_or_overwrites(self):
        with AnonymousDaemon(drop_box=True) as d:
            ftp = ftplib.FTP(timeout=harness.TIMEOUT)
            ftp.connect("127.0.0.1", d.port)
            ftp.login()
            self.assertEqual(ftp.storbinary("STOR /incoming/report.bin", io.BytesIO(b"secret"))[:3], "226")
            with open(os.path.join(d.anon_dir, "incoming", "report.bin"), "rb") as f:
                self.assertEqual(f.read(), b"secret")
            for action in (lambda: ftp.storbinary("STOR /incoming/report.bin", io.BytesIO(b"evil")),
                           lambda: ftp.retrbinary("RETR /incoming/report.bin", lambda b: None),
                           lambda: ftp.nlst("/incoming"),
                           lambda: ftp.sendcmd("SIZE /incoming/report.bin"),
                           lambda: ftp.sendcmd("MLST /incoming/report.bin"),
                           lambda: ftp.storbinary("STOR /pub-overwrite.txt", io.BytesIO(b"x")),
                           lambda: ftp.storbinary("APPE /incoming/report.bin", io.BytesIO(b"x")),
                           lambda: ftp.sendcmd("DELE /incoming/report.bin")):
                with self.assertRaises(ftplib.error_perm):
                    action()
            with open(os.path.join(d.anon_dir, "incoming", "report.bin"), "rb") as f:
                self.assertEqual(f.read(), b"secret")
            self.assertFalse(os.path.exists(os.path.join(d.anon_dir, "pub-overwrite.txt")))
            # Reading outside the drop box still works.
            chunks = []
            ftp.retrbinary("RETR pub.txt", chunks.append)
            self.assertEqual(b"".join(chunks), CONTENT)
            ftp.quit()

    def test_drop_box_files_get_permission_bits_only(self):
        # Even with no umask at all, a drop-box upload is 0666: the filter lets the anonymous
        # session create files with permission bits only.
        with AnonymousDaemon(drop_box=True, extra_config={"local_umask": "000"}) as d:
            ftp = ftplib.FTP(timeout=harness.TIMEOUT)
            ftp.connect("127.0.0.1", d.port)
            ftp.login()
            self.assertEqual(ftp.storbinary("STOR /incoming/new.bin", io.BytesIO(b"x"))[:3], "226")
            ftp.quit()
            st = os.stat(os.path.join(d.anon_dir, "incoming", "new.bin"))
            self.assertEqual(st.st_mode & 0o7777, 0o666)
            self.assertEqual(st.st_uid, ANON_UID)

    def test_anonymous_refused_when_disabled(self):
        with AnonymousDaemon(enable=False) as d:
            ftp = ftplib.FTP(timeout=harness.TIMEOUT)
            ftp.connect("127.0.0.1", d.port)
            with self.assertRaises(ftplib.error_perm) as ctx:
                ftp.login()
            self.assertTrue(str(ctx.exception).startswith("530"))


if __name__ == "__main__":
    unittest.main()
