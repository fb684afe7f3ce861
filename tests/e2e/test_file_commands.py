"""File management commands (MKD RMD DELE RNFR/RNTO APPE REST STAT) and atomic uploads."""

import ftplib
import io
import os
import socket
import time
import unittest

import harness
from harness import Daemon


class FileCommandTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_mkd_cwd_rmd_with_quoted_257(self):
        with Daemon() as d:
            ftp = d.ftp()
            reply = ftp.sendcmd('MKD we"ird')
            self.assertEqual(reply, '257 "/we""ird" created')
            self.assertTrue(os.path.isdir(os.path.join(d.root, 'we"ird')))
            st = os.stat(os.path.join(d.root, 'we"ird'))
            self.assertEqual(st.st_uid, harness.DEMO_UID)
            self.assertEqual(ftp.sendcmd('CWD we"ird')[:3], "250")
            self.assertEqual(ftp.sendcmd("PWD"), '257 "/we""ird" is the current directory')
            ftp.cwd("..")
            self.assertEqual(ftp.sendcmd('RMD we"ird')[:3], "250")
            self.assertFalse(os.path.exists(os.path.join(d.root, 'we"ird')))
            with self.assertRaises(ftplib.error_perm) as ctx:
                ftp.sendcmd("RMD /")
            self.assertTrue(str(ctx.exception).startswith("550"))
            ftp.quit()

    def test_rmd_of_non_empty_directory_is_refused(self):
        with Daemon() as d:
            ftp = d.ftp()
            ftp.mkd("full")
            ftp.storbinary("STOR full/x", io.BytesIO(b"x"))
            with self.assertRaises(ftplib.error_perm) as ctx:
                ftp.rmd("full")
            self.assertTrue(str(ctx.exception).startswith("550"))
            self.assertTrue(os.path.exists(os.path.join(d.root, "full", "x")))
            ftp.quit()

    def test_dele_removes_a_file_and_refuses_a_directory(self):
        with Daemon() as d:
            ftp = d.ftp()
            self.assertEqual(ftp.delete(Daemon.TEST_FILE)[:3], "250")
            self.assertFalse(os.path.exists(os.path.join(d.root, Daemon.TEST_FILE)))
            ftp.mkd("dir")
            with self.assertRaises(ftplib.error_perm):
                ftp.delete("dir")
            with self.assertRaises(ftplib.error_perm):
                ftp.delete("missing")
            ftp.quit()

    def test_rnfr_rnto_renames_and_rnto_without_rnfr_is_503(self):
        with Daemon() as d:
            ftp = d.ftp()
            with self.assertRaises(ftplib.error_perm) as ctx:
                ftp.sendcmd("RNTO x")
            self.assertTrue(str(ctx.exception).startswith("503"))
            self.assertEqual(ftp.sendcmd("RNFR " + Daemon.TEST_FILE)[:3], "350")
            self.assertEqual(ftp.sendcmd("RNTO renamed.txt")[:3], "250")
            self.assertTrue(os.path.exists(os.path.join(d.root, "renamed.txt")))
            # RNTO must directly follow RNFR.
            ftp.sendcmd("RNFR renamed.txt")
            ftp.sendcmd("NOOP")
            with self.assertRaises(ftplib.error_perm) as ctx:
                ftp.sendcmd("RNTO again.txt")
            self.assertTrue(str(ctx.exception).startswith("503"))
            with self.assertRaises(ftplib.error_perm):
                ftp.sendcmd("RNFR does-not-exist")
            ftp.quit()

    def test_rename_cannot_leave_the_user_root(self):
        with Daemon() as d:
            ftp = d.ftp()
            ftp.sendcmd("RNFR " + Daemon.TEST_FILE)
            ftp.sendcmd("RNTO ../../../../escaped.txt")
            # ".." stops at the session root: the file lands in the root, not above it.
            self.assertTrue(os.path.exists(os.path.join(d.root, "escaped.txt")))
            self.assertFalse(os.path.exists(os.path.join(os.path.dirname(d.root), "escaped.txt")))
            ftp.quit()

    def test_appe_appends_and_rest_resumes_download_and_upload(self):
        with Daemon() as d:
            ftp = d.ftp()
            ftp.storbinary("STOR f.bin", io.BytesIO(b"0123456789"))
            ftp.storbinary("APPE f.bin", io.BytesIO(b"abc"))
            with open(os.path.join(d.root, "f.bin"), "rb") as f:
                self.assertEqual(f.read(), b"0123456789abc")
            chunks = []
            ftp.retrbinary("RETR f.bin", chunks.append, rest=4)
            self.assertEqual(b"".join(chunks), b"456789abc")
            ftp.storbinary("STOR f.bin", io.BytesIO(b"XY"), rest=3)
            with open(os.path.join(d.root, "f.bin"), "rb") as f:
                self.assertEqual(f.read(), b"012XY")
            with self.assertRaises(ftplib.error_perm) as ctx:
                ftp.sendcmd("REST abc")
            self.assertTrue(str(ctx.exception).startswith("501"))
            ftp.quit()

    def test_stou_creates_a_new_file_and_names_it(self):
        with Daemon() as d:
            ftp = d.ftp()
            ftp.voidcmd("TYPE I")
            conn, _ = ftp.ntransfercmd("STOU report")
            conn.sendall(b"unique data")
            conn.close()
            self.assertEqual(ftp.voidresp()[:3], "226")
            made = [n for n in os.listdir(d.root) if n.startswith("report.")]
            self.assertEqual(len(made), 1, os.listdir(d.root))
            with open(os.path.join(d.root, made[0]), "rb") as f:
                self.assertEqual(f.read(), b"unique data")
            ftp.quit()

    def test_site_chmod_never_sets_setuid_and_site_umask(self):
        with Daemon() as d:
            ftp = d.ftp()
            path = os.path.join(d.root, Daemon.TEST_FILE)
            os.chmod(path, 0o644)
            # Set-user-ID, set-group-ID and sticky bits are refused, never quietly dropped, and
            # the file keeps its mode.
            for mode in ("4755", "2755", "6777", "1755", "7777", "04644"):
                with self.assertRaises(ftplib.error_perm) as ctx:
                    ftp.sendcmd("SITE CHMOD %s %s" % (mode, Daemon.TEST_FILE))
                self.assertTrue(str(ctx.exception).startswith("550"), str(ctx.exception))
                self.assertIn("Set-user-ID", str(ctx.exception))
                self.assertEqual(os.stat(path).st_mode & 0o7777, 0o644, mode)
            self.assertEqual(ftp.sendcmd("SITE CHMOD 755 " + Daemon.TEST_FILE)[:3], "200")
            self.assertEqual(os.stat(path).st_mode & 0o7777, 0o755)
            self.assertEqual(ftp.sendcmd("SITE CHMOD 600 " + Daemon.TEST_FILE)[:3], "200")
            self.assertEqual(os.stat(os.path.join(d.root, Daemon.TEST_FILE)).st_mode & 0o7777, 0o600)
            with self.assertRaises(ftplib.error_perm) as ctx:
                ftp.sendcmd("SITE CHMOD abc " + Daemon.TEST_FILE)
            self.assertTrue(str(ctx.exception).startswith("501"))
            with self.assertRaises(ftplib.error_perm):
                ftp.sendcmd("SITE CHMOD 644 missing")
            self.assertEqual(ftp.sendcmd("SITE UMASK 077")[:3], "200")
            self.assertIn("0077", ftp.sendcmd("SITE UMASK"))
            ftp.storbinary("STOR private.bin", io.BytesIO(b"p"))
            self.assertEqual(os.stat(os.path.join(d.root, "private.bin")).st_mode & 0o777, 0o600)
            self.assertEqual(ftp.sendcmd("SITE HELP")[:3], "214")
            with self.assertRaises(ftplib.error_perm) as ctx:
                ftp.sendcmd("SITE EXEC rm -rf /")
            self.assertTrue(str(ctx.exception).startswith("504"))
            ftp.quit()

    def test_uploads_in_place_leave_no_set_id_bits(self):
        # A file made set-id outside the daemon: APPE and STOR after REST write into it, and the
        # kernel clears set-user-ID (and set-group-ID with group execute) on a write by a
        # process without CAP_FSETID, which the post-auth child never has.
        with Daemon() as d:
            ftp = d.ftp()
            for command in ("APPE", "STOR"):
                name = "setid-%s.bin" % command.lower()
                path = os.path.join(d.root, name)
                with open(path, "wb") as f:
                    f.write(b"0123456789")
                os.chown(path, harness.DEMO_UID, harness.DEMO_GID)
                os.chmod(path, 0o6755)
                if command == "STOR":
                    ftp.sendcmd("REST 5")
                ftp.storbinary("%s %s" % (command, name), io.BytesIO(b"more"))
                mode = os.stat(path).st_mode & 0o7777
                self.assertEqual(mode, 0o755, "%s left mode %o" % (command, mode))
            ftp.quit()

    def test_no_umask_setting_produces_set_id_bits(self):
        # local_umask and SITE UMASK only take permission bits away: with both at 000, new files
        # are 0666 and new directories 0777, nothing more.
        with Daemon(config={"local_umask": "000"}) as d:
            ftp = d.ftp()
            ftp.storbinary("STOR fresh.bin", io.BytesIO(b"x"))
            ftp.mkd("made")
            self.assertEqual(ftp.sendcmd("SITE UMASK 000")[:3], "200")
            conn, _ = ftp.ntransfercmd("STOU unique")
            conn.close()
            self.assertEqual(ftp.voidresp()[:3], "226")
            for mask in ("7777", "1000", "4000"):
                with self.assertRaises(ftplib.error_perm) as ctx:
                    ftp.sendcmd("SITE UMASK " + mask)
                self.assertTrue(str(ctx.exception).startswith("501"), str(ctx.exception))
            ftp.quit()
            self.assertEqual(os.stat(os.path.join(d.root, "fresh.bin")).st_mode & 0o7777, 0o666)
            self.assertEqual(os.stat(os.path.join(d.root, "made")).st_mode & 0o7777, 0o777)
            unique = [n for n in os.listdir(d.root) if n.startswith("unique")]
            self.assertEqual(len(unique), 1, os.listdir(d.root))
            self.assertEqual(os.stat(os.path.join(d.root, unique[0])).st_mode & 0o7777, 0o666)

    def test_site_chmod_and_mfmt_refuse_symlinks(self):
        # Found by fuzz_postauth_engine: both followed a final symlink with plain *at() calls,
        # confined only by the chroot. Now they refuse one and leave its target alone.
        with Daemon() as d:
            target = os.path.join(d.root, Daemon.TEST_FILE)
            os.chmod(target, 0o644)
            os.symlink(Daemon.TEST_FILE, os.path.join(d.root, "link"))
            os.symlink("/" + Daemon.TEST_FILE, os.path.join(d.root, "abs-link"))
            before = os.stat(target)
            ftp = d.ftp()
            for command in ("SITE CHMOD 600 link", "SITE CHMOD 600 abs-link",
                            "MFMT 20200102030405 link", "MFMT 20200102030405 abs-link"):
                with self.assertRaises(ftplib.error_perm) as ctx:
                    ftp.sendcmd(command)
                self.assertEqual(str(ctx.exception)[:3], "550", command)
                self.assertIn("symbolic link", str(ctx.exception), command)
            after = os.stat(target)
            self.assertEqual(after.st_mode, before.st_mode)
            self.assertEqual(after.st_mtime_ns, before.st_mtime_ns)
            ftp.quit()

    def test_nlst_and_list_expand_wildcards_in_the_last_component(self):
        with Daemon() as d:
            ftp = d.ftp()
            ftp.mkd("sub")
            for name in ("a.txt", "b.txt", "c.log", "sub/d.txt", "sub/e.bin"):
                ftp.storbinary("STOR " + name, io.BytesIO(b"x"))
            self.assertEqual(sorted(ftp.nlst("*.txt")), ["a.txt", "b.txt", Daemon.TEST_FILE])
            self.assertEqual(sorted(ftp.nlst("sub/*.txt")), ["sub/d.txt"])
            self.assertEqual(sorted(ftp.nlst("[ab].*")), ["a.txt", "b.txt"])
            lines = []
            ftp.retrlines("LIST *.log", lines.append)
            self.assertEqual(len(lines), 1)
            self.assertTrue(lines[0].endswith(" c.log"), lines)
            with self.assertRaises(ftplib.error_perm) as ctx:
                ftp.nlst("*.none")
            self.assertTrue(str(ctx.exception).startswith("550"))
            # A hostile pattern is answered at once.
            with self.assertRaises(ftplib.error_perm):
                ftp.nlst("a*a*a*a*a*a*a*a*a*a*a*a*a*a*b")
            reply = ftp.sendcmd("STAT *.txt")
            self.assertIn("a.txt", reply)
            ftp.quit()

    def test_mfmt_sets_the_modification_time(self):
        with Daemon() as d:
            ftp = d.ftp()
            reply = ftp.sendcmd("MFMT 20200102030405 " + Daemon.TEST_FILE)
            self.assertEqual(reply, "213 Modify=20200102030405; " + Daemon.TEST_FILE)
            st = os.stat(os.path.join(d.root, Daemon.TEST_FILE))
            self.assertEqual(time.strftime("%Y%m%d%H%M%S", time.gmtime(st.st_mtime)), "20200102030405")
            self.assertEqual(ftp.sendcmd("MDTM " + Daemon.TEST_FILE), "213 20200102030405")
            for bad in ("MFMT 2020 " + Daemon.TEST_FILE, "MFMT 20201340000000 " + Daemon.TEST_FILE,
                        "MFMT 20200102030405"):
                with self.assertRaises(ftplib.error_perm) as ctx:
                    ftp.sendcmd(bad)
                self.assertTrue(str(ctx.exception).startswith("501"), bad)
            self.assertIn(" MFMT", ftp.sendcmd("FEAT"))
            ftp.quit()

    def test_stat_without_and_with_path(self):
        with Daemon() as d:
            ftp = d.ftp()
            reply = ftp.sendcmd("STAT")
            self.assertTrue(reply.startswith("211-") and reply.endswith("211 End of status"), reply)
            reply = ftp.sendcmd("STAT " + Daemon.TEST_FILE)
            self.assertTrue(reply.startswith("213-"), reply)
            self.assertIn(Daemon.TEST_FILE, reply)
            ftp.quit()

    def test_interrupted_stor_keeps_the_old_file(self):
        with Daemon() as d:
            path = os.path.join(d.root, "keep.bin")
            with open(path, "wb") as f:
                f.write(b"original")
            os.chown(path, harness.DEMO_UID, harness.DEMO_GID)
            ftp = d.ftp()
            ftp.voidcmd("TYPE I")
            conn = ftp.transfercmd("STOR keep.bin")
            conn.sendall(b"partial upload " * 1000)
            # Abort the data connection with a reset: the upload did not complete.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            conn.close()
            try:
                reply = ftp.getresp()
            except ftplib.Error as error:
                reply = str(error)
            self.assertTrue(reply[:3] in ("426", "451"), reply)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), b"original")
            leftovers = [n for n in os.listdir(d.root) if n.startswith(".wftpd-upload")]
            self.assertEqual(leftovers, [])
            # A complete upload replaces the file.
            ftp.storbinary("STOR keep.bin", io.BytesIO(b"replaced"))
            with open(path, "rb") as f:
                self.assertEqual(f.read(), b"replaced")
            ftp.quit()


class MachineListingTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_mlsd_lists_facts_that_match_the_files(self):
        with Daemon() as d:
            ftp = d.ftp()
            ftp.mkd("sub")
            entries = dict(ftp.mlsd())
            facts = entries[Daemon.TEST_FILE]
            st = os.stat(os.path.join(d.root, Daemon.TEST_FILE))
            self.assertEqual(facts["type"], "file")
            self.assertEqual(int(facts["size"]), st.st_size)
            self.assertEqual(facts["modify"], time.strftime("%Y%m%d%H%M%S", time.gmtime(st.st_mtime)))
            self.assertEqual(facts["unix.mode"], "0%o" % (st.st_mode & 0o7777))
            self.assertIn("r", facts["perm"])
            self.assertEqual(entries["sub"]["type"], "dir")
            self.assertNotIn(".", entries)
            ftp.quit()

    def test_mlst_on_the_control_connection_and_opts_mlst(self):
        with Daemon() as d:
            ftp = d.ftp()
            reply = ftp.sendcmd("MLST " + Daemon.TEST_FILE)
            lines = reply.split("\n")
            self.assertTrue(lines[0].startswith("250-"), reply)
            self.assertTrue(lines[1].startswith(" type=file;"), reply)
            self.assertTrue(lines[1].endswith("; /" + Daemon.TEST_FILE), reply)
            self.assertEqual(lines[-1], "250 End")
            self.assertEqual(ftp.sendcmd("OPTS MLST type;size;"), "200 MLST OPTS type;size;")
            reply = ftp.sendcmd("MLST " + Daemon.TEST_FILE)
            self.assertIn(" type=file;size=%d; /%s" % (len(Daemon.TEST_CONTENT), Daemon.TEST_FILE), reply)
            with self.assertRaises(ftplib.error_perm):
                ftp.sendcmd("MLST no-such-file")
            self.assertIn("MLST type*;size*;modify;", ftp.sendcmd("FEAT"))
            ftp.quit()

    def test_listing_leaves_out_names_with_line_breaks(self):
        with Daemon() as d:
            evil = os.path.join(d.root, "evil\r\n226 forged")
            with open(evil, "w") as f:
                f.write("x")
            ftp = d.ftp()
            self.assertNotIn("evil", " ".join(name for name, _ in ftp.mlsd()))
            lines = []
            ftp.retrlines("LIST", lines.append)
            self.assertFalse(any("forged" in line for line in lines), lines)
            self.assertFalse(any("evil" in name for name in ftp.nlst()))
            ftp.quit()


class AbortTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def test_abor_during_retr_gets_426_then_226(self):
        with Daemon() as d:
            path = os.path.join(d.root, "large.bin")
            with open(path, "wb") as f:
                f.truncate(256 << 20)
            ftp = d.ftp()
            ftp.voidcmd("TYPE I")
            conn = ftp.transfercmd("RETR large.bin")
            conn.recv(65536)
            started = time.monotonic()
            self.assertEqual(ftp.abort()[:3], "426")
            self.assertEqual(ftp.getresp()[:3], "226")
            self.assertLess(time.monotonic() - started, 5)
            conn.close()
            self.assertEqual(ftp.sendcmd("NOOP")[:3], "200")
            ftp.quit()

    def test_abor_during_stor_discards_the_upload(self):
        with Daemon() as d:
            ftp = d.ftp()
            ftp.voidcmd("TYPE I")
            conn = ftp.transfercmd("STOR partial.bin")
            conn.sendall(b"y" * 100000)
            self.assertEqual(ftp.abort()[:3], "426")
            self.assertEqual(ftp.getresp()[:3], "226")
            conn.close()
            self.assertFalse(os.path.exists(os.path.join(d.root, "partial.bin")))
            self.assertEqual([n for n in os.listdir(d.root) if n.startswith(".wftpd-upload")], [])
            self.assertEqual(ftp.sendcmd("NOOP")[:3], "200")
            ftp.quit()

    def test_stalled_upload_ends_with_426_after_data_timeout(self):
        with Daemon(config={"data_timeout": "1"}) as d:
            ftp = d.ftp()
            ftp.voidcmd("TYPE I")
            conn = ftp.transfercmd("STOR stalled.bin")
            conn.sendall(b"z" * 1000)
            started = time.monotonic()
            with self.assertRaises(ftplib.error_temp) as ctx:
                ftp.voidresp()
            self.assertTrue(str(ctx.exception).startswith("426"), str(ctx.exception))
            self.assertLess(time.monotonic() - started, 5)
            # A stalled transfer ends the session with 421, and the monitor logs why.
            with self.assertRaises(ftplib.error_temp) as ctx:
                ftp.getresp()
            self.assertTrue(str(ctx.exception).startswith("421"), str(ctx.exception))
            conn.close()
            self.assertFalse(os.path.exists(os.path.join(d.root, "stalled.bin")))
            self.assertTrue(d.wait_log("stalled past data_timeout"), d.log())

    def test_idle_control_connection_gets_421_and_a_log_line(self):
        with Daemon(config={"idle_timeout": "1"}) as d:
            for login in (False, True):
                with d.raw() as c:
                    if login:
                        c.login()
                    started = time.monotonic()
                    code, _ = c.reply()
                    self.assertEqual(code, 421)
                    self.assertTrue(c.wait_closed(5))
                    self.assertLess(time.monotonic() - started, 5)
            self.assertTrue(d.wait_log("idle past idle_timeout", count=2), d.log())

    def test_passive_connection_never_opened_gets_425_and_a_log_line(self):
        with Daemon(config={"data_connection_timeout": "1"}) as d, d.raw() as c:
            c.login()
            self.assertEqual(c.cmd("PASV")[0], 227)
            self.assertEqual(c.cmd("RETR " + Daemon.TEST_FILE)[0], 425)
            self.assertEqual(c.cmd("NOOP")[0], 200)
            self.assertTrue(d.wait_log("data_connection_timeout"), d.log())

    def test_abor_without_transfer_gets_225(self):
        with Daemon() as d:
            ftp = d.ftp()
            self.assertEqual(ftp.sendcmd("ABOR")[:3], "225")
            ftp.quit()


if __name__ == "__main__":
    unittest.main()
