// Loading the users file from disk and replacing it atomically, for wardenftpd-passwd.
//
// Writers serialise on an flock of FILE.lock (not FILE itself, which is replaced by rename and
// so would leave each writer holding a lock on a different inode). Readers need no lock: the
// file is only ever replaced whole by rename(), so they see the old or the new version.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "common/users_file.hpp"

namespace wftpd {

// An exclusive flock on PATH.lock, held until destruction.
class UsersFileLock {
 public:
  static Result<UsersFileLock> acquire(const std::string& path);

 private:
  explicit UsersFileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// Reads and parses the users file; a missing file holds no users. Symbolic links are refused.
Result<std::vector<VirtualUser>> load_users_file(const std::string& path);

// Writes `users` to a temporary file in the same directory (mode 0600, owned by the caller),
// fsyncs it, renames it over `path` and fsyncs the directory. Call with the lock held.
Result<void> replace_users_file(const std::string& path, const std::vector<VirtualUser>& users);

}  // namespace wftpd
