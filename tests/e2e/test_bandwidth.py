"""Bandwidth limits with real clients (curl, lftp) and a raw client for ABOR: download_rate and
upload_rate per session, a class with a limit beside one without, user_download_rate shared by a
user's parallel sessions, max_download_rate over all sessions, ABOR during a limited transfer,
and a limited download over TLS (PROT P) and in ASCII mode. Each test shows the limit and the
allowed path beside it.

These are not accuracy measurements (tools/bench/ratebench.py measures that): the bounds are
generous on purpose. A limited transfer must take at least about 3/4 of the time its limit
allows (a limit that is not applied finishes a 1 MiB file on loopback in well under a second);
an unlimited one must finish far faster than the limited one. Every wait is bounded."""

import os
import re
import socket
import subprocess
import threading
import time
import unittest

import harness
from harness import Daemon, TlsDaemon

MIB = 1024 * 1024
RATE = "256K"          # 1 MiB at 256 KiB/s: 4 s
LIMITED_FLOOR = 3.0    # seconds a limited 1 MiB transfer takes at least (4 s less a step)
UNLIMITED_CEILING = 2.0  # an unlimited 1 MiB transfer on loopback takes milliseconds


def plant(root, name, content, uid=harness.DEMO_UID):
    path = os.path.join(root, name)
    with open(path, "wb") as f:
        f.write(content)
    os.chown(path, uid, uid)
    return path


