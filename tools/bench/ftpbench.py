#!/usr/bin/env python3
"""Benchmark wardenftpd against vsftpd on this machine, in one run, on loopback.

Measures, for each server that is available:
  sessions/s  connect, read the 220 greeting, QUIT (no login), C concurrent clients
  logins/s    connect, USER, PASS, QUIT with the same yescrypt hash for both servers
  RETR MB/s   one curl download of a SIZE MiB file (page cache warm), binary, passive
  STOR MB/s   one curl upload of SIZE MiB

Run as root (both daemons start as root):  tools/bench/ftpbench.py [--seconds 10] [--size 512]
vsftpd comes from Debian's package (apt-get install vsftpd); without it only wardenftpd runs.
Every loop is bounded in count and time; everything stays on 127.0.0.1.
"""
import argparse, ftplib, os, pwd, shutil, socket, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BENCH_USER = "wftpdbench"
BENCH_PASSWORD = "bench-Pa55"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.recv(100)
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server on port %d did not start" % port)


def ensure_system_user(home):
    """A system user for vsftpd (PAM) whose yescrypt hash wardenftpd also uses."""
    try:
        pwd.getpwnam(BENCH_USER)
    except KeyError:
        subprocess.run(["useradd", "-M", "-d", home, "-s", "/bin/bash", BENCH_USER], check=True)
    subprocess.run(["chpasswd"], input=("%s:%s\n" % (BENCH_USER, BENCH_PASSWORD)).encode(), check=True)
    subprocess.run(["usermod", "-d", home, BENCH_USER], check=True)
    entry = pwd.getpwnam(BENCH_USER)
    with open("/etc/shadow") as f:
        for line in f:
            fields = line.split(":")
            if fields[0] == BENCH_USER:
                return entry.pw_uid, entry.pw_gid, fields[1]
    raise RuntimeError("no shadow entry for " + BENCH_USER)


def session_rate(port, seconds, clients, login):
    count = [0]
    errors = [0]
    lock = threading.Lock()
    deadline = time.time() + seconds

    def worker():
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                    f = s.makefile("rb")
                    if not f.readline().startswith(b"220"):
                        raise RuntimeError("no greeting")
                    if login:
                        s.sendall(("USER %s\r\n" % BENCH_USER).encode())
                        f.readline()
                        s.sendall(("PASS %s\r\n" % BENCH_PASSWORD).encode())
                        reply = f.readline()
                        while reply[3:4] == b"-":
                            reply = f.readline()
                        if not reply.startswith(b"230"):
                            raise RuntimeError("login failed: %r" % reply)
                    s.sendall(b"QUIT\r\n")
                    f.readline()
                with lock:
                    count[0] += 1
            except Exception:
                with lock:
                    errors[0] += 1
                time.sleep(0.01)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)
    elapsed = time.time() - start
    return count[0] / elapsed, errors[0]


def transfer_rates(port, path, size):
    """One RETR and one STOR with curl (a C client, so the client is not the bottleneck)."""
    url = "ftp://%s:%s@127.0.0.1:%d/" % (BENCH_USER, BENCH_PASSWORD, port)
    down = subprocess.run(["curl", "-sS", "--max-time", "120", "-o", "/dev/null",
                           "-w", "%{size_download} %{speed_download}", url + "bench.bin"],
                          check=True, capture_output=True, text=True).stdout.split()
    if int(down[0]) != size:
        raise RuntimeError("RETR returned %s bytes, expected %d" % (down[0], size))
    up = subprocess.run(["curl", "-sS", "--max-time", "120", "-T", path, "-o", "/dev/null",
                         "-w", "%{size_upload} %{speed_upload}", url + "upload.bin"],
                        check=True, capture_output=True, text=True).stdout.split()
    if int(up[0]) != size:
        raise RuntimeError("STOR sent %s bytes, expected %d" % (up[0], size))
    return float(down[1]) / 1e6, float(up[1]) / 1e6


