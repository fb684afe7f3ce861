"""Shared harness for the wardenftpd end-to-end tests (standard library only).

Every test builds its own Daemon (own temp dir under /tmp, own free port), so the tests can
run one by one and in parallel under ctest.
"""

import ctypes
import ftplib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(os.path.dirname(_HERE))

BINARY = os.environ.get("WFTPD_BINARY") or os.path.join(_REPO, "build-e2e", "daemon", "wardenftpd")
PASSWD = os.environ.get("WFTPD_PASSWD") or os.path.join(_REPO, "build-e2e", "tools",
                                                         "wardenftpd-passwd")
CTL = os.environ.get("WFTPD_CTL") or os.path.join(_REPO, "build-e2e", "tools", "wardenftpd-ctl")
PAM_HELPER = os.environ.get("WFTPD_PAM_HELPER") or os.path.join(_REPO, "build-e2e", "daemon",
                                                                "wardenftpd-pam-helper")

DEMO_UID = 20001
DEMO_GID = 20001
NOBODY_UID = 65534
CAP_KILL_MASK = 1 << 5
TIMEOUT = 10.0


def require_root(testcase=None):
    """The tests need root: fail loudly (never skip) when not root."""
    if os.geteuid() != 0:
        message = "wardenftpd end-to-end tests must run as root (euid is %d)" % os.geteuid()
        if testcase is not None:
            testcase.fail(message)
        raise AssertionError(message)
    for path in (BINARY, PASSWD):
        if not os.access(path, os.X_OK):
            raise AssertionError("binary not found or not executable: %s "
                                 "(set WFTPD_BINARY / WFTPD_PASSWD)" % path)


def covers(client, *features):
    """Marks a test as driving a real `client` through `features` (plain, explicit-tls,
    implicit-tls, passive, active, resume-download, resume-upload, tree, ipv6, ascii).
    tools/client-matrix builds the README's client table from these marks; the test itself
    is unchanged."""
    def mark(test):
        test.client_coverage = (client,) + tuple(features)
        return test
    return mark


def read_until_eof(conn):
    """Everything a data connection carries until the server closes it; closes `conn`."""
    data = b""
    with conn:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk


def wait_until(predicate, timeout=TIMEOUT, interval=0.02):
    """Poll predicate() until it returns a truthy value; return that value (or the last falsy)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def free_port():
    """A TCP port that is currently free on both 127.0.0.1 and ::1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s4:
            s4.bind(("127.0.0.1", 0))
            port = s4.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
                    s6.bind(("::1", port))
            except OSError:
                continue
            return port
    raise AssertionError("could not find a free port")


# ---------------------------------------------------------------------------------------------
# /proc helpers


def read_stat(pid):
    """(comm, state, ppid) of a process from /proc/PID/stat, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # comm is in parentheses and may itself contain spaces or parentheses: use the last ')'.
    open_paren = data.find("(")
    close_paren = data.rfind(")")
    comm = data[open_paren + 1:close_paren]
    fields = data[close_paren + 2:].split()
    return comm, fields[0], int(fields[1])


def all_processes():
    """List of dicts {pid, comm, state, ppid} of every process on the system."""
    result = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        stat = read_stat(int(name))
        if stat is None:
            continue
        result.append({"pid": int(name), "comm": stat[0], "state": stat[1], "ppid": stat[2]})
    return result


def processes_by_comm(comm):
    return [p for p in all_processes() if p["comm"] == comm]


def children(pid, procs=None):
    procs = all_processes() if procs is None else procs
    return [p for p in procs if p["ppid"] == pid]


def descendants(pid, procs=None):
    procs = all_processes() if procs is None else procs
    by_parent = {}
    for p in procs:
        by_parent.setdefault(p["ppid"], []).append(p)
    result, todo = [], [pid]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            result.append(child)
            todo.append(child["pid"])
    return result


def zombies_among_descendants(pid):
    return [p for p in descendants(pid) if p["state"] == "Z"]


def proc_status(pid):
    """/proc/PID/status as a dict of field -> string value."""
    result = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            result[key.strip()] = value.strip()
    return result


def status_ids(status, key):
    """The four ids of a Uid:/Gid: line (real, effective, saved, filesystem)."""
    return [int(x) for x in status[key].split()]


def status_hex(status, key):
    return int(status[key], 16)


def netns(pid):
    return os.readlink("/proc/%d/ns/net" % pid)


def proc_root(pid):
    return os.readlink("/proc/%d/root" % pid)


def proc_fds(pid):
    """Dict fd -> readlink target of a process's open descriptors."""
    result = {}
    base = "/proc/%d/fd" % pid
    for name in os.listdir(base):
        try:
            result[int(name)] = os.readlink(os.path.join(base, name))
        except FileNotFoundError:
            pass
    return result


