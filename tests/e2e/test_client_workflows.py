"""Real clients through the workflows their users run: recursive downloads and mirrors, over
plain FTP and FTPS, passive and active; the whole tree must arrive byte for byte."""

import filecmp
import os
import subprocess
import unittest

import harness
from harness import Daemon, TlsDaemon


def make_tree(d):
    """A tree in the user's root: files of several sizes, nested directories, a space."""
    top = os.path.join(d.root, "tree")
    for rel, size in (("a.bin", 0), ("b.bin", 1), ("c.bin", 70000), ("sub/d.bin", 4096),
                      ("sub/deeper/e e.bin", 300000), ("sub/deeper/f.txt", 12)):
        path = os.path.join(top, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
    for dirpath, dirs, files in os.walk(top):
        for name in dirs + files:
            os.chown(os.path.join(dirpath, name), harness.DEMO_UID, harness.DEMO_GID)
    os.chown(top, harness.DEMO_UID, harness.DEMO_GID)
    return top


def same_tree(a, b):
    """True when both trees hold the same names and the same bytes."""
    comparison = filecmp.dircmp(a, b)
    if comparison.left_only or comparison.right_only or comparison.funny_files:
        return False
    _match, mismatch, errors = filecmp.cmpfiles(a, b, comparison.common_files, shallow=False)
    if mismatch or errors:
        return False
    return all(same_tree(os.path.join(a, sub), os.path.join(b, sub))
               for sub in comparison.common_dirs)


def run(args, cwd):
    result = subprocess.run(args, cwd=cwd, capture_output=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    return result


class ClientWorkflowTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    @harness.covers("wget", "plain", "passive", "active", "tree")
    def test_wget_recursive_download_passive_and_active(self):
        with Daemon() as d:
            top = make_tree(d)
            for passive in (True, False):
                with self.subTest(passive=passive):
                    out = os.path.join(d.tmp, "wget-%s" % passive)
                    os.mkdir(out)
                    args = ["wget", "-q", "-r", "-nH", "-t", "1", "-T", "20"]
                    if not passive:
                        args.append("--no-passive-ftp")
                    result = run(args + ["ftp://demo:demo@127.0.0.1:%d/tree/" % d.port], out)
                    self.assertEqual(result.returncode, 0, result.stderr)
                    self.assertTrue(same_tree(top, os.path.join(out, "tree")))

    @harness.covers("wget", "explicit-tls", "passive", "tree")
    def test_wget_recursive_download_over_explicit_ftps(self):
        with TlsDaemon() as d:
            top = make_tree(d)
            out = os.path.join(d.tmp, "wget-tls")
            os.mkdir(out)
            result = run(["wget", "-q", "-r", "-nH", "-t", "1", "-T", "20",
                          "--ca-certificate=" + d.pki["ca"],
                          "ftps://demo:demo@localhost:%d/tree/" % d.port], out)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertTrue(same_tree(top, os.path.join(out, "tree")))
            self.assertNotIn("did not resume", d.log())

    @harness.covers("lftp", "implicit-tls", "passive", "tree")
    def test_lftp_mirror_both_ways_over_implicit_ftps(self):
        port = harness.free_port()
        with TlsDaemon(config={"tls_implicit_port": str(port)}) as d:
            top = make_tree(d)
            script = ("set ssl:ca-file %s; set cmd:fail-exit yes; set net:max-retries 1; "
                      "mirror tree down; mirror -R down up; bye" % d.pki["ca"])
            result = run(["lftp", "-u", "demo,demo", "-e", script, "ftps://localhost:%d" % port],
                         d.tmp)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertTrue(same_tree(top, os.path.join(d.tmp, "down")))
            self.assertTrue(same_tree(top, os.path.join(d.root, "up")))

    @harness.covers("lftp", "explicit-tls", "active", "tree")
    def test_lftp_mirror_in_active_mode_over_explicit_ftps(self):
        with TlsDaemon() as d:
            top = make_tree(d)
            script = ("set ssl:ca-file %s; set ftp:ssl-force true; set ftp:ssl-protect-data true; "
                      "set ftp:passive-mode off; set cmd:fail-exit yes; set net:max-retries 1; "
                      "mirror tree down; bye" % d.pki["ca"])
            result = run(["lftp", "-u", "demo,demo", "-p", str(d.port), "-e", script, "localhost"],
                         d.tmp)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertTrue(same_tree(top, os.path.join(d.tmp, "down")))

    @harness.covers("curl", "plain", "passive")
    def test_curl_creates_directories_renames_and_lists_names(self):
        with Daemon() as d:
            src = os.path.join(d.tmp, "src.bin")
            with open(src, "wb") as f:
                f.write(os.urandom(5000))
            base = "ftp://demo:demo@127.0.0.1:%d/" % d.port
            for args in (["--ftp-create-dirs", "-T", src, base + "new/dir/x.bin"],
                         ["-Q", "RNFR new/dir/x.bin", "-Q", "RNTO new/y.bin", base]):
                result = run(["curl", "-sS", "--max-time", "30"] + args, d.tmp)
                self.assertEqual(result.returncode, 0, result.stderr)
            result = run(["curl", "-sS", "--max-time", "30", "-l", base + "new/"], d.tmp)
            self.assertEqual(sorted(result.stdout.split()), [b"dir", b"y.bin"])
            self.assertTrue(filecmp.cmp(src, os.path.join(d.root, "new", "y.bin"), shallow=False))


if __name__ == "__main__":
    unittest.main()
