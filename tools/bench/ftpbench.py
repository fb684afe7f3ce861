#!/usr/bin/env python3
"""Benchmark wardenftpd against vsftpd and Pure-FTPd on this machine, in one run, on loopback.

Measures, for each server that is available (vsftpd and Pure-FTPd are the anchors; "both
servers" below means every one of them):
  sessions/s  connect, read the 220 greeting, QUIT (no login), C concurrent clients (--clients)
  logins/s    connect, USER, PASS, QUIT with the same yescrypt hash for all servers
  RETR MB/s   one curl download of a SIZE MiB file (page cache warm), binary, passive
  STOR MB/s   one curl upload of SIZE MiB
(MB/s counts from the end of login and TYPE/EPSV, curl's time_pretransfer, to the end.)
  small RETR/STOR files/s  FILES files of FILE_KIB KiB fetched, then as many uploaded, one
                session, PASV, binary, a minimal raw-socket client (login not counted)
  NLST/LIST/MLSD ms  listing a directory of LIST_ENTRIES empty files, PASV to 226 (vsftpd has
                no MLSD)
  STOR split    one more STOR of SIZE MiB with the raw-socket client (EPSV, binary, the file
                sendfile()d from the page cache, login not counted), timed in two parts: from the
                150 reply until the client has sent the last byte and shut the data connection
                down (transfer), and from then to the 226 (commit: wardenftpd writes a temporary
                file, fsyncs, renames, then replies; vsftpd does not fsync; both parts also hold
                the server's reading of what the socket buffers still held; wardenftpd starts
                writeback every 8 MiB while receiving, so most of its disk writing falls in the
                transfer part). Reported: MB/s 150 to 226, MB/s 150 to data sent, and the
                commit in ms; the curl STOR stays.
  C sendfile bound  ftpbench-bound sendfile: the same page-cache-warm SIZE MiB file
                sendfile()d over loopback TCP (1 MiB calls) to another process that read()s and
                discards it, no FTP; once per round, after the servers. The report shows each
                server's plain RETR over it.
Each of these is measured RUNS times (the servers taking turns in each round) and reported as the
median with its spread (min-max); --small-only measures only the small files and listings.
Both servers get the same passive port range (--pasv-range, default 50000-59999).

The session model (issue 16), on fresh instances of both servers with anonymous logins enabled
(a read-only root-owned anon_root, anon_user ftp) and max_clients raised (every server, here
and for the figures above, allows max_clients sessions from one address, and wardenftpd's
connect_rate_per_ip is 0, since every client comes from 127.0.0.1):
  anonymous logins/s     connect, 220, USER anonymous, PASS, QUIT at 1, 2 and 16 parallel clients
                         (--login-clients)
  password logins/s      the same with the bench user, whose hash is set to sha512-crypt (--hash
                         sha512, the default; or yescrypt) for PAM (vsftpd) and wardenftpd alike
  greeting latency       one client, connect() to the 220 line, p50 and p99 over --greetings
                         (200) connections per run
  PSS per idle session   --pss-sessions (200,1000) anonymous sessions logged in and held open;
                         the sum of /proc/PID/smaps_rollup Pss over the server's process tree
                         (wardenftpd: the listener, the session monitors and their children;
                         vsftpd: the listener and its per-session processes), minus the idle
                         server's, divided by N; max_clients raised above the largest count,
                         RLIMIT_NOFILE raised as needed (the servers inherit it), opening bounded
                         by --pss-seconds (default 120 s, or 40 ms per session above 3,000), every
                         session closed and reaped (bounded wait, 30 s or 1 s per 50 sessions)
                         after (--pss-sessions 5000 was run this way)
  PSS, TLS-configured    the same again, as more rows, on both servers configured for TLS
                         (certificate and key loaded, AUTH TLS offered: vsftpd allow_anon_ssl=YES
                         and nothing forced, wardenftpd require_tls_login, require_tls_data and
                         anon_require_tls off), the sessions still plain anonymous logins:
                         wardenftpd execs a smaller session image when TLS is not configured, so
                         the two figures differ; --pss-configs plain,tls (the default), plain or
                         tls picks the configurations
  client ceiling         the same login and greeting loops against a minimal in-process Python
                         responder (one thread per connection, answers 220/331/230/221 and does no
                         work), so the report shows that the client is not what is measured
each RUNS times, the targets taking turns in each round; --sessions-only measures only these,
--no-sessions skips them.

--report FILE (e.g. --report docs/PERFORMANCE.md) writes every figure of the run as a Markdown
table: median (min-max) per server, the ratios wardenftpd/vsftpd and wardenftpd/Pure-FTPd of the
medians, the client's ceiling, the conditions (CPUs, kernel, OpenSSL, vsftpd and Pure-FTPd
versions, load, date, the command) and how Pure-FTPd was run.
Figures that could not be measured are listed with the reason. The RETR rows also show the C
bound they are measured against (column "C bound") and each server's median over it ("÷ C bound").

The C bounds come from BUILD/tools/ftpbench-bound (tools/bench/transfer_bound.cpp, the CMake
target ftpbench-bound in tools/CMakeLists.txt, not installed), BUILD being --build or else this
source tree's build/; without it they are listed as not measured.

With --tls (or --tls-only), also explicit FTPS (AUTH TLS), on fresh instances of both servers
configured alike: a throwaway EC P-256 CA and server certificate made with the openssl command
line, logins and data only over TLS (PROT P), data connections required to resume the control
connection's TLS session (wardenftpd's require_tls_session_reuse, vsftpd's require_ssl_reuse):
  TLS logins/s  connect, AUTH TLS, USER, PASS, QUIT (python ftplib.FTP_TLS), C clients, the
                client offering one key exchange group (P-256) so neither server needs a retry
  TLS RETR MB/s one curl --ssl-reqd download of a TLS_SIZE MiB file (page cache warm), PROT P
  TLS STOR MB/s one curl --ssl-reqd upload of TLS_SIZE MiB, PROT P
  C TLS bound   ftpbench-bound tls: TLS_SIZE MiB SSL_written (256 KiB calls, as wardenftpd's
                data path) from memory through one TLS connection over loopback TCP to another
                process that SSL_reads and discards them, with the bench's certificate and the
                version and cipher wardenftpd's data connections negotiated (TLS 1.3
                TLS_AES_256_GCM_SHA384 with curl 7.88 and OpenSSL 3.0; the same when nothing was
                seen), one sample right after each server's transfers (so the spread shows how
                much the machine's load moved); also with vsftpd's parameters for the
                like-with-like figure and with TLS 1.2 for --tls12. The report shows each
                server's PROT P RETR over the median (the performance issue's target: wardenftpd
                at least 0.8).
and the TLS version and cipher each server negotiated on the control connection (python) and
on the data connections (curl -v), with whether the data connections resumed the session, and
what each server picks (version, cipher, group) for openssl s_client's default offer. When
the two servers negotiate different data-connection parameters, wardenftpd is measured again
with curl forced to vsftpd's (e.g. --tls-max 1.2 --ciphers ...), so one ratio compares like with
like; --tls12 also measures both with TLS 1.2 and ECDHE-ECDSA-AES256-GCM-SHA384 (curl's OpenSSL
backend sends no TLS 1.2 session tickets, so there it can resume only through a server session
cache by session ID).

TLS logins are measured RUNS times, the servers taking turns in each round, and reported as
median, min and max. --baseline BUILD_DIR adds a second wardenftpd (another build, e.g. the
commit before a change) to the TLS login rounds, so before and after are measured beside
vsftpd in one run.

Run as root (the daemons start as root; the bench user's password is set with chpasswd; PSS
is read from other users' processes):
  tools/bench/ftpbench.py [--seconds 10] [--size 512] [--tls [--tls-size 1024] [--tls12]]
                          [--files 1000 --file-kib 4 --list-entries 10000 --runs 3] [--small-only]
                          [--baseline OTHER_BUILD_DIR] [--pasv-range 50000-59999]
                          [--hash sha512|yescrypt] [--login-clients 1,2,16] [--greetings 200]
                          [--pss-sessions 200,1000] [--pss-seconds S] [--pss-configs plain,tls]
                          [--sessions-only | --no-sessions] [--report docs/PERFORMANCE.md]
                          [--pure-ftpd PATH|none] [--pure-ftpd-auth unix|pam]
vsftpd comes from Debian's package (apt-get install vsftpd); without it the others run.

Pure-FTPd conflicts with vsftpd in apt, so it is not installed: Debian 12's package (1.0.50) is
extracted, and the bench runs usr/sbin/pure-ftpd from there (its libraries are already on a
system with vsftpd and OpenSSL 3):
  mkdir -p /var/cache/ftpbench && cd /var/cache/ftpbench
  apt-get download pure-ftpd && dpkg -x pure-ftpd_*.deb pure-ftpd
--pure-ftpd names another copy (the binary or the extraction directory; default
/var/cache/ftpbench/pure-ftpd, else pure-ftpd on the PATH); without one the bench prints these
commands, carries on and lists Pure-FTPd under "Not measured". It takes part in every figure,
configured by flags only, in the foreground, in its own process group (its session processes
outlive the listener and are stopped with it):
  pure-ftpd -S 127.0.0.1,PORT -l unix -A -H -f none -g WORK/NAME.pid -c N -C N -L M:5 -p LOW:HIGH
with -E (no anonymous) for the plain and FTPS figures, -i (anonymous, no upload) for the
session model, -Y 3 -2 CERT,KEY for FTPS (AUTH TLS before USER, PROT P), -Y 1 for the
TLS-configured PSS; -l unix checks the bench user's /etc/shadow hash with crypt(), like
wardenftpd (--pure-ftpd-auth pam: PAM, like vsftpd); -L raises its listing limit (10,000 files
by default, which cuts a 10,000-entry NLST or MLSD short) above LIST_ENTRIES. It serves
anonymous users from the system user ftp's home, so it runs in a private mount namespace
(unshare --mount) with the bench's anon root bind-mounted over that directory. Where it
differs (a random 0-15 ms sleep before each password check, anonymous users logged in at USER,
multi-line 220 and 221, no TLS 1.3 session tickets so PROT P data connections are not resumed
with TLS 1.3, uploads written in place without fsync, two processes per session) the report
says so. Not timed, once per server: a raw-client RETR of the SIZE MiB file hashes to the
file's SHA-256 and the curl STOR stored the same bytes; an anonymous session RETRs the anon
root's README and may not STOR; listings must name every entry once.
Every loop is bounded in count and time; everything stays on 127.0.0.1; the work directory
(certificates, data files, configurations, logs) is removed at the end.
"""
import argparse, ftplib, gzip, hashlib, os, pwd, re, resource, shutil, signal, socket, ssl, statistics, struct, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BENCH_USER = "wftpdbench"
BENCH_PASSWORD = "bench-Pa55"
MAX_SESSIONS_PER_CLIENT = 1000000  # a count bound on top of the --seconds deadline
TLS12_CIPHER = "ECDHE-ECDSA-AES256-GCM-SHA384"
# The C TLS bound's parameters when wardenftpd's data connections told nothing (curl -v and
# wardenftpd negotiate these with the bench's EC certificate and OpenSSL 3's defaults).
TLS_BOUND_DEFAULT = ("TLSv1.3", "TLS_AES_256_GCM_SHA384")
TLS_BOUND_TARGET = 0.8  # the performance issue: PROT P RETR at least 0.8x the C TLS bound
ANON_USER = "anonymous"
ANON_PASSWORD = "bench@example.org"
PASV_RANGE = None  # (low, high), set from --pasv-range; both servers get the same range
ROWS = []  # the report's rows: dict(figure=, unit=, samples={server: [values]}, note=, better=)
# The anchors wardenftpd is compared with, by the names the samples use, and how the report
# names them.
ANCHORS = ("vsftpd", "pure-ftpd")
DISPLAY = {"wardenftpd": "wardenftpd", "vsftpd": "vsftpd", "pure-ftpd": "Pure-FTPd"}
# Pure-FTPd conflicts with vsftpd in apt, so the bench runs a copy extracted from Debian's package.
PURE_FTPD_CACHE = "/var/cache/ftpbench/pure-ftpd"
PURE_FTPD_COMMANDS = ("mkdir -p /var/cache/ftpbench && cd /var/cache/ftpbench && apt-get "
                      "download pure-ftpd && dpkg -x pure-ftpd_*.deb pure-ftpd")
PURE_FTPD_HOWTO = PURE_FTPD_COMMANDS + "  (not apt-get install: it conflicts with vsftpd)"
PURE_FTPD = None  # the pure-ftpd binary (--pure-ftpd), None when not found
PURE_FTPD_MISSING = ""  # why not, then
PURE_FTPD_AUTH = "unix"  # its -l (--pure-ftpd-auth)
PURE_FTPD_SCOREBOARD = "/run/pure-ftpd"  # Debian's build keeps its per-session scoreboard here
OWN_GROUPS = set()  # pids of servers started as process group leaders (Pure-FTPd)
PURE_FTPD_DELAY_NOTE = ("; Pure-FTPd sleeps a random 0-15 ms (usleep(rand() % 15000), no option) "
                        "before it checks each password")


