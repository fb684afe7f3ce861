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

// An exclusive flock on PATH.lock, held until destruction. Refused, before anything is created,
// where load_users_file() would refuse the file.
class UsersFileLock {
 public:
  static Result<UsersFileLock> acquire(const std::string& path);

 private:
  explicit UsersFileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// Reads and parses the users file; a missing file holds no users. SECURITY: the file and its
// directory must pass the daemon's own check (open_users_file, common/users_file.hpp: a root-only
// directory, a regular file of root's, mode 0600 or 0640, no symlink), or nothing is read: the
// entries of a file the daemon would refuse are never copied into one it accepts.
Result<std::vector<VirtualUser>> load_users_file(const std::string& path);

// Writes `users` to a temporary file in the same directory (mode 0600, owned by the caller),
// fsyncs it, renames it over `path` and fsyncs the directory. Call with the lock held.
Result<void> replace_users_file(const std::string& path, const std::vector<VirtualUser>& users);

}  // namespace wftpd
