#include "priv/state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/io.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {
namespace {

std::string directory_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Result<std::string> read_root_state_file(const std::string& path, std::size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::string();
    return system_error("open(" + path + ")", errno);
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return system_error("fstat(" + path + ")", errno);
  if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return make_error(path + " is not a regular file owned by root and writable only by root");
  }
  return read_whole_fd(fd.get(), max_bytes);
}

Result<void> write_state_file(const std::string& path, std::string_view text) {
  const std::string directory = directory_of(path);
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return system_error("mkdir(" + directory + ")", errno);
  }
  const std::string temporary = path + ".new";
  ::unlink(temporary.c_str());
  UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return system_error("open(" + temporary + ")", errno);
  auto written = write_all(fd.get(), text);
  if (!written) {
    ::unlink(temporary.c_str());
    return written.error();
  }
  if (::fsync(fd.get()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return system_error("fsync(" + temporary + ")", error);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return system_error("rename(" + temporary + ", " + path + ")", error);
  }
  UniqueFd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) ::fsync(dir.get());
  return ok_result();
}

Result<void> prepare_private_directory(const std::string& path) {
  // Its parent too, as write_state_file makes the directory of a state file (/var/lib/wardenftpd).
  const std::string parent = directory_of(path);
  if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) return system_error("mkdir(" + parent + ")", errno);
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return system_error("mkdir(" + path + ")", errno);
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) return system_error("lstat(" + path + ")", errno);
  // SECURITY: usage files are read back only from a directory nobody but root can change.
  if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077) != 0) {
    return make_error(path + " is not a directory owned by root and closed to others (mode 0700)");
  }
  return ok_result();
}

}  // namespace wftpd