def pid_alive(pid):
    stat = read_stat(pid)
    return stat is not None and stat[1] != "Z"


def memory_contains(pid, needles):
    """Which of `needles` (bytes) occur anywhere in the readable memory of process pid (read
    in chunks that overlap by the longest needle; the sanitizer build's terabyte-sized shadow
    mappings are skipped, they hold no data)."""
    found = set()
    chunk_size = 16 << 20
    overlap = max(len(n) for n in needles)
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if "r" not in fields[1] or (len(fields) > 5 and fields[5] in ("[vvar]", "[vsyscall]")):
                continue
            if end - start > (4 << 30):
                continue
            offset = start
            while offset < end:
                try:
                    mem.seek(offset)
                    chunk = mem.read(min(chunk_size + overlap, end - offset))
                except (OSError, ValueError):
                    break
                for needle in needles:
                    if needle in chunk:
                        found.add(needle)
                offset += chunk_size
    return found


def users_file_hashes(path):
    """{name: hash} of a users file (name:hash:uid:gid:root lines)."""
    hashes = {}
    with open(path) as f:
        for line in f:
            if line.strip() and not line.lstrip().startswith("#"):
                name, hash_, _rest = line.split(":", 2)
                hashes[name] = hash_
    return hashes


def hash_needles(hashes):
    """{needle bytes: user name}: each hash whole, and its digest (the part after the last
    '$'), which is what an offline cracker needs besides the salt."""
    needles = {}
    for name, hash_ in hashes.items():
        needles[hash_.encode()] = name
        needles[hash_.rsplit("$", 1)[1].encode()] = name
    return needles


# ---------------------------------------------------------------------------------------------
# pidfd_getfd via ctypes

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
SYS_pidfd_open = 434
SYS_pidfd_getfd = 438


def pidfd_open(pid):
    fd = _libc.syscall(ctypes.c_long(SYS_pidfd_open), ctypes.c_int(pid), ctypes.c_uint(0))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, "pidfd_open(%d): %s" % (pid, os.strerror(err)))
    return fd


def pidfd_getfd(pid, target_fd):
    """Duplicate descriptor target_fd of process pid into this process; returns the new fd."""
    pidfd = pidfd_open(pid)
    try:
        fd = _libc.syscall(ctypes.c_long(SYS_pidfd_getfd), ctypes.c_int(pidfd),
                           ctypes.c_int(target_fd), ctypes.c_uint(0))
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, "pidfd_getfd(%d, %d): %s" % (pid, target_fd, os.strerror(err)))
        return fd
    finally:
        os.close(pidfd)


def monitor_datagram(msg_type, payload=b"", reserved=0, length=None):
    """u16 type | u16 reserved | u32 payload length | payload, all big-endian."""
    if length is None:
        length = len(payload)
    return (msg_type.to_bytes(2, "big") + reserved.to_bytes(2, "big") +
            length.to_bytes(4, "big") + payload)


def u16_string(data):
    return len(data).to_bytes(2, "big") + data


# ---------------------------------------------------------------------------------------------
# Raw control connection