def add_row(figure, unit, samples, note="", better="higher", bound=None):
    """One figure of the report; SAMPLES maps a server to the values of its runs (possibly one).
    BOUND: the values of the C bound the figure is reported against (ftpbench-bound), if any."""
    samples = {k: list(v) for k, v in samples.items() if v}
    if bound:
        samples["bound"] = list(bound)
    ROWS.append(dict(figure=figure, unit=unit, samples=samples, note=note, better=better))


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


def ensure_system_user(home, method=None):
    """A system user for vsftpd (PAM) whose hash (yescrypt, chpasswd's default on Debian 12, or
    METHOD, e.g. SHA512) wardenftpd also uses."""
    try:
        pwd.getpwnam(BENCH_USER)
    except KeyError:
        subprocess.run(["useradd", "-M", "-d", home, "-s", "/bin/bash", BENCH_USER], check=True)
    subprocess.run(["chpasswd"] + (["-c", method] if method else []), input=("%s:%s\n" % (BENCH_USER, BENCH_PASSWORD)).encode(), check=True)
    subprocess.run(["usermod", "-d", home, BENCH_USER], check=True)
    entry = pwd.getpwnam(BENCH_USER)
    with open("/etc/shadow") as f:
        for line in f:
            fields = line.split(":")
            if fields[0] == BENCH_USER:
                return entry.pw_uid, entry.pw_gid, fields[1]
    raise RuntimeError("no shadow entry for " + BENCH_USER)


def make_pki(directory):
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it (EC P-256), made with
    the openssl command line. Returns dict(ca=, cert=, key=) paths; the key file is mode 0600."""
    os.makedirs(directory, mode=0o700)
    paths = {name: os.path.join(directory, name + ".pem") for name in ("ca", "ca-key", "cert", "key")}
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]

    def openssl(args):
        result = subprocess.run(["openssl"] + args, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError("openssl %s failed: %s" % (args[0], result.stderr.strip()))

    openssl(["req", "-x509"] + newkey + ["-keyout", paths["ca-key"], "-out", paths["ca"],
                                         "-days", "1", "-subj", "/CN=ftpbench throwaway CA"])
    csr = os.path.join(directory, "server.csr")
    openssl(["req"] + newkey + ["-keyout", paths["key"], "-out", csr, "-subj", "/CN=127.0.0.1"])
    ext = os.path.join(directory, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    openssl(["x509", "-req", "-in", csr, "-CA", paths["ca"], "-CAkey", paths["ca-key"],
             "-CAcreateserial", "-out", paths["cert"], "-days", "1", "-extfile", ext])
    os.chmod(paths["key"], 0o600)
    return paths


def write_file(path, mib):
    with open(path, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(mib):
            f.write(block)


def session_rate(port, seconds, clients, login):
    count = [0]
    errors = [0]
    lock = threading.Lock()
    deadline = time.time() + seconds

    def worker():
        for _ in range(MAX_SESSIONS_PER_CLIENT):
            if time.time() >= deadline:
                break
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                    f = s.makefile("rb")
                    # Whole replies: Pure-FTPd's greeting and 221 have several lines.
                    if not read_reply(f).startswith(b"220"):
                        raise RuntimeError("no greeting")
                    if login:
                        s.sendall(("USER %s\r\n" % BENCH_USER).encode())
                        read_reply(f)
                        s.sendall(("PASS %s\r\n" % BENCH_PASSWORD).encode())
                        reply = read_reply(f)
                        if not reply.startswith(b"230"):
                            raise RuntimeError("login failed: %r" % reply)
                    s.sendall(b"QUIT\r\n")
                    read_reply(f)
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


def tls_login_rate(port, seconds, clients, ca, group):
    """connect, AUTH TLS, USER, PASS, QUIT with ftplib.FTP_TLS (a full handshake each time),
    offering only key exchange GROUP when set, so both servers do the same handshake.
    Returns (logins/s, errors, first error, (version, cipher) of the first login)."""
    context = ssl.create_default_context(cafile=ca)
    if group:
        context.set_ecdh_curve(group)
    count = [0]
    errors = [0]
    first_error = [None]
    negotiated = [None]
    lock = threading.Lock()
    deadline = time.time() + seconds

    def worker():
        for _ in range(MAX_SESSIONS_PER_CLIENT):
            if time.time() >= deadline:
                break
            client = ftplib.FTP_TLS(context=context, timeout=10)
            try:
                client.connect("127.0.0.1", port)
                client.login(BENCH_USER, BENCH_PASSWORD)  # AUTH TLS first, then USER, PASS
                params = (client.sock.version(), client.sock.cipher()[0])
                client.quit()
                with lock:
                    count[0] += 1
                    negotiated[0] = negotiated[0] or params
            except Exception as e:
                with lock:
                    errors[0] += 1
                    first_error[0] = first_error[0] or "%s: %s" % (type(e).__name__, e)
                time.sleep(0.01)
            finally:
                client.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)
    elapsed = time.time() - start
    return count[0] / elapsed, errors[0], first_error[0], negotiated[0]


# curl's -w for the bytes moved and the time the transfer itself took: from time_pretransfer
# (connect, login, TYPE, EPSV done) to the end, so a server's slow login is not counted as
# slow transfer (logins/s measures that).
def curl_write_out(what):
    return "\n%{size_" + what + "} %{time_pretransfer} %{time_total}"


def curl_rate(stdout, what, expected):
    """MB/s from the last line curl_write_out(what) printed; checks the byte count."""
    done, pretransfer, total = stdout.split()[-3:]
    if int(done) != expected:
        raise RuntimeError("%s moved %s bytes, expected %d" % (what, done, expected))
    return expected / max(float(total) - float(pretransfer), 1e-6) / 1e6


def transfer_rates(port, path, size, root):
    """One RETR and one STOR with curl (a C client, so the client is not the bottleneck). The
    upload target is removed first and dirty pages flushed, so both servers start alike."""
    url = "ftp://%s:%s@127.0.0.1:%d/" % (BENCH_USER, BENCH_PASSWORD, port)
    if os.path.exists(os.path.join(root, "upload.bin")):
        os.unlink(os.path.join(root, "upload.bin"))
    os.sync()
    down = subprocess.run(["curl", "-sS", "--max-time", "120", "-o", "/dev/null",
                           "-w", curl_write_out("download"), url + "bench.bin"],
                          check=True, capture_output=True, text=True).stdout
    os.sync()
    up = subprocess.run(["curl", "-sS", "--max-time", "120", "-T", path, "-o", "/dev/null",
                         "-w", curl_write_out("upload"), url + "upload.bin"],
                        check=True, capture_output=True, text=True).stdout
    stored = os.path.getsize(os.path.join(root, "upload.bin"))
    if stored != size:
        raise RuntimeError("STOR stored %d bytes, expected %d" % (stored, size))
    return curl_rate(down, "download", size), curl_rate(up, "upload", size)


def file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):  # bounded by the file's size
            digest.update(block)
    return digest.hexdigest()


def verify_data(port, expected, root):
    """Not timed, once per server: RETR bench.bin (raw client) gives bytes whose SHA-256 is
    EXPECTED's, and the curl STOR just measured stored them (root/upload.bin)."""
    digest = hashlib.sha256()
    client = RawFtp(port)
    try:
        client.login()
        client.sock.settimeout(120)
        client.transfer("RETR bench.bin", sink=digest.update)
    finally:
        client.close()
    if digest.hexdigest() != expected:
        raise RuntimeError("RETR bench.bin: the bytes received differ from the file's")
    if file_digest(os.path.join(root, "upload.bin")) != expected:
        raise RuntimeError("STOR upload.bin: the file stored differs from the one sent")


def bound_binary(build):
    """ftpbench-bound (tools/bench/transfer_bound.cpp, built by tools/CMakeLists.txt) from BUILD,
    else from this source tree's build/ (e.g. --build names an older build without it); None when
    neither has it."""
    for directory in (build, os.path.join(TOP, "build")):
        path = os.path.join(directory, "tools", "ftpbench-bound")
        if os.access(path, os.X_OK):
            return path
    return None


def measure_bound(binary, arguments, expected):
    """One run of ftpbench-bound (tls CERT KEY MIB [...] or sendfile FILE). Returns (MB/s,
    version, cipher) from its one line; checks that it moved EXPECTED bytes."""
    result = subprocess.run([binary] + arguments, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError("ftpbench-bound %s exit %d: %s" % (arguments[0], result.returncode,
                                                              result.stderr.strip()))
    fields = result.stdout.split()
    if len(fields) != 6 or int(fields[1]) != expected:
        raise RuntimeError("ftpbench-bound %s: unexpected output %r" % (arguments[0], result.stdout))
    return float(fields[3]), fields[4], fields[5]


def stor_phases(port, path, size, root):
    """One STOR of the SIZE-byte file PATH with a raw-socket client (EPSV, binary; login not
    counted), split in two: seconds from the 150 reply until the client has sent the last byte
    (sendfile from the page cache) and shut the data connection down, the transfer part; and
    from then to the 226, the commit part. The commit part also holds the server's reading of
    what was still in the loopback socket buffers (a few MiB at most), then, for wardenftpd,
    fsync and rename (vsftpd does not fsync). Dirty pages are flushed first, so both servers
    start alike. Returns (transfer seconds, commit seconds)."""
    name = "upload-phases.bin"
    target = os.path.join(root, name)
    if os.path.exists(target):
        os.unlink(target)
    os.sync()
    client = RawFtp(port)
    try:
        client.login()
        client.sock.settimeout(300)  # the 226 waits for the server's fsync of SIZE bytes
        found = re.search(rb"\(\|\|\|(\d+)\|\)", client.cmd("EPSV", (229,)))
        if not found:
            raise RuntimeError("EPSV reply without a port")
        with socket.create_connection(("127.0.0.1", int(found.group(1))), timeout=120) as data, \
                open(path, "rb") as source:
            # Blocking sendfile calls, each as large as the rest of the file, so the client costs
            # a few system calls; the kernel's send timeout (not Python's) bounds a stuck server.
            data.settimeout(None)
            data.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 120, 0))
            client.cmd("STOR " + name, (125, 150))
            start = time.perf_counter()
            offset = 0
            while offset < size:  # bounded: each call sends at least one byte or raises
                sent_now = os.sendfile(data.fileno(), source.fileno(), offset, size - offset)
                if sent_now == 0:
                    raise RuntimeError("STOR: %s ended at %d bytes, expected %d" % (path, offset, size))
                offset += sent_now
            data.shutdown(socket.SHUT_WR)
            sent = time.perf_counter()
        client.expect((226,))
        done = time.perf_counter()
    finally:
        client.close()
    if os.path.getsize(target) != size:
        raise RuntimeError("STOR stored %d bytes, expected %d" % (os.path.getsize(target), size))
    os.unlink(target)
    return sent - start, done - sent


class ReplyError(RuntimeError):
    def __init__(self, code, text, expected):
        super().__init__("expected %s, got %r" % (expected, text))
        self.code = code


