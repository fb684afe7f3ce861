// The post-auth FTP session engine (PostauthSession: every command, data connections, transfers,
// listings, file management) driven by fuzzer bytes as the client's control input, over a small
// real file tree in a per-process temporary directory (tmpfs: /dev/shm when it exists), rebuilt
// before every input. The control connection and the monitor are in-memory fakes; data
// connections are socketpairs whose client end already holds the upload bytes.
//
// Input: byte 0 flags, byte 1 monitor script, byte 2 upload length N, N upload bytes, then the
// client's control stream (cut at each '\n' and fed through a ControlLineReader).
//   flags bit 0: read-only (anonymous) session; bit 1: with the drop box /incoming
//   bit 2: max_line 16 instead of 4096; bit 3: pipelining client (during a transfer it sends
//   every further command, like ControlConnection queues them; otherwise it only sends an ABOR
//   that comes next); bit 4: the stream ends in an idle timeout instead of a close; bit 5: the
//   control connection is IPv6 (PASV refused); bit 6: the control connection breaks once 2 KiB
//   of replies have been sent; bit 7: a TLS session (control connection under TLS, PBSZ/PROT
//   answered, require_tls_data; the data TLS context has no certificate, so every data
//   handshake fails: 522).
//   The monitor script: the k-th monitor request fails when bit (k % 8) is set; how it fails
//   (refusal, time-out, or the monitor channel breaking) depends on k / 8.
//
// Checks besides ASan/UBSan:
// - replies: before each command is read, everything sent since the last one is complete
//   well-formed replies (fuzz::check_replies), and non-empty when a command was read; the first
//   reply is 230; USER and PASS are never honoured again (530 / 503).
// - confinement: the tree's root has siblings ("outside": a secret file and a directory) and, in
//   read-write sessions, symlinks that point there (relative, absolute, through "..", a /proc
//   magic link). After every input the outside is unchanged (entries, mode, size, mtime, ctime),
//   nothing new exists next to the root, and the secret never appears in a reply, on a data
//   connection or in a log line. (Read-only sessions open with plain openat(2), which relies on
//   the chroot the harness does not do: their tree has no escaping symlinks.)
// - read-only sessions never change the tree: the whole tree (type, mode, size, mtime, ctime,
//   link targets) is the same afterwards, except for new plain files directly in the drop box;
//   writing commands answer 550.
// - no session leaves a set-user-ID, set-group-ID or sticky bit on anything in the tree (which
//   starts without any).
// - PORT/EPRT targets reaching the monitor are well-formed (the fake refuses ports below 1024
//   as the monitor does).
// - LIST/NLST/MLSD data is CRLF-terminated lines with no other CR, LF or NUL (outside TLS
//   sessions).
// - the session ends with a normal, idle-timeout or data-timeout exit code.
// Transfers never wait: data_timeout is 0, so a transfer that would block (the client end's
// socket buffer is full) ends as stalled at once.
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <signal.h>
#include <sys/eventfd.h>

#include <openssl/ssl.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ascii.hpp"
#include "common/config.hpp"
#include "common/exit_codes.hpp"
#include "common/monitor_protocol.hpp"
#include "common/wire_codec.hpp"
#include "common/unique_fd.hpp"
#include "fuzz/fuzz_check.hpp"
#include "unpriv/control_connection.hpp"
#include "unpriv/control_line_reader.hpp"
#include "unpriv/ftp_command.hpp"
#include "unpriv/monitor_client.hpp"
#include "unpriv/postauth_engine.hpp"
#include "unpriv/session_filesystem.hpp"

