#!/usr/bin/env python3
"""Bandwidth limits: how close the achieved rate is to the configured one, and what the feature
costs a session it does not limit. Reuses ftpbench.py's helpers (the bench user, wardenftpd's and
vsftpd's configurations, curl's timing); run as root.

Rate accuracy (wardenftpd only). For each configured rate (--rates, bytes/s; default 100 KB/s,
1 MB/s, 10 MB/s, 100 MB/s) a wardenftpd with download_rate and upload_rate at that rate; one curl
download and one curl upload of a file of rate x --seconds bytes (4 s' worth by default); the
achieved rate is the size over curl's time from the end of TYPE/EPSV (time_pretransfer) to the
end; the ratio achieved/configured and whether it is within 10%. Then the shared rates, at each
rate up to 10 MB/s: two parallel downloads of one user under user_download_rate, and two under
max_download_rate, each of (rate/2) x --seconds bytes: their bytes together over the time from
the first start to the last end, against the rate.

Unlimited (--runs rounds, the servers taking turns): one curl RETR of --size MiB (page cache
warm) from wardenftpd without any rate key ("off"), from the same binary with rates configured
for another class only (the session gets no pace: "on, not limited"), from --baseline BUILD's
wardenftpd if given (e.g. the branch's base commit), and from vsftpd if installed. Medians, with
each figure's ratio to the "off" one.

  tools/bench/ratebench.py [--build build] [--baseline OTHER_BUILD] [--report FILE]
The whole run is bounded: about 2-3 minutes with the defaults.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftpbench as fb  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOLERANCE = 0.10


def write_bytes(path, size, uid, gid):
    with open(path, "wb") as f:
        block = os.urandom(1 << 20)
        left = size
        while left > 0:
            f.write(block[:min(left, len(block))])
            left -= min(left, len(block))
    os.chown(path, uid, gid)


def curl(url, what, expected, upload=None, timeout=120):
    """(achieved bytes/s from curl's own timing, start, end) of one transfer."""
    args = ["curl", "-sS", "--max-time", str(timeout), "-o", "/dev/null",
            "-w", fb.curl_write_out(what)]
    if upload:
        args += ["-T", upload]
    started = time.monotonic()
    out = subprocess.run(args + [url], check=True, capture_output=True, text=True).stdout
    ended = time.monotonic()
    return fb.curl_rate(out, what, expected) * 1e6, started, ended


class Wardenftpd:
    """A wardenftpd of BUILD with EXTRA configuration lines, stopped on exit."""

    def __init__(self, build, env, extra, tag):
        self.build, self.env, self.extra, self.tag = build, env, extra, tag

    def __enter__(self):
        work, root, uid, gid, shadow = self.env
        self.proc, self.port, self.log = fb.start_wardenftpd(
            os.path.join(self.build, "daemon", "wardenftpd"),
            os.path.join(self.build, "tools", "wardenftpd-passwd"),
            work, root, uid, gid, shadow, tag=self.tag, extra_config=self.extra)
        return self

    def __exit__(self, *exc):
        fb.stop([("wardenftpd", self.proc, self.port, self.log)])

    def url(self, name):
        return "ftp://%s:%s@127.0.0.1:%d/%s" % (fb.BENCH_USER, fb.BENCH_PASSWORD, self.port, name)


def verdict(ratio):
    return "yes" if abs(ratio - 1) <= TOLERANCE else "NO"


def accuracy(args, env, rows):
    work, root, uid, gid, _ = env
    for rate in args.rates:
        size = int(rate * args.seconds)
        write_bytes(os.path.join(root, "rate.bin"), size, uid, gid)
        src = os.path.join(work, "rate-src.bin")
        shutil.copy(os.path.join(root, "rate.bin"), src)
        extra = "download_rate=%d\nupload_rate=%d\n" % (rate, rate)
        with Wardenftpd(args.build, env, extra, "-rate") as d:
            down, _, _ = curl(d.url("rate.bin"), "download", size)
            up, _, _ = curl(d.url("rate-up.bin"), "upload", size, upload=src)
        for what, achieved in (("RETR download_rate", down), ("STOR upload_rate", up)):
            rows.append((what, rate, size, achieved, achieved / rate))
            print("%-34s %11s  achieved %11.0f B/s  ratio %.3f  within 10%%: %s"
                  % (what, fb_rate(rate), achieved, achieved / rate, verdict(achieved / rate)),
                  flush=True)
        os.unlink(os.path.join(root, "rate-up.bin"))


def fb_rate(rate):
    for unit, scale in (("MB/s", 1e6), ("KB/s", 1e3)):
        if rate >= scale:
            return "%g %s" % (rate / scale, unit)
    return "%d B/s" % rate


def shared(args, env, rows):
    """Two parallel downloads that share one rate (a user's, or the server's)."""
    _, root, uid, gid, _ = env
    for key in ("user_download_rate", "max_download_rate"):
        for rate in [r for r in args.rates if r <= 10_000_000]:
            size = int(rate / 2 * args.seconds)
            write_bytes(os.path.join(root, "shared.bin"), size, uid, gid)
            with Wardenftpd(args.build, env, "%s=%d\n" % (key, rate), "-shared") as d:
                results = [None, None]

                def run(i):
                    results[i] = curl(d.url("shared.bin"), "download", size)

                threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(150)
            if None in results:
                raise RuntimeError("a shared download did not finish")
            wall = max(r[2] for r in results) - min(r[1] for r in results)
            achieved = 2 * size / wall
            what = "2 x RETR, " + key
            rows.append((what, rate, 2 * size, achieved, achieved / rate))
            print("%-34s %11s  achieved %11.0f B/s  ratio %.3f  within 10%%: %s"
                  % (what, fb_rate(rate), achieved, achieved / rate, verdict(achieved / rate)),
                  flush=True)


def unlimited(args, env):
    """Median RETR MB/s of each configuration, the servers taking turns in each round."""
    work, root, uid, gid, _ = env
    size = args.size << 20
    write_bytes(os.path.join(root, "bench.bin"), size, uid, gid)
    # Rates configured for a class no session here has: the feature is on, this session has no
    # limit (no pace, no clock reads).
    other_class = "[class limited]\ndownload_rate=100K\nupload_rate=100K\nuser_download_rate=1M\n"
    configs = [("wardenftpd, no rate keys (off)", args.build, ""),
               ("wardenftpd, rates for another class", args.build, other_class)]
    if args.baseline:
        configs.append(("wardenftpd of --baseline %s" % args.baseline, args.baseline, ""))
    samples = {name: [] for name, _, _ in configs}
    servers = []
    try:
        for i, (name, build, extra) in enumerate(configs):
            d = Wardenftpd(build, env, extra, "-unl%d" % i).__enter__()
            servers.append((name, d))
        v_proc, v_port, v_log = fb.start_vsftpd(work, root)
        if v_proc:
            samples["vsftpd"] = []
        for _ in range(args.runs):
            for name, d in servers:
                samples[name].append(curl(d.url("bench.bin"), "download", size)[0] / 1e6)
            if v_proc:
                url = "ftp://%s:%s@127.0.0.1:%d/bench.bin" % (fb.BENCH_USER, fb.BENCH_PASSWORD, v_port)
                samples["vsftpd"].append(curl(url, "download", size)[0] / 1e6)
    finally:
        for _, d in servers:
            d.__exit__(None, None, None)
        if servers and v_proc:
            fb.stop([("vsftpd", v_proc, v_port, v_log)])
    off = statistics.median(samples[configs[0][0]])
    result = []
    for name, values in samples.items():
        median = statistics.median(values)
        result.append((name, median, min(values), max(values), median / off))
        print("%-44s RETR %7.0f MB/s (%.0f-%.0f)  x%.2f of off"
              % (name, median, min(values), max(values), median / off), flush=True)
    return result


def report(path, args, rows, unlimited_rows, started, load):
    lines = ["# Bandwidth limits: measured", "",
             "Written by `tools/bench/ratebench.py` (%s UTC). Machine: %d CPUs, %s; load average "
             "%.1f at the start and %.1f at the end (1 min; other work on the machine makes the "
             "unlimited figures spread). Command: `%s`."
             % (started, os.cpu_count(), os.uname().release, load[0], os.getloadavg()[0],
                " ".join(["tools/bench/ratebench.py"] + sys.argv[1:])),
             "", "## Achieved rate against the configured one", "",
             "One curl transfer of %g s' worth at each rate (shared rows: two parallel downloads of "
             "half that each, their bytes over the time from the first start to the last end). "
             "Ratio: achieved / configured; the target is within 10%%." % args.seconds, "",
             "| transfer | configured | bytes | achieved (B/s) | ratio | within 10% |",
             "|---|---|---|---|---|---|"]
    for what, rate, size, achieved, ratio in rows:
        lines.append("| %s | %s | %d | %.0f | %.3f | %s |" % (what, fb_rate(rate), size, achieved, ratio, verdict(ratio)))
    lines += ["", "## Unlimited sessions", "",
              "RETR of %d MiB (curl, page cache warm), median (min-max) of %d runs, the servers "
              "taking turns; ratio to wardenftpd without rate keys." % (args.size, args.runs), "",
              "| server | RETR MB/s | ratio |", "|---|---|---|"]
    for name, median, low, high, ratio in unlimited_rows:
        lines.append("| %s | %.0f (%.0f-%.0f) | %.2f |" % (name, median, low, high, ratio))
    lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(TOP, "build"))
    parser.add_argument("--baseline", default=None, help="another wardenftpd build directory "
                        "(e.g. the branch's base) for the unlimited comparison")
    parser.add_argument("--rates", default="100000,1000000,10000000,100000000",
                        help="configured rates, bytes/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=4.0,
                        help="each limited transfer's length at its rate")
    parser.add_argument("--size", type=int, default=512, help="MiB of the unlimited RETR")
    parser.add_argument("--runs", type=int, default=3, help="rounds of the unlimited RETR")
    parser.add_argument("--report", default=None, metavar="FILE")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("ratebench: run as root")
    args.rates = [int(x) for x in args.rates.split(",") if x]
    if args.seconds <= 0 or args.seconds > 30 or any(r < 1000 or r > 1 << 40 for r in args.rates):
        sys.exit("ratebench: --seconds from 0 to 30, rates from 1000 to 2^40")
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    load = os.getloadavg()
    work = tempfile.mkdtemp(prefix="wftpd-ratebench-")
    os.chmod(work, 0o755)
    root = os.path.join(work, "root")
    os.makedirs(root)
    try:
        uid, gid, shadow = fb.ensure_system_user(root)
        os.chown(root, uid, gid)
        env = (work, root, uid, gid, shadow)
        rows = []
        accuracy(args, env, rows)
        shared(args, env, rows)
        unlimited_rows = unlimited(args, env)
        if args.report:
            report(args.report, args, rows, unlimited_rows, started, load)
        failed = [r for r in rows if verdict(r[4]) != "yes"]
        print("%d of %d rates within 10%%" % (len(rows) - len(failed), len(rows)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
