// wardenftpd-ctl quota --rescan USER: the listener recounts a user's files and bytes in a
// short-lived child that is the user (groups, gid, uid; chrooted to the user's root), walks the
// tree without following symbolic links, bounded in entries, depth and time, and writes the
// totals on a pipe. The listener never waits for it: it polls the pipe with its other
// descriptors (priv/listener_quota.cpp).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "priv/quota_usage.hpp"

namespace wftpd {

struct RescanLimits {
  std::uint64_t max_entries = 1000000;  // directory entries looked at
  unsigned max_depth = 128;             // directories deep (each holds a descriptor)
  std::chrono::seconds max_time{60};
};

struct RescanTotals {
  QuotaUsage usage;
  bool complete = true;  // false: a limit stopped the walk, or a directory could not be read
};

// Counts the regular files under the open directory `root` and their sizes (st_size), never
// following a symbolic link (openat O_NOFOLLOW, fstatat AT_SYMLINK_NOFOLLOW).
RescanTotals count_tree(int root, const RescanLimits& limits);

// The walker's one line on the pipe: "bytes N files N complete|incomplete\n"; strict parser.
std::string format_rescan_answer(const RescanTotals& totals);
Result<RescanTotals> parse_rescan_answer(std::string_view text);

// Whose tree to count, as whom.
struct RescanAccount {
  std::string user;
  uid_t uid = 0;           // never 0
  gid_t gid = 0;
  std::string root;        // chroot target (the user's root, or anon_root)
  std::string directory = "/";  // inside root: what is counted (anonymous: anon_upload_dir)
};

struct RescanChild {
  pid_t pid = -1;
  UniqueFd answer;  // the pipe's read end (non-blocking)
};

// Forks the walker. The caller polls `answer`, reads the line, and reaps the child.
Result<RescanChild> start_rescan(const RescanAccount& account, const RescanLimits& limits);

}  // namespace wftpd