namespace {

using wftpd::ControlChannel;
using wftpd::Result;
using wftpd::UniqueFd;
using wftpd::fuzz::check_replies;

constexpr std::string_view kSecret = "WFTPD-FUZZ-SECRET-5c1e9a";  // content of outside/secret.txt
constexpr std::size_t kMaxQueued = 64;                             // as ControlConnection
constexpr std::size_t kBrokenControlBudget = 2048;

std::string upper_verb(std::string_view line) {
  return wftpd::to_ascii_upper(line.substr(0, line.find(' ')));
}

// ---------------------------------------------------------------------------------------------
// The file tree.

void write_file(int dir, const char* name, std::string_view content, mode_t mode = 0644) {
  const int fd = ::openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  FUZZ_CHECK(fd >= 0);
  FUZZ_CHECK(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  ::close(fd);
}

int open_dir(int at, const char* name) {
  const int fd = ::openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  FUZZ_CHECK(fd >= 0);
  return fd;
}

// The names in directory `dir` but "." and "..": getdents64 into a stack buffer (fdopendir's
// 32 KiB heap buffer, fresh memory every time under ASan's quarantine, cost more than the rest
// of an empty input). False when the directory cannot be read.
bool list_directory(int dir, std::vector<std::string>& names) {
  names.clear();
  const int fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  alignas(8) char buffer[4096];
  for (;;) {
    const long n = ::syscall(SYS_getdents64, fd, buffer, sizeof(buffer));
    FUZZ_CHECK(n >= 0);
    if (n == 0) break;
    for (long at = 0; at < n;) {
      const auto* entry = reinterpret_cast<const dirent64*>(buffer + at);
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
      at += entry->d_reclen;
    }
    FUZZ_CHECK(names.size() < 100000);
  }
  ::close(fd);
  return true;
}

// Removes everything inside the directory `dir` (the engine may have made it unreadable).
void empty_directory(int dir) {
  std::vector<std::string> names;
  FUZZ_CHECK(list_directory(dir, names));
  for (const std::string& name : names) {
    struct stat st{};
    FUZZ_CHECK(::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0);
    const bool is_dir = S_ISDIR(st.st_mode);
    if (is_dir) {
      ::fchmodat(dir, name.c_str(), 0700, 0);
      const int child = open_dir(dir, name.c_str());
      empty_directory(child);
      ::close(child);
    }
    FUZZ_CHECK(::unlinkat(dir, name.c_str(), is_dir ? AT_REMOVEDIR : 0) == 0);
  }
}

struct EntryState {
  mode_t mode = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::string link;  // symlink target
  bool operator==(const EntryState&) const = default;
};

std::int64_t ns(const timespec& ts) { return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec; }

// Every entry below `dir`, by path relative to the tree ("/a/b"), bounded.
void snapshot(int dir, const std::string& prefix, std::map<std::string, EntryState>& out) {
  std::vector<std::string> names;
  // An unreadable directory: its own entry still records the mode.
  if (!list_directory(dir, names)) return;
  std::vector<std::string> subdirs;
  for (const std::string& name : names) {
    struct stat st{};
    FUZZ_CHECK(::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0);
    EntryState state{st.st_mode, S_ISDIR(st.st_mode) ? 0 : st.st_size, ns(st.st_mtim),
                     ns(st.st_ctim), {}};
    if (S_ISLNK(st.st_mode)) {
      char target[512];
      const ssize_t n = ::readlinkat(dir, name.c_str(), target, sizeof(target));
      FUZZ_CHECK(n >= 0);
      state.link.assign(target, static_cast<std::size_t>(n));
    }
    out.emplace(prefix + "/" + name, std::move(state));
    if (S_ISDIR(st.st_mode)) subdirs.push_back(name);
  }
  FUZZ_CHECK(out.size() < 100000);
  for (const std::string& name : subdirs) {
    const int child = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) continue;
    snapshot(child, prefix + "/" + name, out);
    ::close(child);
  }
}

class Workspace {
 public:
  static constexpr std::string_view kPrefix = "wftpd-fuzz-postauth.";