class RawFtp:
    """A minimal FTP client on a plain socket (PASV, binary), so that per-file client overhead
    stays small next to the servers'. Like most clients it leaves Nagle's algorithm on."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.file = self.sock.makefile("rb")
        self.expect((220,))

    def reply(self):
        line = self.file.readline()
        if len(line) < 4:
            raise RuntimeError("control connection closed")
        code, text = line[:3], line
        while line[3:4] != b" " or line[:3] != code:  # bounded by the reply's lines
            line = self.file.readline()
            if not line:
                raise RuntimeError("control connection closed in a reply")
            text += line
        return int(code), text

    def expect(self, codes):
        code, text = self.reply()
        if code not in codes:
            raise ReplyError(code, text, codes)
        return text

    def cmd(self, line, codes):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.expect(codes)

    def login(self):
        self.cmd("USER " + BENCH_USER, (331,))
        self.cmd("PASS " + BENCH_PASSWORD, (230,))
        self.cmd("TYPE I", (200,))

    def transfer(self, line, upload=None, sink=None):
        """PASV, the command, its data (received, or `upload` sent), the final 226. Returns the
        bytes received (passed to SINK instead, chunk by chunk, when given)."""
        numbers = re.search(rb"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", self.cmd("PASV", (227,)))
        if not numbers:
            raise RuntimeError("PASV reply without an address")
        port = int(numbers.group(5)) * 256 + int(numbers.group(6))
        chunks = []
        with socket.create_connection(("127.0.0.1", port), timeout=30) as data:
            self.cmd(line, (125, 150))
            if upload is not None:
                data.sendall(upload)
            else:
                for _ in range(1 << 20):  # bounded; ends at the server's close
                    chunk = data.recv(1 << 16)
                    if not chunk:
                        break
                    if sink:
                        sink(chunk)
                    else:
                        chunks.append(chunk)
        self.expect((226,))
        return b"".join(chunks)

    def close(self):
        try:
            self.cmd("QUIT", (221,))
        finally:
            self.file.close()
            self.sock.close()


def make_small_files(root, uid, gid, count, size_kib, entries):
    """`count` files of SIZE_KIB KiB in root/small, `entries` empty files in root/list, and
    root/upload-small for uploads, all owned by the bench user."""
    directories = {name: os.path.join(root, name) for name in ("small", "list", "upload-small")}
    for path in directories.values():
        os.makedirs(path, exist_ok=True)
        os.chown(path, uid, gid)
    payload = os.urandom(size_kib << 10)
    for i in range(count):
        path = os.path.join(directories["small"], "f%05d.bin" % i)
        with open(path, "wb") as f:
            f.write(payload)
        os.chown(path, uid, gid)
    for i in range(entries):
        path = os.path.join(directories["list"], "entry-%05d.dat" % i)
        with open(path, "wb"):
            pass
        os.chown(path, uid, gid)
    return payload


def small_file_rates(port, root, count, payload):
    """Files/s for COUNT small RETRs, then COUNT small STORs, one session (login not counted)."""
    client = RawFtp(port)
    try:
        client.login()
        start = time.perf_counter()
        for i in range(count):
            if client.transfer("RETR small/f%05d.bin" % i) != payload:
                raise RuntimeError("RETR small/f%05d.bin: wrong content" % i)
        retr = count / (time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(count):
            client.transfer("STOR upload-small/u%05d.bin" % i, payload)
        stor = count / (time.perf_counter() - start)
    finally:
        client.close()
    upload = os.path.join(root, "upload-small")
    for name in os.listdir(upload):
        os.unlink(os.path.join(upload, name))
    return retr, stor


def listing_entries(verb, text, entries):
    """Checks that a listing names each of the ENTRIES files of the list directory exactly once
    and nothing else but the directory itself and its parent (Pure-FTPd's NLST also names
    list/. and list/.., its MLSD has type=cdir and type=pdir lines)."""
    names, others = set(), 0
    for line in text.split(b"\r\n")[:-1]:
        found = re.search(rb"entry-(\d{5})\.dat$", line)
        if found and found.group(1) not in names:
            names.add(found.group(1))
        elif not found and (re.search(rb"(^|[/ ])\.\.?$", line) and others < 2):
            others += 1
        else:
            raise RuntimeError("%s list: unexpected or repeated line %r" % (verb, line[:200]))
    if len(names) != entries:
        raise RuntimeError("%s list: %d entries, expected %d" % (verb, len(names), entries))


def listing_times(port, entries, repeats):
    """Median milliseconds of NLST, LIST and MLSD of the `entries`-entry directory, each from
    PASV to the 226; None where the server has no such command (vsftpd has no MLSD). Each
    listing is checked to name every entry once (listing_entries)."""
    client = RawFtp(port)
    times = {}
    try:
        client.login()
        for verb in ("NLST", "LIST", "MLSD"):
            samples = []
            for _ in range(repeats):
                start = time.perf_counter()
                try:
                    text = client.transfer(verb + " list")
                except ReplyError as e:
                    if verb == "MLSD" and e.code in (500, 502):
                        samples = None
                        break
                    raise
                samples.append(time.perf_counter() - start)
                listing_entries(verb, text, entries)
            times[verb] = statistics.median(samples) * 1000 if samples else None
    finally:
        client.close()
    return times


def tls_curl(args, ca, tls_args, what, expected):
    """One curl FTPS transfer (AUTH TLS, PROT P), verbose so the handshakes can be read.
    Returns (MB/s, [(version, cipher) per handshake], data connection resumed, PROT P seen)."""
    result = subprocess.run(["curl", "-sS", "-v", "--ssl-reqd", "--cacert", ca, "--max-time", "300",
                             "-o", "/dev/null", "-w", curl_write_out(what)]
                            + tls_args + args, capture_output=True, text=True, timeout=330)
    handshakes = re.findall(r"SSL connection using (\S+) / (\S+)", result.stderr)
    resumed = "SSL re-using session" in result.stderr
    prot_p = "> PROT P" in result.stderr
    if result.returncode != 0:
        tail = [l for l in result.stderr.splitlines() if l.startswith(("<", "curl:", "* SSL", "* TLS"))]
        raise RuntimeError("curl exit %d: %s" % (result.returncode, " | ".join(tail[-8:])))
    return curl_rate(result.stdout, what, expected), handshakes, resumed, prot_p


def tls_transfer_rates(port, path, size, ca, root, tls_args):
    """One PROT P RETR and one PROT P STOR of SIZE bytes with curl. The upload target is removed
    first and dirty pages are flushed before each transfer, so both servers start alike."""
    url = "ftp://%s:%s@127.0.0.1:%d/" % (BENCH_USER, BENCH_PASSWORD, port)
    target = os.path.join(root, "upload-tls.bin")
    if os.path.exists(target):
        os.unlink(target)
    os.sync()
    retr, handshakes, resumed, prot_p = tls_curl([url + "bench-tls.bin"], ca, tls_args, "download", size)
    os.sync()
    stor, up_handshakes, up_resumed, up_prot_p = tls_curl(["-T", path, url + "upload-tls.bin"], ca,
                                                          tls_args, "upload", size)
    if os.path.getsize(target) != size:
        raise RuntimeError("STOR stored %d bytes, expected %d" % (os.path.getsize(target), size))
    os.unlink(target)
    # The last handshake of each curl run is its data connection's.
    data = sorted(set(h[-1] for h in (handshakes, up_handshakes) if h))
    return retr, stor, data, resumed and up_resumed, prot_p and up_prot_p


def tls_probe(port, ca):
    """The version, cipher and key exchange group a server picks for openssl s_client's default
    offer (explicit FTPS), e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384 X25519"."""
    try:
        result = subprocess.run(["openssl", "s_client", "-brief", "-starttls", "ftp", "-CAfile", ca,
                                 "-connect", "127.0.0.1:%d" % port], input="QUIT\r\n",
                                capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "? (openssl s_client timed out)"
    found = dict(re.findall(r"^(Protocol version|Ciphersuite|Server Temp Key): (.*)$",
                            result.stderr + result.stdout, re.M))
    if "Protocol version" not in found:
        return "? (openssl s_client exit %d)" % result.returncode
    return "%s %s %s" % (found["Protocol version"], found.get("Ciphersuite", "?"),
                         found.get("Server Temp Key", "?").replace(", ", " "))


def log_tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip() or "(empty)"
    except OSError as e:
        return "(unreadable: %s)" % e


def start_wardenftpd(binary, passwd_tool, work, root, uid, gid, shadow_hash, pki=None, tag="",
                     anon_root=None, max_clients=1000, tls_required=True, extra_config=""):
    """wardenftpd on a free port; with PKI, TLS configured, and with TLS_REQUIRED (the FTPS
    figures) logins and data only over TLS with session reuse, without it (the TLS-configured
    PSS figure) TLS offered and nothing required. EXTRA_CONFIG: more lines (ratebench.py's rate
    keys), after the others."""
    port = free_port()
    users = os.path.join(work, "users")
    with open(users, "w") as f:
        f.write("%s:%s:%d:%d:%s\n" % (BENCH_USER, shadow_hash, uid, gid, root))
    os.chmod(users, 0o600)
    name = ("wardenftpd-tls" if pki else "wardenftpd") + tag
    conf = os.path.join(work, name + ".conf")
    with open(conf, "w") as f:
        # Every bench client comes from 127.0.0.1: per address, as many sessions as max_clients
        # (as vsftpd's max_per_ip and Pure-FTPd's -C here) and no connection rate limit (the
        # others have none); wardenftpd's defaults (20 sessions, 10 connections/s) would refuse
        # most of the bench's sessions.
        f.write("listen_address=127.0.0.1\nlisten_port=%d\nusers_file=%s\n"
                "secure_chroot_dir=%s/empty\nmax_clients=%d\nmax_per_ip=%d\n"
                "connect_rate_per_ip=0\nlog_level=warning\nlog_output=stderr\n"
                "control_socket=%s/%s.ctl\nban_state_file=%s/%s.bans\n"
                % (port, users, work, max_clients, max_clients, work, name, work, name))
        if PASV_RANGE:
            f.write("pasv_min_port=%d\npasv_max_port=%d\n" % PASV_RANGE)
        if anon_root:
            f.write("anonymous_enable=yes\nanon_user=ftp\nanon_root=%s\n" % anon_root)
        if pki:
            f.write("tls_enable=yes\ntls_cert_file=%s\ntls_key_file=%s\n" % (pki["cert"], pki["key"]))
            if tls_required:
                f.write("require_tls_login=yes\nrequire_tls_data=yes\nrequire_tls_session_reuse=yes\n")
            else:
                f.write("require_tls_login=no\nrequire_tls_data=no\nanon_require_tls=no\n")
        f.write(extra_config)
    log_path = os.path.join(work, name + ".log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([binary, "-c", conf], stderr=log)
    try:
        wait_port(port)
    except RuntimeError:
        proc.kill()
        proc.wait()
        raise RuntimeError("%s did not start; log:\n%s" % (name, log_tail(log_path)))
    return proc, port, log_path


def vsftpd_binary():
    binary = shutil.which("vsftpd") or "/usr/sbin/vsftpd"
    return binary if os.path.exists(binary) else None


def vsftpd_knows(binary, option):
    """Whether this vsftpd build has a config option (Debian 12's 3.0.3 has ssl_tlsv1 but not
    ssl_tlsv1_1/_2/_3, and refuses options it does not know)."""
    with open(binary, "rb") as f:
        return (b"\0" + option.encode() + b"\0") in f.read()


def start_vsftpd(work, root, pki=None, anon_root=None, max_clients=1000, tag="", tls_required=True):
    """vsftpd on a free port, configured like start_wardenftpd's (PKI, TLS_REQUIRED alike)."""
    binary = vsftpd_binary()
    if not binary:
        return None, None, None
    port = free_port()
    name = ("vsftpd-tls" if pki else "vsftpd") + tag
    conf = os.path.join(work, name + ".conf")
    empty = os.path.join(work, "vsftpd-empty")
    os.makedirs(empty, exist_ok=True)
    lines = [
        "listen=YES", "listen_ipv6=NO", "listen_address=127.0.0.1", "listen_port=%d" % port,
        "anonymous_enable=%s" % ("YES" if anon_root else "NO"), "local_enable=YES", "write_enable=YES", "chroot_local_user=YES",
        "allow_writeable_chroot=YES", "pam_service_name=vsftpd", "secure_chroot_dir=%s" % empty,
        "max_clients=%d" % max_clients, "max_per_ip=%d" % max_clients, "pasv_enable=YES", "seccomp_sandbox=%s" % ("YES" if os.environ.get("VSFTPD_SECCOMP") else "NO"),
        "xferlog_enable=NO", "background=NO", "local_root=%s" % root]
    if PASV_RANGE:
        lines += ["pasv_min_port=%d" % PASV_RANGE[0], "pasv_max_port=%d" % PASV_RANGE[1]]
    if anon_root:
        lines += ["anon_root=%s" % anon_root, "ftp_username=ftp", "no_anon_password=NO",
                  "anon_upload_enable=NO", "anon_mkdir_write_enable=NO"]
    if pki:
        # TLS 1.1 and later are left to OpenSSL's defaults unless this build has switches for them.
        force = "YES" if tls_required else "NO"
        lines += ["ssl_enable=YES", "rsa_cert_file=%s" % pki["cert"], "rsa_private_key_file=%s" % pki["key"],
                  # Without TLS_REQUIRED anonymous sessions may use TLS and need not.
                  "allow_anon_ssl=%s" % ("NO" if tls_required else "YES"), "force_anon_logins_ssl=NO",
                  "force_anon_data_ssl=NO", "force_local_logins_ssl=" + force,
                  "force_local_data_ssl=" + force,
                  "ssl_request_cert=NO",  # wardenftpd asks for no client certificate either
                  "require_ssl_reuse=" + force, "ssl_sslv2=NO", "ssl_sslv3=NO", "ssl_tlsv1=NO",
                  "ssl_ciphers=HIGH"]
        lines += ["%s=YES" % o for o in ("ssl_tlsv1_2", "ssl_tlsv1_3") if vsftpd_knows(binary, o)]
    else:
        lines.append("ssl_enable=NO")
    with open(conf, "w") as f:
        f.write("\n".join(lines + [""]))
    log_path = os.path.join(work, name + ".log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([binary, conf], stderr=log)
    try:
        wait_port(port)
    except RuntimeError:
        proc.kill()
        proc.wait()
        raise RuntimeError("%s did not start; log:\n%s" % (name, log_tail(log_path)))
    return proc, port, log_path


def find_pure_ftpd(option):
    """The pure-ftpd binary: OPTION (the binary, or a directory its Debian package was extracted
    into), or by default the copy extracted into PURE_FTPD_CACHE, else one on the PATH.
    Returns (binary or None, why not)."""
    if option is not None and option.strip().lower() in ("", "none", "no"):
        return None, "skipped (--pure-ftpd none)"
    if option:
        candidates = [option, os.path.join(option, "usr", "sbin", "pure-ftpd")]
    else:
        candidates = [os.path.join(PURE_FTPD_CACHE, "usr", "sbin", "pure-ftpd"),
                      shutil.which("pure-ftpd") or "/usr/sbin/pure-ftpd"]
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            try:
                result = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10)
            except (OSError, subprocess.TimeoutExpired) as e:
                return None, "%s does not run: %s" % (path, e)
            if not result.stdout.startswith("pure-ftpd v"):
                return None, "%s does not run: %s" % (path, (result.stderr or result.stdout).strip()[:300])
            return os.path.abspath(path), ""
    return None, "not found (%s)" % ", ".join(candidates)


def pure_ftpd_version(binary):
    """E.g. 'pure-ftpd v1.0.50 [privsep] (Debian package 1.0.50-2.1+b2)': its --help line and,
    for a copy extracted from Debian's package, the package version from its changelog."""
    result = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
    version = result.stdout.split("\n")[0].strip() or "?"
    top = os.path.dirname(os.path.dirname(os.path.dirname(binary)))  # .../usr/sbin/pure-ftpd
    for name in ("changelog.Debian.amd64.gz", "changelog.Debian.gz"):
        try:
            with gzip.open(os.path.join(top, "usr", "share", "doc", "pure-ftpd", name), "rt") as f:
                found = re.match(r"pure-ftpd \((\S+)\)", f.readline())
        except OSError:
            continue
        if found:
            return "%s (Debian package %s)" % (version, found.group(1))
    return version


def start_pure_ftpd(work, root, pki=None, anon_root=None, max_clients=1000, tag="",
                    tls_required=True, list_entries=0):
    """Pure-FTPd on a free port, configured by its command line like start_vsftpd's (PKI,
    TLS_REQUIRED, ANON_ROOT alike): unix authentication of the bench user against /etc/shadow
    (-l unix, or --pure-ftpd-auth pam), everyone chrooted to the home directory (the bench
    user's is ROOT), no reverse DNS (-H), no syslog (-f none), foreground, the same passive
    range, MAX_CLIENTS in all and per IP, its listing limit (10,000 files by default, which
    would cut the 10,000-entry listing short) raised above LIST_ENTRIES. Anonymous sessions are
    chrooted to the home directory of the system user ftp: for ANON_ROOT, Pure-FTPd runs in a
    private mount namespace where ANON_ROOT is bind-mounted over that directory, so /etc/passwd
    and the host's mounts stay as they are. Returns (process, port, log) or Nones without it."""
    if not PURE_FTPD:
        return None, None, None
    port = free_port()
    name = ("pure-ftpd-tls" if pki else "pure-ftpd") + tag
    command = [PURE_FTPD, "-S", "127.0.0.1,%d" % port, "-l", PURE_FTPD_AUTH, "-A", "-H",
               "-f", "none", "-g", os.path.join(work, name + ".pid"),
               "-c", str(max_clients), "-C", str(max_clients),
               "-L", "%d:5" % max(10000, list_entries + 100)]
    if PASV_RANGE:
        command += ["-p", "%d:%d" % PASV_RANGE]
        if max_clients > (PASV_RANGE[1] - PASV_RANGE[0] + 1) // 2:
            print("pure-ftpd  caps its clients at half the passive range: %d, not %d"
                  % ((PASV_RANGE[1] - PASV_RANGE[0] + 1) // 2, max_clients), flush=True)
    if anon_root:
        command.append("-i")  # anonymous users cannot upload (the root-owned anon root aside)
    else:
        command.append("-E")  # no anonymous logins
    if pki:
        # -Y 3: AUTH TLS before USER and PROT P for data; -Y 1: TLS offered, nothing required.
        command += ["-Y", "3" if tls_required else "1", "-2", "%s,%s" % (pki["cert"], pki["key"])]
    if anon_root:
        try:
            home = pwd.getpwnam("ftp").pw_dir
        except KeyError:
            raise RuntimeError("%s: no system user ftp, whose home Pure-FTPd serves anonymous "
                               "users from" % name)
        if not os.path.isdir(home) or not shutil.which("unshare"):
            raise RuntimeError("%s: the ftp user's home %s is not a directory, or no unshare "
                               "command" % (name, home))
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                   'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh", anon_root, home] + command
    log_path = os.path.join(work, name + ".log")
    with open(log_path, "w") as log:
        log.write("# %s\n" % " ".join(command))
        log.flush()
        # Its own process group: Pure-FTPd's session processes outlive the listener (stop()).
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
    OWN_GROUPS.add(proc.pid)
    try:
        wait_port(port)
    except RuntimeError:
        stop([(name, proc, port, log_path)])
        raise RuntimeError("%s did not start; log:\n%s" % (name, log_tail(log_path)))
    return proc, port, log_path


def pure_ftpd_notes():
    """What the report says about how Pure-FTPd was run and where it does not do quite the
    same as the others."""
    return [
        "Debian 12's package, extracted (`%s`), not installed (it conflicts with vsftpd in "
        "apt); its libraries (OpenSSL 3, libsodium, libcrypt, libcap, PAM) are the system's; started in the foreground entirely by command-line flags, no configuration file: "
        "`pure-ftpd -S 127.0.0.1,PORT -l %s -A -H -f none -g WORK/NAME.pid -c N -C N -L M:5 "
        "-p LOW:HIGH` and `-E` (no anonymous) for the plain and FTPS figures; `-i` instead "
        "(anonymous allowed, no anonymous upload) for the session model; for FTPS `-Y 3 -2 "
        "CERT,KEY` (AUTH TLS before USER, PROT P for data), and `-Y 1` (TLS offered, nothing "
        "required) for the TLS-configured PSS figure." % (PURE_FTPD_COMMANDS, PURE_FTPD_AUTH),
        "Authentication: " + ("`-l unix`: getspnam() and crypt() of the bench user's /etc/shadow "
                              "hash, as wardenftpd checks the same hash (vsftpd goes through PAM)."
                              if PURE_FTPD_AUTH == "unix" else
                              "`-l pam`: PAM service pure-ftpd, which without Debian's "
                              "pure-ftpd-common has no file of its own and is /etc/pam.d/other "
                              "(common-auth, -account, -password, -session), as vsftpd goes "
                              "through PAM (its stack adds pam_listfile and pam_shells)."),
        "Every user is chrooted to the home directory (`-A`: the bench user's home is the "
        "same root vsftpd's local_root and wardenftpd's users file name); no reverse DNS of "
        "the client (`-H`); no syslog (`-f none`); the pid file in the work directory (`-g`: "
        "the foreground server writes none but unlinks it at exit, by default /run's); `-c`/`-C` as the others' max_clients and "
        "max_per_ip. Pure-FTPd caps its clients at half the passive range (5,000 for "
        "50000-59999).",
        "Its listing limit (`-L`, 10,000 files by default) is raised above the directory's "
        "entries: at the default it cuts a 10,000-entry NLST and MLSD short (they also list "
        ". and .., which the check allows).",
        "Anonymous sessions: Pure-FTPd serves them from the home directory of the system user "
        "ftp and has no option for another root; it runs in a private mount namespace "
        "(`unshare --mount`) where the bench's read-only, root-owned anon root (vsftpd's "
        "anon_root, wardenftpd's) is bind-mounted over that directory, so all three chroot "
        "anonymous users into the same directory. It logs them in at `USER anonymous` (230, "
        "no password asked); the client sends PASS all the same (answered 230), so the "
        "commands and round trips are the same as for the others.",
        "Password logins: Pure-FTPd sleeps a random 0–15 ms (mean 7.5 ms) before checking each "
        "password (`usleep(rand() % 15000)`, no option to turn it off), which bounds one "
        "client's password logins/s whatever the hash costs.",
        "Its greeting (a 6-line 220 with the client count and local time) and its 221 are "
        "multi-line replies; the clients read whole replies from every server, and the greeting "
        "latency runs to the greeting's last line (sent in one write).",
        "STOR: Pure-FTPd writes the target file in place (no temporary file, no fsync), as "
        "vsftpd does; wardenftpd writes a temporary file, fsyncs and renames.",
        "FTPS: Pure-FTPd sends no TLS 1.3 session tickets (SSL_CTX_set_num_tickets(0)) and has "
        "no option to require session reuse, so with TLS 1.3 its PROT P data connections make "
        "a full handshake (the FTPS lines show 'session NOT resumed'); with TLS 1.2 they resume "
        "by session ID. Its TLS 1.2 cipher list is its built-in default (server preference, "
        "ChaCha20 first); no `-J`.",
        "Each session is two processes (the session and its privileged helper, a [privsep] "
        "build) and maps a scoreboard file in /run/pure-ftpd (removed at the end if the bench "
        "made the directory).",
    ]


def start_anchor(start, name, *args, **kwargs):
    """START(*ARGS, **KWARGS) for an anchor that may be missing or refuse a configuration:
    (process, port, log), or Nones after printing why and listing it as not measured."""
    try:
        return start(*args, **kwargs)
    except RuntimeError as e:
        print("%-10s not measured here: %s" % (name, e), flush=True)
        NOT_MEASURED.append("%s, one configuration: did not start: %s"
                            % (DISPLAY.get(name, name), str(e).split("\n")[0]))
        return None, None, None


def stop(servers):
    for _, proc, _, _ in servers:
        group = proc.pid in OWN_GROUPS
        if group:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        else:
            proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if group:
            # The listener's session processes (Pure-FTPd's) are left in its group: wait for
            # them (bounded), then kill what is left.
            deadline = time.time() + 10
            try:
                while time.time() < deadline:
                    os.killpg(proc.pid, 0)
                    time.sleep(0.1)
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            OWN_GROUPS.discard(proc.pid)


def measure_small(args, port, root, payload):
    """Median over args.runs of the small-file rates and the listing times."""
    retr, stor, listings = [], [], []
    for _ in range(args.runs):
        r, w = small_file_rates(port, root, args.files, payload)
        retr.append(r)
        stor.append(w)
        listings.append(listing_times(port, args.list_entries, 3))

    def median_ms(verb):
        values = [times[verb] for times in listings if times[verb] is not None]
        return statistics.median(values) if values else None

    samples = {"retr": retr, "stor": stor}
    for verb in ("NLST", "LIST", "MLSD"):
        samples[verb] = [times[verb] for times in listings if times[verb] is not None]
    return statistics.median(retr), statistics.median(stor), {
        verb: median_ms(verb) for verb in ("NLST", "LIST", "MLSD")}, samples


def fmt_ratio(a, b):
    return "%.2f" % (a / b) if a is not None and b else "n/a"


def fmt_ms(value):
    return "%7.1f ms" % value if value is not None else "    n/a   "


def run_plain(args, build, work, root, uid, gid, shadow_hash):
    size = args.size << 20
    data = os.path.join(work, "bench-src.bin")
    if not args.small_only:
        write_file(data, args.size)
        shutil.copy(data, os.path.join(root, "bench.bin"))
        os.chown(os.path.join(root, "bench.bin"), uid, gid)
    payload = make_small_files(root, uid, gid, args.files, args.file_kib, args.list_entries)
    servers = []
    try:
        w_proc, w_port, w_log = start_wardenftpd(os.path.join(build, "daemon", "wardenftpd"),
                                                 os.path.join(build, "tools", "wardenftpd-passwd"),
                                                 work, root, uid, gid, shadow_hash)
        servers.append(("wardenftpd", w_proc, w_port, w_log))
        v_proc, v_port, v_log = start_vsftpd(work, root)
        if v_proc:
            servers.append(("vsftpd", v_proc, v_port, v_log))
        p_proc, p_port, p_log = start_anchor(start_pure_ftpd, "pure-ftpd", work, root,
                                             list_entries=args.list_entries)
        if p_proc:
            servers.append(("pure-ftpd", p_proc, p_port, p_log))
        results = {}
        runs = {}
        small = {}
        bound = []  # the C sendfile bound, MB/s, one per round
        binary = bound_binary(build)
        if not args.small_only and not binary:
            NOT_MEASURED.append("C sendfile bound: no ftpbench-bound in %s or %s/build (cmake --build "
                                "BUILD --target ftpbench-bound)" % (build, TOP))
        expected = None if args.small_only else file_digest(data)
        print("small files: %d x %d KiB RETR, then STOR, in one session (PASV, binary); listing "
              "of a %d-entry directory; medians of %d runs"
              % (args.files, args.file_kib, args.list_entries, args.runs), flush=True)
        # RUNS rounds of sessions/s, logins/s, RETR and STOR (curl, then the raw client's STOR
        # split into transfer and commit), the servers taking turns in each, then the C sendfile
        # bound, so that a change in the machine's load falls on all three alike.
        for round_number in range(0 if args.small_only else args.runs):
            for name, _, port, _ in servers:
                sessions, e1 = session_rate(port, args.seconds, args.clients, login=False)
                logins, e2 = session_rate(port, args.seconds, args.clients, login=True)
                retr, stor = transfer_rates(port, data, size, root)
                if round_number == 0:
                    verify_data(port, expected, root)  # the same bytes, both ways (not timed)
                sending, commit = stor_phases(port, data, size, root)
                values = (sessions, logins, retr, stor, size / (sending + commit) / 1e6,
                          size / sending / 1e6, commit * 1000)
                for i, value in enumerate(values):
                    runs.setdefault(name, tuple([] for _ in values))[i].append(value)
                print("%-10s sessions/s %7.1f  logins/s %6.1f  RETR %7.1f MB/s  STOR %7.1f MB/s  "
                      "STOR raw %7.1f MB/s (to data sent %7.1f MB/s, commit %7.1f ms)  errors %d  "
                      "(round %d)" % ((name,) + values + (e1 + e2, round_number + 1)), flush=True)
            if binary:
                rate, _, _ = measure_bound(binary, ["sendfile", os.path.join(root, "bench.bin")], size)
                bound.append(rate)
                print("%-10s sendfile %d MiB over loopback TCP: %7.1f MB/s  (round %d)"
                      % ("C bound", args.size, rate, round_number + 1), flush=True)
        for name, lists in runs.items():
            results[name] = tuple(statistics.median(values) for values in lists)
        for name, _, port, _ in servers:
            small[name] = measure_small(args, port, root, payload)
            retr_files, stor_files, listing, _ = small[name]
            print("%-10s small RETR %7.1f files/s  small STOR %7.1f files/s  NLST %s  LIST %s  "
                  "MLSD %s" % (name, retr_files, stor_files, fmt_ms(listing["NLST"]),
                               fmt_ms(listing["LIST"]), fmt_ms(listing["MLSD"])), flush=True)
    finally:
        stop(servers)
    for path in (data, os.path.join(root, "bench.bin"), os.path.join(root, "upload.bin")):
        if os.path.exists(path):
            os.unlink(path)
    for directory in ("small", "list", "upload-small"):
        shutil.rmtree(os.path.join(root, directory), ignore_errors=True)
    if runs:
        add_row("sessions/s, %d clients (220, QUIT, no login)" % args.clients, "sessions/s",
                {n: r[0] for n, r in runs.items()}, "%g s per run" % args.seconds)
        add_row("password (yescrypt) logins/s, %d clients" % args.clients, "logins/s",
                {n: r[1] for n, r in runs.items()}, "%g s per run" % args.seconds
                + (PURE_FTPD_DELAY_NOTE if "pure-ftpd" in runs else ""))
        if bound:
            add_row("C sendfile bound: %d MiB over loopback TCP" % args.size, "MB/s", {},
                    "ftpbench-bound sendfile: a page-cache-warm file sendfile()d (1 MiB calls), "
                    "read() and discarded by another process; once per round", bound=bound)
        add_row("RETR %d MiB plain (curl)" % args.size, "MB/s", {n: r[2] for n, r in runs.items()},
                "page cache warm; from curl's pretransfer time; bound: the C sendfile bound",
                bound=bound)
        add_row("STOR %d MiB plain (curl)" % args.size, "MB/s", {n: r[3] for n, r in runs.items()},
                "from curl's pretransfer time")
        add_row("STOR %d MiB plain (raw client), 150 to 226" % args.size, "MB/s",
                {n: r[4] for n, r in runs.items()},
                "EPSV, python client sendfile()s the file; wardenftpd fsyncs before the 226, "
                "vsftpd and Pure-FTPd do not")
        add_row("STOR %d MiB plain (raw client): 150 to data sent" % args.size, "MB/s",
                {n: r[5] for n, r in runs.items()},
                "until the client has sent the last byte and shut the data connection down")
        add_row("STOR %d MiB plain (raw client): data sent to 226 (commit)" % args.size, "ms",
                {n: r[6] for n, r in runs.items()},
                "the server reading what was left in the socket buffers, then wardenftpd's fsync "
                "and rename (vsftpd, Pure-FTPd: no fsync, the file written in place); wardenftpd "
                "starts writeback every 8 MiB during the "
                "transfer (sync_file_range), so most of its disk writing falls in the transfer part",
                better="lower")
    if small:
        add_row("%d x %d KiB RETR in one session" % (args.files, args.file_kib), "files/s",
                {n: r[3]["retr"] for n, r in small.items()}, "PASV, python raw-socket client")
        add_row("%d x %d KiB STOR in one session" % (args.files, args.file_kib), "files/s",
                {n: r[3]["stor"] for n, r in small.items()}, "PASV, python raw-socket client")
        for verb in ("NLST", "LIST", "MLSD"):
            add_row("%s of %d entries" % (verb, args.list_entries), "ms",
                    {n: r[3][verb] for n, r in small.items()}, "PASV to 226, median of 3 per run",
                    better="lower")
            for n, r in small.items():
                if not r[3][verb]:
                    NOT_MEASURED.append("%s of %s: the server has no such command" % (verb, n))
    for anchor in ANCHORS:
        if anchor not in results or "wardenftpd" not in results:
            continue
        w, v = results["wardenftpd"], results[anchor]
        print("ratio wardenftpd/%s (medians): sessions %s  logins %s  RETR %s  STOR %s  "
              "STOR raw %s  commit (time) %s"
              % ((DISPLAY[anchor],) + tuple(fmt_ratio(w[i], v[i]) for i in (0, 1, 2, 3, 4, 6))))
    if bound and results:
        print("RETR / C sendfile bound (medians, bound %.1f MB/s): %s"
              % (statistics.median(bound), "  ".join("%s %.2f" % (n, r[2] / statistics.median(bound))
                                                    for n, r in results.items())))
    for anchor in ANCHORS:
        if anchor not in small or "wardenftpd" not in small:
            continue
        w, v = small["wardenftpd"], small[anchor]
        listing = "  ".join("%s %s" % (verb, fmt_ratio(w[2][verb], v[2][verb]))
                            for verb in ("NLST", "LIST", "MLSD") if w[2][verb] and v[2][verb])
        print("ratio wardenftpd/%s: small RETR %s  small STOR %s  (time) %s"
              % (DISPLAY[anchor], fmt_ratio(w[0], v[0]), fmt_ratio(w[1], v[1]), listing))


def curl_args_for(version, cipher):
    """curl options that force one TLS version and cipher (suite)."""
    if version == "TLSv1.3":
        return ["--tlsv1.3", "--tls13-ciphers", cipher]
    if version == "TLSv1.2":
        return ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", cipher]
    raise RuntimeError("no curl options for " + version)


def fmt_params(params):
    return " ".join(params) if params else "?"


def measure_tls_transfers(label, name, port, log_path, data, size, pki, root, tls_args, results):
    try:
        retr, stor, data_params, resumed, prot_p = tls_transfer_rates(port, data, size, pki["ca"],
                                                                      root, tls_args)
    except Exception as e:
        print("%-10s FTPS transfer FAILED (%s): %s\n  %s log:\n    %s"
              % (name, label, e, name, log_tail(log_path).replace("\n", "\n    ")), flush=True)
        return None
    results[(name, label)] = (retr, stor)
    print("%-10s [%s] RETR %7.1f MB/s  STOR %7.1f MB/s  data %s, %s, %s"
          % (name, label, retr, stor, " / ".join(fmt_params(p) for p in data_params),
             "PROT P" if prot_p else "PROT P NOT SEEN",
             "session resumed" if resumed else "session NOT resumed"), flush=True)
    return data_params


def tls_bound(binary, pki, mib, params):
    """The C TLS bound in MB/s for PARAMS (version, cipher): ftpbench-bound pushing MIB MiB through
    one TLS connection over loopback TCP with the bench's certificate; checks what it negotiated."""
    version, cipher = params
    if version not in ("TLSv1.3", "TLSv1.2"):
        raise RuntimeError("no ftpbench-bound option for " + version)
    rate, got_version, got_cipher = measure_bound(
        binary, ["tls", pki["cert"], pki["key"], str(mib),
                 "--tls13" if version == "TLSv1.3" else "--tls12", cipher], mib << 20)
    if (got_version, got_cipher) != params:
        raise RuntimeError("ftpbench-bound negotiated %s %s, not %s" % (got_version, got_cipher,
                                                                       fmt_params(params)))
    return rate


def run_tls(args, build, work, root, uid, gid, shadow_hash):
    size = args.tls_size << 20
    pki = make_pki(os.path.join(work, "pki"))
    data = os.path.join(work, "bench-tls-src.bin")
    write_file(data, args.tls_size)
    shutil.copy(data, os.path.join(root, "bench-tls.bin"))
    os.chown(os.path.join(root, "bench-tls.bin"), uid, gid)  # both copies now in the page cache
    print("FTPS (AUTH TLS, PROT P, session reuse required; Pure-FTPd has no such option): %d MiB RETR/STOR with curl, "
          "TLS logins %d clients x %g s with python ftplib" % (args.tls_size, args.clients, args.seconds),
          flush=True)
    servers = []
    results = {}
    data_params = {}
    bounds = {}  # (version, cipher) -> the C TLS bound's samples, MB/s (None: it failed)
    label_params = {}
    try:
        w_proc, w_port, w_log = start_wardenftpd(os.path.join(build, "daemon", "wardenftpd"),
                                                 os.path.join(build, "tools", "wardenftpd-passwd"),
                                                 work, root, uid, gid, shadow_hash, pki)
        servers.append(("wardenftpd", w_proc, w_port, w_log))
        try:
            v_proc, v_port, v_log = start_vsftpd(work, root, pki)
        except RuntimeError as e:  # e.g. a vsftpd build that refuses one of the TLS options
            print("vsftpd     FTPS not measured: %s" % e, flush=True)
            v_proc = None
        if v_proc:
            servers.append(("vsftpd", v_proc, v_port, v_log))
        p_proc, p_port, p_log = start_anchor(start_pure_ftpd, "pure-ftpd", work, root, pki)
        if p_proc:
            servers.append(("pure-ftpd", p_proc, p_port, p_log))
        login_servers = list(servers)
        if args.baseline:
            # Another build of wardenftpd (e.g. the commit before a change), for TLS logins only.
            b_proc, b_port, b_log = start_wardenftpd(
                os.path.join(args.baseline, "daemon", "wardenftpd"),
                os.path.join(args.baseline, "tools", "wardenftpd-passwd"),
                work, root, uid, gid, shadow_hash, pki, tag="-baseline")
            servers.append(("baseline", b_proc, b_port, b_log))
            login_servers.append(servers[-1])
        for name, _, port, log_path in login_servers:
            print("%-10s handshake for openssl s_client's default offer: %s"
                  % (name, tls_probe(port, pki["ca"])), flush=True)
        # TLS logins: RUNS rounds, the servers taking turns within each round, so that a change
        # in the machine's load falls on all of them alike; median and spread per server.
        rates = {name: [] for name, _, _, _ in login_servers}
        for round_number in range(args.runs):
            for name, _, port, log_path in login_servers:
                logins, errors, first_error, control = tls_login_rate(
                    port, args.seconds, args.clients, pki["ca"], args.tls_login_group)
                rates[name].append(logins)
                print("%-10s TLS logins/s %6.1f  errors %d  control %s %s%s  (round %d)"
                      % (name, logins, errors, fmt_params(control),
                         args.tls_login_group or "(default groups)",
                         "  first error: %s" % first_error if first_error else "", round_number + 1),
                      flush=True)
                if errors:
                    print("  %s log:\n    %s" % (name, log_tail(log_path).replace("\n", "\n    ")), flush=True)
        add_row("TLS password (yescrypt) logins/s, %d clients" % args.clients, "logins/s", rates,
                "AUTH TLS (full handshake, %s), USER, PASS, QUIT; python ftplib"
                % (args.tls_login_group or "default groups")
                + (PURE_FTPD_DELAY_NOTE if "pure-ftpd" in rates else ""))
        for name, values in rates.items():
            results[(name, "logins")] = (statistics.median(values),)
            print("%-10s TLS logins/s median %6.1f  min %6.1f  max %6.1f  (%d runs)"
                  % (name, statistics.median(values), min(values), max(values), len(values)), flush=True)
        binary = bound_binary(build)
        if not binary:
            NOT_MEASURED.append("C TLS bound: no ftpbench-bound in %s or %s/build (cmake --build "
                                "BUILD --target ftpbench-bound)" % (build, TOP))

        def take_bound(label, params):
            """One sample of the C TLS bound with PARAMS, right after a server's transfers for
            LABEL, so the bound sees the same moment's load; its spread shows how much that
            load moved."""
            label_params[label] = params
            if not binary or (params in bounds and bounds[params] is None):
                return  # not built, or it already failed with these parameters
            try:
                rate = tls_bound(binary, pki, args.tls_size, params)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print("C bound    TLS %s FAILED: %s" % (fmt_params(params), e), flush=True)
                NOT_MEASURED.append("C TLS bound, %s: %s" % (fmt_params(params), e))
                bounds[params] = None
                return
            bounds.setdefault(params, []).append(rate)
            print("%-10s TLS %d MiB from memory over loopback TCP, %s: %7.1f MB/s"
                  % ("C bound", args.tls_size, fmt_params(params), rate), flush=True)

        # wardenftpd first: the bound after each server's transfers uses the version and cipher
        # wardenftpd's data connections negotiated (what the issue's 0.8 target is about).
        for name, _, port, log_path in servers:
            if name == "baseline":
                continue
            data_params[name] = measure_tls_transfers("default", name, port, log_path, data, size, pki,
                                                      root, [], results)
            w_params = data_params.get("wardenftpd")
            take_bound("default", w_params[0] if w_params and len(w_params) == 1 else TLS_BOUND_DEFAULT)
        # Like with like: wardenftpd again with the parameters an anchor chose, if they differ
        # (once for both anchors when they chose the same).
        w_params = data_params.get("wardenftpd")
        matched = {}  # anchor -> the label of wardenftpd's transfers with its parameters
        for anchor in ANCHORS:
            a_params = data_params.get(anchor)
            if not (w_params and a_params and w_params != a_params and len(a_params) == 1):
                continue
            same = [label for other, label in matched.items() if data_params.get(other) == a_params]
            if same:
                matched[anchor] = same[0]
                continue
            matched[anchor] = "as %s: %s" % (DISPLAY[anchor], fmt_params(a_params[0]))
            measure_tls_transfers(matched[anchor], "wardenftpd", w_port, w_log, data, size, pki,
                                  root, curl_args_for(*a_params[0]), results)
            take_bound(matched[anchor], a_params[0])
        if args.tls12:
            for name, _, port, log_path in servers:
                measure_tls_transfers("TLSv1.2 " + TLS12_CIPHER, name, port, log_path, data, size, pki,
                                      root, curl_args_for("TLSv1.2", TLS12_CIPHER), results)
                take_bound("TLSv1.2 " + TLS12_CIPHER, ("TLSv1.2", TLS12_CIPHER))
    finally:
        stop(servers)
    labels = ["default"] + [k[1] for k in results if k[1].startswith(("as ", "TLSv1.2"))]
    for params, rates in bounds.items():
        if rates:
            add_row("C TLS bound: %d MiB, %s, over loopback TCP" % (args.tls_size, fmt_params(params)),
                    "MB/s", {}, "ftpbench-bound tls: SSL_write of 256 KiB from memory, SSL_read and "
                    "discard in another process; one sample after each server's transfers",
                    bound=rates)
    for label in sorted(set(labels), key=labels.index):
        found = {n: [results[(n, label)][0]] for n in ("wardenftpd",) + ANCHORS if (n, label) in results}
        if found:
            suffix = "" if label == "default" else ", " + label
            params = label_params.get(label)
            rates = bounds.get(params)
            add_row("RETR %d MiB PROT P (curl)%s" % (args.tls_size, suffix), "MB/s", found,
                    "one run" + ("; bound: the C TLS bound with %s" % fmt_params(params) if rates else ""),
                    bound=rates)
            add_row("STOR %d MiB PROT P (curl)%s" % (args.tls_size, suffix), "MB/s",
                    {n: [results[(n, label)][1]] for n in found},
                    "one run" + ("; Pure-FTPd writes the file in place, no fsync" if "pure-ftpd" in found
                                 else ""))
            if rates:
                rate = statistics.median(rates)
                print("RETR PROT P%s / C TLS bound (%s, median %.1f MB/s of %s): %s  (issue's target: "
                      "wardenftpd at least %.1f)"
                      % (suffix, fmt_params(params), rate, ", ".join("%.1f" % r for r in rates),
                         "  ".join("%s %.2f" % (n, v[0] / rate) for n, v in found.items()),
                         TLS_BOUND_TARGET), flush=True)
    def ratio(w_key, v_key, index):
        w, v = results.get(w_key), results.get(v_key)
        return "%.2f" % (w[index] / v[index]) if w and v and v[index] else "n/a"

    for anchor in ANCHORS:
        if (anchor, "logins") not in results:
            continue
        name = DISPLAY[anchor]
        if ("baseline", "logins") in results:
            print("ratio wardenftpd/baseline (FTPS): TLS logins %s; baseline/%s: TLS logins %s"
                  % (ratio(("wardenftpd", "logins"), ("baseline", "logins"), 0), name,
                     ratio(("baseline", "logins"), (anchor, "logins"), 0)))
        print("ratio wardenftpd/%s (FTPS): TLS logins %s  RETR %s  STOR %s"
              % (name, ratio(("wardenftpd", "logins"), (anchor, "logins"), 0),
                 ratio(("wardenftpd", "default"), (anchor, "default"), 0),
                 ratio(("wardenftpd", "default"), (anchor, "default"), 1)))
        if anchor in matched:
            print("ratio wardenftpd/%s (FTPS, same TLS parameters, %s): RETR %s  STOR %s"
                  % (name, matched[anchor], ratio(("wardenftpd", matched[anchor]), (anchor, "default"), 0),
                     ratio(("wardenftpd", matched[anchor]), (anchor, "default"), 1)))
        if args.tls12:
            key = "TLSv1.2 " + TLS12_CIPHER
            print("ratio wardenftpd/%s (FTPS, %s): RETR %s  STOR %s"
                  % (name, key, ratio(("wardenftpd", key), (anchor, key), 0),
                     ratio(("wardenftpd", key), (anchor, key), 1)))


# ---- The session model (issue 16): logins at 1/2/16 clients, greeting latency, PSS per session,
# ---- and the client's own ceiling against an in-process responder that does no work.

def read_reply(f):
    """The last line of one (possibly multi-line) reply; bounded by the reply's lines."""
    line = f.readline()
    if len(line) < 4:
        raise RuntimeError("connection closed")
    code = line[:3]
    for _ in range(1000):
        if line[3:4] != b"-" and line[:3] == code:
            return line
        line = f.readline()
        if not line:
            raise RuntimeError("connection closed in a reply")
    raise RuntimeError("reply longer than 1000 lines")


def ftp_login(port, user, password, timeout=10):
    """connect, 220, USER, PASS, 230; returns the socket and its reader, logged in. Pure-FTPd
    logs anonymous users in at USER (230, no password asked); PASS is sent all the same (it
    answers 230 again), so every server gets the same commands and round trips."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        f = s.makefile("rb")
        if not read_reply(f).startswith(b"220"):
            raise RuntimeError("no greeting")
        s.sendall(("USER %s\r\n" % user).encode())
        reply = read_reply(f)
        if not (reply.startswith(b"331") or (user == ANON_USER and reply.startswith(b"230"))):
            raise RuntimeError("USER not answered 331: %r" % reply)
        s.sendall(("PASS %s\r\n" % password).encode())
        reply = read_reply(f)
        if not reply.startswith(b"230"):
            raise RuntimeError("login failed: %r" % reply)
        return s, f
    except BaseException:
        s.close()
        raise


def verify_anon(name, port, expected):
    """Not timed, once per server instance: an anonymous session (USER, PASS, TYPE I) sees the
    bench's anon root (RETR /README gives EXPECTED) and may not upload there."""
    client = RawFtp(port)
    try:
        client.cmd("USER " + ANON_USER, (230, 331))  # Pure-FTPd: 230 at USER
        client.cmd("PASS " + ANON_PASSWORD, (230,))
        client.cmd("TYPE I", (200,))
        if client.transfer("RETR /README") != expected:
            raise RuntimeError("%s: anonymous RETR /README is not the bench's anon root's" % name)
        try:
            client.transfer("STOR /upload-test", b"x")
        except ReplyError:
            pass  # refused, before or after the data connection
        else:
            raise RuntimeError("%s: an anonymous STOR was accepted" % name)
    finally:
        client.close()


def login_rate(port, seconds, clients, user, password):
    """Logins/s: connect, USER, PASS, QUIT (221 read), CLIENTS threads for SECONDS.
    Returns (rate, errors, first error)."""
    count, errors, first_error = [0], [0], [None]
    lock = threading.Lock()
    deadline = time.time() + seconds

    def worker():
        for _ in range(MAX_SESSIONS_PER_CLIENT):
            if time.time() >= deadline:
                break
            try:
                s, f = ftp_login(port, user, password)
                with s:
                    s.sendall(b"QUIT\r\n")
                    read_reply(f)
                with lock:
                    count[0] += 1
            except Exception as e:
                with lock:
                    errors[0] += 1
                    first_error[0] = first_error[0] or "%s: %s" % (type(e).__name__, e)
                time.sleep(0.01)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)
    return count[0] / (time.time() - start), errors[0], first_error[0]


class Responder:
    """A minimal FTP responder in this process (one thread per connection): 220 at once, then 331
    to USER, 230 to PASS, 221 to QUIT, no other work. The login loop against it is the client's
    own ceiling. Connections are bounded by the accept timeout and a per-connection line bound."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(512)
        self.listener.settimeout(0.5)
        self.port = self.listener.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        while self.running:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    @staticmethod
    def serve(conn):
        replies = {b"USER": b"331 Password.\r\n", b"PASS": b"230 Logged in.\r\n", b"QUIT": b"221 Bye.\r\n"}
        try:
            conn.settimeout(30)
            f = conn.makefile("rb")
            conn.sendall(b"220 responder\r\n")
            for _ in range(100):
                line = f.readline()
                if not line:
                    break
                verb = line[:4].upper()
                conn.sendall(replies.get(verb, b"502 No.\r\n"))
                if verb == b"QUIT":
                    break
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.running = False
        self.thread.join(5)
        self.listener.close()


def greeting_latency(port, count, seconds):
    """Milliseconds from connect() to the end of the 220 reply (its last line: Pure-FTPd's has
    several, sent at once), one client, up to COUNT connections within SECONDS; each connection
    then sends QUIT and reads the 221. Returns (samples, errors)."""
    samples, errors = [], 0
    deadline = time.time() + seconds
    for _ in range(count):
        if time.time() >= deadline:
            break
        try:
            start = time.perf_counter()
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                f = s.makefile("rb")
                line = read_reply(f)
                elapsed = time.perf_counter() - start
                if not line.startswith(b"220"):
                    raise RuntimeError("no greeting")
                s.sendall(b"QUIT\r\n")
                read_reply(f)
            samples.append(elapsed * 1000)
        except Exception:
            errors += 1
            time.sleep(0.01)
    return samples, errors


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(fraction * len(ordered) + 0.5)) - 1))]


def process_tree(root_pid):
    """ROOT_PID and all its descendants (from /proc/*/stat)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root_pid]
    while todo and len(tree) < 100000:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def tree_pss_kib(root_pid):
    """Sum of smaps_rollup Pss over ROOT_PID's tree; (KiB, processes)."""
    total, processes = 0, 0
    for pid in process_tree(root_pid):
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                match = re.search(r"^Pss:\s+(\d+) kB", f.read(), re.M)
        except OSError:  # gone meanwhile, or a kernel thread
            continue
        if match:
            total += int(match.group(1))
            processes += 1
    return total, processes


def session_pss(server_pid, port, sessions, seconds, user, password, openers=16):
    """Open SESSIONS logged-in sessions (OPENERS threads, within SECONDS), wait until the server's
    process count settles, and return (KiB per session, sessions opened, processes, idle KiB,
    first error, timing: what the opening and the closing took, and whether every session
    process was reaped). Every session is closed at the end, and the server's reaping waited for
    (bounded: 30 s, or 1 s per 50 sessions for more than 1,500)."""
    idle_kib, idle_processes = tree_pss_kib(server_pid)
    opened, lock = [], threading.Lock()
    errors, first_error = [0], [None]
    started = time.time()
    deadline = started + seconds
    timing = []

    def opener():
        for _ in range(sessions):
            with lock:
                if len(opened) >= sessions or errors[0] > 50:
                    return
            if time.time() >= deadline:
                return
            try:
                s, _ = ftp_login(port, user, password, timeout=30)
            except Exception as e:
                with lock:
                    errors[0] += 1
                    first_error[0] = first_error[0] or "%s: %s" % (type(e).__name__, e)
                time.sleep(0.05)
                continue
            with lock:
                if len(opened) < sessions:
                    opened.append(s)
                    continue
            s.close()

    try:
        threads = [threading.Thread(target=opener, daemon=True) for _ in range(openers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0, deadline - time.time()) + 60)
        timing.append("opened in %.1f s" % (time.time() - started))
        # Let the sessions go idle: the process count stops changing (bounded to 10 s).
        last = None
        for _ in range(20):
            time.sleep(0.5)
            count = len(process_tree(server_pid))
            if count == last:
                break
            last = count
        busy_kib, processes = tree_pss_kib(server_pid)
        n = len(opened)
        per_session = (busy_kib - idle_kib) / n if n else None
        return per_session, n, processes - idle_processes, idle_kib, first_error[0], timing
    finally:
        closing = time.time()
        for s in opened:
            try:
                s.close()
            except OSError:
                pass
        # Wait (bounded) for the server to reap the sessions before the next measurement; one
        # look at /proc costs more with every process, hence the time bound, not a count.
        reap_deadline = closing + max(30, sessions / 50)
        left = len(process_tree(server_pid)) - idle_processes
        while left > 0 and time.time() < reap_deadline:
            time.sleep(0.5)
            left = len(process_tree(server_pid)) - idle_processes
        if left > 0:
            timing.append("NOT all reaped: %d processes left after %.0f s" % (left, time.time() - closing))
        else:
            timing.append("closed and reaped in %.1f s" % (time.time() - closing))


def stats(values):
    return statistics.median(values), min(values), max(values)


def fmt_stats(values, digits=1):
    if not values:
        return "n/a"
    m, lo, hi = stats(values)
    return "%.*f (%.*f-%.*f)" % (digits, m, digits, lo, digits, hi)


def measure_pss(args, servers, kind):
    """PSS per idle anonymous session at each --pss-sessions count, RUNS rounds, SERVERS taking
    turns in each; one report row per count (KIND names the configuration, '' for plain)."""
    for sessions in args.pss_sessions:
        per, per_process = {}, {}
        for round_number in range(args.runs):
            for name, proc, port, log_path in servers:
                value, n, processes, idle, first_error, timing = session_pss(
                    proc.pid, port, sessions, args.pss_seconds or max(120, sessions * 0.04),
                    ANON_USER, ANON_PASSWORD)
                if n < sessions:
                    print("%-10s PSS%s at %d sessions NOT measured: only %d sessions opened (%s)%s\n"
                          "  %s log:\n    %s"
                          % (name, " (%s)" % kind if kind else "", sessions, n, ", ".join(timing),
                             "; first error: %s" % first_error if first_error else "", name,
                             log_tail(log_path).replace("\n", "\n    ")), flush=True)
                    NOT_MEASURED.append("PSS of %s%s at %d sessions, round %d: only %d sessions opened%s"
                                        % (name, " (%s)" % kind if kind else "", sessions,
                                           round_number + 1, n,
                                           "; first error: %s" % first_error if first_error else ""))
                    continue
                per.setdefault(name, []).append(value)
                per_process[name] = processes / n
                print("%-10s PSS per idle session%s at %d sessions: %7.1f KiB  (%d session "
                      "processes, idle server %d KiB, %s, round %d)"
                      % (name, " (%s)" % kind if kind else "", sessions, value, processes, idle,
                         ", ".join(timing), round_number + 1), flush=True)
        add_row("PSS per idle anonymous session, %s%d sessions" % (kind + ", " if kind else "", sessions),
                "KiB", per,
                "smaps_rollup Pss of the server's process tree, minus the idle server's, / N; "
                "processes per session: %s" % ", ".join("%s %.1f" % (DISPLAY.get(name, name), value)
                                                         for name, value in per_process.items())
                + ("; every server with a certificate and AUTH TLS offered, the sessions plain "
                   "logins" if kind else ""),
                better="lower")


def run_sessions(args, build, work, uid, gid):
    """The session-model figures, both servers started afresh with anonymous logins enabled, the
    same users and hash (--hash), the same passive range, max_clients raised for the PSS figure."""
    root = os.path.join(work, "root")
    anon = os.path.join(work, "anon")
    os.makedirs(anon, exist_ok=True)  # owned by root, 0755: read-only for both servers
    os.chmod(anon, 0o755)
    with open(os.path.join(anon, "README"), "w") as f:
        f.write("ftpbench\n")
    method = {"sha512": "SHA512", "yescrypt": "YESCRYPT"}[args.hash]
    _, _, shadow_hash = ensure_system_user(root, method)
    prefix = {"sha512": "$6$", "yescrypt": "$y$"}[args.hash]
    if not shadow_hash.startswith(prefix):
        print("sessions: the %s hash was not set (got %s...); password logins not comparable"
              % (args.hash, shadow_hash[:4]), flush=True)
    max_clients = max(args.pss_sessions + [1000]) + 100
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max_clients * 2 + 1024
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, soft), max(want, hard)))
    print("session model: anonymous and password (%s, the same hash for all) logins/s at %s "
          "clients, %g s x %d runs; greeting latency over %d connections; PSS per idle "
          "anonymous session at %s sessions; client ceiling against an in-process responder"
          % (args.hash, "/".join(map(str, args.login_clients)), args.seconds, args.runs,
             args.greetings, "/".join(map(str, args.pss_sessions))), flush=True)
    servers = []
    responder = None
    first_row = len(ROWS)
    try:
        w_proc, w_port, w_log = start_wardenftpd(os.path.join(build, "daemon", "wardenftpd"),
                                                 os.path.join(build, "tools", "wardenftpd-passwd"),
                                                 work, root, uid, gid, shadow_hash, tag="-sessions",
                                                 anon_root=anon, max_clients=max_clients)
        servers.append(("wardenftpd", w_proc, w_port, w_log))
        v_proc, v_port, v_log = start_vsftpd(work, root, anon_root=anon, max_clients=max_clients,
                                             tag="-sessions")
        if v_proc:
            servers.append(("vsftpd", v_proc, v_port, v_log))
        else:
            print("vsftpd     not installed: no ratios to it", flush=True)
        p_proc, p_port, p_log = start_anchor(start_pure_ftpd, "pure-ftpd", work, root,
                                             anon_root=anon, max_clients=max_clients,
                                             tag="-sessions")
        if p_proc:
            servers.append(("pure-ftpd", p_proc, p_port, p_log))
        for name, _, port, _ in servers:
            verify_anon(name, port, b"ftpbench\n")
        responder = Responder()
        targets = servers + [("client", None, responder.port, None)]
        kinds = [("anonymous", ANON_USER, ANON_PASSWORD), (args.hash, BENCH_USER, BENCH_PASSWORD)]
        rates = {}
        # RUNS rounds; in each round the targets take turns, so load changes fall on all alike.
        for round_number in range(args.runs):
            for kind, user, password in kinds:
                for clients in args.login_clients:
                    for name, _, port, log_path in targets:
                        rate, errors, first_error = login_rate(port, args.seconds, clients, user, password)
                        rates.setdefault((kind, clients, name), []).append(rate)
                        print("%-10s %s logins/s, %2d clients: %7.1f  errors %d%s  (round %d)"
                              % (name, kind, clients, rate, errors,
                                 "  first error: %s" % first_error if first_error else "",
                                 round_number + 1), flush=True)
        for kind, _, _ in kinds:
            for clients in args.login_clients:
                add_row("%s logins/s, %d client%s" % ("anonymous" if kind == "anonymous" else
                                                      "password (%s)" % kind, clients,
                                                      "" if clients == 1 else "s"), "logins/s",
                        {name: rates[(kind, clients, name)] for name, _, _, _ in targets},
                        "connect, USER, PASS, QUIT; %g s per run" % args.seconds
                        + (("; Pure-FTPd logs anonymous users in at USER (230) and answers the "
                            "PASS sent all the same with 230" if kind == "anonymous"
                            else PURE_FTPD_DELAY_NOTE) if p_proc else ""))
        # Greeting latency: one client, RUNS runs of up to --greetings connections each.
        p50s, p99s = {}, {}
        for round_number in range(args.runs):
            for name, _, port, _ in targets:
                samples, errors = greeting_latency(port, args.greetings, max(args.seconds * 10, 30))
                if not samples:
                    print("%-10s greeting latency: no sample (%d errors)" % (name, errors), flush=True)
                    continue
                p50s.setdefault(name, []).append(percentile(samples, 0.50))
                p99s.setdefault(name, []).append(percentile(samples, 0.99))
                print("%-10s connect to 220: p50 %6.2f ms  p99 %6.2f ms  (%d connections, %d errors, "
                      "round %d)" % (name, p50s[name][-1], p99s[name][-1], len(samples), errors,
                                     round_number + 1), flush=True)
        note = "one client, up to %d connections per run" % args.greetings
        add_row("connect to `220` greeting, p50", "ms", p50s, note, better="lower")
        add_row("connect to `220` greeting, p99", "ms", p99s, note, better="lower")
        responder.close()
        responder = None
        # PSS per idle logged-in (anonymous) session, first with TLS off in both configurations.
        if "plain" in args.pss_configs:
            measure_pss(args, servers, "")
        stop(servers)
        servers = []
        # Then both servers configured for TLS (certificate and key loaded, AUTH TLS offered)
        # with the sessions still plain anonymous logins: wardenftpd execs another session image
        # when TLS is configured, so the two figures differ.
        if "tls" in args.pss_configs and args.pss_sessions:
            pki = make_pki(os.path.join(work, "pki-sessions"))
            w_proc, w_port, w_log = start_wardenftpd(
                os.path.join(build, "daemon", "wardenftpd"), os.path.join(build, "tools", "wardenftpd-passwd"),
                work, root, uid, gid, shadow_hash, pki=pki, tag="-sessions", anon_root=anon,
                max_clients=max_clients, tls_required=False)
            servers.append(("wardenftpd", w_proc, w_port, w_log))
            try:
                v_proc, v_port, v_log = start_vsftpd(work, root, pki=pki, anon_root=anon,
                                                     max_clients=max_clients, tag="-sessions",
                                                     tls_required=False)
            except RuntimeError as e:
                print("vsftpd     TLS-configured PSS not measured: %s" % e, flush=True)
                v_proc = None
            if v_proc:
                servers.append(("vsftpd", v_proc, v_port, v_log))
            p_proc, p_port, p_log = start_anchor(start_pure_ftpd, "pure-ftpd", work, root, pki=pki,
                                                 anon_root=anon, max_clients=max_clients,
                                                 tag="-sessions", tls_required=False)
            if p_proc:
                servers.append(("pure-ftpd", p_proc, p_port, p_log))
            for name, _, port, _ in servers:
                verify_anon(name, port, b"ftpbench\n")
            measure_pss(args, servers, "TLS-configured server")
    finally:
        if responder:
            responder.close()
        stop(servers)
        shutil.rmtree(anon, ignore_errors=True)
    # Summary on the terminal.
    for row in ROWS[first_row:]:
        w = row["samples"].get("wardenftpd")
        ratios = []
        for anchor in ANCHORS:
            v = row["samples"].get(anchor)
            ratios.append("/%s %s" % (DISPLAY[anchor], "%.2f" % (statistics.median(w) / statistics.median(v))
                                      if w and v and statistics.median(v) else "n/a"))
        print("%-48s wardenftpd %-22s vsftpd %-22s Pure-FTPd %-22s client %-22s ratio %s"
              % (row["figure"], fmt_stats(w), fmt_stats(row["samples"].get("vsftpd")),
                 fmt_stats(row["samples"].get("pure-ftpd")), fmt_stats(row["samples"].get("client")),
                 "  ".join(ratios)), flush=True)


def machine_description():
    cpus = os.cpu_count()
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            found = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            model = found.group(1) if found else "?"
    except OSError:
        pass
    vsftpd = "not installed"
    binary = vsftpd_binary()
    if binary:
        result = subprocess.run([binary, "-v"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, timeout=10)
        # vsftpd -v writes its version to file descriptor 0.
        vsftpd = result.stdout.decode(errors="replace").strip() or "?"
        if vsftpd == "?":
            query = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "vsftpd"],
                                   capture_output=True, text=True)
            vsftpd = "vsftpd " + (query.stdout.strip() or "?")
    load = open("/proc/loadavg").read().split()[:3]
    commit = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip() or "?"
    return [("CPUs", "%d x %s" % (cpus, model)),
            ("kernel", "%s %s" % (os.uname().sysname, os.uname().release)),
            ("OpenSSL (python)", ssl.OPENSSL_VERSION),
            ("OpenSSL (command)", subprocess.run(["openssl", "version"], capture_output=True,
                                                 text=True).stdout.strip() or "?"),
            ("vsftpd", vsftpd),
            ("Pure-FTPd", "%s, %s" % (pure_ftpd_version(PURE_FTPD), PURE_FTPD) if PURE_FTPD
             else "not measured: " + PURE_FTPD_MISSING),
            ("source tree (git describe)", commit),
            ("load average at the start", " ".join(load))]


def write_report(path, args, machine, started, finished):
    def cell(values, unit):
        if not values:
            return "n/a"
        digits = 2 if unit == "ms" else 1 if unit != "KiB" else 0
        m, lo, hi = stats(values)
        if len(values) == 1:
            return "%.*f (1 run)" % (digits, m)
        return "%.*f (%.*f–%.*f)" % (digits, m, digits, lo, digits, hi)

    lines = ["# Performance: wardenftpd against vsftpd and Pure-FTPd", "",
             "Written by `tools/bench/ftpbench.py --report` (run it again rather than editing the tables).", "",
             "Each cell: the median of the runs, with the spread (min–max) in brackets. "
             "Ratios: wardenftpd's median / vsftpd's median (*÷ vsftpd*) and / Pure-FTPd's median "
             "(*÷ Pure-FTPd*) (for ms and KiB, lower is better; for rates, higher is better). "
             "The *client* column is the same client loop against a "
             "minimal in-process Python responder that answers 220/331/230/221 and does no work: "
             "the client's own ceiling (a lower bound of it: the responder runs in the client's own "
             "Python process and shares its interpreter lock). A server figure near it would "
             "measure the client, not the server. PSS per session: anonymous sessions logged in "
             "and left idle; the sum of smaps_rollup Pss over the server's whole process tree "
             "(listener and every session process), minus the same sum for the idle server "
             "measured just before, divided by the number of sessions. The *C bound* column: "
             "what a small C program (tools/bench/transfer_bound.cpp, ftpbench-bound) moves over "
             "loopback TCP in the same run, with no FTP and no privilege separation: TLS "
             "(SSL_write from memory, the same version and cipher as the servers' PROT P data "
             "connections) for PROT P RETR, sendfile() of a warm file for plain RETR; *÷ C bound* "
             "is each server's median over it (the performance issue's target for wardenftpd's "
             "PROT P RETR: at least %.1f)." % TLS_BOUND_TARGET, "",
             "## Conditions", "",
             "| | |", "|---|---|"]
    for key, value in machine:
        lines.append("| %s | %s |" % (key, value))
    lines += ["| wardenftpd build | `%s` (%s) |" % (os.path.relpath(args.build, TOP)
                                                  if args.build.startswith(TOP) else args.build,
                                                  "the default, tools/build.sh: RelWithDebInfo"
                                                  if os.path.realpath(args.build) == os.path.join(TOP, "build")
                                                  else "--build"),
              "| C bounds | %s |" % (bound_binary(args.build) or "not measured (no ftpbench-bound built)"),
              "| per-address limits | every client is 127.0.0.1: wardenftpd max_per_ip = max_clients "
              "and connect_rate_per_ip=0 (set explicitly: its defaults, 20 sessions and 10 "
              "connections/s per address, would refuse the bench), vsftpd max_per_ip and "
              "Pure-FTPd `-C` = max_clients; none limits the connection rate |",
              "| load average at the end | %s |" % " ".join(open("/proc/loadavg").read().split()[:3]),
              "| date (UTC) | %s to %s |" % (started, finished),
              "| command | `%s` |" % " ".join(["tools/bench/ftpbench.py"] + sys.argv[1:]),
              "", "The machine is a shared 2-core VM: other jobs (a CI run, another session's "
              "builds and tests) were using the CPUs at the same time, so absolute figures are "
              "noisy; the servers take turns within each round so that load changes fall on all "
              "of them, and the ratios are the figures to read.", ""]
    if PURE_FTPD:
        lines += ["## How Pure-FTPd runs here", ""] + ["- " + note for note in pure_ftpd_notes()] + [""]
    lines += ["## Figures", "",
              "| figure | unit | wardenftpd | vsftpd | Pure-FTPd | ÷ vsftpd | ÷ Pure-FTPd | C bound "
              "| ÷ C bound | client ceiling | note |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in ROWS:
        w = row["samples"].get("wardenftpd")
        anchors = [row["samples"].get(anchor) for anchor in ANCHORS]
        ratios = ["%.2f" % (statistics.median(w) / statistics.median(v))
                  if w and v and statistics.median(v) else "n/a" for v in anchors]
        client, bound = row["samples"].get("client"), row["samples"].get("bound")
        of_bound = ", ".join("%s %.2f" % (DISPLAY[name], statistics.median(row["samples"][name])
                                          / statistics.median(bound))
                             for name in ("wardenftpd",) + ANCHORS if bound and row["samples"].get(name))
        only_bound = bound and not w and not any(anchors)
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            (row["figure"], row["unit"])
            + tuple("" if only_bound else cell(v, row["unit"]) for v in [w] + anchors)
            + tuple("" if only_bound else r for r in ratios)
            + (cell(bound, row["unit"]) if bound else "", of_bound,
               cell(client, row["unit"]) if client else "", row["note"])))
    lines += ["", "## Not measured here", ""]
    if NOT_MEASURED:
        lines += ["- " + reason for reason in NOT_MEASURED]
    else:
        lines.append("- (nothing: every figure above was measured in this run)")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("ftpbench: report written to %s" % path, flush=True)


NOT_MEASURED = []


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--size", type=int, default=512,
                        help="MiB for plain RETR/STOR (curl), the raw client's STOR split into "
                             "transfer and commit, and the C sendfile bound")
    parser.add_argument("--files", type=int, default=1000, help="small files RETR'd and STOR'd")
    parser.add_argument("--file-kib", type=int, default=4, help="KiB per small file")
    parser.add_argument("--list-entries", type=int, default=10000,
                        help="entries of the directory NLST, LIST and MLSD list")
    parser.add_argument("--runs", type=int, default=3, help="runs of the small-file and listing "
                        "figures (the median is reported)")
    parser.add_argument("--small-only", action="store_true",
                        help="measure only small files and listings (plain FTP)")
    parser.add_argument("--tls", action="store_true", help="also measure explicit FTPS")
    parser.add_argument("--tls-only", action="store_true", help="measure explicit FTPS only")
    parser.add_argument("--tls-size", type=int, default=1024,
                        help="MiB for FTPS RETR/STOR and the C TLS bound")
    parser.add_argument("--tls12", action="store_true",
                        help="also measure FTPS transfers with TLS 1.2 and " + TLS12_CIPHER)
    parser.add_argument("--tls-login-group", default="prime256v1",
                        help="the one key exchange group the TLS login clients offer ('' for "
                             "python's default offer)")
    parser.add_argument("--hash", choices=("sha512", "yescrypt"), default="sha512",
                        help="the hash both servers check in the session-model password logins "
                             "(the other figures use yescrypt)")
    parser.add_argument("--login-clients", default="1,2,16",
                        help="parallel clients of the anonymous and password login figures")
    parser.add_argument("--greetings", type=int, default=200,
                        help="connections per run of the connect-to-220 latency (p50, p99)")
    parser.add_argument("--pss-sessions", default="200,1000",
                        help="idle logged-in sessions held open for PSS per session ('' skips)")
    parser.add_argument("--pss-seconds", type=float, default=None,
                        help="time bound for opening the sessions of one PSS figure (default: "
                             "120 s, or 40 ms per session above 3,000 sessions: a TLS-configured "
                             "wardenftpd opened 5,000 in ~90 s on the shared 2-core VM)")
    parser.add_argument("--pss-configs", default="plain,tls",
                        help="server configurations of the PSS figure: plain (TLS off) and/or tls "
                             "(certificate loaded and AUTH TLS offered, sessions still plain "
                             "anonymous logins)")
    parser.add_argument("--no-sessions", action="store_true",
                        help="skip the session-model figures (logins at 1/2/16 clients, greeting "
                             "latency, PSS per session, client ceiling)")
    parser.add_argument("--sessions-only", action="store_true",
                        help="measure only the session-model figures")
    parser.add_argument("--pasv-range", default="50000-59999",
                        help="passive port range both servers use (LOW-HIGH; '0' for the kernel's "
                             "choice)")
    parser.add_argument("--report", default=None, metavar="FILE",
                        help="write every figure as a Markdown table, with the machine and the "
                             "command, to FILE (e.g. docs/PERFORMANCE.md)")
    parser.add_argument("--build", default=os.path.join(TOP, "build"),
                        help="build directory of the wardenftpd measured (daemon/wardenftpd); the "
                             "C bounds' tools/ftpbench-bound is taken from it, else from this "
                             "source tree's build/")
    parser.add_argument("--pure-ftpd", default=None, metavar="PATH",
                        help="the pure-ftpd binary, or the directory its Debian package was "
                             "extracted into (default: %s, else one on the PATH; 'none' skips it). "
                             "To get it: %s" % (PURE_FTPD_CACHE, PURE_FTPD_HOWTO))
    parser.add_argument("--pure-ftpd-auth", choices=("unix", "pam"), default="unix",
                        help="Pure-FTPd's authentication (-l): unix, crypt() of the /etc/shadow hash "
                             "as wardenftpd checks it (the default), or pam (PAM service pure-ftpd, "
                             "which without Debian's pure-ftpd-common is /etc/pam.d/other)")
    parser.add_argument("--baseline", default=None,
                        help="with --tls: also measure TLS logins of the wardenftpd in this build "
                             "directory (e.g. the commit before a change), in the same run")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("ftpbench: run as root (both daemons start as root; the bench user's password is "
                 "set with chpasswd; PSS is read from other users' /proc/PID/smaps_rollup)")
    global PASV_RANGE, PURE_FTPD, PURE_FTPD_AUTH, PURE_FTPD_MISSING
    PURE_FTPD, PURE_FTPD_MISSING = find_pure_ftpd(args.pure_ftpd)
    PURE_FTPD_AUTH = args.pure_ftpd_auth
    if not PURE_FTPD:
        print("ftpbench: Pure-FTPd %s; carrying on without it. To get it:\n  %s"
              % (PURE_FTPD_MISSING, PURE_FTPD_HOWTO.replace(" && ", "\n  ")), flush=True)
        NOT_MEASURED.append("Pure-FTPd, every figure: %s. To get it: `%s`" % (PURE_FTPD_MISSING,
                                                                            PURE_FTPD_HOWTO))
    scoreboard_existed = os.path.exists(PURE_FTPD_SCOREBOARD)
    if args.pasv_range not in ("", "0"):
        low, high = (int(x) for x in args.pasv_range.split("-"))
        PASV_RANGE = (low, high)
    args.login_clients = [int(x) for x in args.login_clients.split(",") if x]
    args.pss_sessions = [int(x) for x in args.pss_sessions.split(",") if x]
    args.pss_configs = [x for x in args.pss_configs.split(",") if x]
    if any(x not in ("plain", "tls") for x in args.pss_configs):
        sys.exit("ftpbench: --pss-configs takes plain, tls or plain,tls")
    if args.runs < 1 or args.greetings < 1 or any(n < 1 or n > 20000 for n in args.pss_sessions):
        sys.exit("ftpbench: --runs and --greetings at least 1, --pss-sessions from 1 to 20000")
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    machine = machine_description()
    if (args.tls or args.tls_only or "tls" in args.pss_configs) and not shutil.which("openssl"):
        sys.exit("ftpbench: --tls and the TLS-configured PSS figure (--pss-configs tls) need the "
                 "openssl command line")
    print("ftpbench: %d CPUs, %s, %s" % (os.cpu_count(), ssl.OPENSSL_VERSION,
          subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split("\n")[0]),
          flush=True)
    work = tempfile.mkdtemp(prefix="wftpd-bench-")
    os.chmod(work, 0o755)
    root = os.path.join(work, "root")
    os.makedirs(root)
    try:
        uid, gid, shadow_hash = ensure_system_user(root)
        os.chown(root, uid, gid)
        if not args.tls_only and not args.sessions_only:
            run_plain(args, args.build, work, root, uid, gid, shadow_hash)
        else:
            NOT_MEASURED.append("plain sessions/s, yescrypt logins/s, RETR/STOR, small files and "
                                "listings: not asked for in this run")
        if (args.tls or args.tls_only) and not args.small_only and not args.sessions_only:
            run_tls(args, args.build, work, root, uid, gid, shadow_hash)
        else:
            NOT_MEASURED.append("FTPS (TLS logins, PROT P RETR/STOR): not asked for in this run "
                                "(--tls)")
        if not (args.no_sessions or args.small_only or args.tls_only):
            run_sessions(args, args.build, work, uid, gid)
        else:
            NOT_MEASURED.append("the session-model figures (logins at %s clients, greeting latency, "
                                "PSS per session, client ceiling): not asked for in this run"
                                % "/".join(map(str, args.login_clients)))
        if args.report:
            write_report(args.report, args, machine, started,
                         time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if PURE_FTPD and not scoreboard_existed:
            shutil.rmtree(PURE_FTPD_SCOREBOARD, ignore_errors=True)  # made by Pure-FTPd


if __name__ == "__main__":
    main()
