"""Quotas and upload limits (issue 18): quota_bytes and quota_files per user over all their
sessions (kept by the listener in quota_dir, across restarts), max_file_size, and the anonymous
drop box's caps (anon_class: total bytes, largest file, files per client per hour), with real
clients (curl, lftp). Each rule shows the refusal and the allowed path beside it, and that a
refused upload leaves the file as it was before the command."""

import ftplib
import io
import json
import os
import subprocess
import unittest

import harness
from harness import Daemon, plant
from test_anonymous import ANON_GID, ANON_UID, AnonymousDaemon


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "30"] + list(args), capture_output=True,
                          timeout=60)


def lftp(d, script, user="demo,demo"):
    return subprocess.run(
        ["lftp", "-u", user, "-p", str(d.port), "-e",
         "set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 10; " + script + "; bye",
         "127.0.0.1"], capture_output=True, timeout=120, stdin=subprocess.DEVNULL)


def local_file(d, name, size, fill=b"u"):
    path = os.path.join(d.tmp, name)
    with open(path, "wb") as f:
        f.write((fill * size)[:size])
    return path




def usage(d, user="demo"):
    rows = d.ctl("quota", user, json_output=True)
    return rows[0]


def url(d, name="", user="demo:demo"):
    return "ftp://%s@127.0.0.1:%d/%s" % (user, d.port, name)


class QuotaTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    @harness.covers("curl", "plain", "passive")
    def test_stor_over_quota_bytes_gets_552_and_the_old_file_stays_byte_for_byte(self):
        with Daemon(config={"quota_bytes": "10K"}) as d:
            allowed = curl("-T", local_file(d, "six", 6000, b"a"), url(d, "a.bin"))
            self.assertEqual(allowed.returncode, 0, allowed.stderr)
            # A new file that would go beyond 10240 bytes: 552, nothing stored.
            refused = curl("-v", "-T", local_file(d, "six-b", 6000, b"b"), url(d, "b.bin"))
            self.assertNotEqual(refused.returncode, 0)
            self.assertIn(b"552", refused.stderr)
            self.assertFalse(os.path.exists(os.path.join(d.root, "b.bin")))
            # STOR over a.bin may use what a.bin frees: 9000 bytes fit (6000 + 4240 left).
            nine = local_file(d, "nine", 9000, b"c")
            self.assertEqual(curl("-T", nine, url(d, "a.bin")).returncode, 0)
            with open(nine, "rb") as f:
                expected = f.read()
            # 12000 bytes do not: 552, and a.bin is still the 9000 bytes, byte for byte.
            refused = curl("-v", "-T", local_file(d, "twelve", 12000, b"d"), url(d, "a.bin"))
            self.assertIn(b"552", refused.stderr)
            with open(os.path.join(d.root, "a.bin"), "rb") as f:
                self.assertEqual(f.read(), expected)
            self.assertEqual(usage(d)["bytes"], 9000)
            self.assertEqual(usage(d)["files"], 1)
            leftovers = [n for n in os.listdir(d.root) if n not in ("hello.txt", "a.bin")]
            self.assertEqual(leftovers, [])  # no temporary file left behind
            self.assertIn("wardenftpd_quota_refusals_total 2", d.ctl("metrics").stdout)

    @harness.covers("curl", "plain", "passive")
    def test_appe_over_quota_leaves_the_file_at_its_old_length(self):
        with Daemon(config={"quota_bytes": "5000"}) as d:
            self.assertEqual(curl("-T", local_file(d, "base", 3000, b"x"), url(d, "log.txt")).returncode, 0)
            # Appending 1500 fits (4500 <= 5000).
            self.assertEqual(curl("-a", "-T", local_file(d, "more", 1500, b"y"), url(d, "log.txt")).returncode, 0)
            path = os.path.join(d.root, "log.txt")
            self.assertEqual(os.path.getsize(path), 4500)
            # Appending 1000 more does not: 552, and the file is cut back to 4500 bytes.
            refused = curl("-v", "-a", "-T", local_file(d, "too-much", 1000, b"z"), url(d, "log.txt"))
            self.assertIn(b"552", refused.stderr)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), b"x" * 3000 + b"y" * 1500)
            self.assertEqual(usage(d)["bytes"], 4500)

    @harness.covers("lftp", "plain", "passive")
    def test_rest_stor_over_quota_is_cut_back_to_the_restart_offset(self):
        with Daemon(config={"quota_bytes": "8000"}) as d:
            source = local_file(d, "big", 12000, b"r")
            # The first part arrives (as if an earlier upload was cut off)...
            self.assertEqual(curl("-T", local_file(d, "part", 4000, b"r"), url(d, "big.bin")).returncode, 0)
            # ...and lftp resumes it (REST 4000, STOR): 12000 bytes would exceed 8000: 552.
            refused = lftp(d, "reput %s -o big.bin" % source)
            self.assertNotEqual(refused.returncode, 0, refused.stdout)
            self.assertIn(b"552", refused.stderr + refused.stdout)
            path = os.path.join(d.root, "big.bin")
            self.assertEqual(os.path.getsize(path), 4000)
            # A resume that fits goes through.
            fits = local_file(d, "fits", 7000, b"r")
            allowed = lftp(d, "reput %s -o big.bin" % fits)
            self.assertEqual(allowed.returncode, 0, allowed.stderr)
            self.assertEqual(os.path.getsize(path), 7000)
            self.assertEqual(usage(d)["bytes"], 7000)

    @harness.covers("curl", "plain", "passive")
    def test_quota_files_counts_new_files_and_dele_gives_them_back(self):
        with Daemon(config={"quota_files": "2"}) as d:
            small = local_file(d, "small", 10)
            for name in ("one", "two"):
                self.assertEqual(curl("-T", small, url(d, name)).returncode, 0)
            refused = curl("-v", "-T", small, url(d, "three"))
            self.assertIn(b"552", refused.stderr)
            self.assertFalse(os.path.exists(os.path.join(d.root, "three")))
            # Replacing a file creates none.
            self.assertEqual(curl("-T", local_file(d, "other", 20), url(d, "one")).returncode, 0)
            # DELE gives one back.
            self.assertEqual(curl("-Q", "DELE two", url(d)).returncode, 0)
            self.assertEqual(curl("-T", small, url(d, "three")).returncode, 0)
            row = usage(d)
            self.assertEqual((row["files"], row["quota_files"], row["bytes"]), (2, 2, 30))

    @harness.covers("curl", "plain", "passive")
    def test_max_file_size_refuses_a_bigger_upload_and_allows_a_smaller_one(self):
        with Daemon(config={"max_file_size": "4K"}) as d:
            self.assertEqual(curl("-T", local_file(d, "fits", 4096), url(d, "fits.bin")).returncode, 0)
            refused = curl("-v", "-T", local_file(d, "big", 4097), url(d, "big.bin"))
            self.assertIn(b"552", refused.stderr)
            self.assertFalse(os.path.exists(os.path.join(d.root, "big.bin")))
            self.assertEqual(os.path.getsize(os.path.join(d.root, "fits.bin")), 4096)

    @harness.covers("curl", "plain", "passive")
    def test_usage_persists_across_sessions_and_a_restart(self):
        with Daemon(config={"quota_bytes": "10000"}) as d:
            self.assertEqual(curl("-T", local_file(d, "six", 6000), url(d, "first.bin")).returncode, 0)
            d.stop()
            path = os.path.join(d.tmp, "state", "quota", "demo")
            with open(path) as f:
                text = f.read()
            self.assertIn("bytes 6000\nfiles 1\n", text)
            st = os.stat(path)
            self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o600))
            self.assertEqual(os.stat(os.path.dirname(path)).st_mode & 0o777, 0o700)
            # The log is appended to: wait for the second start's line.
            d.start(listening=lambda: d.log().count("listening on") >= 2)
            # Another session after the restart knows the 6000 bytes.
            refused = curl("-v", "-T", local_file(d, "five", 5000), url(d, "second.bin"))
            self.assertIn(b"552", refused.stderr)
            self.assertEqual(curl("-T", local_file(d, "four", 4000), url(d, "second.bin")).returncode, 0)
            self.assertEqual(usage(d)["bytes"], 10000)

    def test_a_usage_file_writable_by_others_is_not_believed(self):
        with Daemon(config={"quota_bytes": "10000"}) as d:
            directory = os.path.join(d.tmp, "state", "quota")
            os.makedirs(directory, mode=0o700, exist_ok=True)
            path = os.path.join(directory, "demo")
            with open(path, "w") as f:
                f.write("bytes 0\nfiles 0\n")
            os.chmod(path, 0o666)
            ftp = d.ftp()
            with self.assertRaises(ftplib.error_temp) as ctx:
                ftp.storbinary("STOR x.bin", io.BytesIO(b"data"))
            self.assertTrue(str(ctx.exception).startswith("451"), str(ctx.exception))
            ftp.quit()
            self.assertTrue(d.wait_log("writable only by root"))
            os.chmod(path, 0o600)
            ftp = d.ftp()
            ftp.storbinary("STOR x.bin", io.BytesIO(b"data"))
            ftp.quit()

    @harness.covers("lftp", "plain", "passive")
    def test_ctl_quota_shows_usage_and_rescan_counts_files_added_behind_the_servers_back(self):
        with Daemon(config={"quota_bytes": "1000"}) as d:
            self.assertEqual(lftp(d, "put %s -o up.bin" % local_file(d, "up", 100)).returncode, 0)
            row = usage(d)
            self.assertEqual((row["bytes"], row["files"], row["quota_bytes"]), (100, 1, 1000))
            # Files that arrive other than by upload (hello.txt was there from the start).
            plant(d, "planted-1", b"p" * 300)
            os.makedirs(os.path.join(d.root, "sub"))
            plant(d, "sub/planted-2", b"q" * 400)
            outside = os.path.join(d.tmp, "outside.bin")
            with open(outside, "wb") as f:
                f.write(b"o" * 100000)
            os.symlink(outside, os.path.join(d.root, "link-out"))  # never followed
            self.assertEqual(usage(d)["bytes"], 100)
            rows = d.ctl("quota", "--rescan", "demo", json_output=True)
            self.assertEqual(rows[0]["rescan"], "complete")
            expected = 100 + 300 + 400 + len(Daemon.TEST_CONTENT)
            self.assertEqual((rows[0]["bytes"], rows[0]["files"]), (expected, 4))
            text = d.ctl("quota", "demo").stdout
            self.assertIn(str(expected), text)
            # The recount applies: 1000 - 835 = 165 bytes are left.
            refused = lftp(d, "put %s -o more.bin" % local_file(d, "more", 200))
            self.assertIn(b"552", refused.stderr + refused.stdout)
            self.assertEqual(lftp(d, "put %s -o less.bin" % local_file(d, "less", 150)).returncode, 0)
            # Written within the pacing interval (2 s).
            path = os.path.join(d.tmp, "state", "quota", "demo")

            def saved():
                with open(path) as f:
                    return "bytes %d\n" % (expected + 150) in f.read()
            self.assertTrue(harness.wait_until(saved, 10))

    def test_rescan_walks_as_the_user(self):
        with Daemon(config={"quota_bytes": "1M"}) as d:
            # A directory only root may read: the user's walk cannot, and says so.
            private = os.path.join(d.root, "root-only")
            os.makedirs(private)
            with open(os.path.join(private, "secret.bin"), "wb") as f:
                f.write(b"s" * 5000)
            os.chmod(private, 0o700)
            rows = d.ctl("quota", "--rescan", "demo", json_output=True)
            self.assertEqual(rows[0]["rescan"], "incomplete")
            self.assertEqual((rows[0]["bytes"], rows[0]["files"]), (len(Daemon.TEST_CONTENT), 1))
            unknown = d.ctl("quota", "--rescan", "nobody-here", check=False)
            self.assertEqual(unknown.returncode, 1)
            self.assertIn("no user", unknown.stderr)

    @harness.covers("curl", "plain", "passive")
    def test_classes_give_users_their_own_limits(self):
        with Daemon(start=False) as d:
            d.add_user("small", "small", user_class="small")
            d.add_user("large", "large", user_class="large")
            d.write_config(d.config_text() + "[class small]\nquota_bytes=1000\n"
                           "[class large]\nquota_bytes=1M\nmax_file_size=3000\n")
            d.start()
            upload = local_file(d, "two-k", 2000)
            refused = curl("-v", "-T", upload, url(d, "f.bin", "small:small"))
            self.assertIn(b"552", refused.stderr)
            self.assertEqual(curl("-T", local_file(d, "half", 500), url(d, "f.bin", "small:small")).returncode, 0)
            self.assertEqual(curl("-T", upload, url(d, "f.bin", "large:large")).returncode, 0)
            refused = curl("-v", "-T", local_file(d, "four-k", 4000), url(d, "g.bin", "large:large"))
            self.assertIn(b"552", refused.stderr)
            # demo is in the default class: no limit.
            self.assertEqual(curl("-T", local_file(d, "five-k", 5000), url(d, "f.bin")).returncode, 0)
            self.assertEqual(usage(d, "small")["class"], "small")
            self.assertEqual(usage(d, "large")["bytes"], 2000)


