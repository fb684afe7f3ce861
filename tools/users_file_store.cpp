// Loading and atomically replacing the users file; see users_file_store.hpp.
#include "tools/users_file_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>

#include "common/io.hpp"

namespace wftpd {
namespace {

std::string parent_directory(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Result<void> write_all(int fd, std::string_view text, const std::string& what) {
  while (!text.empty()) {
    const ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return system_error("write " + what, errno);
    }
    text.remove_prefix(static_cast<std::size_t>(written));
  }
  return ok_result();
}

// Removes the temporary file unless it has been renamed into place.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  ~TempFileGuard() {
    if (!committed_) ::unlink(path_.c_str());
  }
  void commit() { committed_ = true; }

 private:
  std::string path_;
  bool committed_ = false;
};

}  // namespace

Result<UsersFileLock> UsersFileLock::acquire(const std::string& path) {
  // SECURITY: no lock file is created where the daemon's check refuses the users file.
  if (auto checked = open_users_file(path); !checked) return checked.error();
  const std::string lock_path = path + ".lock";
  // SECURITY: O_NOFOLLOW so a planted symlink cannot make us create or lock another file.
  UniqueFd fd(
      ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600));
  if (!fd) return system_error("open " + lock_path, errno);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return system_error("flock " + lock_path, errno);
  }
  return UsersFileLock(std::move(fd));
}

Result<std::vector<VirtualUser>> load_users_file(const std::string& path) {
  auto fd = open_users_file(path);
  if (!fd) return fd.error();
  if (!fd->valid()) return std::vector<VirtualUser>{};  // no file yet: no users
  auto text = read_whole_fd(fd->get(), kMaxUsersFileSize);
  if (!text) return make_error(path + ": " + text.error().message);
  return parse_users_file(*text, path);
}

Result<void> replace_users_file(const std::string& path, const std::vector<VirtualUser>& users) {
  const std::string text = format_users_file(users);
  // Same directory as the target, so that rename() is atomic (same file system).
  std::string temp_path = path + ".XXXXXX";
  // SECURITY: mkostemp creates the file exclusively (O_EXCL) with mode 0600, owned by the caller.
  UniqueFd fd(::mkostemp(temp_path.data(), O_CLOEXEC));
  if (!fd) return system_error("mkostemp " + temp_path, errno);
  TempFileGuard guard(temp_path);

  // SECURITY: the file holds password hashes; make 0600 explicit rather than rely on mkostemp.
  if (::fchmod(fd.get(), 0600) != 0) return system_error("fchmod " + temp_path, errno);
  if (auto written = write_all(fd.get(), text, temp_path); !written.ok()) return written;
  if (::fsync(fd.get()) != 0) return system_error("fsync " + temp_path, errno);
  // close() can report a delayed write error; a file that failed to write must not be renamed.
  if (::close(fd.release()) != 0) return system_error("close " + temp_path, errno);

  if (::rename(temp_path.c_str(), path.c_str()) != 0) {
    return system_error("rename " + temp_path + " to " + path, errno);
  }
  guard.commit();

  // Make the rename itself durable.
  const std::string directory = parent_directory(path);
  UniqueFd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return system_error("open " + directory, errno);
  if (::fsync(dir.get()) != 0) return system_error("fsync " + directory, errno);
  return ok_result();
}

}  // namespace wftpd