  Workspace() {
    const char* shm = "/dev/shm";
    struct stat st{};
    const std::string parent = ::stat(shm, &st) == 0 && S_ISDIR(st.st_mode) ? shm : "/tmp";
    remove_stale_workspaces(parent);
    std::string templ = parent + "/" + std::string(kPrefix) + std::to_string(::getpid()) + ".XXXXXX";
    FUZZ_CHECK(::mkdtemp(templ.data()) != nullptr);
    base_ = templ;
    root_path_ = base_ + "/root";
    base_fd_ = ::open(base_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    FUZZ_CHECK(base_fd_ >= 0);
    FUZZ_CHECK(::mkdirat(base_fd_, "outside", 0755) == 0);
    const int outside = open_dir(base_fd_, "outside");
    write_file(outside, "secret.txt", kSecret);
    FUZZ_CHECK(::mkdirat(outside, "outside-only-entry", 0755) == 0);
    ::close(outside);
    FUZZ_CHECK(::mkdirat(base_fd_, "root", 0755) == 0);
    outside_before_ = outside_state();
    for (int i = 0; i < 600; ++i) big_ += "line " + std::to_string(i) + "\r\n";
  }
  ~Workspace() {
    empty_directory(base_fd_);
    ::close(base_fd_);
    ::rmdir(base_.c_str());
  }

  const std::string& root_path() const { return root_path_; }

  // Workspaces of fuzzer processes that died without their exit handlers (a crash, a timeout):
  // "wftpd-fuzz-postauth.PID.XXXXXX" whose PID no longer exists.
  static void remove_stale_workspaces(const std::string& parent) {
    const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return;
    std::vector<std::string> names;
    if (list_directory(dir, names)) {
      for (const std::string& name : names) {
        if (!name.starts_with(kPrefix)) continue;
        char* end = nullptr;
        const long pid = std::strtol(name.c_str() + kPrefix.size(), &end, 10);
        if (pid <= 0 || *end != '.') continue;
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
        const int stale = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (stale < 0) continue;
        struct stat st{};
        // Only our own: a directory of this user.
        if (::fstat(stale, &st) == 0 && st.st_uid == ::geteuid()) {
          empty_directory(stale);
          ::unlinkat(dir, name.c_str(), AT_REMOVEDIR);
        }
        ::close(stale);
      }
    }
    ::close(dir);
  }

  // A fresh tree in root/, unless the last session used no command that could change it (and
  // had the same kind: read-only trees lack the escaping symlinks).
  // Returns true when it rebuilt the tree.
  bool reset(bool read_only, bool changed) {
    if (built_ && !changed && read_only == read_only_) return false;
    built_ = true;
    read_only_ = read_only;
    const int root = open_dir(base_fd_, "root");
    FUZZ_CHECK(::fchmod(root, 0755) == 0);
    empty_directory(root);
    write_file(root, "readme.txt", "hello\nworld\r\nbare\rcr\n");
    write_file(root, "big.txt", big_);
    write_file(root, ".hidden", "hidden\n");
    write_file(root, "name with spaces.txt", "spaces\n");
    write_file(root, "quote\"name", "q\n");
    write_file(root, "cr\rname", "cr\n");
    write_file(root, "-dash", "dash\n");
    write_file(root, "[x]", "bracket\n");
    write_file(root, "private.txt", "no permissions\n", 0);
    FUZZ_CHECK(::mkdirat(root, "dir", 0755) == 0);
    FUZZ_CHECK(::mkdirat(root, "empty", 0755) == 0);
    FUZZ_CHECK(::mkdirat(root, "incoming", 0777) == 0);
    FUZZ_CHECK(::mkfifoat(root, "fifo", 0644) == 0);
    const int dir = open_dir(root, "dir");
    write_file(dir, "a.txt", "a\n");
    write_file(dir, "b.log", "b\n");
    FUZZ_CHECK(::mkdirat(dir, "sub", 0755) == 0);
    const int sub = open_dir(dir, "sub");
    write_file(sub, "deep.txt", "deep\n");
    FUZZ_CHECK(::symlinkat("../a.txt", sub, "up-in-tree") == 0);
    ::close(sub);
    const int incoming = open_dir(root, "incoming");
    write_file(incoming, "dropped.txt", "dropped earlier\n");
    ::close(incoming);
    // In-tree symlinks.
    FUZZ_CHECK(::symlinkat("dir/a.txt", root, "link-file") == 0);
    FUZZ_CHECK(::symlinkat("dir", root, "link-dir") == 0);
    FUZZ_CHECK(::symlinkat("/dir/sub", root, "link-abs-in") == 0);
    FUZZ_CHECK(::symlinkat("nowhere", root, "dangling") == 0);
    FUZZ_CHECK(::symlinkat("loop", root, "loop") == 0);
    if (!read_only) {
      // Escapes: each would reach outside/ if followed without confinement.
      FUZZ_CHECK(::symlinkat("../outside", root, "up") == 0);
      FUZZ_CHECK(::symlinkat("../outside/secret.txt", root, "secret") == 0);
      FUZZ_CHECK(::symlinkat((base_ + "/outside").c_str(), root, "abs") == 0);
      FUZZ_CHECK(::symlinkat((base_ + "/outside/secret.txt").c_str(), root, "abs-secret") == 0);
      FUZZ_CHECK(::symlinkat("../../../../../../../../..", root, "dotdot") == 0);
      FUZZ_CHECK(::symlinkat("../../outside/secret.txt", dir, "escape") == 0);
      FUZZ_CHECK(::symlinkat("/proc/self/root", root, "magic") == 0);
      FUZZ_CHECK(::symlinkat("/proc/self/cwd", dir, "magic-cwd") == 0);
    }
    ::close(dir);
    ::close(root);
    return true;
  }

  std::map<std::string, EntryState> tree() const {
    std::map<std::string, EntryState> out;
    const int root = open_dir(base_fd_, "root");
    snapshot(root, "", out);
    ::close(root);
    return out;
  }

  // Nothing outside the root changed, and nothing new appeared next to it.
  void check_outside() const {
    const auto now = outside_state();
    if (now == outside_before_) return;
    for (const auto& [path, state] : now) {
      const auto found = outside_before_.find(path);
      if (found == outside_before_.end()) std::fprintf(stderr, "outside: new %s\n", path.c_str());
      else if (!(found->second == state)) std::fprintf(stderr, "outside: changed %s\n", path.c_str());
    }
    for (const auto& [path, state] : outside_before_) {
      if (!now.contains(path)) std::fprintf(stderr, "outside: removed %s\n", path.c_str());
    }
    FUZZ_CHECK(now == outside_before_);
  }

 private:
  std::map<std::string, EntryState> outside_state() const {
    std::map<std::string, EntryState> out;
    std::vector<std::string> names;
    FUZZ_CHECK(list_directory(base_fd_, names));
    for (const std::string& name : names) {
      if (name != "root") out.emplace("/" + name, EntryState{});
    }
    const int outside = ::openat(base_fd_, "outside", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    FUZZ_CHECK(outside >= 0);
    struct stat st{};
    FUZZ_CHECK(::fstat(outside, &st) == 0);
    out["/outside"] = EntryState{st.st_mode, 0, ns(st.st_mtim), ns(st.st_ctim), {}};
    snapshot(outside, "/outside", out);
    ::close(outside);
    return out;
  }

  std::string base_;
  std::string root_path_;
  int base_fd_ = -1;
  std::map<std::string, EntryState> outside_before_;
  std::string big_;  // big.txt: 600 CRLF lines
  bool built_ = false;
  bool read_only_ = false;
};

void check_no_secret(std::string_view bytes) {
  FUZZ_CHECK(bytes.find(kSecret) == std::string_view::npos);
}

// ---------------------------------------------------------------------------------------------
// The control connection.

class FakeControl : public ControlChannel {
 public:
  FakeControl(std::string_view stream, std::size_t max_line, bool pipelined, bool end_is_timeout,
              bool breaks, bool read_only)
      : stream_(stream),
        reader_(max_line),
        pipelined_(pipelined),
        end_is_timeout_(end_is_timeout),
        breaks_(breaks),
        read_only_(read_only),
        ready_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    FUZZ_CHECK(ready_.valid());
  }

  Result<Input> next_line() override {
    check_sent();
    Input input{Status::kClosed, {}};
    if (!queued_.empty()) {
      input = std::move(queued_.front());
      queued_.pop_front();
    } else if (!take(input)) {
      input = Input{end_is_timeout_ ? Status::kTimeout : Status::kClosed, {}};
      ended_ = true;
    }
    awaiting_reply_ = input.status == Status::kLine || input.status == Status::kTooLong;
    verb_.clear();
    if (input.status == Status::kLine) {
      if (auto command = wftpd::parse_command(input.line)) verb_ = command->verb;
    }
    if (may_change_tree(verb_)) tree_touched_ = true;
    ++commands_;
    FUZZ_CHECK(commands_ <= 100000);
    update_ready();
    return input;
  }

  Result<void> send(std::string_view bytes) override {
    FUZZ_CHECK(!bytes.empty());
    // Once broken, every later write fails too.
    if (broken_ || (breaks_ && total_sent_ + bytes.size() > kBrokenControlBudget)) {
      broken_ = true;
      return wftpd::make_error("write: Broken pipe");
    }
    total_sent_ += bytes.size();
    sent_.append(bytes);
    return {};
  }

  bool abort_requested() override {
    bool abort = false;
    if (pipelined_) {
      // Like ControlConnection: everything the client sent is read; ABOR acted on, the rest
      // queued (bounded).
      for (int i = 0; i < 8 && queued_.size() < kMaxQueued; ++i) {
        Input input;
        if (!take(input)) break;
        if (input.status == Status::kLine && upper_verb(input.line) == "ABOR") {
          abort = true;
          continue;
        }
        queued_.push_back(std::move(input));
      }
    } else if (const Input* next = peek(); next != nullptr && is_abor(*next)) {
      lookahead_.pop_front();
      abort = true;
    }
    update_ready();
    return abort;
  }

  bool input_backlogged() const override { return queued_.size() >= kMaxQueued; }
  int fd() const override { return ready_.get(); }
  // The scripted client never pauses: a quiet hook would run at once, as before the next line.
  void call_if_quiet(std::chrono::steady_clock::time_point, std::function<void()> hook) override {
    if (hook) hook();
  }

  // Replies sent since the last command was read: complete, well-formed, and an answer to it.
  // `monitor_lost`: the session may end without answering the command that found the monitor
  // gone (it is being torn down).
  void check_sent(bool monitor_lost = false) {
    check_replies(sent_);
    check_no_secret(sent_);
    if (first_) {
      FUZZ_CHECK(sent_.starts_with("230 "));
      first_ = false;
    } else if (awaiting_reply_ && !broken_ && !(monitor_lost && sent_.empty())) {
      FUZZ_CHECK(!sent_.empty());
      // SECURITY: no second login inside a session.
      if (verb_ == "USER") FUZZ_CHECK(sent_.starts_with("530 "));
      if (verb_ == "PASS") FUZZ_CHECK(sent_.starts_with("503 "));
      if (read_only_ && is_always_refused_when_read_only(verb_)) FUZZ_CHECK(sent_.starts_with("550 "));
    }
    sent_.clear();
    awaiting_reply_ = false;
  }

  // Whether a command that can change the file tree was read.
  bool tree_touched() const { return tree_touched_; }
  // The verb of the last command read, if it parsed.
  const std::string& verb() const { return verb_; }
  bool ended() const { return ended_; }

 private:
  static bool is_abor(const Input& input) {
    return input.status == Status::kLine && upper_verb(input.line) == "ABOR";
  }
  static bool may_change_tree(std::string_view verb) {
    for (std::string_view writing : {"STOR", "APPE", "STOU", "MKD", "XMKD", "RMD", "XRMD", "DELE",
                                     "RNFR", "RNTO", "MFMT", "SITE"}) {
      if (verb == writing) return true;
    }
    return false;
  }
  static bool is_always_refused_when_read_only(std::string_view verb) {
    for (std::string_view writing : {"MKD", "XMKD", "RMD", "XRMD", "DELE", "RNFR", "RNTO", "APPE", "MFMT"}) {
      if (verb == writing) return true;
    }
    return false;
  }

  // The next event of the client's stream (what it has sent next), without consuming it.
  const Input* peek() {
    if (lookahead_.empty()) {
      Input input;
      if (!pull(input)) return nullptr;
      lookahead_.push_back(std::move(input));
    }
    return &lookahead_.front();
  }
  bool take(Input& out) {
    if (peek() == nullptr) return false;
    out = std::move(lookahead_.front());
    lookahead_.pop_front();
    return true;
  }
  bool pull(Input& out) {
    for (;;) {
      auto event = reader_.next();
      if (event.status == wftpd::ControlLineReader::Status::kLine) {
        out = Input{Status::kLine, std::move(event.line)};
        return true;
      }
      if (event.status == wftpd::ControlLineReader::Status::kTooLong) {
        out = Input{Status::kTooLong, {}};
        return true;
      }
      if (stream_.empty()) return false;
      const std::size_t newline = stream_.find('\n');
      const std::size_t n = newline == std::string_view::npos ? stream_.size() : newline + 1;
      reader_.feed(stream_.substr(0, n));
      stream_.remove_prefix(n);
    }
  }

  // The descriptor polled during transfers is readable exactly when abort_requested() has
  // client input to look at.
  void update_ready() {
    const Input* next = peek();
    const bool want = next != nullptr && (pipelined_ ? queued_.size() < kMaxQueued : is_abor(*next));
    if (want == readable_) return;
    std::uint64_t value = 1;
    if (want) FUZZ_CHECK(::write(ready_.get(), &value, sizeof(value)) == sizeof(value));
    else FUZZ_CHECK(::read(ready_.get(), &value, sizeof(value)) == sizeof(value));
    readable_ = want;
  }

  std::string_view stream_;
  wftpd::ControlLineReader reader_;
  const bool pipelined_;
  const bool end_is_timeout_;
  const bool breaks_;
  const bool read_only_;
  UniqueFd ready_;
  bool readable_ = false;
  std::deque<Input> lookahead_;
  std::deque<Input> queued_;
  std::string sent_;
  std::size_t total_sent_ = 0;
  std::string verb_;
  bool first_ = true;
  bool awaiting_reply_ = false;
  bool ended_ = false;
  bool broken_ = false;
  bool tree_touched_ = false;
  unsigned commands_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The monitor.

// One data connection as the client sees it.
struct ClientEnd {
  UniqueFd fd;
  std::string verb;  // the command that opened it
};

class FakeMonitor : public wftpd::PostauthMonitor {
 public:
  // `tls`: data connections may carry TLS records (PROT P), whose bytes are not checked as text.
  FakeMonitor(std::uint8_t script, bool ipv6, bool tls, std::string_view upload,
              const FakeControl& control)
      : script_(script), ipv6_(ipv6), tls_(tls), upload_(upload), control_(control) {}

  void log(wftpd::EventLevel, std::string_view text) override {
    check_no_secret(text);
    FUZZ_CHECK(++logs_ <= 100000);
  }

  // What the monitor would write to the transfer log: it must survive the wire codec (the
  // monitor rejects what does not decode), name an absolute path and never the secret.
  void transfer_done(const wftpd::TransferDone& transfer) override {
    // Like the monitor, which ends the session otherwise: one report per data connection asked
    // for a file transfer, before the next one is asked for.
    FUZZ_CHECK(std::exchange(transfer_permitted_, false));
    check_no_secret(transfer.path);
    FUZZ_CHECK(!transfer.path.empty() && transfer.path.front() == '/');
    FUZZ_CHECK(transfer.bytes < (std::uint64_t{1} << 63));
    wftpd::WireWriter writer;
    transfer.encode(writer);
    wftpd::WireReader reader(writer.data());
    auto decoded = wftpd::TransferDone::decode(reader);
    FUZZ_CHECK(decoded && decoded->path == transfer.path && decoded->bytes == transfer.bytes);
    FUZZ_CHECK(++transfers_ <= 100000);
  }

  // The operator's view of the session: it must survive the wire codec (the monitor ends the
  // session on what does not decode) and never carry the secret.
  void session_status(const wftpd::SessionStatus& status) override {
    check_no_secret(status.path);
    wftpd::WireWriter writer;
    status.encode(writer);
    wftpd::WireReader reader(writer.data());
    auto decoded = wftpd::SessionStatus::decode(reader);
    FUZZ_CHECK(decoded && reader.at_end() && decoded->path == status.path &&
               decoded->bytes == status.bytes);
    FUZZ_CHECK(++statuses_ <= 1000000);
  }

  // The allowance before an upload, scripted like the other requests: a small byte allowance
  // (so that uploads run into it), no file left, the hourly limit, no answer, or a lost channel.
  Result<wftpd::QuotaAllowance> quota_allowance() override {
    const unsigned k = next_request();
    if (lost_) return lost();
    wftpd::QuotaAllowance allowance;
    allowance.status = wftpd::QuotaStatus::kGranted;
    allowance.bytes_left = k * 7 % 64;
    allowance.files_left = wftpd::kUnlimitedAllowance;
    if (fails(k)) {
      switch (kind(k)) {
        case 0: allowance.files_left = 0; break;
        case 1: allowance.status = wftpd::QuotaStatus::kHourlyLimit; break;
        case 2: allowance.status = wftpd::QuotaStatus::kUnavailable; break;
        default: return lost();
      }
    }
    return allowance;
  }

  // What an upload or DELE changed: one file at most, within the bounds the monitor's decoder
  // takes (it would end the session otherwise).
  void quota_used(const wftpd::QuotaUsed& used) override {
    wftpd::WireWriter writer;
    used.encode(writer);
    wftpd::WireReader reader(writer.data());
    auto decoded = wftpd::QuotaUsed::decode(reader);
    FUZZ_CHECK(decoded && reader.at_end());
    FUZZ_CHECK(++quota_reports_ <= 1000000);
  }

  // Any share, as a listener might send it; the transfer must keep to min(share, its bound).
  std::uint64_t rate_share(wftpd::TransferDirection) override {
    FUZZ_CHECK(++rate_queries_ <= 1000000);
    return (script_ & 8) != 0 ? 0 : 1u << 30;
  }

  Result<wftpd::PassiveReady> passive_listen(bool) override {
    armed_ = false;
    const unsigned k = next_request();
    if (lost_) return lost();
    if (fails(k)) {
      if (kind(k) == 3) return lost();
      return wftpd::PassiveReady{};  // kFailed
    }
    wftpd::PassiveReady ready;
    ready.status = wftpd::PassiveStatus::kListening;
    ready.family = ipv6_ ? wftpd::AddressFamily::kIpv6 : wftpd::AddressFamily::kIpv4;
    if (ipv6_) ready.address[15] = 1;
    else ready.address = {127, 0, 0, 1};
    ready.port = static_cast<std::uint16_t>(40000 + k);
    armed_ = true;
    return ready;
  }

  Result<wftpd::ActiveStatus> active_target(const wftpd::ActiveTarget& target) override {
    armed_ = false;
    // The engine only forwards what its parsers accepted.
    FUZZ_CHECK(target.family == wftpd::AddressFamily::kIpv4 ||
               target.family == wftpd::AddressFamily::kIpv6);
    if (target.family == wftpd::AddressFamily::kIpv4) {
      for (std::size_t i = 4; i < target.address.size(); ++i) FUZZ_CHECK(target.address[i] == 0);
    }
    const unsigned k = next_request();
    if (lost_) return lost();
    // Like the monitor (PORT can name port 0; EPRT cannot).
    if (target.port < 1024) return wftpd::ActiveStatus::kPrivilegedPort;
    if (fails(k)) {
      switch (kind(k)) {
        case 0: return wftpd::ActiveStatus::kForeignAddress;
        case 1: return wftpd::ActiveStatus::kPrivilegedPort;
        case 2: return wftpd::ActiveStatus::kWrongFamily;
        default: return lost();
      }
    }
    armed_ = true;
    return wftpd::ActiveStatus::kAccepted;
  }

  bool is_lost() const { return lost_; }

  Result<std::pair<wftpd::DataStatus, UniqueFd>> data_connect(wftpd::DataPurpose purpose) override {
    transfer_permitted_ = false;
    const bool armed = std::exchange(armed_, false);
    const unsigned k = next_request();
    if (lost_) return lost();
    if (!armed) return std::make_pair(wftpd::DataStatus::kNoPassive, UniqueFd());
    if (fails(k)) {
      switch (kind(k)) {
        case 0: return std::make_pair(wftpd::DataStatus::kTimedOut, UniqueFd());
        case 1: return std::make_pair(wftpd::DataStatus::kFailed, UniqueFd());
        default: return lost();
      }
    }
    int pair[2];
    FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    UniqueFd server(pair[0]);
    UniqueFd client(pair[1]);
    // Data sockets come non-blocking from the monitor.
    FUZZ_CHECK(::fcntl(server.get(), F_SETFL, O_NONBLOCK) == 0);
    if (!upload_.empty()) {
      FUZZ_CHECK(::write(client.get(), upload_.data(), upload_.size()) ==
                 static_cast<ssize_t>(upload_.size()));
    }
    FUZZ_CHECK(::shutdown(client.get(), SHUT_WR) == 0);
    clients_.push_back(ClientEnd{std::move(client), control_.verb()});
    transfer_permitted_ = purpose == wftpd::DataPurpose::kFileTransfer;
    return std::make_pair(wftpd::DataStatus::kConnected, std::move(server));
  }

  // Reads what the engine sent on every data connection so far and checks it.
  void drain() {
    for (ClientEnd& end : clients_) {
      FUZZ_CHECK(::fcntl(end.fd.get(), F_SETFL, O_NONBLOCK) == 0);
      std::string data;
      char buffer[65536];
      for (;;) {
        const ssize_t n = ::read(end.fd.get(), buffer, sizeof(buffer));
        if (n <= 0) break;
        data.append(buffer, static_cast<std::size_t>(n));
        FUZZ_CHECK(data.size() <= (64u << 20));
      }
      check_no_secret(data);
      if (!tls_ && (end.verb == "LIST" || end.verb == "NLST" || end.verb == "MLSD")) {
        check_listing(data);
      }
    }
    clients_.clear();
  }

 private:
  // Once the monitor channel broke, every later request fails too.
  wftpd::Error lost() {
    lost_ = true;
    return wftpd::make_error("monitor channel: connection reset");
  }
  unsigned next_request() { return requests_++; }
  bool fails(unsigned k) const { return (script_ >> (k % 8)) & 1u; }
  static unsigned kind(unsigned k) { return (k / 8) % 4; }

  // Complete lines only (a cut-off transfer may end inside one).
  static void check_listing(std::string_view data) {
    for (std::size_t end = data.find("\r\n"); end != std::string_view::npos; end = data.find("\r\n")) {
      const std::string_view line = data.substr(0, end);
      FUZZ_CHECK(line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
      data.remove_prefix(end + 2);
    }
    FUZZ_CHECK(data.find('\n') == std::string_view::npos);
  }

  std::uint64_t quota_reports_ = 0;
  const std::uint8_t script_;
  const bool ipv6_;
  const bool tls_;
  const std::string_view upload_;
  const FakeControl& control_;
  bool armed_ = false;
  bool lost_ = false;
  bool transfer_permitted_ = false;
  unsigned requests_ = 0;
  unsigned logs_ = 0;
  unsigned transfers_ = 0;
  unsigned statuses_ = 0;
  unsigned rate_queries_ = 0;
  std::vector<ClientEnd> clients_;
};

// ---------------------------------------------------------------------------------------------

void check_read_only_changes(const std::map<std::string, EntryState>& before,
                             const std::map<std::string, EntryState>& after, bool drop_box) {
  for (const auto& [path, state] : before) {
    const auto found = after.find(path);
    FUZZ_CHECK(found != after.end());
    if (drop_box && path == "/incoming") {
      // Uploads change the drop box's own times only.
      FUZZ_CHECK(found->second.mode == state.mode);
      continue;
    }
    FUZZ_CHECK(found->second == state);
  }
  for (const auto& [path, state] : after) {
    if (before.contains(path)) continue;
    // SECURITY: the only thing an anonymous session may create is a new plain file directly
    // in the drop box.
    FUZZ_CHECK(drop_box);
    FUZZ_CHECK(path.starts_with("/incoming/") && path.find('/', 10) == std::string::npos);
    FUZZ_CHECK(S_ISREG(state.mode));
  }
}

// SECURITY: whatever the client asked (SITE CHMOD 4755, a STOR over a set-id file, SITE UMASK),
// nothing in the tree has a set-id or sticky bit.
void check_no_special_bits(const std::map<std::string, EntryState>& tree) {
  for (const auto& [path, state] : tree) FUZZ_CHECK((state.mode & 07000) == 0);
}

Workspace& workspace() {
  static Workspace* instance = new Workspace();  // removed by the atexit handler below
  return *instance;
}

void remove_workspace() { delete &workspace(); }

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  workspace();
  std::atexit(remove_workspace);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wftpd::fuzz::Input input(data, size);
  const std::uint8_t flags = input.byte();
  const std::uint8_t script = input.byte();
  const std::string_view upload = input.take(input.byte());
  const std::string_view stream = input.rest();

  const bool read_only = (flags & 1u) != 0;
  const bool drop_box = read_only && (flags & 2u) != 0;
  static bool last_touched_tree = true;
  // The tree as a read-only session left it, when it was checked unchanged: still valid while
  // the tree is not rebuilt (reading changes access times only, which are not compared).
  static std::optional<std::map<std::string, EntryState>> read_only_tree;
  Workspace& space = workspace();
  if (space.reset(read_only, last_touched_tree) || !read_only) read_only_tree.reset();
  last_touched_tree = true;  // until this session is over
  if (read_only && !read_only_tree) read_only_tree = space.tree();

  wftpd::Config config;
  const bool tls = (flags & 128u) != 0;
  static SSL_CTX* const data_tls = SSL_CTX_new(TLS_server_method());
  FUZZ_CHECK(data_tls != nullptr);
  wftpd::ControlTlsState tls_state;
  tls_state.control_tls = tls;
  config.data_timeout = 0;  // never wait: a transfer that would block is stalled at once
  config.data_connection_timeout = 0;
  if (drop_box) config.anon_upload_dir = "/incoming";
  // Every permission, or (a quarter of the monitor scripts) a policy that refuses writes and renames.
  wftpd::SessionPolicy policy;
  if ((script & 3u) == 1) {
    policy.permissions &= ~(static_cast<std::uint32_t>(wftpd::Permission::kWrite) |
                            static_cast<std::uint32_t>(wftpd::Permission::kRename));
  }
  // Half the scripts run under a quota and upload limits (the allowance is the fake monitor's),
  // and a quarter with a small max_file_size.
  if ((script & 4u) != 0) {
    policy.quota_bytes = 1u << 20;
    policy.upload_files_per_hour = 10;
  }
  if ((script & 24u) == 8) policy.max_file_size = 48;
  // Rate limits (half the scripts, another half): high enough that pauses stay in microseconds, and one of
  // them shared, so transfers ask the fake monitor for their share.
  if ((script & 2u) != 0) {
    policy.download_rate = 1ull << 30;
    policy.user_upload_rate = 1ull << 30;
    config.max_download_rate = 1ull << 31;
  }
  auto fs = wftpd::SessionFilesystem::open_directory(space.root_path(), read_only);
  FUZZ_CHECK(static_cast<bool>(fs));

  FakeControl control(stream, (flags & 4u) != 0 ? 16 : 4096, (flags & 8u) != 0, (flags & 16u) != 0,
                      (flags & 64u) != 0, read_only);
  FakeMonitor monitor(script, (flags & 32u) != 0, tls, upload, control);
  const mode_t umask_before = ::umask(022);  // SITE UMASK changes the process's umask
  int exit_code = 0;
  {
    wftpd::PostauthSession session(config, policy, control, monitor, *fs, read_only,
                                   tls ? data_tls : nullptr, tls_state);
    exit_code = session.run();
  }
  ::umask(umask_before);
  last_touched_tree = control.tree_touched();
  control.check_sent(monitor.is_lost());
  monitor.drain();
  FUZZ_CHECK(exit_code == wftpd::kExitNormal || exit_code == wftpd::kExitIdleTimeout ||
             exit_code == wftpd::kExitDataTimeout);

  space.check_outside();
  if (!read_only) check_no_special_bits(space.tree());
  if (read_only) {
    auto after = space.tree();
    check_read_only_changes(*read_only_tree, after, drop_box);
    read_only_tree = std::move(after);
  }
  return 0;
}