class RawClient:
    """A raw FTP control connection that parses (multi-line) replies."""

    def __init__(self, host, port, timeout=TIMEOUT, family=None):
        if family is None:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.buffer = b""

    def local_port(self):
        return self.sock.getsockname()[1]

    def _read_line(self):
        while b"\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connection closed by the server (pending: %r)" % self.buffer)
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """(code, full text) of the next reply."""
        line = self._read_line()
        lines = [line]
        if len(line) >= 4 and line[3] == "-":
            code = line[:3]
            while True:
                line = self._read_line()
                lines.append(line)
                if line.startswith(code + " "):
                    break
        return int(lines[0][:3]), "\n".join(lines)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def login(self, user="demo", password="demo"):
        code, text = self.cmd("USER " + user)
        if code != 331:
            raise AssertionError("USER: " + text)
        code, text = self.cmd("PASS " + password)
        if code != 230:
            raise AssertionError("PASS: " + text)

    def wait_closed(self, timeout=5.0):
        """True if the server closes the connection within timeout (unread data is discarded)."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                data = self.sock.recv(65536)
                if not data:
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def first_reply_line(port, host="127.0.0.1", source=None, first_bytes=b""):
    """Connects to the server (from `source` when given), sends `first_bytes` (e.g. a PROXY
    header) and returns the first reply line it gets: a 220 greeting, or a 421 refusal."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(TIMEOUT)
        if source is not None:
            s.bind((source, 0))
        s.connect((host, port))
        if first_bytes:
            s.sendall(first_bytes)
        data = b""
        while not data.endswith(b"\r\n") and len(data) < 4096:  # one line, bounded
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data


def plant(d, relative, content=b"x", directory=False):
    """A file (or directory) in the demo user's root, made behind the server's back and owned
    by the demo user; returns its path."""
    path = os.path.join(d.root, relative)
    if directory:
        os.makedirs(path, exist_ok=True)
    else:
        with open(path, "wb") as f:
            f.write(content)
    os.chown(path, DEMO_UID, DEMO_UID)
    return path


def pasv_retr(client, name, timeout=TIMEOUT, binary=True):
    """RETR name through EPSV on a RawClient (TYPE I first unless binary=False);
    returns (final reply code, data)."""
    if binary:
        code, text = client.cmd("TYPE I")
        if code != 200:
            raise AssertionError("TYPE I: " + text)
    code, text = client.cmd("EPSV")
    if code != 229:
        raise AssertionError("EPSV: " + text)
    port = int(re.search(r"\(\|\|\|(\d+)\|\)", text).group(1))
    family = client.sock.family
    host = client.sock.getpeername()[0]
    with socket.socket(family, socket.SOCK_STREAM) as data_sock:
        data_sock.settimeout(timeout)
        data_sock.connect((host, port))
        client.send("RETR %s\r\n" % name)
        code, text = client.reply()
        if code != 150:
            raise AssertionError("RETR: " + text)
        chunks = []
        while True:
            chunk = data_sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    code, text = client.reply()
    return code, b"".join(chunks)


# ---------------------------------------------------------------------------------------------
# The daemon under test


