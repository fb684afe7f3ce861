// Parser and writer for the virtual users file; see users_file.hpp.
#include "common/users_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "common/io.hpp"
#include "common/password_hash.hpp"
#include "common/secret_wipe.hpp"
#include "common/session_policy.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {
namespace {

constexpr std::size_t kFieldCount = 6;  // the sixth, the class, is optional
constexpr std::uint32_t kMaxId = 4294967294U;  // (uid_t)-1 is reserved
constexpr std::size_t kMaxIdDigits = 10;

std::string line_error(std::string_view file_name, std::size_t line, std::string_view what) {
  std::string text(file_name);
  text += ':';
  text += std::to_string(line);
  text += ": ";
  text += what;
  return text;
}

bool is_blank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

bool is_comment(std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t");
  return first != std::string_view::npos && line[first] == '#';
}

bool is_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

// Splits `line` at ':' into exactly kFieldCount fields; returns the number of fields found
// (which may exceed kFieldCount, in which case `fields` holds only the first ones).
std::size_t split_fields(std::string_view line, std::array<std::string_view, kFieldCount>& fields) {
  std::size_t count = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = line.find(':', start);
    const std::size_t end = colon == std::string_view::npos ? line.size() : colon;
    if (count < kFieldCount) fields[count] = line.substr(start, end - start);
    ++count;
    if (colon == std::string_view::npos) return count;
    start = colon + 1;
  }
}

// The whole text of a file that holds secrets, read straight into one buffer sized from fstat
// and wiped when it goes. SECURITY: read_whole_fd would leave parts of the file in its stack
// buffer and in the allocations its string outgrew, where nobody wipes them.
class SecretFileText {
 public:
  SecretFileText() = default;
  SecretFileText(const SecretFileText&) = delete;
  SecretFileText& operator=(const SecretFileText&) = delete;
  ~SecretFileText() { wipe_secret(buffer_); }

  // Reads `fd` from offset 0 to its end; `expected` is its size from fstat (the buffer grows,
  // wiping the one it leaves, if the file is longer).
  Result<void> read(int fd, std::size_t expected, std::size_t max_bytes) {
    // One byte more than expected, so that the end of the file is seen without growing.
    buffer_.assign(std::min(expected, max_bytes) + 1, '\0');
    for (;;) {
      if (size_ == buffer_.size()) {
        if (size_ > max_bytes) {
          return make_error("file is larger than " + std::to_string(max_bytes) + " bytes");
        }
        std::string larger(std::min(buffer_.size() * 2, max_bytes + 1), '\0');
        std::memcpy(larger.data(), buffer_.data(), size_);
        wipe_secret(buffer_);
        buffer_.swap(larger);
      }
      const ssize_t n = ::pread(fd, buffer_.data() + size_, buffer_.size() - size_,
                                static_cast<off_t>(size_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return system_error("pread", errno);
      }
      if (n == 0) return ok_result();
      size_ += static_cast<std::size_t>(n);
    }
  }

  std::string_view text() const { return std::string_view(buffer_.data(), size_); }

 private:
  std::string buffer_;
  std::size_t size_ = 0;
};

// Wipes the hashes a list still holds when it goes out of scope: all of them after an error;
// none after a return, which moved them to the caller (a copy would leave them to be wiped).
struct WipeHashesAtScopeExit {
  std::vector<VirtualUser>& users;
  ~WipeHashesAtScopeExit() { wipe_hashes(users); }
};

}  // namespace