class DropBoxDaemon(AnonymousDaemon):
    """The anonymous drop box, its sessions in the class "dropbox" with `limits`."""

    def __init__(self, limits):
        self.limits = limits
        super().__init__(drop_box=True, extra_config={"anon_class": "dropbox"})

    def config_text(self, **overrides):
        return (super().config_text(**overrides) + "[class dropbox]\npermissions=read,list,write\n" +
                self.limits)


class DropBoxTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    def daemon(self, limits):
        return DropBoxDaemon(limits)

    def incoming(self, d):
        return os.path.join(d.anon_dir, "incoming")

    @harness.covers("curl", "plain", "passive")
    def test_one_client_cannot_fill_the_drop_box_past_its_caps(self):
        d = self.daemon("quota_bytes=3000\nmax_file_size=2000\n")
        with d:
            anon = "anonymous:guest%40"
            self.assertEqual(curl("-T", local_file(d, "a", 1500), url(d, "incoming/a", anon)).returncode, 0)
            # Larger than max_file_size: 552, and the file holds nothing.
            refused = curl("-v", "-T", local_file(d, "big", 2500), url(d, "incoming/big", anon))
            self.assertIn(b"552", refused.stderr)
            self.assertEqual(os.path.getsize(os.path.join(self.incoming(d), "big")), 0)
            self.assertEqual(curl("-T", local_file(d, "b", 1500), url(d, "incoming/b", anon)).returncode, 0)
            # The drop box's total is reached: even a small file gets 552.
            refused = curl("-v", "-T", local_file(d, "c", 100), url(d, "incoming/c", anon))
            self.assertIn(b"552", refused.stderr)
            total = sum(os.path.getsize(os.path.join(self.incoming(d), n)) for n in os.listdir(self.incoming(d)))
            self.assertLessEqual(total, 3000)
            row = usage(d, "anonymous")
            self.assertEqual((row["bytes"], row["quota_bytes"]), (3000, 3000))
            # A rescan counts the drop box (not the rest of anon_root), as anon_user.
            rows = d.ctl("quota", "--rescan", "anonymous", json_output=True)
            self.assertEqual((rows[0]["bytes"], rows[0]["rescan"]), (3000, "complete"))

    @harness.covers("curl", "plain", "passive")
    def test_files_per_client_per_hour(self):
        d = self.daemon("upload_files_per_hour=2\n")
        with d:
            anon = "anonymous:guest%40"
            small = local_file(d, "s", 10)
            for name in ("one", "two"):
                self.assertEqual(curl("-T", small, url(d, "incoming/" + name, anon)).returncode, 0)
            refused = curl("-v", "-T", small, url(d, "incoming/three", anon))
            self.assertIn(b"550", refused.stderr)
            self.assertFalse(os.path.exists(os.path.join(self.incoming(d), "three")))
            # Another client address (::1 is not 127.0.0.1) has its own hour.
            other = curl("-T", small, "ftp://anonymous:guest%%40@[::1]:%d/incoming/three" % d.port)
            self.assertEqual(other.returncode, 0, other.stderr)


if __name__ == "__main__":
    unittest.main()