class Daemon:
    """Context manager: temp dir, users file (demo/demo; `users` are (name, password) or
    (name, password, hash method) tuples), user root with a test file, config, the running
    listener; on exit SIGTERM and assert exit status 0 within 10 s."""

    TEST_FILE = "hello.txt"
    TEST_CONTENT = b"hello from wardenftpd\nsecond line\n"

    def __init__(self, config=None, users=(("demo", "demo"),), start=True):
        require_root()
        self.extra_config = dict(config or {})
        self.initial_users = users
        self.autostart = start
        self.proc = None
        self._stopping = False
        self.tmp = None
        self.next_uid = DEMO_UID
        self.port = None

    # -- setup --------------------------------------------------------------------------------
    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="wftpd-e2e-", dir="/tmp")
        try:
            os.chmod(self.tmp, 0o755)
            self.empty_dir = os.path.join(self.tmp, "empty")
            self.users_file = os.path.join(self.tmp, "users")
            self.config_file = os.path.join(self.tmp, "wardenftpd.conf")
            self.log_file = os.path.join(self.tmp, "stderr.log")
            self.root = None
            for name, password, *method in self.initial_users:
                root = self.add_user(name, password, method=method[0] if method else None)
                if self.root is None:
                    self.root = root
            self.port = free_port()
            self.write_config()
            if self.autostart:
                self.start()
        except BaseException:
            self._cleanup(kill=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.dump_log("test failed")
        try:
            if self.proc is not None and self.proc.poll() is None:
                if exc_type is None:
                    self.stop()
                else:
                    self._kill()
        finally:
            self._cleanup(kill=True)
        return False

    def add_user(self, name, password, uid=None, gid=None, root=None, with_file=True,
                 method=None, user_class=None):
        """Add a virtual user (own root dir owned by its uid, with TEST_FILE; hash `method`
        yescrypt or sha512, wardenftpd-passwd's default if None; `user_class` its class, the
        users file's sixth field); returns the root."""
        if uid is None:
            uid = self.next_uid
            self.next_uid += 1
        gid = uid if gid is None else gid
        if root is None:
            root = os.path.join(self.tmp, "home-" + name)
            os.makedirs(root, exist_ok=True)
            if with_file:
                path = os.path.join(root, self.TEST_FILE)
                with open(path, "wb") as f:
                    f.write(self.TEST_CONTENT)
                os.chown(path, uid, gid)
            os.chown(root, uid, gid)
            os.chmod(root, 0o755)
        result = subprocess.run([PASSWD, "-f", self.users_file, "add", name, "--uid", str(uid),
                                 "--gid", str(gid), "--root", root] +
                                (["--method", method] if method else []) +
                                (["--class", user_class] if user_class else []),
                                input=(password + "\n").encode(), capture_output=True,
                                timeout=30)
        if result.returncode != 0:
            raise AssertionError("wardenftpd-passwd add %s failed: %r %r" %
                                 (name, result.stdout, result.stderr))
        return root

    def config_text(self, **overrides):
        values = {
            "listen_address": "127.0.0.1,::1",
            "listen_port": str(self.port),
            "secure_chroot_dir": self.empty_dir,
            "users_file": self.users_file,
            "login_fail_delay_ms": "200",
            # The tests read the daemon's log from its stderr file (the default is syslog).
            "log_output": "stderr",
            # Each daemon its own control socket and ban state (the defaults are system-wide).
            "control_socket": os.path.join(self.tmp, "ctl"),
            "ban_state_file": os.path.join(self.tmp, "state", "bans"),
            "quota_dir": os.path.join(self.tmp, "state", "quota"),
        }
        values.update(self.extra_config)
        values.update(overrides)
        lines = ["# wardenftpd e2e test configuration"]
        for key, value in values.items():
            if value is not None:
                lines.append("%s=%s" % (key, value))
        return "\n".join(lines) + "\n"

    def write_config(self, text=None, sections="", **overrides):
        """`sections`: text after the keys ([class NAME] and [user NAME] sections)."""
        if text is None:
            text = self.config_text(**overrides) + sections
        with open(self.config_file, "w") as f:
            f.write(text)

    # -- process control ----------------------------------------------------------------------
    def start(self, timeout=TIMEOUT, extra_args=(), listening=None):
        """Start the listener; `listening()` says when it is ready (default: its stderr log
        says "listening on"; a test that logs elsewhere passes its own check)."""
        if listening is None:
            listening = lambda: "listening on" in self.log()
        for _attempt in range(3):
            self._log_handle = open(self.log_file, "ab")
            self.proc = subprocess.Popen([BINARY, "-c", self.config_file] + list(extra_args),
                                         stdin=subprocess.DEVNULL, stdout=self._log_handle,
                                         stderr=self._log_handle, close_fds=True)
            self._log_handle.close()
            ready = wait_until(lambda: listening() or self.proc.poll() is not None, timeout)
            if ready and self.proc.poll() is None:
                return
            if self.proc.poll() is None:
                self._kill()
                raise AssertionError("daemon did not log 'listening on' within %ss; log:\n%s" %
                                     (timeout, self.log()))
            if "in use" in self.log().lower():
                # Another parallel test grabbed the port: pick another and retry.
                self.port = free_port()
                self.write_config()
                continue
            raise AssertionError("daemon exited with %s before listening; log:\n%s" %
                                 (self.proc.returncode, self.log()))
        raise AssertionError("daemon could not bind a port; log:\n" + self.log())

    def stop(self, timeout=10.0):
        """SIGTERM the listener and assert it exits with status 0 within timeout."""
        self._stopping = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            raise AssertionError("listener did not exit within %ss of SIGTERM; log:\n%s" %
                                 (timeout, self.log()))
        if rc != 0:
            raise AssertionError("listener exited with %s after SIGTERM (expected 0); log:\n%s" %
                                 (rc, self.log()))
        return rc

    def dump_log(self, why):
        """Write the daemon's log (and its process tree) to stderr, for failure analysis."""
        try:
            tree = descendants(self.proc.pid) if self.proc is not None else []
            state = None if self.proc is None else self.proc.poll()
            if "shutting down" in self.log() and not self._stopping:
                why += ("; NOTE: the listener was shut down by a signal the test did not send "
                        "(another process ran kill/pkill/killall on wardenftpd?)")
            sys.stderr.write("\n---- wardenftpd log (%s; listener exit status %r; %d descendants)"
                             " ----\n%s---- end of wardenftpd log ----\n" %
                             (why, state, len(tree), self.log()[-20000:]))
            sys.stderr.flush()
        except Exception as e:  # never mask the real failure
            sys.stderr.write("(could not dump the daemon log: %r)\n" % e)

    def _kill(self):
        pids = [p["pid"] for p in descendants(self.proc.pid)]
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def _cleanup(self, kill=False):
        if kill and self.proc is not None and self.proc.poll() is None:
            self._kill()
        if self.tmp and os.path.isdir(self.tmp) and not os.environ.get("WFTPD_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        try:
            with open(self.log_file, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, needle, timeout=TIMEOUT, count=1):
        return wait_until(lambda: self.log().count(needle) >= count, timeout)

    # -- clients ------------------------------------------------------------------------------
    def ftp(self, host="127.0.0.1", login=True, user="demo", password="demo"):
        client = ftplib.FTP(timeout=TIMEOUT)
        client.connect(host, self.port)
        if login:
            client.login(user, password)
        return client

    def raw(self, host="127.0.0.1", greeting=True):
        client = RawClient(host, self.port)
        if greeting:
            code, text = client.reply()
            if code != 220:
                client.close()
                raise AssertionError("expected a 220 greeting, got: " + text)
        return client

    # -- session processes --------------------------------------------------------------------
    def ctl(self, *args, check=True, json_output=False, user=None):
        """Runs wardenftpd-ctl against this daemon's control socket; returns the completed process
        (stdout decoded), or the parsed JSON with json_output. `user`: (uid, gid, groups) to run as."""
        command = [CTL, "--socket", os.path.join(self.tmp, "ctl")] + (["--json"] if json_output else [])
        preexec = None
        if user is not None:
            uid, gid, groups = user

            def preexec():
                os.setgroups(groups)
                os.setgid(gid)
                os.setuid(uid)
        result = subprocess.run(command + list(args), capture_output=True, text=True, timeout=30,
                                preexec_fn=preexec)
        if check and result.returncode != 0:
            raise AssertionError("wardenftpd-ctl %s: exit %d: %s%s" %
                                 (" ".join(args), result.returncode, result.stdout, result.stderr))
        if json_output and result.returncode == 0:
            import json
            return json.loads(result.stdout)
        return result

    def monitors(self):
        return [p for p in children(self.pid) if p["comm"] == "wftpd:monitor"]

    def monitor_pid_for(self, client_port, timeout=TIMEOUT):
        """Monitor pid of the session whose client side uses local port client_port (from the
        listener's 'session N from ADDR:PORT (monitor pid X)' log line)."""
        pattern = re.compile(r"session \d+ from \S*:%d \(monitor pid (\d+)\)" % client_port)

        def find():
            match = pattern.search(self.log())
            return int(match.group(1)) if match else None
        pid = wait_until(find, timeout)
        if pid is None:
            raise AssertionError("no session log line for client port %d; log:\n%s" %
                                 (client_port, self.log()))
        return pid

    def session_child(self, monitor_pid, comm, timeout=TIMEOUT):
        """Pid of the child of monitor_pid with the given comm (waits for it)."""
        def find():
            for p in children(monitor_pid):
                if p["comm"] == comm and p["state"] != "Z":
                    return p["pid"]
            return None
        pid = wait_until(find, timeout)
        if pid is None:
            raise AssertionError("monitor %d has no %s child; children: %r" %
                                 (monitor_pid, comm, children(monitor_pid)))
        return pid


def sha256(data):
    import hashlib
    return hashlib.sha256(data).hexdigest()


def is_sanitizer_build():
    """True for a daemon built with WFTPD_SANITIZE (its --version says so)."""
    out = subprocess.run([BINARY, "--version"], capture_output=True, text=True, timeout=30).stdout
    return "ASan" in out


# -- TLS ----------------------------------------------------------------------------------------

def make_test_pki(directory, key_type="ec"):
    """A test CA and a server certificate for localhost/127.0.0.1/::1 signed by it, made with the
    openssl command line. Returns dict(ca=, cert=, key=) paths; the key file is mode 0600."""
    os.makedirs(directory, exist_ok=True)
    paths = {name: os.path.join(directory, name + ".pem") for name in ("ca", "ca-key", "cert", "key")}
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key_type == "ec" else \
        ["-newkey", "rsa:2048"]

    def run(args):
        result = subprocess.run(["openssl"] + args, capture_output=True, timeout=60)
        if result.returncode != 0:
            raise AssertionError("openssl %s failed: %r" % (args[0], result.stderr))

    run(["req", "-x509"] + newkey + ["-nodes", "-keyout", paths["ca-key"], "-out", paths["ca"],
                                     "-days", "2", "-subj", "/CN=wardenftpd test CA"])
    csr = os.path.join(directory, "server.csr")
    run(["req"] + newkey + ["-nodes", "-keyout", paths["key"], "-out", csr, "-subj", "/CN=localhost"])
    ext = os.path.join(directory, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
    run(["x509", "-req", "-in", csr, "-CA", paths["ca"], "-CAkey", paths["ca-key"],
         "-CAcreateserial", "-out", paths["cert"], "-days", "1", "-extfile", ext])
    os.chmod(paths["key"], 0o600)
    return paths


def tls_client_context(ca_file, alpn=None, minimum=None, maximum=None):
    import ssl
    context = ssl.create_default_context(cafile=ca_file)
    if alpn:
        context.set_alpn_protocols(alpn)
    if minimum is not None:
        context.minimum_version = minimum
    if maximum is not None:
        context.maximum_version = maximum
    return context


class ReusingFTP_TLS(ftplib.FTP_TLS):
    """ftplib's FTP_TLS, but data connections resume the control connection's TLS session, as
    FileZilla, curl and lftp do (stock ftplib does a fresh handshake per data connection)."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host,
                                            session=self.sock.session)
        return conn, size


class TlsDaemon(Daemon):
    """A Daemon with tls_enable=yes and a test PKI in its temp dir (self.pki)."""

    def __init__(self, config=None, key_type="ec", **kwargs):
        self.key_type = key_type
        merged = {"tls_enable": "yes"}
        merged.update(config or {})
        super().__init__(config=merged, **kwargs)

    def __enter__(self):
        self.tmp_pki = tempfile.mkdtemp(prefix="wftpd-pki-", dir="/tmp")
        self.pki = make_test_pki(self.tmp_pki, self.key_type)
        self.extra_config.setdefault("tls_cert_file", self.pki["cert"])
        self.extra_config.setdefault("tls_key_file", self.pki["key"])
        try:
            return super().__enter__()
        except BaseException:
            shutil.rmtree(self.tmp_pki, ignore_errors=True)
            raise

    def __exit__(self, exc_type, exc, tb):
        try:
            return super().__exit__(exc_type, exc, tb)
        finally:
            shutil.rmtree(self.tmp_pki, ignore_errors=True)

    def ftps(self, user="demo", password="demo", reuse=True, timeout=TIMEOUT, login=True,
             context=None):
        """An explicit-FTPS ftplib client, logged in, PROT P."""
        cls = ReusingFTP_TLS if reuse else ftplib.FTP_TLS
        client = cls(context=context or tls_client_context(self.pki["ca"]), timeout=timeout)
        client.connect("127.0.0.1", self.port)
        if login:
            client.login(user, password)
            client.prot_p()
        return client
