// The virtual users file: who may log in, with which password hash, as which uid/gid, confined
// to which directory.
//
// Format: one user per line, `name:crypt-hash:uid:gid:root[:class]` (the class is optional,
// so files written before classes existed read the same); lines whose first non-blank byte is
// '#' are comments, and blank lines are allowed. The file is written by wardenftpd-passwd and
// read by the privileged process, so the parser is strict: anything unexpected is an error
// that names the file and line, never a silently skipped entry.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {

struct VirtualUser {
  std::string name;
  std::string hash;  // yescrypt or sha512-crypt; a leading '!' locks the account
  uid_t uid;
  gid_t gid;
  std::string root;  // absolute, normalised
  std::string user_class;  // the sixth field, optional: a [class NAME] of the configuration
};

inline constexpr std::size_t kMaxUserNameLength = 64;
inline constexpr std::size_t kMaxUserRootLength = 4096;
inline constexpr std::size_t kMaxUsersLineLength = 8192;  // bytes, newline excluded
inline constexpr std::size_t kMaxUsers = 100000;
inline constexpr std::size_t kMaxUsersFileSize = std::size_t{64} * 1024 * 1024;

// Every error is "FILE:LINE: what is wrong" (file_name is used only for messages). Errors about
// the text as a whole (too large) are reported against line 1. On an error, the hashes of the
// lines parsed before it are wiped (wipe_hashes), not just freed.
Result<std::vector<VirtualUser>> parse_users_file(std::string_view text,
                                                  std::string_view file_name);

// Opens the users file at `path` for reading, after the checks that decide whether it may be
// believed at all. SECURITY: it holds password hashes and decides uids, so its directory (not
// followed if a symlink) must be a directory owned by root that neither group nor others can
// write (nobody else can replace, remove or plant the file), and the file, opened without
// following a symlink, a regular file owned by root, mode 0600 or 0640. The returned descriptor
// is empty (and no error) when the file does not exist in such a directory. The one check:
// read_users_file() (the daemon) and wardenftpd-passwd, which must never copy the entries of a
// file the daemon would refuse into one it accepts, both open the file with it.
Result<UniqueFd> open_users_file(const std::string& path);

// Opens (open_users_file: a missing file is an error here) and parses the users file at `path`.
// The daemon's reader: check_users_file() checks the file with it (the listener, inetd mode,
// --check-config), the session monitor loads it. SECURITY: every byte read from the file is
// wiped before it returns; the hashes in the result are the caller's to wipe (wipe_hashes).
Result<std::vector<VirtualUser>> read_users_file(const std::string& path);

// read_users_file for whoever only checks the file: the number of users, with every hash it
// read wiped before it returns.
Result<std::size_t> check_users_file(const std::string& path);

// Wipes every hash in `users` (wipe_secret), leaving them empty: for holders of the users that
// must not leave hashes in freed memory.
void wipe_hashes(std::vector<VirtualUser>& users);

// The inverse of parse_users_file, starting with a header comment. The users are written as
// given: the caller is expected to hold users that parse_users_file would accept.
std::string format_users_file(const std::vector<VirtualUser>& users);

// The user called `name`, or nullptr. The pointer is into `users`.
const VirtualUser* find_user(const std::vector<VirtualUser>& users, std::string_view name);

// 1-64 bytes of [A-Za-z0-9._@-], not starting with '-' or '.'.
bool is_valid_user_name(std::string_view name);

// A uid or gid field: decimal, 1..4294967294, no sign, no leading zero. 0 is refused so that no
// session ever runs as root; 4294967295 is (uid_t)-1, the "no change" value of setresuid().
std::optional<std::uint32_t> parse_user_id(std::string_view text);

// An absolute, normalised path: starts with '/', no "." or ".." components, no "//", no
// trailing '/' unless it is "/", no control bytes, no ':' (the field separator), at most
// kMaxUserRootLength bytes.
bool is_valid_user_root(std::string_view root);

}  // namespace wftpd
