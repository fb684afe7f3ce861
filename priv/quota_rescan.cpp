#include "priv/quota_rescan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <vector>

#include "common/io.hpp"

namespace wftpd {
namespace {

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using DirStream = std::unique_ptr<DIR, DirCloser>;

DirStream open_directory_at(int parent, const char* name) {
  const int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return nullptr;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) ::close(fd);
  return DirStream(dir);
}

bool parse_word_number(std::string_view& text, std::string_view word, std::uint64_t max, std::uint64_t& out) {
  if (!text.starts_with(word)) return false;
  text.remove_prefix(word.size());
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || ptr == text.data() || out > max) return false;
  text.remove_prefix(static_cast<std::size_t>(ptr - text.data()));
  return true;
}

// The walker, after fork: becomes the user and counts. Never returns.
[[noreturn]] void run_walker(const RescanAccount& account, const RescanLimits& limits, int answer) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // SECURITY: nothing of the listener's (listening sockets, sessions' report sockets, the
  // control socket) stays open in a process that becomes the user.
  if (answer > 3) ::close_range(3, static_cast<unsigned>(answer) - 1, 0);
  ::close_range(static_cast<unsigned>(answer) + 1, ~0u, 0);
  ::alarm(static_cast<unsigned>(limits.max_time.count()) + 5);  // a backstop to the walk's own clock
  const rlimit cpu{static_cast<rlim_t>(limits.max_time.count()) + 5, static_cast<rlim_t>(limits.max_time.count()) + 5};
  ::setrlimit(RLIMIT_CPU, &cpu);
  // SECURITY: the user's identity as the post-auth child has it (no supplementary groups, the
  // user's gid and uid, chrooted to the user's root), so the walk sees what the user's sessions
  // can see and nothing of root's; setuid() to a non-zero uid clears every capability.
  if (account.uid == 0 || ::chroot(account.root.c_str()) != 0 || ::chdir("/") != 0 ||
      ::setgroups(0, nullptr) != 0 || ::setgid(account.gid) != 0 || ::setuid(account.uid) != 0 ||
      ::getuid() != account.uid || ::geteuid() != account.uid || ::getegid() != account.gid ||
      ::setuid(0) == 0 || ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    ::_exit(2);
  }
  const std::string start = account.directory == "/" ? std::string(".") : account.directory.substr(1);
  const int root = ::openat(AT_FDCWD, start.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0) ::_exit(3);
  const std::string line = format_rescan_answer(count_tree(root, limits));
  (void)write_all(answer, line);
  ::_exit(0);
}

}  // namespace

RescanTotals count_tree(int root, const RescanLimits& limits) {
  RescanTotals totals;
  const auto deadline = std::chrono::steady_clock::now() + limits.max_time;
  std::vector<DirStream> stack;
  stack.push_back(open_directory_at(root, "."));
  if (!stack.back()) {
    totals.complete = false;
    return totals;
  }
  std::uint64_t entries = 0;
  while (!stack.empty()) {
    DIR* dir = stack.back().get();
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) totals.complete = false;
      stack.pop_back();
      continue;
    }
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    if (++entries > limits.max_entries ||
        ((entries & 1023) == 0 && std::chrono::steady_clock::now() >= deadline)) {
      totals.complete = false;
      break;
    }
    struct stat st{};
    if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      totals.complete = false;
      continue;
    }
    if (S_ISREG(st.st_mode)) {
      totals.usage = apply_quota_delta(totals.usage, QuotaDelta{static_cast<std::uint64_t>(st.st_size), 0, 1, 0});
    } else if (S_ISDIR(st.st_mode)) {
      if (stack.size() >= limits.max_depth) {
        totals.complete = false;
        continue;
      }
      DirStream child = open_directory_at(::dirfd(dir), entry->d_name);
      if (!child) {
        totals.complete = false;
        continue;
      }
      stack.push_back(std::move(child));
    }
  }
  return totals;
}

std::string format_rescan_answer(const RescanTotals& totals) {
  return "bytes " + std::to_string(totals.usage.bytes) + " files " + std::to_string(totals.usage.files) +
         (totals.complete ? " complete\n" : " incomplete\n");
}

Result<RescanTotals> parse_rescan_answer(std::string_view text) {
  RescanTotals totals;
  if (!parse_word_number(text, "bytes ", kMaxByteSize, totals.usage.bytes) ||
      !parse_word_number(text, " files ", kMaxQuotaFiles, totals.usage.files)) {
    return make_error("malformed rescan answer");
  }
  if (text == " complete\n") return totals;
  if (text == " incomplete\n") {
    totals.complete = false;
    return totals;
  }
  return make_error("malformed rescan answer");
}

Result<RescanChild> start_rescan(const RescanAccount& account, const RescanLimits& limits) {
  if (account.uid == 0) return make_error("a rescan never runs as root");
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return system_error("pipe2", errno);
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return system_error("fork(rescan)", errno);
  if (pid == 0) run_walker(account, limits, write_end.get());
  write_end.reset();
  ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
  return RescanChild{pid, std::move(read_end)};
}

}  // namespace wftpd