def timed(args, timeout=120):
    started = time.monotonic()
    result = subprocess.run(args, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return result, time.monotonic() - started


def curl(*args):
    return timed(["curl", "-sS", "--max-time", "60"] + list(args))


def add_class_user(d, name, class_name):
    """A virtual user of `class_name` (the users file's class field); returns its root."""
    root = os.path.join(d.tmp, "home-" + name)
    os.makedirs(root)
    uid = d.next_uid
    d.next_uid += 1
    os.chown(root, uid, uid)
    result = subprocess.run([harness.PASSWD, "-f", d.users_file, "add", name, "--uid", str(uid),
                             "--gid", str(uid), "--root", root, "--class", class_name],
                            input=b"pw\n", capture_output=True, timeout=30)
    if result.returncode != 0:
        raise AssertionError("wardenftpd-passwd: %r" % result.stderr)
    return root, uid


def two_users(config):
    """A Daemon with users demo and other, each with big.bin (1 MiB) in its root; returns the
    daemon (not started yet: enter it), the payload and a function that makes a curl command
    downloading big.bin as "user:password"."""
    payload = os.urandom(MIB)
    d = Daemon(config=config, users=(("demo", "demo"), ("other", "other")))

    def command(who):
        return ["curl", "-sS", "--max-time", "60",
                "ftp://%s@127.0.0.1:%d/big.bin" % (who, d.port)]

    def plant_files():
        plant(d.root, "big.bin", payload)
        plant(os.path.join(d.tmp, "home-other"), "big.bin", payload, uid=harness.DEMO_UID + 1)

    return d, payload, command, plant_files


def parallel(commands):
    """Runs the commands at once; returns [(result, seconds)] and the wall time of all."""
    results = [None] * len(commands)

    def run(i):
        results[i] = timed(commands[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(commands))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(150)
    return results, time.monotonic() - started


class BandwidthTest(unittest.TestCase):
    def setUp(self):
        harness.require_root(self)

    @harness.covers("curl", "plain", "passive")
    def test_download_rate_slows_a_curl_download_and_uploads_stay_fast(self):
        payload = os.urandom(MIB)
        with Daemon(config={"download_rate": RATE}) as d:
            plant(d.root, "big.bin", payload)
            url = "ftp://demo:demo@127.0.0.1:%d/" % d.port
            got, seconds = curl(url + "big.bin")
            self.assertEqual(got.returncode, 0, got.stderr)
            self.assertEqual(got.stdout, payload)
            self.assertGreater(seconds, LIMITED_FLOOR)
            # The limit is per direction: an upload of the same size is not slowed.
            src = plant(d.tmp, "up.bin", payload, uid=0)
            put, put_seconds = curl("-T", src, url + "up.bin")
            self.assertEqual(put.returncode, 0, put.stderr)
            self.assertLess(put_seconds, UNLIMITED_CEILING)
            with open(os.path.join(d.root, "up.bin"), "rb") as f:
                self.assertEqual(f.read(), payload)

    @harness.covers("lftp", "plain", "passive")
    def test_upload_rate_slows_an_lftp_upload_and_downloads_stay_fast(self):
        payload = os.urandom(MIB)
        with Daemon(config={"upload_rate": RATE}) as d:
            src = plant(d.tmp, "up.bin", payload, uid=0)
            plant(d.root, "big.bin", payload)
            base = ["lftp", "-u", "demo,demo", "-p", str(d.port), "-e"]
            settings = "set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 20; "
            put, seconds = timed(base + [settings + "put %s -o up.bin; bye" % src, "127.0.0.1"])
            self.assertEqual(put.returncode, 0, put.stderr)
            self.assertGreater(seconds, LIMITED_FLOOR)
            with open(os.path.join(d.root, "up.bin"), "rb") as f:
                self.assertEqual(f.read(), payload)
            out = os.path.join(d.tmp, "down.bin")
            get, get_seconds = timed(base + [settings + "get big.bin -o %s; bye" % out, "127.0.0.1"])
            self.assertEqual(get.returncode, 0, get.stderr)
            self.assertLess(get_seconds, UNLIMITED_CEILING)
            with open(out, "rb") as f:
                self.assertEqual(f.read(), payload)

    @harness.covers("curl", "plain", "passive")
    def test_a_class_with_a_limit_is_slow_and_the_default_class_is_not(self):
        payload = os.urandom(MIB)
        with Daemon(start=False) as d:
            slow_root, slow_uid = add_class_user(d, "slow", "slow")
            plant(slow_root, "big.bin", payload, uid=slow_uid)
            plant(d.root, "big.bin", payload)
            d.write_config(d.config_text() + "[class slow]\ndownload_rate=%s\n" % RATE)
            d.start()
            (fast, fast_seconds), = [curl("ftp://demo:demo@127.0.0.1:%d/big.bin" % d.port)]
            self.assertEqual(fast.returncode, 0, fast.stderr)
            self.assertEqual(fast.stdout, payload)
            self.assertLess(fast_seconds, UNLIMITED_CEILING)
            slow, slow_seconds = curl("ftp://slow:pw@127.0.0.1:%d/big.bin" % d.port)
            self.assertEqual(slow.returncode, 0, slow.stderr)
            self.assertEqual(slow.stdout, payload)
            self.assertGreater(slow_seconds, LIMITED_FLOOR)
            self.assertTrue(d.wait_log("class slow"))

    @harness.covers("curl", "plain", "passive")
    def test_a_users_parallel_sessions_share_the_user_rate(self):
        # 512 KiB/s for all of demo's downloads: two 1 MiB downloads at once need 4 s together
        # (each alone could go at 512 KiB/s and take 2 s). Another user with the same limit is
        # not held back by demo's transfers.
        daemon, payload, cmd, plant_files = two_users({"user_download_rate": "512K"})
        with daemon as d:
            plant_files()
            results, wall = parallel([cmd("demo:demo"), cmd("demo:demo"), cmd("other:other")])
            for result, _ in results:
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.stdout, payload)
            demo_seconds = max(results[0][1], results[1][1])
            # Together at most 1.33 times the user's rate (2 MiB in 3 s), whatever the order.
            self.assertGreater(demo_seconds, 3.0)
            # The other user's one download has its whole rate: 2 s, and clearly less than
            # demo's pair (generous: a loaded machine only makes both slower).
            self.assertGreater(results[2][1], 1.4)
            self.assertLess(results[2][1], demo_seconds)
            self.assertLess(wall, 60)

    @harness.covers("curl", "plain", "passive")
    def test_max_download_rate_caps_all_sessions_together(self):
        daemon, payload, cmd, plant_files = two_users({"max_download_rate": "512K"})
        with daemon:
            plant_files()
            results, _ = parallel([cmd("demo:demo"), cmd("other:other")])
            for result, _ in results:
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.stdout, payload)
            pair_seconds = max(seconds for _, seconds in results)
            self.assertGreater(pair_seconds, 3.0)
            # Alone, a session has the whole cap: 2 s, clearly less than the pair's 4 s
            # (generous: a loaded machine only makes both slower).
            alone, seconds = timed(cmd("demo:demo"))
            self.assertEqual(alone.stdout, payload)
            self.assertGreater(seconds, 1.4)
            self.assertLess(seconds, pair_seconds)

    def test_abor_during_a_rate_limited_download_is_answered_promptly(self):
        # 64 KiB/s for 4 MiB: a minute; ABOR must end it within a few seconds, and a pause of
        # the limit must not count as a stall (data_timeout=2 is far shorter than the transfer).
        with Daemon(config={"download_rate": "64K", "data_timeout": "2"}) as d:
            plant(d.root, "big.bin", os.urandom(4 * MIB))
            with d.raw() as c:
                c.login()
                self.assertEqual(c.cmd("TYPE I")[0], 200)
                code, text = c.cmd("EPSV")
                self.assertEqual(code, 229, text)
                port = int(re.search(r"\(\|\|\|(\d+)\|\)", text).group(1))
                with socket.create_connection(("127.0.0.1", port), timeout=10) as data:
                    c.send("RETR big.bin\r\n")
                    self.assertEqual(c.reply()[0], 150)
                    received = 0
                    deadline = time.monotonic() + 30
                    # Read for 3 s (past data_timeout): the transfer goes on at its pace.
                    until = time.monotonic() + 3
                    while time.monotonic() < until and time.monotonic() < deadline:
                        chunk = data.recv(65536)
                        self.assertTrue(chunk, "the transfer ended early")
                        received += len(chunk)
                    self.assertGreater(received, 64 * 1024)
                    self.assertLess(received, 1 * MIB)
                    started = time.monotonic()
                    c.send("ABOR\r\n")
                    first = c.reply()
                    second = c.reply()
                    self.assertLess(time.monotonic() - started, 3.0)
                    self.assertEqual((first[0], second[0]), (426, 226), (first, second))
                # The session goes on: the next command is answered.
                self.assertEqual(c.cmd("NOOP")[0], 200)

    @harness.covers("curl", "explicit-tls", "passive")
    def test_a_tls_download_is_limited_too_in_binary_and_ascii(self):
        payload = os.urandom(MIB)
        text = b"".join(b"line %06d of a text file\n" % i for i in range(40000))  # ~1 MiB
        with TlsDaemon(config={"download_rate": RATE}) as d:
            plant(d.root, "big.bin", payload)
            plant(d.root, "big.txt", text)
            common = ["--ssl-reqd", "--cacert", d.pki["ca"], "--user", "demo:demo"]
            base = "ftp://127.0.0.1:%d/" % d.port
            got, seconds = curl(*common, base + "big.bin")
            self.assertEqual(got.returncode, 0, got.stderr)
            self.assertEqual(got.stdout, payload)
            self.assertGreater(seconds, LIMITED_FLOOR)
            # TYPE A: the limit counts the bytes sent, line ends as CRLF (~1.04 MiB here).
            got, seconds = curl(*common, "--use-ascii", base + "big.txt")
            self.assertEqual(got.returncode, 0, got.stderr)
            self.assertEqual(got.stdout.replace(b"\r\n", b"\n"), text)
            self.assertGreater(seconds, LIMITED_FLOOR)
            # The listing is not a file transfer and is not limited.
            listing, list_seconds = curl(*common, base)
            self.assertEqual(listing.returncode, 0, listing.stderr)
            self.assertLess(list_seconds, UNLIMITED_CEILING)


if __name__ == "__main__":
    unittest.main()