def start_wardenftpd(binary, passwd_tool, work, root, uid, gid, shadow_hash):
    port = free_port()
    users = os.path.join(work, "users")
    with open(users, "w") as f:
        f.write("%s:%s:%d:%d:%s\n" % (BENCH_USER, shadow_hash, uid, gid, root))
    os.chmod(users, 0o600)
    conf = os.path.join(work, "wardenftpd.conf")
    with open(conf, "w") as f:
        f.write("listen_address=127.0.0.1\nlisten_port=%d\nusers_file=%s\n"
                "secure_chroot_dir=%s/empty\nmax_clients=1000\nlog_level=warning\n" % (port, users, work))
    log = open(os.path.join(work, "wardenftpd.log"), "w")
    proc = subprocess.Popen([binary, "-c", conf], stderr=log)
    wait_port(port)
    return proc, port


def start_vsftpd(work, root):
    binary = shutil.which("vsftpd") or "/usr/sbin/vsftpd"
    if not os.path.exists(binary):
        return None, None
    port = free_port()
    conf = os.path.join(work, "vsftpd.conf")
    empty = os.path.join(work, "vsftpd-empty")
    os.makedirs(empty, exist_ok=True)
    with open(conf, "w") as f:
        f.write("\n".join([
            "listen=YES", "listen_ipv6=NO", "listen_address=127.0.0.1", "listen_port=%d" % port,
            "anonymous_enable=NO", "local_enable=YES", "write_enable=YES", "chroot_local_user=YES",
            "allow_writeable_chroot=YES", "pam_service_name=vsftpd", "secure_chroot_dir=%s" % empty,
            "max_clients=1000", "max_per_ip=1000", "pasv_enable=YES", "seccomp_sandbox=%s" % ("YES" if os.environ.get("VSFTPD_SECCOMP") else "NO"),
            "xferlog_enable=NO", "background=NO", "ssl_enable=NO", "local_root=%s" % root, ""]))
    proc = subprocess.Popen([binary, conf], stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, port


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--size", type=int, default=512, help="MiB for RETR/STOR")
    parser.add_argument("--build", default=os.path.join(TOP, "build"))
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("ftpbench: run as root")
    work = tempfile.mkdtemp(prefix="wftpd-bench-")
    os.chmod(work, 0o755)
    root = os.path.join(work, "root")
    os.makedirs(root)
    uid, gid, shadow_hash = ensure_system_user(root)
    size = args.size << 20
    data = os.path.join(work, "bench-src.bin")
    with open(data, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(args.size):
            f.write(block)
    shutil.copy(data, os.path.join(root, "bench.bin"))
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, uid, gid)
        for name in filenames:
            os.chown(os.path.join(dirpath, name), uid, gid)

    servers = []
    w_proc, w_port = start_wardenftpd(os.path.join(args.build, "daemon", "wardenftpd"),
                                      os.path.join(args.build, "tools", "wardenftpd-passwd"),
                                      work, root, uid, gid, shadow_hash)
    servers.append(("wardenftpd", w_proc, w_port))
    v_proc, v_port = start_vsftpd(work, root)
    if v_proc:
        servers.append(("vsftpd", v_proc, v_port))
    results = {}
    try:
        for name, _, port in servers:
            sessions, e1 = session_rate(port, args.seconds, args.clients, login=False)
            logins, e2 = session_rate(port, args.seconds, args.clients, login=True)
            retr, stor = transfer_rates(port, data, size)
            results[name] = (sessions, logins, retr, stor, e1 + e2)
            print("%-10s sessions/s %7.1f  logins/s %6.1f  RETR %7.1f MB/s  STOR %7.1f MB/s  errors %d"
                  % (name, sessions, logins, retr, stor, e1 + e2), flush=True)
    finally:
        for _, proc, _ in servers:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    if "vsftpd" in results:
        w, v = results["wardenftpd"], results["vsftpd"]
        print("ratio wardenftpd/vsftpd: sessions %.2f  logins %.2f  RETR %.2f  STOR %.2f"
              % (w[0] / v[0], w[1] / v[1], w[2] / v[2], w[3] / v[3]))


if __name__ == "__main__":
    main()