bool is_valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserNameLength) return false;
  // A leading '-' could be taken for an option by tools; a leading '.' hides files and allows
  // "." and "..", which must never be usable as path components derived from a name.
  if (name.front() == '-' || name.front() == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::uint32_t> parse_user_id(std::string_view text) {
  if (text.empty() || text.size() > kMaxIdDigits) return std::nullopt;
  // No leading zero: one canonical spelling per id, so the file round-trips byte for byte.
  if (text.front() == '0') return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    // At most 10 digits: cannot overflow 64 bits.
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  // SECURITY: 0 never appears here (no leading zero, not empty), so no session runs as root.
  if (value > kMaxId) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

bool is_valid_user_root(std::string_view root) {
  if (root.empty() || root.size() > kMaxUserRootLength || root.front() != '/') return false;
  if (root == "/") return true;
  if (root.back() == '/') return false;
  for (char c : root) {
    if (is_control(c) || c == ':') return false;
  }
  // SECURITY: the root is the session's chroot-like boundary; "." and ".." components and "//"
  // would make two spellings of one directory, or step outside the intended one.
  std::size_t start = 1;
  while (start <= root.size()) {
    std::size_t slash = root.find('/', start);
    if (slash == std::string_view::npos) slash = root.size();
    const std::string_view component = root.substr(start, slash - start);
    if (component.empty() || component == "." || component == "..") return false;
    start = slash + 1;
  }
  return true;
}

Result<std::vector<VirtualUser>> parse_users_file(std::string_view text,
                                                  std::string_view file_name) {
  if (text.size() > kMaxUsersFileSize) {
    return make_error(line_error(file_name, 1, "file larger than 64 MiB"));
  }
  std::vector<VirtualUser> users;
  // SECURITY: an error below must not leave the hashes parsed so far in freed memory.
  WipeHashesAtScopeExit wipe_on_error{users};
  // Each name seen so far and the line defining it, for duplicate reports. The keys are views
  // into `text` (not into `users`, whose strings move when the vector grows).
  std::unordered_map<std::string_view, std::size_t> seen;

  std::size_t line_number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line_number;
    const std::size_t newline = text.find('\n', pos);
    const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
    const std::string_view line = text.substr(pos, end - pos);
    pos = newline == std::string_view::npos ? text.size() : newline + 1;

    auto fail = [&](std::string_view what) {
      return Result<std::vector<VirtualUser>>(make_error(line_error(file_name, line_number, what)));
    };

    if (line.size() > kMaxUsersLineLength) return fail("line longer than 8192 bytes");
    if (is_blank(line) || is_comment(line)) continue;

    std::array<std::string_view, kFieldCount> fields;
    const std::size_t count = split_fields(line, fields);
    if (count != kFieldCount && count != kFieldCount - 1) {
      return fail("expected 5 or 6 ':'-separated fields (name:hash:uid:gid:root[:class]), found " +
                  std::to_string(count));
    }
    const auto [name, hash, uid_text, gid_text, root, user_class] = fields;

    // Field values are not echoed except for validated names: the file may hold control bytes,
    // and error messages end up on terminals and in logs.
    if (!is_valid_user_name(name)) {
      return fail(
          "invalid user name: expected 1-64 bytes of [A-Za-z0-9._@-], not starting with '-' or "
          "'.'");
    }
    const std::string quoted = "\"" + std::string(name) + "\"";
    if (auto it = seen.find(name); it != seen.end()) {
      return fail("duplicate user " + quoted + " (first defined on line " +
                  std::to_string(it->second) + ")");
    }
    if (hash.empty()) return fail("empty password hash for user " + quoted);
    // SECURITY: only yescrypt and sha512-crypt; anything else (DES, MD5, "*", plain text) is a
    // configuration error, not an account that cannot log in or that logs in weakly.
    if (!is_valid_stored_hash(hash)) {
      return fail(
          "invalid password hash for user " + quoted +
          ": expected a yescrypt ($y$) or sha512-crypt ($6$) hash, optionally locked with '!'");
    }
    const std::optional<std::uint32_t> uid = parse_user_id(uid_text);
    if (!uid.has_value()) {
      return fail("invalid uid for user " + quoted +
                  ": expected a decimal number from 1 to 4294967294");
    }
    const std::optional<std::uint32_t> gid = parse_user_id(gid_text);
    if (!gid.has_value()) {
      return fail("invalid gid for user " + quoted +
                  ": expected a decimal number from 1 to 4294967294");
    }
    if (!is_valid_user_root(root)) {
      return fail(
          "invalid root for user " + quoted +
          ": expected an absolute path without '.', '..', '//', a trailing '/' or control bytes");
    }
    if (count == kFieldCount && !is_valid_class_name(user_class)) {
      return fail("invalid class for user " + quoted + ": expected 1-32 bytes of [A-Za-z0-9_-]");
    }
    if (users.size() >= kMaxUsers) return fail("more than 100000 users");

    seen.emplace(name, line_number);
    users.push_back(VirtualUser{std::string(name), std::string(hash), static_cast<uid_t>(*uid),
                                static_cast<gid_t>(*gid), std::string(root),
                                count == kFieldCount ? std::string(user_class) : std::string()});
  }
  return users;
}

std::string format_users_file(const std::vector<VirtualUser>& users) {
  std::string text =
      "# wardenftpd virtual users: name:hash:uid:gid:root[:class] (edit with wardenftpd-passwd)\n";
  for (const VirtualUser& user : users) {
    text += user.name;
    text += ':';
    text += user.hash;
    text += ':';
    text += std::to_string(user.uid);
    text += ':';
    text += std::to_string(user.gid);
    text += ':';
    text += user.root;
    if (!user.user_class.empty()) {
      text += ':';
      text += user.user_class;
    }
    text += '\n';
  }
  return text;
}

const VirtualUser* find_user(const std::vector<VirtualUser>& users, std::string_view name) {
  for (const VirtualUser& user : users) {
    if (user.name == name) return &user;
  }
  return nullptr;
}

Result<UniqueFd> open_users_file(const std::string& path) {
  // SECURITY: a directory someone else can write to lets them swap the file (or, for
  // wardenftpd-passwd, its lock or temporary file) for one of their own.
  const std::size_t slash = path.rfind('/');
  const std::string directory = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  struct stat st{};
  if (::lstat(directory.c_str(), &st) != 0) return system_error("lstat(" + directory + ")", errno);
  if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0022) != 0) {
    return make_error(path + ": its directory " + directory +
                      " must be a directory (not a symlink) owned by root and not writable by "
                      "group or others");
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
  if (!fd) {
    if (errno == ENOENT) return UniqueFd();
    return system_error("open(" + path + ")", errno);
  }
  if (::fstat(fd.get(), &st) != 0) return system_error("fstat(" + path + ")", errno);
  if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0027) != 0) {
    return make_error(path + " must be a regular file owned by root, mode 0600 or 0640");
  }
  return fd;
}

Result<std::vector<VirtualUser>> read_users_file(const std::string& path) {
  auto fd = open_users_file(path);
  if (!fd) return fd.error();
  if (!fd->valid()) return system_error("open(" + path + ")", ENOENT);
  struct stat st{};
  if (::fstat(fd->get(), &st) != 0) return system_error("fstat(" + path + ")", errno);
  SecretFileText text;
  auto read = text.read(fd->get(), static_cast<std::size_t>(st.st_size), kMaxUsersFileSize);
  if (!read) return make_error(path + ": " + read.error().message);
  return parse_users_file(text.text(), path);
}

Result<std::size_t> check_users_file(const std::string& path) {
  auto users = read_users_file(path);
  if (!users) return users.error();
  const std::size_t count = users->size();
  wipe_hashes(*users);
  return count;
}

void wipe_hashes(std::vector<VirtualUser>& users) {
  for (VirtualUser& user : users) wipe_secret(user.hash);
}

}  // namespace wftpd
