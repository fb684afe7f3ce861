#!/usr/bin/env python3
"""Soak test (not a CI test): many concurrent logged-in sessions plus a stream of hostile
connections against one wardenftpd on loopback, for a bounded time. Reports failed honest
operations, peak memory of the daemon's process tree, process counts and zombies.

  tools/soak.py [--sessions 1000] [--seconds 180] [--hostile-rate 20] [--build build]

Honest sessions log in (in parallel, bounded), then each sends NOOP every few seconds and
lists its directory now and then. Hostile clients, from 127.0.0.2-127.0.0.254, send garbage,
HTTP and SMTP verbs, 1 MiB lines, half lines (slow-loris), and wrong passwords. Run as root.
"""
import argparse
import collections
import os
import random
import socket
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))


def tree_memory(root_pid):
    import harness
    procs = [root_pid] + [p["pid"] for p in harness.descendants(root_pid)]
    rss = 0
    for pid in procs:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
        except OSError:
            pass
    return len(procs), rss // 1024


class Honest:
    def __init__(self, port, deadline, stats):
        self.port, self.deadline, self.stats = port, deadline, stats

    def run(self):
        import ftplib
        try:
            ftp = ftplib.FTP(timeout=30)
            ftp.connect("127.0.0.1", self.port)
            ftp.login("demo", "demo")
            self.stats["logged_in"] += 1
        except Exception as e:
            self.stats["login_failed"] += 1
            self.stats["error:" + type(e).__name__] += 1
            return
        try:
            # Bounded: until the deadline, one operation every 2-5 s.
            while time.monotonic() < self.deadline:
                time.sleep(random.uniform(2, 5))
                if random.random() < 0.2:
                    ftp.nlst()
                else:
                    ftp.voidcmd("NOOP")
                self.stats["ops"] += 1
            ftp.quit()
        except Exception as e:
            self.stats["op_failed"] += 1
            self.stats["error:" + type(e).__name__] += 1
        finally:
            ftp.close()


def hostile_once(port, stats):
    source = "127.0.0.%d" % random.randint(2, 254)
    kind = random.choice(["garbage", "http", "smtp", "megaline", "slowloris", "wrongpass", "iac"])
    try:
        s = socket.socket()
        s.settimeout(10)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        payload = {
            "garbage": os.urandom(random.randint(1, 8192)),
            "http": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "smtp": b"EHLO evil\r\nMAIL FROM:<a@b>\r\n",
            "megaline": b"A" * (1 << 20),
            "slowloris": b"USER ",
            "wrongpass": b"USER demo\r\nPASS wrong\r\n",
            "iac": b"\xff\xf4\xff\xf2" * 1000 + b"NOOP\r\n",
        }[kind]
        try:
            s.sendall(payload)
        except OSError:
            pass
        if kind != "slowloris":
            try:
                s.recv(4096)
            except OSError:
                pass
            s.close()
        stats["hostile:" + kind] += 1
        return s if kind == "slowloris" else None
    except OSError:
        stats["hostile_refused"] += 1
        return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--hostile-rate", type=float, default=20, help="hostile connections/s")
    parser.add_argument("--build", default=os.path.join(TOP, "build"))
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("soak: run as root")
    os.environ.setdefault("WFTPD_BINARY", os.path.join(args.build, "daemon", "wardenftpd"))
    os.environ.setdefault("WFTPD_PASSWD", os.path.join(args.build, "tools", "wardenftpd-passwd"))
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one descriptor per client
    import harness
    # The honest sessions all come from 127.0.0.1, faster than connect_rate_per_ip's default:
    # no per-address limits (the hostile clients are spread over 253 other addresses).
    config = {"max_clients": str(args.sessions + 1000), "max_per_ip": "0",
              "connect_rate_per_ip": "0", "login_timeout": "20", "login_fail_delay_ms": "500"}
    stats = collections.Counter()
    with harness.Daemon(config=config) as d:
        deadline = time.monotonic() + args.seconds
        peak = (0, 0)
        threads = []
        started = time.monotonic()
        # Honest clients start over the first quarter of the run.
        for i in range(args.sessions):
            t = threading.Thread(target=Honest(d.port, deadline, stats).run, daemon=True)
            t.start()
            threads.append(t)
            time.sleep(args.seconds / 4 / max(args.sessions, 1))
        slow = []
        next_sample = time.monotonic()
        while time.monotonic() < deadline:
            sock = hostile_once(d.port, stats)
            if sock is not None:
                slow.append(sock)
            if time.monotonic() >= next_sample:
                peak = max(peak, tree_memory(d.pid), key=lambda x: x[1])
                next_sample = time.monotonic() + 2
            time.sleep(1.0 / args.hostile_rate)
        for t in threads:
            t.join(timeout=60)
        for s in slow:
            s.close()
        zombies = harness.zombies_among_descendants(d.pid)
        time.sleep(2)
        after = tree_memory(d.pid)
        log = d.log()
    print("soak: %d honest sessions, %.0f s, hostile %.0f/s" %
          (args.sessions, time.monotonic() - started, args.hostile_rate))
    for key in sorted(stats):
        print("  %-28s %d" % (key, stats[key]))
    print("  peak daemon tree: %d processes, %d MiB RSS" % peak)
    print("  after the run: %d processes, %d MiB RSS; zombies: %d" %
          (after[0], after[1], len(zombies)))
    print("  log lines: %d (SIGSYS/sandbox failures: %d)" %
          (log.count("\n"), log.count("seccomp filter")))
    failed = stats["login_failed"] + stats["op_failed"] + len(zombies) + log.count("seccomp filter")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
