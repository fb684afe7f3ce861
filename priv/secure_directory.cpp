#include "priv/secure_directory.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/dir_stream.hpp"

namespace wftpd {

Result<void> prepare_empty_directory(const std::string& path) {
  for (std::size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string prefix = path.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return system_error("mkdir(" + prefix + ")", errno);
    }
    if (slash == std::string::npos) break;
  }
  return check_empty_directory(path, false);
}

Result<void> check_empty_directory(const std::string& path, bool missing_ok) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT && missing_ok) return {};
    return system_error("lstat(" + path + ")", errno);
  }
  // SECURITY: a directory another user could write to (or swap) is no empty jail.
  if (!S_ISDIR(st.st_mode)) return make_error(path + " is not a directory");
  if (st.st_uid != 0) return make_error(path + " is not owned by root");
  if ((st.st_mode & 022) != 0) return make_error(path + " is writable by group or others");
  DirStream dir(::opendir(path.c_str()));
  if (!dir) return system_error("opendir(" + path + ")", errno);
  while (const dirent* entry = ::readdir(dir.get())) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
      return make_error(path + " must be empty (it holds '" + entry->d_name + "')");
    }
  }
  return {};
}

}  // namespace wftpd
